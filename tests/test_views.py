"""Views, keyset-paged iterators, watch_flow_run and wait_for_flow_run against the embedded
server, with Client and AsyncClient alike."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any, Concatenate, ParamSpec, TypeVar

import anyio
import httpx
import pytest

from prefect_gql import (
    AsyncClient,
    Client,
    Failed,
    FlowRunEvent,
    FlowRunTimeoutError,
    FlowSpec,
    InvalidInputError,
    LogLine,
    NotFoundError,
    ParameterSpec,
    PrefectGQLError,
    Running,
    Scheduled,
    StateChange,
    Submitted,
    Success,
    TaskRunProgress,
    TaskSpec,
)
from prefect_gql._model import view_answers
from prefect_gql.server import LocalServer

from .conftest import Api, ApiCaller

pytestmark = pytest.mark.e2e

P = ParamSpec("P")
T = TypeVar("T")

HANG_GUARD = 300.0
"""Seconds after which a watch in this module gives up: a guard against hanging, far
beyond what any machine needs, never the verdict (which counts events)."""


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer() as running:
        yield running


@pytest.fixture(params=["sync", "async"])
async def api(request: pytest.FixtureRequest, server: LocalServer) -> AsyncIterator[Api]:
    if request.param == "sync":
        with Client(server.url, backend="server") as client:
            yield ApiCaller(client)
    else:
        async with AsyncClient(server.url, backend="server") as async_client:
            yield ApiCaller(async_client)


@pytest.fixture
def writer(server: LocalServer) -> Iterator[Client]:
    """Another client, writing while the one under test reads."""
    with Client(server.url, backend="server") as client:
        yield client


@pytest.fixture
def real_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    """Polls really wait here: the run is driven by another thread meanwhile."""
    monkeypatch.setattr(Client, "_sleep", staticmethod(time.sleep))
    monkeypatch.setattr(AsyncClient, "_sleep", staticmethod(anyio.sleep))


async def iterate(
    api: Api,
    method: Callable[Concatenate[Client, P], Iterator[T]],
    /,
    *args: P.args,
    **kwargs: P.kwargs,
) -> AsyncIterator[T]:
    """The stream ``method`` of the client under test, item by item (typed like ``api``)."""
    if isinstance(api.client, AsyncClient):
        stream: AsyncIterator[T] = getattr(api.client, method.__name__)(*args, **kwargs)
        async for item in stream:
            yield item
    else:
        for item in method(api.client, *args, **kwargs):
            yield item


async def collect(
    api: Api,
    method: Callable[Concatenate[Client, P], Iterator[T]],
    /,
    *args: P.args,
    **kwargs: P.kwargs,
) -> list[T]:
    return [item async for item in iterate(api, method, *args, **kwargs)]


def register_flow(client: Client, tasks: int = 2) -> str:
    project = f"project-{uuid.uuid4().hex[:8]}"
    client.create_project(project)
    spec = FlowSpec(
        name=f"flow-{uuid.uuid4().hex[:6]}",
        tasks=[TaskSpec(slug=f"task-{index}", name=f"task{index}") for index in range(tasks)],
        parameters=[ParameterSpec(name="day", default="monday")],
    )
    flow_id: str = client.register(spec, project_name=project, no_url=True)
    return flow_id


def log(client: Client, run_id: str, *messages: str, at: datetime | None = None) -> None:
    client.write_run_logs(
        [
            {"flow_run_id": run_id, "message": message, "level": "INFO", "timestamp": at}
            for message in messages
        ]
    )


def drive(client: Client, run_id: str, final: Success | Failed, lines: int = 5) -> None:
    """What an agent and a flow runner do to a run: Running, logs, task runs, the end."""
    run = client.get_flow_run_info(run_id)
    client.set_flow_run_state(run_id, Running(message="started"), version=run.version)
    for index in range(lines):
        log(client, run_id, f"line {index}")
        time.sleep(0.02)
    for task_run in run.task_runs:
        info = client.get_task_run_info(run_id, task_run.task_id)
        client.set_task_run_state(info.id, Running(), info.version)
        client.set_task_run_state(info.id, Success(), info.version + 1)
        time.sleep(0.02)
    log(client, run_id, "last line")
    current = client.get_flow_run_info(run_id)
    client.set_flow_run_state(run_id, final, version=current.version)


# -- views --------------------------------------------------------------------------------


async def test_flow_run_view_has_what_prefects_flow_run_view_had(api: Api, writer: Client) -> None:
    flow_id = register_flow(writer)
    run_id = writer.create_flow_run(
        flow_id=flow_id, parameters={"day": "friday"}, labels=["gpu", "eu"], run_name="nightly"
    )
    before = await api(Client.get_flow_run_view, run_id)
    assert (before.name, sorted(before.labels)) == ("nightly", ["eu", "gpu"])
    assert before.parameters == {"day": "friday"}
    assert before.flow.id == flow_id
    assert before.flow.project.name.startswith("project-")
    assert [change.state.type for change in before.states] == ["Scheduled"]
    assert (before.start_time, before.end_time, before.duration) == (None, None, None)
    assert (before.finished_task_run_count, before.task_run_count) == (0, 3)  # + the parameter

    drive(writer, run_id, Success(message="done"), lines=0)
    after = await api(Client.get_flow_run_view, run_id)
    assert [change.state.type for change in after.states] == ["Scheduled", "Running", "Success"]
    assert after.is_finished
    assert after.state.message == "done"
    assert after.start_time is not None
    assert after.end_time is not None
    assert after.duration == after.end_time - after.start_time
    assert after.finished_task_run_count == after.task_run_count == 3


async def test_task_run_view_and_flow_view(api: Api, writer: Client) -> None:
    flow_id = register_flow(writer, tasks=1)
    run_id = writer.create_flow_run(flow_id=flow_id)
    task_runs = await collect(api, Client.iter_task_runs, run_id)
    task_run = next(view for view in task_runs if view.task_slug == "task-0")
    view = await api(Client.get_task_run_view, task_run.id)
    assert view == task_run
    assert (view.task_name, view.map_index, view.state.type, view.flow_run_id) == (
        "task0",
        -1,
        "Pending",
        run_id,
    )

    flow = await api(Client.get_flow_view, flow_id)
    assert flow.id == flow_id
    assert flow.name.startswith("flow-")
    assert not flow.archived
    assert flow.task_count == 2
    assert isinstance(flow.parameters, list)
    first = flow.parameters[0]
    assert isinstance(first, dict)
    assert first["name"] == "day"


async def test_unknown_ids_are_not_found(api: Api) -> None:
    unknown = str(uuid.uuid4())
    with pytest.raises(NotFoundError):
        await api(Client.get_flow_run_view, unknown)
    with pytest.raises(NotFoundError):
        await api(Client.get_task_run_view, unknown)
    with pytest.raises(NotFoundError):
        await api(Client.get_flow_view, unknown)
    with pytest.raises(NotFoundError):
        await collect(api, Client.watch_flow_run, unknown)


# -- pagination ----------------------------------------------------------------------------


@pytest.mark.parametrize("order", ["newest", "oldest"])
async def test_flow_runs_page_without_gap_or_duplicate_while_runs_are_created(
    api: Api, writer: Client, order: Any
) -> None:
    flow_id = register_flow(writer, tasks=0)
    existing = {writer.create_flow_run(flow_id=flow_id) for _ in range(11)}
    created_meanwhile: set[str] = set()
    seen: list[str] = []
    async for run in iterate(api, Client.iter_flow_runs, flow_id=flow_id, order=order, page_size=3):
        seen.append(run.id)
        if len(seen) % 3 == 0 and len(created_meanwhile) < 8:  # a page was read: insert more
            created_meanwhile |= {writer.create_flow_run(flow_id=flow_id) for _ in range(2)}

    assert len(seen) == len(set(seen)), "a run was yielded twice"
    assert existing <= set(seen), "a run that existed from the start was skipped"
    assert set(seen) <= existing | created_meanwhile
    if order == "oldest":  # new runs come after the cursor: all of them are reached
        assert set(seen) == existing | created_meanwhile
    runs = [await api(Client.get_flow_run_view, run_id) for run_id in seen]
    created = [(run.created, run.id) for run in runs]
    assert created == sorted(created, reverse=order == "newest")


async def test_flow_run_filters(api: Api, writer: Client) -> None:
    flow_id = register_flow(writer, tasks=0)
    start = datetime.now(UTC)
    gpu = writer.create_flow_run(flow_id=flow_id, labels=["gpu", "eu"])
    plain = writer.create_flow_run(flow_id=flow_id, labels=["eu"])
    running = writer.create_flow_run(flow_id=flow_id)
    writer.set_flow_run_state(running, Running(), version=1)
    project = (await api(Client.get_flow_run_view, gpu)).flow.project.name

    async def ids(**filters: Any) -> set[str]:
        return {run.id async for run in iterate(api, Client.iter_flow_runs, **filters)}

    assert await ids(flow_id=flow_id) == {gpu, plain, running}
    assert await ids(project=project) == {gpu, plain, running}
    assert await ids(project=project, labels=["eu"]) == {gpu, plain}
    assert await ids(project=project, labels=["eu", "gpu"]) == {gpu}
    assert await ids(project=project, states=["Running"]) == {running}
    assert await ids(flow_id=flow_id, since=start, until=start + timedelta(hours=1)) == {
        gpu,
        plain,
        running,
    }
    assert await ids(flow_id=flow_id, until=start) == set()
    assert await ids(project=f"no-such-{uuid.uuid4().hex}") == set()
    assert len(await ids(flow_id=flow_id, limit=2, page_size=1)) == 2


async def test_logs_page_in_order_without_gap_or_duplicate_while_lines_arrive(
    api: Api, writer: Client
) -> None:
    run_id = writer.create_flow_run(flow_id=register_flow(writer, tasks=0))
    log(writer, run_id, *(f"early {index}" for index in range(10)))
    seen: list[str] = []
    async for line in iterate(api, Client.iter_flow_run_logs, run_id, page_size=4):
        seen.append(str(line.message))
        if len(seen) == 4:
            # written after the reader passed their timestamps: still read, after the others
            log(writer, run_id, "late 0", "late 1", at=datetime.now(UTC) - timedelta(hours=1))
    assert seen == [f"early {index}" for index in range(10)] + ["late 0", "late 1"]

    cut = datetime.now(UTC) - timedelta(minutes=30)
    recent = await collect(api, Client.iter_flow_run_logs, run_id, since=cut)
    assert [line.message for line in recent] == [f"early {index}" for index in range(10)]


async def test_task_runs_page_through_every_task_run(api: Api, writer: Client) -> None:
    run_id = writer.create_flow_run(flow_id=register_flow(writer, tasks=7))
    views = await collect(api, Client.iter_task_runs, run_id, page_size=2)
    assert sorted(str(view.task_slug) for view in views) == sorted(
        ["day", *(f"task-{index}" for index in range(7))]
    )
    assert len({view.id for view in views}) == 8


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        ({"page_size": 0}, "page_size"),
        ({"page_size": 100_000}, "page_size"),
        ({"since": "yesterday"}, "since must be a datetime"),
        ({"order": "sideways"}, "order"),
        ({"limit": -1}, "limit"),
        ({"states": "Running"}, "states"),
        ({"flow_id": "nope"}, "flow_id"),
    ],
)
async def test_bad_iterator_arguments_are_refused_before_any_request(
    arguments: dict[str, Any], problem: str
) -> None:
    with (
        Client("http://127.0.0.1:9", backend="server", max_retries=0) as client,
        pytest.raises(InvalidInputError, match=problem),
    ):
        next(client.iter_flow_runs(**arguments))


# -- watching ------------------------------------------------------------------------------


def events_of(events: list[FlowRunEvent]) -> tuple[list[str], list[str], list[TaskRunProgress]]:
    states = [str(event.state.type) for event in events if isinstance(event, StateChange)]
    lines = [str(event.message) for event in events if isinstance(event, LogLine)]
    progress = [event for event in events if isinstance(event, TaskRunProgress)]
    return states, lines, progress


@pytest.mark.usefixtures("real_sleep")
@pytest.mark.parametrize(
    "final", [Success(message="ok"), Failed(message="boom")], ids=["success", "failed"]
)
async def test_watch_follows_a_run_driven_concurrently_until_it_finishes(
    api: Api, writer: Client, final: Success | Failed
) -> None:
    run_id = writer.create_flow_run(flow_id=register_flow(writer, tasks=3))
    driver = threading.Thread(target=drive, args=(writer, run_id, final), daemon=True)
    events: list[FlowRunEvent] = []
    driver.start()
    try:
        async for event in iterate(
            api,
            Client.watch_flow_run,
            run_id,
            poll_interval=0.05,
            max_poll_interval=0.2,
            timeout=HANG_GUARD,
        ):
            events.append(event)
    finally:
        driver.join(HANG_GUARD)

    states, lines, progress = events_of(events)
    assert states == ["Scheduled", "Running", final.type]
    assert lines == [f"line {index}" for index in range(5)] + ["last line"]
    assert progress[-1] == TaskRunProgress(finished=4, total=4)  # 3 tasks and the parameter
    assert [(step.finished, step.total) for step in progress] == sorted(
        {(step.finished, step.total) for step in progress}
    ), "progress repeated or went back"
    view = await api(Client.wait_for_flow_run, run_id, timeout=1)
    assert view.state.type == final.type


class DroppingTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Forwards every request, but loses every third answer: the server did the work and
    the client saw a read error (the watch polls again and must not repeat or skip)."""

    def __init__(self) -> None:
        self.calls = 0
        self.dropped = 0
        self._sync = httpx.HTTPTransport()
        self._async = httpx.AsyncHTTPTransport()

    def _maybe_drop(self, request: httpx.Request) -> None:
        self.calls += 1
        if self.calls % 3 == 0:
            self.dropped += 1
            raise httpx.ReadError("answer lost", request=request)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._sync.handle_request(request)
        response.read()
        self._maybe_drop(request)
        return response

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._async.handle_async_request(request)
        await response.aread()
        self._maybe_drop(request)
        return response

    def close(self) -> None:
        self._sync.close()

    async def aclose(self) -> None:
        await self._async.aclose()


@pytest.mark.usefixtures("real_sleep")
@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_watch_survives_lost_answers_without_repeating_or_dropping_a_line(
    server: LocalServer, writer: Client, mode: str
) -> None:
    run_id = writer.create_flow_run(flow_id=register_flow(writer, tasks=1))
    transport = DroppingTransport()
    options: dict[str, Any] = {"backend": "server", "max_retries": 0}
    http: httpx.Client | httpx.AsyncClient
    if mode == "sync":
        http = httpx.Client(transport=transport)
        client: Client | AsyncClient = Client(server.url, http_client=http, **options)
    else:
        http = httpx.AsyncClient(transport=transport)
        client = AsyncClient(server.url, http_client=http, **options)
    driver = threading.Thread(target=drive, args=(writer, run_id, Success()), kwargs={"lines": 12})
    driver.start()
    try:
        events = await collect(
            ApiCaller(client),
            Client.watch_flow_run,
            run_id,
            poll_interval=0.03,
            max_poll_interval=0.1,
            page_size=2,
            timeout=HANG_GUARD,
        )
    finally:
        driver.join(HANG_GUARD)
        if isinstance(http, httpx.AsyncClient):  # the clients leave a passed-in one open
            await http.aclose()
        else:
            http.close()
    assert transport.dropped >= 2
    states, lines, _ = events_of(events)
    assert states == ["Scheduled", "Running", "Success"]
    assert lines == [f"line {index}" for index in range(12)] + ["last line"]


def script_sleeps(monkeypatch: pytest.MonkeyPatch, steps: list[Callable[[], None]]) -> list[float]:
    """Each sleep a watch asks for does the next step (then nothing): what happens to the
    run between two polls, in order, on any machine. Returns the sleeps asked for."""
    slept: list[float] = []

    def next_step(seconds: float) -> None:
        slept.append(seconds)
        if len(slept) <= len(steps):
            steps[len(slept) - 1]()

    async def next_step_async(seconds: float) -> None:
        next_step(seconds)

    monkeypatch.setattr(Client, "_sleep", staticmethod(next_step))
    monkeypatch.setattr(AsyncClient, "_sleep", staticmethod(next_step_async))
    monkeypatch.setattr(view_answers, "time", SimpleNamespace(monotonic=lambda: 0.0))
    return slept


def set_state(client: Client, run_id: str, state: Running | Success) -> None:
    client.set_flow_run_state(run_id, state, version=client.get_flow_run_info(run_id).version)


async def test_a_watch_shows_the_lines_a_flow_runner_sends_after_the_final_state(
    api: Api, writer: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Prefect's flow runner sends its last lines as it exits, after Success."""
    run_id = writer.create_flow_run(flow_id=register_flow(writer, tasks=0))
    slept = script_sleeps(
        monkeypatch,
        [
            lambda: set_state(writer, run_id, Running()),
            lambda: set_state(writer, run_id, Success()),
            lambda: log(writer, run_id, "sent as the runner exits"),
        ],
    )
    events = await collect(api, Client.watch_flow_run, run_id, poll_interval=1)
    states, lines, _ = events_of(events)
    assert states == ["Scheduled", "Running", "Success"]
    assert lines == ["sent as the runner exits"]
    assert len(slept) == 3, "the watch ends with the poll that brought the last lines"


async def test_a_watch_of_a_finished_run_reads_on_for_late_lines_at_most_so_long(
    api: Api, writer: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_id = writer.create_flow_run(flow_id=register_flow(writer, tasks=0))
    slept = script_sleeps(monkeypatch, [lambda: set_state(writer, run_id, Success())])
    events = await collect(api, Client.watch_flow_run, run_id, poll_interval=1)
    assert events_of(events)[0] == ["Scheduled", "Success"]
    after_the_finish = slept[1:]
    assert sum(after_the_finish) == view_answers.FINAL_LOGS_WAIT
    assert set(after_the_finish) == {1}, "late lines are looked for at the shortest interval"

    slept.clear()
    await collect(api, Client.watch_flow_run, run_id)
    assert slept == [], "a run already finished when the watch starts has sent its lines"
    unlogged_run = writer.create_flow_run(flow_id=register_flow(writer, tasks=0))
    slept = script_sleeps(monkeypatch, [lambda: set_state(writer, unlogged_run, Success())])
    await collect(api, Client.watch_flow_run, unlogged_run, logs=False)
    assert slept == [view_answers.DEFAULT_POLL_INTERVAL], "no lines asked for, none waited for"


async def test_a_watch_gives_up_after_repeated_failures(api: Api) -> None:
    with (
        Client("http://127.0.0.1:9", backend="server", max_retries=0) as client,
        pytest.raises(PrefectGQLError),
    ):
        list(client.watch_flow_run(str(uuid.uuid4()), poll_interval=0.01))


async def test_wait_for_flow_run_times_out_with_an_error_of_our_tree(
    api: Api, writer: Client, no_retry_sleep: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The timeout counts the sleeps asked for: the wall clock is stopped for the test."""
    monkeypatch.setattr(view_answers, "time", SimpleNamespace(monotonic=lambda: 0.0))
    run_id = writer.create_flow_run(flow_id=register_flow(writer, tasks=0))
    with pytest.raises(FlowRunTimeoutError) as raised:
        await api(Client.wait_for_flow_run, run_id, timeout=5, poll_interval=1, max_poll_interval=2)
    assert isinstance(raised.value, TimeoutError)
    assert raised.value.flow_run_id == run_id
    assert "Scheduled" in str(raised.value)
    assert 0 < sum(no_retry_sleep) <= 5  # bounded by the timeout, never beyond
    with pytest.raises(FlowRunTimeoutError):
        await collect(api, Client.watch_flow_run, run_id, timeout=timedelta(seconds=3))


async def test_wait_for_flow_run_says_when_no_agent_has_picked_the_run_up(
    api: Api,
    writer: Client,
    server: LocalServer,
    no_retry_sleep: list[float],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """After ``agent_wait`` seconds of sleeps (the wall clock is stopped), one warning names
    the command that starts an agent against this API, and the timeout repeats it."""
    monkeypatch.setattr(view_answers, "time", SimpleNamespace(monotonic=lambda: 0.0))
    run_id = writer.create_flow_run(flow_id=register_flow(writer, tasks=0), labels=["gpu"])
    with (
        caplog.at_level(logging.WARNING, logger="prefect_gql"),
        pytest.raises(FlowRunTimeoutError) as raised,
    ):
        await api(
            Client.wait_for_flow_run,
            run_id,
            timeout=8,
            poll_interval=1,
            max_poll_interval=1,
            agent_wait=3,
        )
    command = f"prefect agent local start --api {server.url} --no-hostname-label --label gpu"
    warnings = [record.getMessage() for record in caplog.records if record.levelname == "WARNING"]
    assert len(warnings) == 1
    assert f"no agent has picked up flow run {run_id}" in warnings[0]
    assert command in warnings[0]
    assert command in str(raised.value)


async def test_wait_for_flow_run_gives_no_agent_advice_once_an_agent_took_the_run(
    api: Api, writer: Client, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(view_answers, "time", SimpleNamespace(monotonic=lambda: 0.0))
    run_id = writer.create_flow_run(flow_id=register_flow(writer, tasks=0))
    writer.set_flow_run_state(run_id, Submitted(message="taken by an agent"))
    writer.set_flow_run_state(run_id, Scheduled(message="back in the queue"))
    with (
        caplog.at_level(logging.WARNING, logger="prefect_gql"),
        pytest.raises(FlowRunTimeoutError) as raised,
    ):
        await api(Client.wait_for_flow_run, run_id, timeout=4, poll_interval=1, agent_wait=1)
    assert "no agent" not in str(raised.value)
    assert not [record for record in caplog.records if record.levelname == "WARNING"]


async def test_wait_for_flow_run_returns_the_final_view(api: Api, writer: Client) -> None:
    run_id = writer.create_flow_run(flow_id=register_flow(writer, tasks=1))
    drive(writer, run_id, Failed(message="boom"), lines=1)
    view = await api(Client.wait_for_flow_run, run_id, timeout=1)
    assert view.state.type == "Failed"
    assert view.state.message == "boom"
    assert [change.state.type for change in view.states] == ["Scheduled", "Running", "Failed"]
