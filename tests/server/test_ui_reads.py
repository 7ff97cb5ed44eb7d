"""What the Prefect 1.x web UI (PrefectHQ/legacy-ui) asks of the server's reads:
Hasura's text operators (with the null operand it sends when nothing is typed),
``distinct_on``, and JSON arguments written as string literals.

Each operator is checked in memory (``_filters``), in SQL (``_query``) and over HTTP,
against the same expected rows, so the two engines cannot drift apart.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from prefect_gql.server import DEFAULT_TENANT_ID
from prefect_gql.server._filters import apply_read_arguments
from prefect_gql.server._store import Store

from .conftest import GraphQL, World, create_flow_run, create_project

NAMES = ["Hello World", "hello world", "HELLO", "50% off", "snake_case", "line\nbreak", None]


@pytest.fixture(scope="module")
def store() -> Any:
    """A store whose projects are named ``NAMES`` (in that order)."""
    kept = Store()
    kept.insert("tenant", {"id": DEFAULT_TENANT_ID, "name": "t", "slug": "t"})
    for index, name in enumerate(NAMES):
        kept.insert("project", {"id": f"p{index}", "tenant_id": DEFAULT_TENANT_ID, "name": name})
    yield kept
    kept.close()


TEXT_CASES: list[tuple[str, str, list[str | None]]] = [
    ("_like", "Hello%", ["Hello World"]),
    ("_like", "hello%", ["hello world"]),
    ("_nlike", "hello%", ["Hello World", "HELLO", "50% off", "snake_case", "line\nbreak"]),
    ("_ilike", "hello%", ["Hello World", "hello world", "HELLO"]),
    ("_ilike", "%WORLD", ["Hello World", "hello world"]),
    ("_nilike", "%o%", ["snake_case", "line\nbreak"]),
    ("_like", "50\\% off", ["50% off"]),
    ("_like", "50\\%", []),
    ("_like", "snake\\_case", ["snake_case"]),
    ("_like", "snake_case", ["snake_case"]),
    ("_like", "_____", ["HELLO"]),
    ("_like", "line%", ["line\nbreak"]),
    ("_like", "Hello.World", []),
    ("_similar", "(Hello|HELLO)%", ["Hello World", "HELLO"]),
    ("_similar", "[hH]ello%", ["Hello World", "hello world"]),
    ("_similar", "Hello.World", []),
    ("_nsimilar", "%(o|O)%", ["snake_case", "line\nbreak"]),
    ("_regex", "^[Hh]ello", ["Hello World", "hello world"]),
    ("_regex", "o W", ["Hello World"]),
    ("_nregex", "o", ["HELLO", "snake_case", "line\nbreak"]),
    ("_iregex", "o w", ["Hello World", "hello world"]),
    ("_niregex", "L", ["50% off", "snake_case"]),
]


def _expected_ids(names: list[str | None]) -> list[str]:
    return [f"p{NAMES.index(name)}" for name in names]


@pytest.mark.parametrize(("operator", "pattern", "expected"), TEXT_CASES)
def test_text_operators_in_sql_and_in_memory(
    store: Store, operator: str, pattern: str, expected: list[str | None]
) -> None:
    where = {"name": {operator: pattern}}
    in_sql = [row["id"] for row in store.select("project", {"where": where})]
    rows = store.select("project")
    in_memory = [row["id"] for row in apply_read_arguments(rows, where=where)]
    assert in_sql == _expected_ids(expected)
    assert in_memory == in_sql


@pytest.mark.parametrize("operator", sorted({case[0] for case in TEXT_CASES}))
def test_a_null_operand_is_ignored_and_a_negation_never_matches_a_null_column(
    store: Store, operator: str
) -> None:
    everything = [f"p{index}" for index in range(len(NAMES))]
    where: dict[str, Any] = {"name": {operator: None}}
    assert [row["id"] for row in store.select("project", {"where": where})] == everything
    assert [row["id"] for row in apply_read_arguments(store.select("project"), where=where)] == (
        everything
    )
    matching_all = {"_like": "%", "_ilike": "%", "_similar": "%", "_regex": "", "_iregex": ""}
    negated = {f"_n{name[1:]}": pattern for name, pattern in matching_all.items()}
    if operator in matching_all:
        where = {"name": {operator: matching_all[operator]}}
        assert "p6" not in [row["id"] for row in store.select("project", {"where": where})]
    if operator in negated:
        where = {"name": {operator: negated[operator]}}
        assert [row["id"] for row in store.select("project", {"where": where})] == []


@pytest.mark.parametrize(
    ("operator", "pattern"),
    [("_regex", "("), ("_iregex", "[a-"), ("_like", "trailing\\"), ("_similar", "(a")],
)
def test_a_pattern_postgres_would_refuse_is_bad_user_input(
    gql: GraphQL, operator: str, pattern: str
) -> None:
    error = gql.error(
        f"query($p: String) {{ project(where: {{name: {{{operator}: $p}}}}) {{ id }} }}",
        {"p": pattern},
    )
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert "pattern" in error["message"]


def test_the_ui_flow_page_run_table_with_nothing_typed_and_with_a_search(
    gql: GraphQL, world: World
) -> None:
    """legacy-ui ``src/graphql/Flow/table-flow-runs.gql`` (less ``duration``, a Cloud
    column Prefect Server's schema lacks) and its count, verbatim."""
    table = """
query TableFlowRuns(
  $name: String
  $limit: Int
  $offset: Int
  $orderBy: [flow_run_order_by!]
  $flow_group_id: uuid
  $flow_id: uuid
) {
  flow_run(
    where: {
      flow: { flow_group_id: { _eq: $flow_group_id }, id: { _eq: $flow_id } }
      name: { _ilike: $name }
      state: { _neq: "Scheduled" }
    }
    order_by: $orderBy
    limit: $limit
    offset: $offset
  ) {
    id
    name
    end_time
    scheduled_start_time
    start_time
    state
  }
}
"""
    count = """
query TableFlowRunsCount($flow_group_id: uuid, $flow_id: uuid, $name: String) {
  flow_run_aggregate(
    where: {
      flow: { flow_group_id: { _eq: $flow_group_id }, id: { _eq: $flow_id } }
      name: { _ilike: $name }
      state: { _neq: "Scheduled" }
    }
  ) {
    aggregate {
      count
    }
  }
}
"""
    marker = uuid.uuid4().hex[:8]
    named = create_flow_run(gql, world.flow_id, flow_run_name=f"Nightly-{marker}")
    other = create_flow_run(gql, world.flow_id, flow_run_name=f"weekly-{marker}")
    for run_id in (named, other):
        gql.data(
            "mutation($i: set_flow_run_states_input!) { set_flow_run_states(input: $i) { states"
            " { id } } }",
            {"i": {"states": [{"flow_run_id": run_id, "state": {"type": "Running"}}]}},
        )
    variables: dict[str, Any] = {"flow_id": world.flow_id, "name": None, "limit": 10, "offset": 0}
    variables["orderBy"] = {"name": "asc"}
    listed = gql.data(table, variables)["flow_run"]
    assert [run["id"] for run in listed] == [named, other]
    counted = gql.data(count, {"flow_id": world.flow_id, "name": None})
    assert counted["flow_run_aggregate"]["aggregate"]["count"] == 2
    searched = gql.data(table, {**variables, "name": f"%NIGHTLY-{marker[:4]}%"})["flow_run"]
    assert [run["id"] for run in searched] == [named]
    counted = gql.data(count, {"flow_id": world.flow_id, "name": "%nightly%"})
    assert counted["flow_run_aggregate"]["aggregate"]["count"] == 1


def test_text_operators_on_the_in_memory_user_field(gql: GraphQL) -> None:
    assert gql.data('{ user(where: {username: {_ilike: "LOC%"}}) { id } }')["user"]
    assert gql.data('{ user(where: {username: {_nlike: "loc%"}}) { id } }')["user"] == []
    assert gql.data("{ user(where: {username: {_ilike: null}}) { id } }")["user"]


# -- distinct_on ---------------------------------------------------------------------------


@pytest.fixture
def failures(gql: GraphQL) -> dict[str, Any]:
    """Two flows of a new project; three failed runs of the first, one of the second."""
    project_id = create_project(gql, f"distinct-{uuid.uuid4().hex[:8]}")
    flows = []
    for name in ("first", "second"):
        flows.append(
            gql.data(
                "mutation($i: create_flow_input!) { create_flow(input: $i) { id } }",
                {"i": {"project_id": project_id, "serialized_flow": {"name": name}}},
            )["create_flow"]["id"]
        )
    runs = []
    for flow_id, name in [(flows[0], "c"), (flows[0], "a"), (flows[1], "b"), (flows[0], "d")]:
        runs.append(create_flow_run(gql, flow_id, flow_run_name=name))
    return {"project_id": project_id, "flows": flows, "runs": runs}


def test_distinct_on_keeps_the_first_row_of_each_kind_in_order_by_order(
    gql: GraphQL, failures: dict[str, Any]
) -> None:
    """legacy-ui ``Calendar/distinct-on-calendar-flow-runs.gql``: ``distinct_on: flow_id``
    with ``order_by: {flow_id: asc}``; the dashboard's failed-task tile sends
    ``distinct_on`` alone."""
    where = {"flow": {"project_id": {"_eq": failures["project_id"]}}}
    first, second = failures["flows"]
    c, a, b, d = failures["runs"]
    query = (
        "query($where: flow_run_bool_exp, $order: [flow_run_order_by!]) {"
        " flow_run(where: $where, distinct_on: flow_id, order_by: $order) { id flow_id } }"
    )
    by_name = gql.data(query, {"where": where, "order": [{"flow_id": "asc"}, {"name": "asc"}]})
    assert sorted((run["flow_id"], run["id"]) for run in by_name["flow_run"]) == sorted(
        [(first, a), (second, b)]
    )
    assert [run["flow_id"] for run in by_name["flow_run"]] == sorted([first, second])
    by_name_desc = gql.data(
        query, {"where": where, "order": [{"flow_id": "asc"}, {"name": "desc"}]}
    )["flow_run"]
    assert {run["id"] for run in by_name_desc} == {d, b}
    alone = gql.data(query, {"where": where, "order": None})["flow_run"]
    assert [run["id"] for run in alone] == [c, b], "without order_by: first inserted of each"
    counted = gql.data(
        "query($where: flow_run_bool_exp) { flow_run_aggregate(where: $where,"
        " distinct_on: flow_id) { aggregate { count } } }",
        {"where": where},
    )
    assert counted["flow_run_aggregate"]["aggregate"]["count"] == 2


def test_distinct_on_with_limit_and_in_a_nested_read(
    gql: GraphQL, failures: dict[str, Any]
) -> None:
    project = gql.data(
        "query($id: uuid!) { project_by_pk(id: $id) { flows(order_by: {name: asc}) {"
        " flow_runs(distinct_on: flow_id) { name } } } }",
        {"id": failures["project_id"]},
    )["project_by_pk"]
    assert [[run["name"] for run in flow["flow_runs"]] for flow in project["flows"]] == [
        ["c"],
        ["b"],
    ]
    limited = gql.data(
        "query($p: uuid) { flow_run(where: {flow: {project_id: {_eq: $p}}}, distinct_on: [flow_id,"
        " name], order_by: [{name: asc}, {flow_id: asc}], limit: 2, offset: 1) { name } }",
        {"p": failures["project_id"]},
    )["flow_run"]
    assert [run["name"] for run in limited] == ["b", "c"]


def test_distinct_on_must_lead_order_by(gql: GraphQL, failures: dict[str, Any]) -> None:
    error = gql.error(
        "{ flow_run(distinct_on: flow_id, order_by: {name: asc}) { id } }",
    )
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "distinct_on" in error["message"]
    assert "order_by" in error["message"]


def test_distinct_on_in_memory() -> None:
    rows: list[dict[str, Any]] = [
        {"id": "a", "k": 1},
        {"id": "b", "k": 2},
        {"id": "c", "k": 1},
        {"id": "d", "k": None},
    ]
    assert [r["id"] for r in apply_read_arguments(rows, distinct_on=["k"])] == ["a", "b", "d"]
    ordered = apply_read_arguments(rows, distinct_on="k", order_by=[{"k": "desc"}, {"id": "desc"}])
    assert [r["id"] for r in ordered] == ["d", "b", "c"]
    with pytest.raises(ValueError, match="distinct_on"):
        apply_read_arguments(rows, distinct_on=["k"], order_by={"id": "asc"})


# -- JSON string literals ----------------------------------------------------------------------


def test_a_state_written_as_a_json_string_literal_is_parsed_as_prefect_server_does(
    gql: GraphQL, world: World
) -> None:
    """The UI's "clear late runs" writes each state into the document."""
    run_id = create_flow_run(gql, world.flow_id)
    state = json.dumps({"type": "Cancelled", "message": "cleared late run"})
    literal = json.dumps(state)
    answer = gql.data(
        "mutation { set_flow_run_states(input: {states: [{flow_run_id: "
        f'"{run_id}", state: {literal}}}]}}) {{ states {{ id status }} }} }}'
    )
    assert answer["set_flow_run_states"]["states"] == [{"id": run_id, "status": "SUCCESS"}]
    stored = gql.data(f'{{ flow_run_by_pk(id: "{run_id}") {{ state state_message }} }}')
    assert stored["flow_run_by_pk"] == {"state": "Cancelled", "state_message": "cleared late run"}
    as_object = gql.data(
        "mutation { set_flow_run_states(input: {states: [{flow_run_id: "
        f'"{run_id}", state: {{type: "Scheduled"}}}}]}}) {{ states {{ status }} }} }}'
    )
    assert as_object["set_flow_run_states"]["states"] == [{"status": "SUCCESS"}]


def test_a_json_string_literal_that_is_not_json_is_a_string(gql: GraphQL, world: World) -> None:
    """Kept as text (never echoed in a validation error: it may be a secret's value), so a
    state written so is refused as a state."""
    error = gql.error(
        "mutation { set_flow_run_states(input: {states: [{flow_run_id: "
        f'"{world.flow_run_id}", state: "not json"}}]}}) {{ states {{ id }} }} }}'
    )
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "serialized Prefect State" in error["message"]
    assert "not json" not in error["message"]
