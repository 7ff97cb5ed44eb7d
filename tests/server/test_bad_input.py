"""Malformed but schema-valid input: always ``BAD_USER_INPUT``, never a server fault.

GraphQL validates a ``JSON`` argument's presence, not its shape; the server checks
the members it stores or computes with. Each case below reached SQLite or Python's
operators before (``INTERNAL_SERVER_ERROR`` with a traceback in the log); the
property-based tests put random JSON values into every member of the state, flow,
task and edge shapes and then read what was stored.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from prefect_gql.server import LocalServer
from prefect_gql.server._filters import TEXT_OPERATORS

from .conftest import SERIALIZED_FLOW, GraphQL, World, build_world, create_project, mutation

FAULT_LEVEL = logging.ERROR


class _Faults(logging.Handler):
    """Records the server logs at ERROR: its own faults, with their tracebacks."""

    def __init__(self) -> None:
        super().__init__(FAULT_LEVEL)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def no_server_faults() -> Iterator[None]:
    faults = _Faults()
    logger = logging.getLogger("prefect_gql.server")
    logger.addHandler(faults)
    try:
        yield
    finally:
        logger.removeHandler(faults)
    assert not faults.records, [record.getMessage()[:300] for record in faults.records]


@pytest.fixture(scope="module")
def bad_server() -> Iterator[LocalServer]:
    with LocalServer() as running:
        yield running


@pytest.fixture(scope="module")
def bad(bad_server: LocalServer) -> Iterator[GraphQL]:
    client = GraphQL(bad_server.url)
    yield client
    client.close()


@pytest.fixture(scope="module")
def bad_world(bad: GraphQL) -> World:
    return build_world(bad)


def assert_data_or_bad_input(answer: dict[str, Any]) -> bool:
    """True when the answer is data; a refusal must be ``BAD_USER_INPUT``."""
    errors = answer.get("errors") or []
    codes = [error.get("extensions", {}).get("code") for error in errors]
    assert all(code == "BAD_USER_INPUT" for code in codes), errors
    if not errors:
        assert answer.get("data") is not None, answer
    return not errors


def refused(answer: dict[str, Any], *words: str) -> None:
    assert answer.get("errors"), answer
    error = answer["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    for word in words:
        assert word in error["message"], error


# -- the cases found by hand ---------------------------------------------------------------


@pytest.mark.parametrize(
    "document",
    [
        "{ flow_run(limit: -1) { id } }",
        "{ flow_run(offset: -5) { id } }",
        "{ user(limit: -1) { id } }",
        "{ user(offset: -1) { id } }",
        '{ user(where: {username: {_regex: "("}}) { id } }',
        "{ flow_run_aggregate(limit: -1) { aggregate { count } } }",
        "{ flow { flow_runs(limit: -2) { id } } }",
    ],
)
def test_read_arguments_that_cannot_apply(bad: GraphQL, bad_world: World, document: str) -> None:
    with no_server_faults():
        refused(bad(document))


@pytest.mark.parametrize(
    ("state", "words"),
    [
        ({"type": {"a": 1}}, ["known type", "JSON object"]),
        ({"type": ["Running"]}, ["known type", "JSON list"]),
        ({"type": None}, ["known type"]),
        ({"type": "Running", "message": []}, ["message"]),
        ({"type": "Running", "message": {"a": 1}}, ["message"]),
        ({"type": "Running", "message": 5}, ["message"]),
        ([], ["state"]),
        ("Running", ["state"]),
    ],
)
def test_malformed_states(bad: GraphQL, bad_world: World, state: Any, words: list[str]) -> None:
    with no_server_faults():
        for table in ("flow_run", "task_run"):
            run_id = bad_world.flow_run_id if table == "flow_run" else None
            run_id = run_id or bad_world.task_run_ids["extract-1"]
            answer = bad(
                mutation(f"set_{table}_states", "states { id }"),
                {"i": {"states": [{f"{table}_id": run_id, "state": state}]}},
            )
            refused(answer, *words)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"name": []}, ["serialized_flow.name"]),
        ({"__version__": {"v": 1}}, ["__version__"]),
        ({"edges": [{**SERIALIZED_FLOW["edges"][0], "key": {}}]}, ["edge's key"]),
        ({"tasks": [{"slug": "a", "type": {}}]}, ["task's type"]),
        ({"tasks": [{"slug": "a", "tags": [{}]}]}, ["task's tags"]),
        ({"tasks": [{"slug": "a", "max_retries": "3"}]}, ["max_retries"]),
        ({"tasks": [{"slug": "a", "trigger": ["x"]}]}, ["trigger"]),
        ({"parameters": 5}, ["parameters"]),
        ({"parameters": [{"name": ["x"]}]}, ["parameters"]),
        ({"run_config": {"labels": "abc"}}, ["run_config.labels"]),
        ({"schedule": []}, ["schedule"]),
        ({"schedule": {"clocks": [1]}}, ["clock"]),
        ({"reference_tasks": 3}, ["reference_tasks"]),
    ],
)
def test_malformed_flows(bad: GraphQL, change: dict[str, Any], words: list[str]) -> None:
    project_id = create_project(bad, f"bad-{len(str(change))}-{id(change)}")
    with no_server_faults():
        answer = bad(
            mutation("create_flow", "id"),
            {"i": {"project_id": project_id, "serialized_flow": {**SERIALIZED_FLOW, **change}}},
        )
        refused(answer, *words)


def test_malformed_tasks_and_edges_registered_afterwards(bad: GraphQL, bad_world: World) -> None:
    with no_server_faults():
        answer = bad(
            mutation("register_tasks", "success"),
            {"i": {"flow_id": bad_world.flow_id, "serialized_tasks": [{"slug": "t", "type": {}}]}},
        )
        refused(answer, "task's type")
        answer = bad(
            mutation("register_edges", "success"),
            {
                "i": {
                    "flow_id": bad_world.flow_id,
                    "serialized_edges": [
                        {"upstream_task": "extract-1", "downstream_task": "load-1", "key": {}}
                    ],
                }
            },
        )
        refused(answer, "edge's key")


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"context": [1, 2]}, ["context"]),
        ({"context": "ab"}, ["context"]),
        ({"run_config": {"labels": [{}]}}, ["run_config.labels"]),
        ({"run_config": 7}, ["run_config"]),
    ],
)
def test_malformed_flow_runs(
    bad: GraphQL, bad_world: World, fields: dict[str, Any], words: list[str]
) -> None:
    with no_server_faults():
        answer = bad(
            mutation("create_flow_run", "id"), {"i": {"flow_id": bad_world.flow_id, **fields}}
        )
        refused(answer, *words)


def test_a_state_start_time_out_of_range_in_utc(bad: GraphQL, bad_world: World) -> None:
    """Read as no start time, as any start time that is not a timestamp."""
    state = {"type": "Scheduled", "start_time": "0001-01-01T00:00:00+05:00"}
    with no_server_faults():
        answer = bad(
            mutation("set_flow_run_states", "states { status }"),
            {"i": {"states": [{"flow_run_id": bad_world.flow_run_id, "state": state}]}},
        )
        assert answer["data"]["set_flow_run_states"]["states"] == [{"status": "SUCCESS"}]
        read = bad(f'{{ flow_run_by_pk(id: "{bad_world.flow_run_id}") {{ state_start_time }} }}')
        assert read["data"]["flow_run_by_pk"] == {"state_start_time": None}


# -- property-based: random JSON in every member -------------------------------------------

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(exclude_categories=["Cs"]), max_size=8),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.text(st.characters(exclude_categories=["Cs"]), max_size=5), inner,
                      max_size=3),
    max_leaves=6,
)  # fmt: skip
PROPERTY_SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

STATE_MEMBERS = ["type", "message", "start_time", "_result", "cached_inputs", "context"]
FLOW_MEMBERS = [
    "name", "__version__", "schedule", "environment", "storage", "run_config", "parameters",
    "tasks", "edges", "reference_tasks",
]  # fmt: skip
TASK_MEMBERS = [
    "slug", "name", "type", "description", "tags", "max_retries", "retry_delay",
    "auto_generated", "cache_key", "trigger",
]  # fmt: skip
EDGE_MEMBERS = ["upstream_task", "downstream_task", "key", "mapped"]
READ_FLOW = """query($id: uuid!) { flow_by_pk(id: $id) { name version core_version schedule
  parameters storage run_config environment is_schedule_active
  tasks(order_by: {slug: asc}) { slug name type description tags max_retries retry_delay
    trigger cache_key auto_generated mapped is_root_task is_terminal_task is_reference_task }
  edges { key mapped upstream_task { slug } downstream_task { slug } } } }"""


def _changed(base: dict[str, Any], members: dict[str, Any]) -> dict[str, Any]:
    return {**base, **members}


@PROPERTY_SETTINGS
@given(members=st.dictionaries(st.sampled_from(STATE_MEMBERS), JSON_VALUES, min_size=1, max_size=3))
def test_random_json_in_a_state(bad: GraphQL, bad_world: World, members: dict[str, Any]) -> None:
    state = _changed({"type": "Pending", "message": "m"}, members)
    with no_server_faults():
        for table, run_id in (
            ("flow_run", bad_world.flow_run_id),
            ("task_run", bad_world.task_run_ids["load-1"]),
        ):
            answer = bad(
                mutation(f"set_{table}_states", "states { id status }"),
                {"i": {"states": [{f"{table}_id": run_id, "state": state}]}},
            )
            if assert_data_or_bad_input(answer):
                read = bad(
                    f"query($id: uuid!) {{ {table}_by_pk(id: $id) {{ state state_message"
                    " state_start_time state_result serialized_state"
                    " states(order_by: {version: desc}, limit: 1) { state message start_time"
                    " result } } }",
                    {"id": run_id},
                )
                assert "errors" not in read, read


def _register_and_read(gql: GraphQL, project_id: str, flow: Any) -> None:
    answer = gql(
        mutation("create_flow", "id"), {"i": {"project_id": project_id, "serialized_flow": flow}}
    )
    if not assert_data_or_bad_input(answer):
        return
    flow_id = answer["data"]["create_flow"]["id"]
    read = gql(READ_FLOW, {"id": flow_id})
    assert "errors" not in read, read
    run = gql(mutation("create_flow_run", "id"), {"i": {"flow_id": flow_id}})
    if assert_data_or_bad_input(run):
        read = gql(
            "query($id: uuid!) { flow_run_by_pk(id: $id) { name labels parameters context"
            " run_config task_runs { state task { slug } } } }",
            {"id": run["data"]["create_flow_run"]["id"]},
        )
        assert "errors" not in read, read
    activated = gql(mutation("set_schedule_active", "success"), {"i": {"flow_id": flow_id}})
    assert_data_or_bad_input(activated)


@pytest.fixture(scope="module")
def property_project(bad: GraphQL) -> str:
    return create_project(bad, "random-json")


@PROPERTY_SETTINGS
@given(members=st.dictionaries(st.sampled_from(FLOW_MEMBERS), JSON_VALUES, min_size=1, max_size=3))
def test_random_json_in_a_flow(
    bad: GraphQL, property_project: str, members: dict[str, Any]
) -> None:
    with no_server_faults():
        _register_and_read(bad, property_project, _changed(SERIALIZED_FLOW, members))


@PROPERTY_SETTINGS
@given(members=st.dictionaries(st.sampled_from(TASK_MEMBERS), JSON_VALUES, min_size=1, max_size=3))
def test_random_json_in_a_task(
    bad: GraphQL, property_project: str, members: dict[str, Any]
) -> None:
    tasks = [_changed(SERIALIZED_FLOW["tasks"][0], members), SERIALIZED_FLOW["tasks"][1]]
    with no_server_faults():
        _register_and_read(bad, property_project, {**SERIALIZED_FLOW, "tasks": tasks})


@PROPERTY_SETTINGS
@given(members=st.dictionaries(st.sampled_from(EDGE_MEMBERS), JSON_VALUES, min_size=1, max_size=2))
def test_random_json_in_an_edge(
    bad: GraphQL, property_project: str, members: dict[str, Any]
) -> None:
    edges = [_changed(SERIALIZED_FLOW["edges"][0], members)]
    with no_server_faults():
        _register_and_read(bad, property_project, {**SERIALIZED_FLOW, "edges": edges})


@PROPERTY_SETTINGS
@given(value=JSON_VALUES, member=st.sampled_from(["parameters", "context", "run_config"]))
def test_random_json_in_a_flow_run(bad: GraphQL, bad_world: World, value: Any, member: str) -> None:
    with no_server_faults():
        answer = bad(
            mutation("create_flow_run", "id"), {"i": {"flow_id": bad_world.flow_id, member: value}}
        )
        if assert_data_or_bad_input(answer):
            read = bad(
                "query($id: uuid!) { flow_run_by_pk(id: $id) { labels parameters context"
                " run_config } }",
                {"id": answer["data"]["create_flow_run"]["id"]},
            )
            assert "errors" not in read, read


@PROPERTY_SETTINGS
@given(
    operator=st.sampled_from(sorted(TEXT_OPERATORS)),
    pattern=st.text(st.sampled_from("ab%_\\[]()|*+?{}^$.,-"), max_size=8),
)
def test_random_text_patterns(bad: GraphQL, bad_world: World, operator: str, pattern: str) -> None:
    """Any pattern is a filter or BAD_USER_INPUT (one Postgres would refuse), in SQL and
    on the in-memory ``user`` field alike."""
    with no_server_faults():
        for document in (
            f"query($p: String) {{ flow_run(where: {{name: {{{operator}: $p}}}}) {{ id }} }}",
            f"query($p: String) {{ user(where: {{username: {{{operator}: $p}}}}) {{ id }} }}",
        ):
            assert_data_or_bad_input(bad(document, {"p": pattern}))
