"""What every command that talks to the API shares: the client, one-line errors, JSON,
tables, humanised durations, coloured states and checked state names.

rich is imported only when a table or the progress line is printed, so ``import
prefect_gql`` and the commands that print JSON never load it. Tables never cut an id: id
columns do not wrap and keep their full width; the other columns wrap or fold to fit.
"""

from __future__ import annotations

import difflib
import json
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

import click

from prefect_gql import PrefectGQLError

if TYPE_CHECKING:
    from prefect_gql import Client, State

__all__ = [
    "API_HELP",
    "STATE_NAMES",
    "Column",
    "api_option",
    "api_time",
    "client_for",
    "humanise",
    "is_uuid",
    "new_state",
    "output_option",
    "print_json",
    "print_table",
    "require_rich",
    "state_name",
    "state_style",
    "time_text",
]


def api_time(value: str) -> datetime:
    """A timestamp as the API (or a person) writes it, ``Z`` or naive taken as UTC."""
    from prefect_gql._times import naive_as_utc  # noqa: PLC0415 - the one rule for naive times

    return naive_as_utc(datetime.fromisoformat(value.replace("Z", "+00:00")))


API_HELP = "GraphQL endpoint (default: from PREFECT__* settings and ~/.prefect, as Client)."

STATE_NAMES: tuple[str, ...] = (
    "Pending",
    "Scheduled",
    "Paused",
    "Resume",
    "Retrying",
    "Queued",
    "Submitted",
    "Running",
    "Cancelling",
    "Finished",
    "Success",
    "Cached",
    "Mapped",
    "Skipped",
    "Looped",
    "Cancelled",
    "Failed",
    "TimedOut",
    "TriggerFailed",
    "ValidationFailed",
    "ClientFailed",
)
"""The 21 state names of Prefect 1.x, as ``--state`` and ``set-state`` take them."""

_STATE_STYLES: dict[str, str] = {
    "Success": "green",
    "Cached": "green",
    "Mapped": "green",
    "Skipped": "green dim",
    "Failed": "bold red",
    "TimedOut": "bold red",
    "TriggerFailed": "bold red",
    "ValidationFailed": "bold red",
    "ClientFailed": "bold red",
    "Running": "blue",
    "Cancelling": "magenta",
    "Cancelled": "magenta",
    "Scheduled": "yellow",
    "Paused": "yellow",
    "Resume": "yellow",
    "Retrying": "yellow",
    "Queued": "cyan",
    "Submitted": "cyan",
    "Pending": "cyan",
}


def state_style(name: str) -> str:
    """The rich style of a state by its kind: succeeded green, failed red, running blue,
    waiting yellow, handed over cyan, cancelled magenta (others plain)."""
    return _STATE_STYLES.get(name, "")


def state_name(value: str, option: str = "STATE") -> str:
    """A state name as Prefect spells it, matched case-insensitively; an unknown one is a
    one-line error naming the nearest state."""
    by_lower = {name.lower(): name for name in STATE_NAMES}
    found = by_lower.get(value.strip().lower())
    if found is not None:
        return found
    near = difflib.get_close_matches(value.strip().lower(), list(by_lower), n=1, cutoff=0.6)
    hint = f"; did you mean {by_lower[near[0]]}?" if near else f" (one of {', '.join(STATE_NAMES)})"
    raise click.ClickException(f"{option}: unknown state {value!r}{hint}")


def new_state(name: str, message: str | None) -> State:
    """A state of a checked state name, e.g. ``new_state("Failed", "by hand")``."""
    import prefect_gql  # noqa: PLC0415 - the state classes load with pydantic

    state: State = getattr(prefect_gql, name)(message=message)
    return state


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _root_api() -> str | None:
    """``prefect-gql --api URL COMMAND``: the group's option, when the command has none."""
    context = click.get_current_context(silent=True)
    if context is None:
        return None
    value = context.find_root().params.get("api")
    return value if isinstance(value, str) else None


@contextmanager
def client_for(api: str | None, **options: Any) -> Iterator[Client]:
    """A ``Client`` from the usual settings (``--api`` before or after the command wins);
    its errors become one ``Error:`` line and exit 1."""
    from prefect_gql import Client  # noqa: PLC0415 - the commands that talk to the API only

    try:
        with Client(api or _root_api(), **options) as client:
            yield client
    except PrefectGQLError as err:
        raise click.ClickException(str(err)) from err


def print_json(value: object) -> None:
    click.echo(json.dumps(value, indent=2, sort_keys=True))


def time_text(value: datetime | None) -> str | None:
    """A time as ``--output json`` prints it (ISO 8601), or None."""
    return value.isoformat() if value is not None else None


def humanise(duration: timedelta | None) -> str:
    """``850ms``, ``2.1s``, ``3m 04s``, ``1h 02m``, ``2d 03h``; empty when unknown."""
    if duration is None:
        return ""
    seconds = max(duration.total_seconds(), 0.0)
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:.1f}s"
    whole = int(seconds)
    minutes, second = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}m {second:02d}s"
    hours, minute = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minute:02d}m"
    days, hour = divmod(hours, 24)
    return f"{days}d {hour:02d}h"


def require_rich() -> None:
    """rich is the ``cli`` extra: without it, say how to get it in one line."""
    try:
        import rich  # noqa: F401, PLC0415 - people-facing output only
    except ImportError:
        raise click.ClickException(
            "tables and progress need the cli extra: pip install 'prefect-gql[cli]' "
            "(or use --output json)"
        ) from None


ColumnKind = Literal["id", "text", "state", "time", "age", "duration"]
Column = tuple[str, ColumnKind]
"""A table column: its header and how its cells print."""


def _cell(kind: ColumnKind, value: object) -> Any:
    from rich.text import Text  # noqa: PLC0415 - people-facing output only

    if value is None:
        return ""
    if kind == "state":
        return Text(str(value), style=state_style(str(value)))
    if kind == "time" and isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M:%S}"
    if kind == "age" and isinstance(value, datetime):
        return f"{humanise(datetime.now(UTC) - value)} ago"
    if kind == "duration" and isinstance(value, timedelta):
        return humanise(value)
    return Text(str(value))


def print_table(title: str, columns: Sequence[Column], rows: Sequence[Sequence[object]]) -> None:
    """A table for people, as wide as the terminal: ids whole, other columns wrapped."""
    require_rich()
    from rich import box  # noqa: PLC0415 - people-facing output only
    from rich.console import Console  # noqa: PLC0415
    from rich.table import Table  # noqa: PLC0415

    table = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left", pad_edge=False)
    for index, (header, kind) in enumerate(columns):
        if kind in ("id", "state"):
            widest = max((len(str(row[index] or "")) for row in rows), default=0)
            table.add_column(header, no_wrap=True, min_width=widest, overflow="ignore")
        else:
            table.add_column(header, overflow="fold")
    for row in rows:
        table.add_row(*(_cell(kind, cell) for (_, kind), cell in zip(columns, row, strict=True)))
    Console().print(table)


output_option = click.option(
    "--output",
    "-o",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="table for people, json for scripts.",
)
api_option = click.option("--api", default=None, help=API_HELP)
