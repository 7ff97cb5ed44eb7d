"""Views, iterators and watching (queries/views.graphql).

Every iterator pages by a keyset cursor, the last row's immutable ordering columns
ending in its id, never by an offset: a row inserted while a caller pages moves no
other row, so none is skipped or repeated. The cursor advances only after a page
was read, so a retried or failed request repeats nothing and drops nothing.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal, ParamSpec, TypeVar

from prefect_gql_generated.enums import order_by
from prefect_gql_generated.fragments import (
    FlowRunSummaryFields,
    LogLineFields,
    StateHistoryFields,
    TaskRunViewFields,
)
from prefect_gql_generated.json_value import JSONValue

from .._exceptions import (
    APIConnectionError,
    APIStatusError,
    FlowRunTimeoutError,
    InvalidInputError,
    NotFoundError,
)
from .._http.config import ClientConfig, ClientMethod, ClientStream, Emit, Plan, Sleep, Stream
from .._model.results import ProjectInfo
from .._model.states import Finished, State, state_from_answer
from .._model.validation import aware, valid_uuid
from .._model.views import (
    FlowRunEvent,
    FlowRunSummary,
    FlowRunView,
    FlowSummary,
    FlowView,
    LogLine,
    StateChange,
    TaskRunProgress,
    TaskRunView,
)
from .flow_runs import json_object

if TYPE_CHECKING:
    pass

__all__ = ["ViewMethods"]

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
DEFAULT_POLL_INTERVAL = 1.0
"""Seconds between polls while a watched run is active."""
DEFAULT_MAX_POLL_INTERVAL = 10.0
"""Polls back off to this while nothing changes."""
POLL_BACKOFF = 1.5
MAX_FAILED_POLLS = 5
"""Consecutive polls that may fail (after their own retries) before a watch gives up."""

Order = Literal["newest", "oldest"]
P = ParamSpec("P")
T = TypeVar("T")


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


def _page_size(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_PAGE_SIZE:
        raise InvalidInputError(f"page_size must be an integer from 1 to {MAX_PAGE_SIZE}")
    return value


def _seconds(value: float | timedelta | None, what: str) -> float | None:
    if value is None:
        return None
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    if not seconds > 0:
        raise InvalidInputError(f"{what} must be positive, got {value!r}")
    return seconds


def _labels(value: JSONValue) -> list[str]:
    return [label for label in value if isinstance(label, str)] if isinstance(value, list) else []


def _json_object_or_none(value: JSONValue | None) -> dict[str, JSONValue] | None:
    return json_object(value) if value is not None else None


def _flow_run_fields(run: FlowRunSummaryFields) -> dict[str, object]:
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
        "labels": _labels(run.labels),
        "parameters": json_object(run.parameters),
        "context": json_object(run.context),
        "run_config": _json_object_or_none(run.run_config),
        "version": run.version,
        "state": state_from_answer(run.serialized_state),
        "created": run.created,
        "updated": run.updated,
        "scheduled_start_time": run.scheduled_start_time,
        "start_time": run.start_time,
        "end_time": run.end_time,
    }


def _state_change(row: StateHistoryFields) -> StateChange:
    return StateChange(
        state=state_from_answer(row.serialized_state), timestamp=row.timestamp, version=row.version
    )


def _log_line(row: LogLineFields) -> LogLine:
    return LogLine(
        id=row.id,
        timestamp=row.timestamp,
        created=row.created,
        level=row.level,
        name=row.name,
        message=row.message,
        task_run_id=row.task_run_id,
    )


def _task_run_view(row: TaskRunViewFields) -> TaskRunView:
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


def _count(aggregate: object) -> int:
    inner = getattr(aggregate, "aggregate", None)
    return int(getattr(inner, "count", 0)) if inner is not None else 0


# -- views ---------------------------------------------------------------------------------


def get_flow_run_view(config: ClientConfig, flow_run_id: str) -> Plan[FlowRunView]:
    """A flow run with its flow and project, labels, parameters, state history, start and
    end times and task-run counts (Prefect 1.x's ``FlowRunView``)."""
    run_id = valid_uuid(flow_run_id, "flow_run_id")
    answer = yield from config.operations.get_flow_run_view(
        id=run_id, finished_states=FINISHED_STATES
    )
    run = answer.flow_run_by_pk
    if run is None:
        raise NotFoundError(f"flow run {run_id} not found")
    return FlowRunView(
        **_flow_run_fields(run),
        states=[_state_change(row) for row in run.states],
        task_run_count=_count(run.task_runs_aggregate),
        finished_task_run_count=_count(run.finished_task_runs),
    )


def get_task_run_view(config: ClientConfig, task_run_id: str) -> Plan[TaskRunView]:
    """A task run with its task, map index, state and times (Prefect 1.x's ``TaskRunView``)."""
    run_id = valid_uuid(task_run_id, "task_run_id")
    answer = yield from config.operations.get_task_run_view(id=run_id)
    if answer.task_run_by_pk is None:
        raise NotFoundError(f"task run {run_id} not found")
    return _task_run_view(answer.task_run_by_pk)


def get_flow_view(config: ClientConfig, flow_id: str) -> Plan[FlowView]:
    """A registered flow's metadata (Prefect 1.x's ``FlowView``)."""
    checked_id = valid_uuid(flow_id, "flow_id")
    answer = yield from config.operations.get_flow_view(id=checked_id)
    flow = answer.flow_by_pk
    if flow is None:
        raise NotFoundError(f"flow {checked_id} not found")
    return FlowView(
        id=flow.id,
        name=flow.name,
        version=flow.version,
        description=flow.description,
        project=ProjectInfo(id=flow.project.id, name=flow.project.name),
        flow_group_id=flow.flow_group.id,
        labels=_labels(flow.flow_group.labels),
        archived=flow.archived,
        core_version=flow.core_version,
        created=flow.created,
        parameters=flow.parameters,
        run_config=_json_object_or_none(flow.run_config),
        settings=json_object(flow.settings),
        is_schedule_active=flow.is_schedule_active,
        task_count=_count(flow.tasks_aggregate),
    )


# -- iterators -----------------------------------------------------------------------------


def iter_flow_runs(
    config: ClientConfig,
    *,
    flow_id: str | None = None,
    flow_name: str | None = None,
    project: str | None = None,
    states: Sequence[str] | None = None,
    labels: Iterable[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    order: Order = "newest",
    limit: int | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
) -> Stream:
    """Flow runs, newest (or oldest) first by creation time, fetched a page at a time.

    Filters: ``flow_id`` or ``flow_name``, ``project`` (name), ``states`` (state type
    names such as ``"Running"``), ``labels`` (runs carrying all of them), ``since`` /
    ``until`` (created at or after / before). ``limit`` stops after
    that many runs.
    """
    checked_size = _page_size(page_size)
    if order not in ("newest", "oldest"):
        raise InvalidInputError(f"order must be 'newest' or 'oldest', got {order!r}")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise InvalidInputError(f"limit must be a non-negative integer, got {limit!r}")
    if isinstance(states, str):
        raise InvalidInputError("states must be a list of state names, not one string")
    wanted_labels = set(labels or ())
    newest_first = order == "newest"
    checked_flow_id = valid_uuid(flow_id, "flow_id") if flow_id is not None else None
    checked_states = list(states) if states is not None else None
    checked_since = aware(since, "since") if since is not None else None
    checked_until = aware(until, "until") if until is not None else None
    emitted = 0
    last_created: datetime | None = None
    last_id: str | None = None
    while limit is None or emitted < limit:
        answer = yield from config.operations.list_flow_runs_page(
            direction=order_by.desc if newest_first else order_by.asc,
            limit=checked_size,
            flow_id=checked_flow_id,
            flow_name=flow_name,
            project_name=project,
            states=checked_states,
            since=checked_since,
            until=checked_until,
            cursor_created=last_created,
            created_before=last_created if newest_first else None,
            created_after=None if newest_first else last_created,
            id_before=last_id if newest_first else None,
            id_after=None if newest_first else last_id,
        )
        page = answer.flow_run
        for row in page:
            if wanted_labels and not wanted_labels.issubset(_labels(row.labels)):
                continue
            yield Emit(FlowRunSummary(**_flow_run_fields(row)))
            emitted += 1
            if limit is not None and emitted >= limit:
                return
        if len(page) < checked_size:
            return
        last_created, last_id = page[-1].created, page[-1].id


def iter_task_runs(
    config: ClientConfig, flow_run_id: str, *, page_size: int = DEFAULT_PAGE_SIZE
) -> Stream:
    """Every task run of a flow run (mapped children included), in creation order."""
    run_id = valid_uuid(flow_run_id, "flow_run_id")
    checked_size = _page_size(page_size)
    last_created: datetime | None = None
    last_id: str | None = None
    while True:
        answer = yield from config.operations.list_task_runs_page(
            flow_run_id=run_id,
            limit=checked_size,
            cursor_created=last_created,
            created_after=last_created,
            id_after=last_id,
        )
        page = answer.task_run
        for row in page:
            yield Emit(_task_run_view(row))
        if len(page) < checked_size:
            return
        last_created, last_id = page[-1].created, page[-1].id


@dataclass(slots=True)
class _LogCursor:
    """Where log paging stands: the last line read, in (created, timestamp, id) order."""

    created: datetime | None = None
    timestamp: datetime | None = None
    id: str | None = None

    def advance(self, line: LogLineFields) -> None:
        self.created, self.timestamp, self.id = line.created, line.timestamp, line.id


def iter_flow_run_logs(
    config: ClientConfig,
    flow_run_id: str,
    *,
    since: datetime | None = None,
    page_size: int = 500,
) -> Stream:
    """A flow run's log lines (its task runs' included), in the order the API stored them.

    ``since`` keeps lines whose timestamp is at or after it.
    """
    run_id = valid_uuid(flow_run_id, "flow_run_id")
    checked_size = _page_size(page_size)
    checked_since = aware(since, "since") if since is not None else None
    cursor = _LogCursor()
    while True:
        answer = yield from config.operations.list_flow_run_logs_page(
            flow_run_id=run_id,
            since=checked_since,
            limit=checked_size,
            cursor_created=cursor.created,
            created_after=cursor.created,
            cursor_timestamp=cursor.timestamp,
            timestamp_after=cursor.timestamp,
            id_after=cursor.id,
        )
        page = answer.log
        for row in page:
            yield Emit(_log_line(row))
            cursor.advance(row)
        if len(page) < checked_size:
            return


# -- watching ------------------------------------------------------------------------------


def _transient(error: Exception) -> bool:
    """A failure worth polling again for: no answer, a 429 or a 5xx."""
    if isinstance(error, APIConnectionError):
        return True
    return isinstance(error, APIStatusError) and (
        error.status_code == 429 or error.status_code >= 500
    )


class _Clock:
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


def watch_flow_run(
    config: ClientConfig,
    flow_run_id: str,
    *,
    logs: bool = True,
    timeout: float | timedelta | None = None,
    poll_interval: float = DEFAULT_POLL_INTERVAL,
    max_poll_interval: float = DEFAULT_MAX_POLL_INTERVAL,
    page_size: int = 500,
) -> Stream:
    """Follow a flow run until it finishes: yields each new ``StateChange`` (the history so
    far first), each new ``LogLine`` and a ``TaskRunProgress`` whenever the counts change.

    Polls every ``poll_interval`` seconds while something changes, backing off to
    ``max_poll_interval`` while nothing does. A poll that fails after its retries with no
    answer, a 429 or a 5xx is repeated (up to 5 in a row); nothing is repeated or skipped.
    Raises ``FlowRunTimeoutError`` after ``timeout`` seconds, ``NotFoundError`` for an
    unknown run.
    """
    run_id = valid_uuid(flow_run_id, "flow_run_id")
    checked_size = _page_size(page_size)
    limit = _seconds(timeout, "timeout")
    shortest = _seconds(poll_interval, "poll_interval") or DEFAULT_POLL_INTERVAL
    longest = max(shortest, _seconds(max_poll_interval, "max_poll_interval") or shortest)
    interval = shortest
    clock = _Clock()
    state_cursor_timestamp: datetime | None = None
    state_cursor_id: str | None = None
    log_cursor = _LogCursor()
    progress: tuple[int, int] | None = None
    last_state: State | None = None
    failed_polls = 0
    while True:
        try:
            answer = yield from config.operations.poll_flow_run(
                id=run_id,
                finished_states=FINISHED_STATES,
                log_limit=checked_size if logs else 0,
                state_cursor_timestamp=state_cursor_timestamp,
                state_timestamp_after=state_cursor_timestamp,
                state_id_after=state_cursor_id,
                log_cursor_created=log_cursor.created,
                log_created_after=log_cursor.created,
                log_cursor_timestamp=log_cursor.timestamp,
                log_timestamp_after=log_cursor.timestamp,
                log_id_after=log_cursor.id,
            )
        except (APIConnectionError, APIStatusError) as err:
            failed_polls += 1
            if not _transient(err) or failed_polls > MAX_FAILED_POLLS:
                raise
            answer = None
        if answer is not None:
            failed_polls = 0
            run = answer.flow_run_by_pk
            if run is None:
                raise NotFoundError(f"flow run {run_id} not found")
            news: list[StateChange | LogLine] = [_state_change(row) for row in run.states]
            news += [_log_line(row) for row in run.logs]
            if run.states:
                state_cursor_timestamp = run.states[-1].timestamp
                state_cursor_id = run.states[-1].id
            if run.logs:
                log_cursor.advance(run.logs[-1])
            for event in sorted(news, key=lambda event: event.timestamp):  # stable: pages' order
                yield Emit(event)
            changed = bool(news)
            counts = (_count(run.finished_task_runs), _count(run.task_runs_aggregate))
            if counts != progress:
                progress = counts
                changed = True
                yield Emit(TaskRunProgress(finished=counts[0], total=counts[1]))
            if logs and len(run.logs) >= checked_size:
                continue  # more lines are waiting: read them before sleeping
            last_state = state_from_answer(run.serialized_state)
            if last_state.is_finished():
                return
            interval = shortest if changed else min(interval * POLL_BACKOFF, longest)
        if limit is not None and clock.elapsed + interval > limit:
            raise FlowRunTimeoutError(
                f"flow run {run_id} did not finish within {limit:g} s"
                + (f" (last state: {last_state.type})" if last_state is not None else ""),
                flow_run_id=run_id,
                state=last_state,
            )
        yield Sleep(interval)
        clock.slept(interval)


def wait_for_flow_run(
    config: ClientConfig,
    flow_run_id: str,
    *,
    timeout: float | timedelta | None = None,
    poll_interval: float = DEFAULT_POLL_INTERVAL,
    max_poll_interval: float = DEFAULT_MAX_POLL_INTERVAL,
) -> Plan[FlowRunView]:
    """Wait until a flow run finishes; returns its final ``FlowRunView``.

    Raises ``FlowRunTimeoutError`` (a ``TimeoutError``) when it is still unfinished after
    ``timeout`` seconds (no limit when ``None``).
    """
    run_id = valid_uuid(flow_run_id, "flow_run_id")
    limit = _seconds(timeout, "timeout")
    shortest = _seconds(poll_interval, "poll_interval") or DEFAULT_POLL_INTERVAL
    longest = max(shortest, _seconds(max_poll_interval, "max_poll_interval") or shortest)
    interval = shortest
    clock = _Clock()
    while True:
        view = yield from get_flow_run_view(config, run_id)
        if view.is_finished:
            return view
        if limit is not None and clock.elapsed + interval > limit:
            raise FlowRunTimeoutError(
                f"flow run {run_id} did not finish within {limit:g} s"
                f" (last state: {view.state.type})",
                flow_run_id=run_id,
                state=view.state,
            )
        yield Sleep(interval)
        clock.slept(interval)
        interval = min(interval * POLL_BACKOFF, longest)


def _flow_run_event(event: FlowRunEvent) -> FlowRunEvent:
    """Names ``FlowRunEvent`` (a union, not a class) as the item type of ``watch_flow_run``."""
    return event


class ViewMethods:
    get_flow_run_view = ClientMethod(get_flow_run_view)
    get_task_run_view = ClientMethod(get_task_run_view)
    get_flow_view = ClientMethod(get_flow_view)
    wait_for_flow_run = ClientMethod(wait_for_flow_run)
    iter_flow_runs = ClientStream(iter_flow_runs, FlowRunSummary)
    iter_task_runs = ClientStream(iter_task_runs, TaskRunView)
    iter_flow_run_logs = ClientStream(iter_flow_run_logs, LogLine)
    watch_flow_run = ClientStream(watch_flow_run, _flow_run_event)
