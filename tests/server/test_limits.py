"""The local server under hostile requests: one client cannot stall it for the others.

Every limit is answered with a GraphQL error naming it (``extensions.code``), before
the request executes (counted: no operation runs) or, for the execution budget, when
it runs out (counted in fields, or against a clock the test moves). GraphQL executes
in worker threads, so ``/health`` and other clients are answered while a slow or
computing request is in progress: such a request here lasts until the test has its
answers, so no verdict depends on how fast the machine is.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from graphql import get_introspection_query

from prefect_gql.server import DEFAULT_TENANT_ID, LocalServer, _limits
from prefect_gql.server._execution import ServerExecutionContext
from prefect_gql.server._limits import (
    MAX_ALIASES,
    MAX_BODY_BYTES,
    MAX_JSON_DEPTH,
    MAX_LIST_LENGTH,
    MAX_QUERY_DEPTH,
    MAX_QUERY_LENGTH,
    MAX_SELECTED_FIELDS,
)
from prefect_gql.server._runs import Runs
from prefect_gql.server._store import _Database

from .conftest import GraphQL, World, build_world, create_flow_run, mutation, set_state

WAIT = 60.0
"""Seconds after which a test gives up waiting for something that must happen (a
safety net against hanging; never a verdict on speed)."""


@dataclass
class Executions:
    """How many GraphQL operations the server executed."""

    count: int = 0


_EXECUTIONS = Executions()


@pytest.fixture(autouse=True)
def _count_executions(monkeypatch: pytest.MonkeyPatch) -> None:
    original = ServerExecutionContext.execute_operation

    def execute_operation(self: ServerExecutionContext, *args: Any) -> Any:
        _EXECUTIONS.count += 1
        return original(self, *args)

    monkeypatch.setattr(ServerExecutionContext, "execute_operation", execute_operation)


def timed(call: Callable[[], httpx.Response]) -> tuple[httpx.Response, int]:
    """The response, and how many operations the server executed meanwhile (this
    module's server serves only this module's requests, one at a time)."""
    before = _EXECUTIONS.count
    response = call()
    return response, _EXECUTIONS.count - before


def refusal(response: httpx.Response, executed: int | None, code: str) -> dict[str, Any]:
    """The one error of a request refused with ``code``; ``executed`` (unless None, for
    the execution budget's own refusals) must be 0: refused before executing."""
    if executed is not None:
        assert executed == 0, f"a refused request executed {executed} operation(s)"
    body: dict[str, Any] = response.json()
    assert body.get("errors"), (response.status_code, body)
    error: dict[str, Any] = body["errors"][0]
    assert error.get("extensions", {}).get("code") == code, (response.status_code, body)
    assert body.get("data") is None, body
    return error


@pytest.fixture(scope="module")
def busy_server() -> Iterator[LocalServer]:
    """A server of its own, so that slow requests here cannot slow other modules."""
    with LocalServer() as running:
        yield running


@pytest.fixture
def busy(busy_server: LocalServer) -> Iterator[GraphQL]:
    client = GraphQL(busy_server.url)
    yield client
    client.close()


@pytest.fixture
def world(busy: GraphQL) -> World:
    return build_world(busy)


# -- the shape of a document -----------------------------------------------------------


def test_a_thousand_aliases_over_log_are_refused_at_once(busy: GraphQL) -> None:
    document = "{ " + " ".join(f"a{i}: log {{ id message }}" for i in range(1000)) + " }"
    response, executed = timed(lambda: busy.post(document))
    error = refusal(response, executed, "QUERY_TOO_COMPLEX")
    assert response.status_code == 400
    assert f"{MAX_ALIASES} aliases" in error["message"]


def test_deep_nesting_is_refused_at_once(busy: GraphQL, world: World) -> None:
    levels = MAX_QUERY_DEPTH // 2 + 1
    document = "{ flow_run { " + "flow { flow_runs { " * levels + "id" + " } }" * levels + " } }"
    response, executed = timed(lambda: busy.post(document))
    error = refusal(response, executed, "QUERY_TOO_COMPLEX")
    assert response.status_code == 400
    assert f"deeper than {MAX_QUERY_DEPTH}" in error["message"]
    shallow = "{ flow_run(limit: 1) { flow { flow_runs(limit: 1) { id } } } }"
    assert busy.data(shallow)["flow_run"]


def test_repeated_fields_and_fragment_fan_out_are_refused_at_once(busy: GraphQL) -> None:
    repeated = "{ " + "tenant { id } " * (MAX_SELECTED_FIELDS + 1) + "}"
    fragments = "".join(
        f"fragment F{i} on tenant {{ ...F{i + 1} ...F{i + 1} }}\n" for i in range(20)
    )
    fan_out = "{ tenant { ...F0 } }\n" + fragments + "fragment F20 on tenant { id }"
    for document in (repeated, fan_out):
        response, executed = timed(lambda: busy.post(document))  # noqa: B023
        error = refusal(response, executed, "QUERY_TOO_COMPLEX")
        assert response.status_code == 400
        assert f"{MAX_SELECTED_FIELDS} fields" in error["message"]


def test_long_lists_are_refused_in_variables_and_in_the_document(
    busy: GraphQL, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[str] = []
    original_read = _Database.read

    def counted_read(self: _Database, sql: str, parameters: Any) -> list[Any]:
        reads.append(sql)
        return original_read(self, sql, parameters)

    monkeypatch.setattr(_Database, "read", counted_read)
    ids = [str(uuid.UUID(int=i)) for i in range(200_000)]
    response, executed = timed(
        lambda: busy.post("query($ids: [uuid!]) { flow_run(where: {id: {_in: $ids}}) { id } }",
                          {"ids": ids})
    )  # fmt: skip
    error = refusal(response, executed, "QUERY_TOO_COMPLEX")
    assert f"{MAX_LIST_LENGTH} items" in error["message"]
    literal = (
        "{ log(where: {level: {_in: ["
        + ", ".join(['"x"'] * (MAX_LIST_LENGTH + 1))
        + "]}}) { id } }"
    )
    response, executed = timed(lambda: busy.post(literal))
    refusal(response, executed, "QUERY_TOO_COMPLEX")
    assert reads == [], "a refused request reached the database"
    within = busy.data(
        "query($ids: [uuid!]) { flow_run(where: {id: {_in: $ids}}) { id } }",
        {"ids": ids[:MAX_LIST_LENGTH]},
    )
    assert within == {"flow_run": []}
    assert reads, "the request within the limit was answered without reading the database"


def test_a_json_scalars_own_lists_are_not_list_arguments(busy: GraphQL, world: World) -> None:
    """A long list inside a JSON value (a flow's tasks, a run's context) is data, not an
    argument list the server iterates over: only the body size bounds it."""
    context = {"items": list(range(MAX_LIST_LENGTH + 1))}
    assert create_flow_run(busy, world.flow_id, context=context)


def test_the_full_introspection_query_is_within_the_limits(busy: GraphQL) -> None:
    """What GraphiQL and ``prefect-gql schema pull`` send: ofType nests 8 deep, over the
    schema rather than rows, so introspection counts one level."""
    schema = busy.data(get_introspection_query(descriptions=True))["__schema"]
    assert schema["queryType"]["name"] == "Query"


# -- the body ----------------------------------------------------------------------------


def test_oversized_bodies_are_refused_before_they_are_read(busy_server: LocalServer) -> None:
    huge = b'{"query": "{ hello }", "variables": {"x": "' + b"a" * (MAX_BODY_BYTES + 1) + b'"}}'
    response, executed = timed(
        lambda: httpx.post(busy_server.url, content=huge,
                           headers={"content-type": "application/json"}, timeout=30)
    )  # fmt: skip
    refusal(response, executed, "PAYLOAD_TOO_LARGE")
    assert response.status_code == 413

    def chunks() -> Iterator[bytes]:
        """No Content-Length: the server counts what it reads."""
        yield huge[: MAX_BODY_BYTES // 2]
        yield huge[MAX_BODY_BYTES // 2 :]

    response, executed = timed(
        lambda: httpx.post(busy_server.url, content=chunks(),
                           headers={"content-type": "application/json"}, timeout=30)
    )  # fmt: skip
    refusal(response, executed, "PAYLOAD_TOO_LARGE")
    long_document = "{ hello " + " " * MAX_QUERY_LENGTH + "}"
    response, executed = timed(lambda: httpx.post(busy_server.url, json={"query": long_document}))
    error = refusal(response, executed, "PAYLOAD_TOO_LARGE")
    assert f"{MAX_QUERY_LENGTH} characters" in error["message"]


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b'--b\r\nContent-Disposition: form-data; name="operations"\r\n\r\n{}\r\n--b--\r\n',
         "multipart/form-data; boundary=b"),
        (b"[" * 100_000 + b"]" * 100_000, "application/json"),
        (b'{"query": "{ hello }", "variables": ' + b'{"a": ' * 200 + b"1" + b"}" * 201,
         "application/json"),
        (b"[]", "application/json"),
        (b'"{ hello }"', "application/json"),
        (b"null", "application/json"),
        (b"", "application/json"),
        ('{"query": "{ hello }", "x": "caf\u00e9"}'.encode("latin-1"), "application/json"),
        (b'{"query": "{ tenant(where: {slug: {_eq: \\"\\ud800\\"}}) { id } }"}',
         "application/json"),
        (b'{"query": "{ hello }", "variables": {"s": "\\udfff"}}', "application/json"),
        (b'{"query": "{ hello }", "variables": {"x": NaN}}', "application/json"),
        (b'{"query": "{ hello }", "variables": {"x": 1e999}}', "application/json"),
        (b'{"query": "{ hello }", "variables": {"x": ' + b"9" * 5000 + b"}}", "application/json"),
        (b'{"query": 1}', "application/json"),
        (b'{"query": "{ hello }", "variables": [1]}', "application/json"),
        (b'{"query": "{ hello }", "operationName": 2}', "application/json"),
        (b'{"query": "{ hello }"}', "text/plain"),
        (b'{"query": "{ hello }"}', ""),
    ],
    ids=[
        "multipart", "deep-json", "deep-variables", "array", "string", "null", "empty",
        "latin-1", "surrogate-in-query", "surrogate-in-variables", "nan", "infinity",
        "huge-integer", "query-not-a-string",
        "variables-not-an-object", "operation-name-not-a-string", "text-plain", "no-type",
    ],
)  # fmt: skip
def test_every_malformed_body_is_a_400(
    busy_server: LocalServer, content: bytes, content_type: str
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response, executed = timed(
        lambda: httpx.post(busy_server.url, content=content, headers=headers)
    )
    assert response.status_code == 400, (response.status_code, response.text[:300])
    refusal(response, executed, "BAD_REQUEST")


def test_brackets_inside_strings_are_text_not_nesting(busy: GraphQL, world: World) -> None:
    bracketed = '\\"' + "[{" * MAX_JSON_DEPTH + '\\"' + "}]" * MAX_JSON_DEPTH
    run_id = create_flow_run(busy, world.flow_id, context={"note": bracketed, "[": ['"{', "]"]})
    stored = busy.data("query($id: uuid!) { flow_run_by_pk(id: $id) { context } }", {"id": run_id})
    assert stored["flow_run_by_pk"]["context"]["note"] == bracketed


@pytest.mark.parametrize("variables_as_text", [False, True], ids=["object", "json-string"])
def test_variables_nest_as_deep_as_the_body_allows(
    busy_server: LocalServer, variables_as_text: bool
) -> None:
    """Variables sit one level inside the body, also when sent as a JSON string (Prefect)."""

    def post(containers: int) -> httpx.Response:
        variables: Any = ["leaf"]
        for _ in range(containers - 1):
            variables = {"a": variables}
        sent = json.dumps(variables) if variables_as_text else variables
        return httpx.post(busy_server.url, json={"query": "{ tenant { id } }", "variables": sent})

    assert post(MAX_JSON_DEPTH - 1).status_code == 200
    response, executed = timed(lambda: post(MAX_JSON_DEPTH))
    error = refusal(response, executed, "BAD_REQUEST")
    assert f"nested deeper than {MAX_JSON_DEPTH} levels" in error["message"]


def test_json_nested_within_the_limit_is_accepted(busy: GraphQL, world: World) -> None:
    nested: Any = "leaf"
    for _ in range(MAX_JSON_DEPTH - 8):
        nested = {"a": nested}
    assert create_flow_run(busy, world.flow_id, context={"nested": nested})


# -- execution ---------------------------------------------------------------------------


def fan_out_world(gql: GraphQL, runs: int) -> World:
    """A flow with ``runs`` runs: ``flow_run { flow { flow_runs ... } }`` multiplies by
    ``runs`` at every level."""
    world = build_world(gql)
    for _ in range(runs - 1):
        create_flow_run(gql, world.flow_id)
    return world


def fan_out_query(world: World, levels: int) -> str:
    return (
        f'{{ flow_run(where: {{flow_id: {{_eq: "{world.flow_id}"}}}}) {{ id '
        + "flow { flow_runs { id name version " * levels
        + "}}" * levels
        + " } }"
    )


def test_a_query_that_fans_out_is_stopped_by_the_execution_budget(
    busy: GraphQL, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = fan_out_world(busy, 10)
    monkeypatch.setattr(_limits, "MAX_RESOLVED_FIELDS", 2_000)
    monkeypatch.setattr(_limits, "clock", StepClock())
    small = busy.data(fan_out_query(world, 1))
    assert len(small["flow_run"]) == 10
    response = busy.post(fan_out_query(world, 3))
    assert response.status_code == 200
    error = refusal(response, None, "QUERY_TOO_COMPLEX")
    assert "2000 fields" in error["message"], error
    assert len(response.json()["errors"]) == 1


class StepClock:
    """A clock that moves only when told (or by ``step`` each time it is read): the
    execution deadline without waiting for it."""

    def __init__(self, step: float = 0.0) -> None:
        self.now = 1_000.0
        self.step = step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def test_a_query_past_its_deadline_is_stopped(
    busy: GraphQL, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = StepClock()
    monkeypatch.setattr(_limits, "clock", clock)
    original = Runs.task_run
    called: list[str] = []

    def slow_task_run(self: Runs, task_run_id: str) -> Any:
        called.append(task_run_id)
        clock.now += 1.0
        return original(self, task_run_id)

    monkeypatch.setattr(Runs, "task_run", slow_task_run)
    task_run_id = world.task_run_ids["extract-1"]
    aliases = " ".join(f'r{i}: get_task_run_info(task_run_id: "{task_run_id}") {{ id }}'
                       for i in range(20))  # fmt: skip
    response = busy.post("{ " + aliases + " }")
    error = refusal(response, None, "QUERY_TOO_COMPLEX")
    assert f"{_limits.MAX_EXECUTION_SECONDS:g} s" in error["message"], error
    seconds = int(_limits.MAX_EXECUTION_SECONDS)
    assert seconds < len(called) <= seconds + 2, "stopped at the first field past the deadline"


def test_introspection_is_never_cut_by_the_time_limit(
    busy: GraphQL, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What ``prefect-gql schema pull`` sends, however slowly a loaded machine runs it."""
    monkeypatch.setattr(_limits, "clock", StepClock(step=_limits.MAX_EXECUTION_SECONDS))
    schema = busy.data(get_introspection_query(descriptions=True))["__schema"]
    assert schema["queryType"]["name"] == "Query"
    error = busy.error("{ __typename tenant { id } }")
    assert "longer than" in error["message"], "a read of rows is still on the clock"


def test_mutations_are_never_cut_short_by_the_budget(
    busy: GraphQL, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write the server made is answered as made: the budget stops queries only."""
    monkeypatch.setattr(_limits, "MAX_RESOLVED_FIELDS", 1)
    created = busy.data(mutation("create_flow_run", "id"), {"i": {"flow_id": world.flow_id}})
    assert created["create_flow_run"]["id"]


# -- liveness ----------------------------------------------------------------------------


def health(url: str) -> bool:
    with httpx.Client(timeout=WAIT) as probe:
        return bool(probe.get(f"{url}/health").json() == {"status": "ok"})


def test_a_slow_resolver_does_not_stall_health_or_other_clients(
    busy_server: LocalServer, busy: GraphQL, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The slow request waits until the others have been answered."""
    entered, release = threading.Event(), threading.Event()
    original = Runs.task_run

    def slow_task_run(self: Runs, task_run_id: str) -> Any:
        entered.set()
        assert release.wait(WAIT), "never released"
        return original(self, task_run_id)

    monkeypatch.setattr(Runs, "task_run", slow_task_run)
    task_run_id = world.task_run_ids["extract-1"]
    with ThreadPoolExecutor(max_workers=1) as pool:
        slow = pool.submit(
            busy.post, f'{{ get_task_run_info(task_run_id: "{task_run_id}") {{ id }} }}'
        )
        try:
            assert entered.wait(WAIT), "the slow request never reached its resolver"
            other = GraphQL(busy_server.url)
            try:
                assert other.data("{ tenant { id } }")["tenant"]
            finally:
                other.close()
            assert health(busy_server.url)
            assert not slow.done(), "the slow request ended before the others were answered"
        finally:
            release.set()
        assert slow.result().status_code == 200


def test_health_answers_while_a_query_computes(
    busy_server: LocalServer, busy: GraphQL, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A request computing in Python (holding the GIL in turns, as a large query does)
    leaves the event loop free: it computes until /health has answered."""
    computing, answered = threading.Event(), threading.Event()
    gave_up: list[bool] = []
    original = Runs.task_run

    def computing_task_run(self: Runs, task_run_id: str) -> Any:
        computing.set()
        deadline = time.monotonic() + WAIT
        while not answered.is_set():
            sum(range(1_000))
            if time.monotonic() > deadline:
                gave_up.append(True)
                break
        return original(self, task_run_id)

    monkeypatch.setattr(Runs, "task_run", computing_task_run)
    task_run_id = world.task_run_ids["extract-1"]
    with ThreadPoolExecutor(max_workers=1) as pool:
        hostile = pool.submit(
            busy.post, f'{{ get_task_run_info(task_run_id: "{task_run_id}") {{ id }} }}'
        )
        try:
            assert computing.wait(WAIT), "the request never started computing"
            assert health(busy_server.url)
        finally:
            answered.set()
        assert hostile.result().status_code == 200
    assert not gave_up, "/health was not answered while a request computed"


def test_a_hundred_concurrent_writers_one_version_one_winner(busy: GraphQL, world: World) -> None:
    run_id = create_flow_run(busy, world.flow_id)
    version = busy.data(f'{{ flow_run_by_pk(id: "{run_id}") {{ version }} }}')
    current = version["flow_run_by_pk"]["version"]

    def write(_: int) -> dict[str, Any]:
        return set_state(busy, "flow_run", run_id, {"type": "Running"}, current)

    with ThreadPoolExecutor(max_workers=100) as pool:
        answers = list(pool.map(write, range(100)))
    winners = [a for a in answers if "errors" not in a]
    codes = {a["errors"][0]["extensions"]["code"] for a in answers if "errors" in a}
    assert len(winners) == 1, f"{len(winners)} of 100 writers won version {current}"
    assert codes == {"VERSION_LOCKING_ERROR"}, codes


# -- logging -----------------------------------------------------------------------------


def test_client_mistakes_are_logged_at_info_without_their_text(
    busy: GraphQL, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="prefect_gql.server")
    marker = "not-a-uuid-from-the-client"
    for document, variables in (
        ("query($id: uuid!) { flow_run_by_pk(id: $id) { id } }", {"id": marker}),
        (f'{{ flow_run_by_pk(id: "{marker}") {{ id }} }}', None),
        (mutation("set_flow_run_name", "success"),
         {"i": {"flow_run_id": DEFAULT_TENANT_ID, "name": marker}}),
    ):  # fmt: skip
        answer = busy.post(document, variables).json()
        assert answer["errors"], answer
    records = [r for r in caplog.records if r.name.startswith("prefect_gql.server")]
    assert records, "client mistakes are not logged at all"
    assert all(r.levelno == logging.INFO for r in records), [
        (r.levelname, r.getMessage()[:80]) for r in records
    ]
    assert all(r.exc_info is None for r in records)
    assert marker not in caplog.text
    assert json.dumps(marker) not in caplog.text
