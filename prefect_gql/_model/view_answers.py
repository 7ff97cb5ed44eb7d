"""The answers of ``queries/views.graphql`` as view models, and the bounds of paging and
polling: what ``AsyncClient``'s views, iterators and watches compute without I/O."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from prefect_gql._generated.fragments import (
    FlowRunSummaryFields,
    LogLineFields,
    StateHistoryFields,
    TaskRunViewFields,
)
from prefect_gql._generated.json_value import JSONValue

from .._exceptions import APIConnectionError, APIStatusError, InvalidInputError
from .results import ProjectInfo, json_object
from .states import Finished, State, state_from_answer
from .views import FlowRunView, FlowSummary, LogLine, StateChange, TaskRunView

__all__ = [
    "DEFAULT_AGENT_WAIT",
    "DEFAULT_MAX_POLL_INTERVAL",
    "DEFAULT_PAGE_SIZE",
    "DEFAULT_POLL_INTERVAL",
    "FINISHED_STATES",
    "MAX_FAILED_POLLS",
    "POLL_BACKOFF",
    "LogCursor",
    "Order",
    "WaitClock",
    "aggregate_count",
    "checked_page_size",
    "flow_run_fields",
    "is_transient",
    "json_object_or_none",
    "log_line_of",
    "no_agent_advice",
    "positive_seconds",
    "start_agent_command",
    "state_change_of",
    "string_labels",
    "task_run_view_of",
    "waits_for_an_agent",
]

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
DEFAULT_POLL_INTERVAL = 1.0
"""Seconds between polls while a watched run is active."""
DEFAULT_MAX_POLL_INTERVAL = 10.0
"""Polls back off to this while nothing changes."""
POLL_BACKOFF = 1.5
DEFAULT_AGENT_WAIT = 15.0
"""Seconds a run may wait for an agent before a waiter says none has picked it up (as
Prefect 1.x's ``prefect run --watch`` does)."""
MAX_FAILED_POLLS = 5
"""Consecutive polls that may fail (after their own retries) before a watch gives up."""
FINAL_LOGS_WAIT = 5.0
"""Seconds a watch that saw its run finish keeps reading log lines: Prefect 1.x's flow
runner sends its last lines as it exits, after the final state, and holds a line back for
at most ``cloud.logging_heartbeat`` (5 s by default)."""

Order = Literal["newest", "oldest"]


def _finished_state_names() -> list[str]:
    """Names of every state class that is ``Finished``: a run in one has ended."""
    names: list[str] = []
    pending: list[type[State]] = [Finished]
    while pending:
        cls = pending.pop()
        names.append(cls.__name__)
        pending.extend(cls.__subclasses__())
    return sorted(names)


FINISHED_STATES = _finished_state_names()


def checked_page_size(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_PAGE_SIZE:
        raise InvalidInputError(f"page_size must be an integer from 1 to {MAX_PAGE_SIZE}")
    return value


def positive_seconds(value: float | timedelta | None, what: str) -> float | None:
    if value is None:
        return None
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    if not seconds > 0:
        raise InvalidInputError(f"{what} must be positive, got {value!r}")
    return seconds


def string_labels(value: JSONValue) -> list[str]:
    return [label for label in value if isinstance(label, str)] if isinstance(value, list) else []


def json_object_or_none(value: JSONValue | None) -> dict[str, JSONValue] | None:
    return json_object(value) if value is not None else None


def flow_run_fields(run: FlowRunSummaryFields) -> dict[str, object]:
    project = run.flow.project
    return {
        "id": run.id,
        "name": run.name,
        "flow": FlowSummary(
            id=run.flow.id,
            name=run.flow.name,
            version=run.flow.version,
            project=ProjectInfo(id=project.id, name=project.name),
        ),
        "labels": string_labels(run.labels),
        "parameters": json_object(run.parameters),
        "context": json_object(run.context),
        "run_config": json_object_or_none(run.run_config),
        "version": run.version,
        "state": state_from_answer(run.serialized_state),
        "created": run.created,
        "updated": run.updated,
        "scheduled_start_time": run.scheduled_start_time,
        "start_time": run.start_time,
        "end_time": run.end_time,
    }


def state_change_of(row: StateHistoryFields) -> StateChange:
    return StateChange(
        state=state_from_answer(row.serialized_state), timestamp=row.timestamp, version=row.version
    )


def log_line_of(row: LogLineFields) -> LogLine:
    return LogLine(
        id=row.id,
        timestamp=row.timestamp,
        created=row.created,
        level=row.level,
        name=row.name,
        message=row.message,
        task_run_id=row.task_run_id,
    )


def task_run_view_of(row: TaskRunViewFields) -> TaskRunView:
    return TaskRunView(
        id=row.id,
        name=row.name,
        flow_run_id=row.flow_run_id,
        task_id=row.task.id,
        task_slug=row.task.slug,
        task_name=row.task.name,
        map_index=row.map_index,
        version=row.version,
        state=state_from_answer(row.serialized_state),
        created=row.created,
        start_time=row.start_time,
        end_time=row.end_time,
    )


def aggregate_count(aggregate: object) -> int:
    inner = getattr(aggregate, "aggregate", None)
    return int(getattr(inner, "count", 0)) if inner is not None else 0


@dataclass(slots=True)
class LogCursor:
    """Where log paging stands: the last line read, in (created, timestamp, id) order."""

    created: datetime | None = None
    timestamp: datetime | None = None
    id: str | None = None

    def advance(self, line: LogLineFields) -> None:
        self.created, self.timestamp, self.id = line.created, line.timestamp, line.id


@dataclass
class FinishedRunTail:
    """When a watch may end: at once when its run had finished before the watch began or no
    lines are followed; otherwise at the first poll after the finish that brings lines (the
    flow runner's last batch) or ``FINAL_LOGS_WAIT`` seconds after the finish was seen."""

    follows_logs: bool
    watched_live: bool = False
    finished_at: float | None = None

    @property
    def waiting(self) -> bool:
        return self.finished_at is not None

    def may_end(self, *, finished: bool, brought_lines: bool, elapsed: float) -> bool:
        if not finished:
            self.watched_live = True
            return False
        if not self.follows_logs or not self.watched_live:
            return True
        if self.finished_at is None:
            self.finished_at = elapsed
            return False
        return brought_lines or elapsed - self.finished_at >= FINAL_LOGS_WAIT


def is_transient(error: Exception) -> bool:
    """A failure worth polling again for: no answer, a 429 or a 5xx."""
    if isinstance(error, APIConnectionError):
        return True
    return isinstance(error, APIStatusError) and (
        error.status_code == 429 or error.status_code >= 500
    )


class WaitClock:
    """Time a wait has taken: the larger of the wall clock and the sleeps asked for, so a
    driver that does not really sleep (tests) still reaches the timeout."""

    def __init__(self) -> None:
        self._started = time.monotonic()
        self._slept = 0.0

    def slept(self, seconds: float) -> None:
        self._slept += seconds

    @property
    def elapsed(self) -> float:
        return max(time.monotonic() - self._started, self._slept)


def waits_for_an_agent(view: FlowRunView) -> bool:
    """True while no agent has taken the run: it is scheduled and has never been
    Submitted or Running (an agent's first states)."""
    taken = {"Submitted", "Running"}
    return view.state.is_scheduled() and not any(
        change.state.type in taken for change in view.states
    )


def start_agent_command(
    api_server: str, *, backend: str, uses_api_key: bool, labels: Iterable[str]
) -> str:
    """The Prefect 1.x command that starts a local agent for runs with ``labels`` against
    this API (a placeholder where a key is needed, never the client's own)."""
    import shlex  # noqa: PLC0415 - only when there is advice to give

    words = ["PREFECT__BACKEND=server"] if backend == "server" else []
    words += ["prefect", "agent", "local", "start", "--api", api_server]
    if uses_api_key:
        words += ["--key", "YOUR_API_KEY"]
    words.append("--no-hostname-label")
    for label in sorted(set(labels)):
        words += ["--label", label]
    return shlex.join(words)


def no_agent_advice(view: FlowRunView, waited: float, command: str) -> str:
    """What a waiter says when no agent has picked a run up."""
    return (
        f"no agent has picked up flow run {view.id} after {waited:g} s; start one for it"
        f" against this API: {command}"
    )
