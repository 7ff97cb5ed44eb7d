"""``prefect-gql`` commands for people following runs: list, describe, logs, run, query, auth.

Registered on ``_app.app`` when ``_app`` imports this module. The server and credentials
come from the same settings as ``Client`` (``PREFECT__*`` variables, ``~/.prefect``),
``--api`` overrides the server. rich (tables, the progress line) is imported inside the
commands that print with it, so ``import prefect_gql`` and the other commands never load
it. ``--output json`` prints stable keys for scripts. Any prefect_gql error is one
``Error:`` line and exit code 1; a run that does not succeed under ``run --watch`` exits 1.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import click

from prefect_gql import InvalidInputError, PrefectGQLError, __version__
from prefect_gql._validation import valid_uuid

from ._app import app

if TYPE_CHECKING:
    from prefect_gql import Client, FlowRunSummary, LogLine, TaskRunView

__all__ = ["app"]

_API_HELP = "GraphQL endpoint (default: from PREFECT__* settings and ~/.prefect, as Client)."
_DURATION = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def _print_version(context: click.Context, _parameter: click.Parameter, value: bool) -> None:
    if value:
        click.echo(f"prefect-gql {__version__}")
        context.exit()


app.params.append(
    click.Option(
        ["--version"],
        is_flag=True,
        expose_value=False,
        is_eager=True,
        callback=_print_version,
        help="Print the version and exit.",
    )
)


@contextmanager
def _client(api: str | None, **options: Any) -> Iterator[Client]:
    """A ``Client`` from the usual settings; its errors become one ``Error:`` line."""
    from prefect_gql import Client  # noqa: PLC0415 - the commands that talk to the API only

    try:
        with Client(api, **options) as client:
            yield client
    except PrefectGQLError as err:
        raise click.ClickException(str(err)) from err


def _pairs(values: Sequence[str], what: str) -> dict[str, Any]:
    """``k=v`` options: ``v`` as JSON when it parses (``n=3``, ``ok=true``), else a string."""
    parsed: dict[str, Any] = {}
    for value in values:
        key, equals, text = value.partition("=")
        if not equals or not key:
            raise click.BadParameter(f"expected KEY=VALUE, got {value!r}", param_hint=what)
        try:
            parsed[key] = json.loads(text)
        except json.JSONDecodeError:
            parsed[key] = text
    return parsed


def _moment(value: str | None) -> datetime | None:
    """``--since``: an ISO 8601 time (UTC if it has no zone) or an age such as ``30m``, ``2d``."""
    if value is None:
        return None
    age = _DURATION.match(value.strip())
    if age:
        return datetime.now(UTC) - timedelta(**{_UNITS[age.group(2)]: int(age.group(1))})
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(
            f"expected an ISO 8601 time or an age like 30m, 12h, 7d; got {value!r}",
            param_hint="--since",
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _seconds(value: timedelta | None) -> float | None:
    return round(value.total_seconds(), 3) if value is not None else None


def _print_json(value: object) -> None:
    click.echo(json.dumps(value, indent=2, sort_keys=True))


def flow_run_json(run: FlowRunSummary) -> dict[str, Any]:
    """A flow run as ``--output json`` prints it (stable keys)."""
    return {
        "id": run.id,
        "name": run.name,
        "flow": {"id": run.flow.id, "name": run.flow.name, "version": run.flow.version},
        "project": {"id": run.flow.project.id, "name": run.flow.project.name},
        "state": run.state.type,
        "state_message": run.state.message,
        "labels": run.labels,
        "parameters": run.parameters,
        "created": _time(run.created),
        "scheduled_start_time": _time(run.scheduled_start_time),
        "start_time": _time(run.start_time),
        "end_time": _time(run.end_time),
        "duration_seconds": _seconds(run.duration),
    }


def task_run_json(task_run: TaskRunView) -> dict[str, Any]:
    return {
        "id": task_run.id,
        "name": task_run.name,
        "task_slug": task_run.task_slug,
        "map_index": task_run.map_index,
        "state": task_run.state.type,
        "state_message": task_run.state.message,
        "start_time": _time(task_run.start_time),
        "end_time": _time(task_run.end_time),
        "duration_seconds": _seconds(task_run.duration),
    }


def log_json(line: LogLine) -> dict[str, Any]:
    return {
        "timestamp": _time(line.timestamp),
        "level": line.level,
        "name": line.name,
        "message": line.message,
        "task_run_id": line.task_run_id,
    }


def _log_text(line: LogLine) -> str:
    level, name, message = line.level or "-", line.name or "-", line.message or ""
    return f"{line.timestamp:%Y-%m-%d %H:%M:%S} {level:<8} {name} | {message}"


def _require_rich() -> None:
    """rich is the ``cli`` extra: without it, say how to get it in one line."""
    try:
        import rich  # noqa: F401, PLC0415 - people-facing output only
    except ImportError:
        raise click.ClickException(
            "tables and progress need the cli extra: pip install 'prefect-gql[cli]' "
            "(or use --output json)"
        ) from None


def _table(title: str, columns: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    _require_rich()
    from rich.console import Console  # noqa: PLC0415 - people-facing output only
    from rich.table import Table  # noqa: PLC0415

    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("" if cell is None else str(cell) for cell in row))
    Console().print(table)


output_option = click.option(
    "--output",
    "-o",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="table for people, json for scripts.",
)
api_option = click.option("--api", default=None, help=_API_HELP)


# -- flow runs ------------------------------------------------------------------------------


@app.group("flow-runs")
def flow_runs() -> None:
    """List flow runs."""


@flow_runs.command("list")
@click.option("--flow", "flow", default=None, help="Flow id or name.")
@click.option("--project", default=None, help="Project name.")
@click.option("--state", "states", multiple=True, help="State name, e.g. Running (repeatable).")
@click.option("--label", "labels", multiple=True, help="Only runs with this label (repeatable).")
@click.option("--since", default=None, help="Created since: ISO 8601 time or age (30m, 2d).")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(min=0))
@output_option
@api_option
def flow_runs_list(
    flow: str | None,
    project: str | None,
    states: tuple[str, ...],
    labels: tuple[str, ...],
    since: str | None,
    limit: int,
    output: str,
    api: str | None,
) -> None:
    """Flow runs, newest first."""
    flow_id, flow_name = (flow, None) if flow and _is_uuid(flow) else (None, flow)
    with _client(api) as client:
        runs = list(
            client.iter_flow_runs(
                flow_id=flow_id,
                flow_name=flow_name,
                project=project,
                states=list(states) or None,
                labels=labels or None,
                since=_moment(since),
                limit=limit,
                page_size=min(max(limit, 1), 100),
            )
        )
    if output == "json":
        _print_json([flow_run_json(run) for run in runs])
        return
    _table(
        "Flow runs",
        ["id", "name", "flow", "state", "created", "duration"],
        [
            (
                run.id,
                run.name,
                run.flow.name,
                run.state.type,
                f"{run.created:%Y-%m-%d %H:%M:%S}",
                run.duration,
            )
            for run in runs
        ],
    )


def _is_uuid(value: str) -> bool:
    try:
        valid_uuid(value, "id")
    except InvalidInputError:
        return False
    return True


@app.group("flow-run")
def flow_run() -> None:
    """Look at one flow run."""


@flow_run.command("describe")
@click.argument("flow_run_id")
@output_option
@api_option
def flow_run_describe(flow_run_id: str, output: str, api: str | None) -> None:
    """A flow run: flow, project, labels, parameters, state history and task runs."""
    with _client(api) as client:
        view = client.get_flow_run_view(flow_run_id)
        task_runs = list(client.iter_task_runs(view.id))
    if output == "json":
        described = flow_run_json(view)
        described["states"] = [
            {
                "state": change.state.type,
                "message": change.state.message,
                "timestamp": _time(change.timestamp),
            }
            for change in view.states
        ]
        described["task_runs"] = [task_run_json(task_run) for task_run in task_runs]
        _print_json(described)
        return
    _table(
        f"Flow run {view.name or view.id}",
        ["field", "value"],
        [
            ("id", view.id),
            ("flow", f"{view.flow.name} (v{view.flow.version}, {view.flow.id})"),
            ("project", view.flow.project.name),
            ("state", f"{view.state.type}: {view.state.message or ''}"),
            ("labels", ", ".join(view.labels)),
            ("parameters", json.dumps(view.parameters)),
            ("start / end", f"{_time(view.start_time)} / {_time(view.end_time)}"),
            ("duration", view.duration),
            ("task runs", f"{view.finished_task_run_count}/{view.task_run_count} finished"),
        ],
    )
    _table(
        "State history",
        ["timestamp", "state", "message"],
        [
            (_time(change.timestamp), change.state.type, change.state.message)
            for change in view.states
        ],
    )
    _table(
        "Task runs",
        ["task", "map index", "state", "duration"],
        [
            (task_run.task_slug, task_run.map_index, task_run.state.type, task_run.duration)
            for task_run in task_runs
        ],
    )


# -- logs and runs --------------------------------------------------------------------------


@app.command("logs")
@click.argument("flow_run_id")
@click.option("--follow", "-f", is_flag=True, help="Keep printing new lines until the run ends.")
@click.option("--since", default=None, help="Lines since: ISO 8601 time or age (30m, 2d).")
@output_option
@api_option
def logs(flow_run_id: str, follow: bool, since: str | None, output: str, api: str | None) -> None:
    """A flow run's log lines (``--output json``: one JSON object per line)."""
    from prefect_gql import LogLine  # noqa: PLC0415

    def emit(line: LogLine) -> None:
        click.echo(
            json.dumps(log_json(line), sort_keys=True) if output == "json" else _log_text(line)
        )

    with _client(api) as client:
        if not follow:
            for line in client.iter_flow_run_logs(flow_run_id, since=_moment(since)):
                emit(line)
            return
        cut = _moment(since)
        for event in client.watch_flow_run(flow_run_id):
            if isinstance(event, LogLine) and (cut is None or event.timestamp >= cut):
                emit(event)


@app.command("run")
@click.argument("flow_id")
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="KEY=VALUE",
    help="A parameter (repeatable; JSON values).",
)
@click.option("--label", "labels", multiple=True, help="A run label (repeatable).")
@click.option("--name", "run_name", default=None, help="The run's name.")
@click.option("--watch", is_flag=True, help="Follow the run; exit 0 only if it succeeds.")
@api_option
def run(
    flow_id: str,
    params: tuple[str, ...],
    labels: tuple[str, ...],
    run_name: str | None,
    watch: bool,
    api: str | None,
) -> None:
    """Create a flow run and print its id; with --watch, follow it to the end."""
    parameters = _pairs(params, "--param")
    with _client(api) as client:
        run_id = client.create_flow_run(
            flow_id=flow_id, parameters=parameters, labels=list(labels) or None, run_name=run_name
        )
        click.echo(run_id)
        if not watch:
            return
        succeeded = _watch_with_progress(client, run_id)
    if not succeeded:
        raise click.exceptions.Exit(1)


def _watch_with_progress(client: Client, run_id: str) -> bool:
    """Print state changes and log lines under a live ``finished/total`` task-run line."""
    _require_rich()
    from rich.console import Console  # noqa: PLC0415 - people-facing output only
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn  # noqa: PLC0415

    from prefect_gql import LogLine, StateChange, TaskRunProgress  # noqa: PLC0415

    console = Console(stderr=True)
    final = None
    with Progress(
        TextColumn("task runs"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        console=console,
        transient=False,
    ) as progress:
        bar = progress.add_task("", total=None)
        for event in client.watch_flow_run(run_id):
            if isinstance(event, StateChange):
                final = event.state
                progress.console.print(
                    f"state: {event.state.type} {event.state.message or ''}".rstrip()
                )
                progress.update(bar, description=event.state.type)
            elif isinstance(event, LogLine):
                progress.console.print(_log_text(event), markup=False, highlight=False)
            elif isinstance(event, TaskRunProgress):
                progress.update(bar, completed=event.finished, total=event.total)
    if final is None:
        final = client.get_flow_run_state(run_id)
    console.print(f"flow run {run_id} finished: {final.type}")
    return final.is_successful()


# -- raw queries and auth ---------------------------------------------------------------------


@app.command("query")
@click.argument("source", type=click.File("r"))
@click.option(
    "--var",
    "variables",
    multiple=True,
    metavar="KEY=VALUE",
    help="A variable (repeatable; JSON values).",
)
@api_option
def query(source: Any, variables: tuple[str, ...], api: str | None) -> None:
    """Send a GraphQL document from FILE (or - for stdin); prints the JSON answer."""
    document = source.read()
    with _client(api) as client:
        answer = client.graphql(document, variables=_pairs(variables, "--var"))
    _print_json(dict(answer))


@app.group("auth")
def auth() -> None:
    """Prefect Cloud 1.x API keys, kept in ~/.prefect/auth.toml as Prefect 1.4 keeps them."""


@auth.command("login")
@click.option("--key", "-k", required=True, help="A Prefect 1.x API key.")
@click.option(
    "--tenant", default=None, help="Tenant id or slug (default: the key's default tenant)."
)
@api_option
def auth_login(key: str, tenant: str | None, api: str | None) -> None:
    """Check an API key against the API and save it (and its tenant) to disk."""
    with _client(api, api_key=key, backend="cloud") as client:
        if tenant is not None:
            _switch(client, tenant)
        tenant_id = client.get_tenant_id()
        client.save_auth_to_disk()
    click.echo(f"logged in to {client.api_server} (tenant {tenant_id})")


def _switch(client: Client, tenant: str) -> str:
    if _is_uuid(tenant):
        return client.switch_tenant(tenant_id=tenant)
    return client.switch_tenant(tenant_slug=tenant)


@auth.command("status")
@click.option(
    "--output", "-o", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@api_option
def auth_status(output: str, api: str | None) -> None:
    """Which API and credentials commands use (never the credential itself)."""
    with _client(api) as client:
        status: Mapping[str, Any] = {
            "api": client.api_server,
            "backend": client.backend,
            "credential": client.credential_kind,
            "tenant_id": client.tenant_id,
        }
    if output == "json":
        _print_json(dict(status))
        return
    for key, value in status.items():
        click.echo(f"{key}: {value if value is not None else '-'}")


@auth.command("switch-tenant")
@click.argument("tenant")
@api_option
def auth_switch_tenant(tenant: str, api: str | None) -> None:
    """Act for another tenant (id or slug) from now on; saved with the API key."""
    with _client(api) as client:
        tenant_id = _switch(client, tenant)
        client.save_auth_to_disk()
    click.echo(f"switched to tenant {tenant_id}")
