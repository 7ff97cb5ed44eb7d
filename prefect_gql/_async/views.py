"""Views, iterators and watching (queries/views.graphql).

Every iterator pages by a keyset cursor, the last row's immutable ordering columns
ending in its id, never by an offset: a row inserted while a caller pages moves no
other row, so none is skipped or repeated. The cursor advances only after a page
was read, so a retried or failed request repeats nothing and drops nothing.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import datetime, timedelta

from prefect_gql._generated.enums import order_by
from prefect_gql._generated.poll_flow_run import PollFlowRun

from .._exceptions import (
    APIConnectionError,
    APIStatusError,
    FlowRunTimeoutError,
    InvalidInputError,
    NotFoundError,
)
from .._model.results import ProjectInfo, json_object
from .._model.states import State, state_from_answer
from .._model.validation import aware, valid_uuid
from .._model.view_answers import (
    DEFAULT_AGENT_WAIT,
    DEFAULT_MAX_POLL_INTERVAL,
    DEFAULT_PAGE_SIZE,
    DEFAULT_POLL_INTERVAL,
    FINISHED_STATES,
    MAX_FAILED_POLLS,
    POLL_BACKOFF,
    FinishedRunTail,
    LogCursor,
    Order,
    WaitClock,
    aggregate_count,
    checked_page_size,
    flow_run_fields,
    is_transient,
    json_object_or_none,
    log_line_of,
    no_agent_advice,
    positive_seconds,
    start_agent_command,
    state_change_of,
    string_labels,
    task_run_view_of,
    waits_for_an_agent,
)
from .._model.views import (
    FlowRunEvent,
    FlowRunSummary,
    FlowRunView,
    FlowView,
    LogLine,
    StateChange,
    TaskRunProgress,
    TaskRunView,
)
from .base import AsyncClientBase

__all__ = ["ViewMethods"]

logger = logging.getLogger("prefect_gql")


class ViewMethods(AsyncClientBase):
    async def get_flow_run_view(self, flow_run_id: str) -> FlowRunView:
        """A flow run with its flow and project, labels, parameters, state history, start and
        end times and task-run counts (Prefect 1.x's ``FlowRunView``)."""
        run_id = valid_uuid(flow_run_id, "flow_run_id")
        answer = await self.operations.get_flow_run_view(id=run_id, finished_states=FINISHED_STATES)
        run = answer.flow_run_by_pk
        if run is None:
            raise NotFoundError(f"flow run {run_id} not found")
        return FlowRunView(
            **flow_run_fields(run),
            states=[state_change_of(row) for row in run.states],
            task_run_count=aggregate_count(run.task_runs_aggregate),
            finished_task_run_count=aggregate_count(run.finished_task_runs),
        )

    async def get_task_run_view(self, task_run_id: str) -> TaskRunView:
        """A task run with its task, map index, state and times (Prefect 1.x's ``TaskRunView``)."""
        run_id = valid_uuid(task_run_id, "task_run_id")
        answer = await self.operations.get_task_run_view(id=run_id)
        if answer.task_run_by_pk is None:
            raise NotFoundError(f"task run {run_id} not found")
        return task_run_view_of(answer.task_run_by_pk)

    async def get_flow_view(self, flow_id: str) -> FlowView:
        """A registered flow's metadata (Prefect 1.x's ``FlowView``)."""
        checked_id = valid_uuid(flow_id, "flow_id")
        answer = await self.operations.get_flow_view(id=checked_id)
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
            labels=string_labels(flow.flow_group.labels),
            archived=flow.archived,
            core_version=flow.core_version,
            created=flow.created,
            parameters=flow.parameters,
            run_config=json_object_or_none(flow.run_config),
            settings=json_object(flow.settings),
            is_schedule_active=flow.is_schedule_active,
            task_count=aggregate_count(flow.tasks_aggregate),
        )

    async def iter_flow_runs(
        self,
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
    ) -> AsyncIterator[FlowRunSummary]:
        """Flow runs, newest (or oldest) first by creation time, fetched a page at a time.

        Filters: ``flow_id`` or ``flow_name``, ``project`` (name), ``states`` (state type
        names such as ``"Running"``), ``labels`` (runs carrying all of them), ``since`` /
        ``until`` (created at or after / before). ``limit`` stops after
        that many runs.
        """
        checked_size = checked_page_size(page_size)
        if order not in ("newest", "oldest"):
            raise InvalidInputError(f"order must be 'newest' or 'oldest', got {order!r}")
        if limit is not None and (
            isinstance(limit, bool) or not isinstance(limit, int) or limit < 0
        ):
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
            answer = await self.operations.list_flow_runs_page(
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
                if wanted_labels and not wanted_labels.issubset(string_labels(row.labels)):
                    continue
                yield FlowRunSummary(**flow_run_fields(row))
                emitted += 1
                if limit is not None and emitted >= limit:
                    return
            if len(page) < checked_size:
                return
            last_created, last_id = page[-1].created, page[-1].id

    async def iter_task_runs(
        self, flow_run_id: str, *, page_size: int = DEFAULT_PAGE_SIZE
    ) -> AsyncIterator[TaskRunView]:
        """Every task run of a flow run (mapped children included), in creation order."""
        run_id = valid_uuid(flow_run_id, "flow_run_id")
        checked_size = checked_page_size(page_size)
        last_created: datetime | None = None
        last_id: str | None = None
        while True:
            answer = await self.operations.list_task_runs_page(
                flow_run_id=run_id,
                limit=checked_size,
                cursor_created=last_created,
                created_after=last_created,
                id_after=last_id,
            )
            page = answer.task_run
            for row in page:
                yield task_run_view_of(row)
            if len(page) < checked_size:
                return
            last_created, last_id = page[-1].created, page[-1].id

    async def iter_flow_run_logs(
        self,
        flow_run_id: str,
        *,
        since: datetime | None = None,
        page_size: int = 500,
    ) -> AsyncIterator[LogLine]:
        """A flow run's log lines (its task runs' included), in the order the API stored them.

        ``since`` keeps lines whose timestamp is at or after it.
        """
        run_id = valid_uuid(flow_run_id, "flow_run_id")
        checked_size = checked_page_size(page_size)
        checked_since = aware(since, "since") if since is not None else None
        cursor = LogCursor()
        while True:
            answer = await self.operations.list_flow_run_logs_page(
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
                yield log_line_of(row)
                cursor.advance(row)
            if len(page) < checked_size:
                return

    async def watch_flow_run(  # noqa: PLR0912, PLR0915 - one poll loop, read top to bottom
        self,
        flow_run_id: str,
        *,
        logs: bool = True,
        timeout: float | timedelta | None = None,  # noqa: ASYNC109 - Prefect's signature
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        max_poll_interval: float = DEFAULT_MAX_POLL_INTERVAL,
        page_size: int = 500,
    ) -> AsyncIterator[FlowRunEvent]:
        """Follow a flow run until it finishes: yields each new ``StateChange`` (the history
        so far first), each new ``LogLine`` and a ``TaskRunProgress`` whenever the counts
        change.

        Polls every ``poll_interval`` seconds while something changes, backing off to
        ``max_poll_interval`` while nothing does. A poll that fails after its retries with no
        answer, a 429 or a 5xx is repeated (up to 5 in a row); nothing is repeated or
        skipped. A run seen to finish is read on until its last log lines come, which Prefect's
        flow runner sends as it exits (at most ``FINAL_LOGS_WAIT`` seconds more). Raises
        ``FlowRunTimeoutError`` after ``timeout`` seconds, ``NotFoundError`` for an unknown run.
        """
        run_id = valid_uuid(flow_run_id, "flow_run_id")
        checked_size = checked_page_size(page_size)
        limit = positive_seconds(timeout, "timeout")
        shortest = positive_seconds(poll_interval, "poll_interval") or DEFAULT_POLL_INTERVAL
        longest = max(
            shortest, positive_seconds(max_poll_interval, "max_poll_interval") or shortest
        )
        interval = shortest
        clock = WaitClock()
        state_cursor_timestamp: datetime | None = None
        state_cursor_id: str | None = None
        log_cursor = LogCursor()
        progress: tuple[int, int] | None = None
        last_state: State | None = None
        tail = FinishedRunTail(follows_logs=logs)
        failed_polls = 0
        while True:
            answer: PollFlowRun | None
            try:
                answer = await self.operations.poll_flow_run(
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
                if not is_transient(err) or failed_polls > MAX_FAILED_POLLS:
                    raise
                answer = None
            if answer is not None:
                failed_polls = 0
                run = answer.flow_run_by_pk
                if run is None:
                    raise NotFoundError(f"flow run {run_id} not found")
                news: list[StateChange | LogLine] = [state_change_of(row) for row in run.states]
                news += [log_line_of(row) for row in run.logs]
                if run.states:
                    state_cursor_timestamp = run.states[-1].timestamp
                    state_cursor_id = run.states[-1].id
                if run.logs:
                    log_cursor.advance(run.logs[-1])
                # sorted() is stable: events of one timestamp keep their page order
                for event in sorted(news, key=lambda event: event.timestamp):
                    yield event
                changed = bool(news)
                counts = (
                    aggregate_count(run.finished_task_runs),
                    aggregate_count(run.task_runs_aggregate),
                )
                if counts != progress:
                    progress = counts
                    changed = True
                    yield TaskRunProgress(finished=counts[0], total=counts[1])
                if logs and len(run.logs) >= checked_size:
                    continue  # more lines are waiting: read them before sleeping
                last_state = state_from_answer(run.serialized_state)
                if tail.may_end(
                    finished=last_state.is_finished(),
                    brought_lines=bool(run.logs),
                    elapsed=clock.elapsed,
                ):
                    return
                interval = (
                    shortest if changed or tail.waiting else min(interval * POLL_BACKOFF, longest)
                )
            if limit is not None and clock.elapsed + interval > limit:
                if tail.waiting:
                    return
                raise FlowRunTimeoutError(
                    f"flow run {run_id} did not finish within {limit:g} s"
                    + (f" (last state: {last_state.type})" if last_state is not None else ""),
                    flow_run_id=run_id,
                    state=last_state,
                )
            await self._sleep(interval)
            clock.slept(interval)

    async def wait_for_flow_run(
        self,
        flow_run_id: str,
        *,
        timeout: float | timedelta | None = None,  # noqa: ASYNC109 - Prefect's signature
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        max_poll_interval: float = DEFAULT_MAX_POLL_INTERVAL,
        agent_wait: float = DEFAULT_AGENT_WAIT,
    ) -> FlowRunView:
        """Wait until a flow run finishes; returns its final ``FlowRunView``.

        Raises ``FlowRunTimeoutError`` (a ``TimeoutError``) when it is still unfinished after
        ``timeout`` seconds (no limit when ``None``). A run that no agent has picked up after
        ``agent_wait`` seconds is logged as a warning (logger ``prefect_gql``) with the
        command that starts an agent for it, and the timeout's message says so too.
        """
        run_id = valid_uuid(flow_run_id, "flow_run_id")
        limit = positive_seconds(timeout, "timeout")
        shortest = positive_seconds(poll_interval, "poll_interval") or DEFAULT_POLL_INTERVAL
        longest = max(
            shortest, positive_seconds(max_poll_interval, "max_poll_interval") or shortest
        )
        patience = positive_seconds(agent_wait, "agent_wait") or 0.0
        interval = shortest
        clock = WaitClock()
        warned = False
        while True:
            view = await self.get_flow_run_view(run_id)
            if view.is_finished:
                return view
            advice = ""
            if clock.elapsed >= patience and waits_for_an_agent(view):
                advice = no_agent_advice(view, clock.elapsed, self._start_agent_command(view))
                if not warned:
                    logger.warning("%s", advice)
                    warned = True
            if limit is not None and clock.elapsed + interval > limit:
                raise FlowRunTimeoutError(
                    f"flow run {run_id} did not finish within {limit:g} s"
                    f" (last state: {view.state.type})" + (f"; {advice}" if advice else ""),
                    flow_run_id=run_id,
                    state=view.state,
                )
            await self._sleep(interval)
            clock.slept(interval)
            interval = min(interval * POLL_BACKOFF, longest)

    def _start_agent_command(self, view: FlowRunView) -> str:
        return start_agent_command(
            self.api_server,
            backend=self.backend,
            uses_api_key=self.credential_kind == "api_key",
            labels=view.labels,
        )
