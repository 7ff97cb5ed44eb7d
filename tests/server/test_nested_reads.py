"""Nested lists are read per level, not per parent row (``_batches``).

Counted in SQL statements and rows read, never in seconds: the UI's pages nest
``flow_run { flow { project } task_runs { state } }`` over hundreds of runs, which
cost a statement per run and relationship before.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from prefect_gql.server import LocalServer, _limits
from prefect_gql.server._batches import Batches
from prefect_gql.server._store import _Database

from .conftest import (
    GraphQL,
    World,
    build_world,
    create_flow_run,
    create_project,
    mutation,
    set_state,
)


@dataclass
class Reads:
    """The statements the store ran, and the rows they returned."""

    statements: list[str] = field(default_factory=list)
    rows: int = 0

    def clear(self) -> None:
        self.statements.clear()
        self.rows = 0


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> Reads:
    counted = Reads()
    original = _Database.read

    def read(self: _Database, sql: str, parameters: Any) -> list[Any]:
        found = original(self, sql, parameters)
        counted.statements.append(sql)
        counted.rows += len(found)
        return found

    monkeypatch.setattr(_Database, "read", read)
    return counted


@pytest.fixture(scope="module")
def nested_server() -> Iterator[LocalServer]:
    with LocalServer() as running:
        yield running


@pytest.fixture
def nested(nested_server: LocalServer) -> Iterator[GraphQL]:
    client = GraphQL(nested_server.url)
    yield client
    client.close()


def grow(gql: GraphQL, world: World, runs: int) -> list[str]:
    """The world's flow with ``runs`` runs, each with a state change and a log."""
    ids = [world.flow_run_id]
    while len(ids) < runs:
        ids.append(create_flow_run(gql, world.flow_id))
    for run_id in ids:
        set_state(gql, "flow_run", run_id, {"type": "Running"})
        gql.data(
            mutation("write_run_logs", "success"),
            {"i": {"logs": [{"flow_run_id": run_id, "message": f"log of {run_id}"}]}},
        )
    return ids


UI_PAGE = """query($flow: uuid!) {
  flow_run(where: {flow_id: {_eq: $flow}}, order_by: {created: asc}) {
    id name
    flow { name project { name } }
    agent { id }
    task_runs(order_by: {task: {slug: desc}}) { state task { slug flow { id } } }
    first_task: task_runs(order_by: {map_index: asc, task: {slug: asc}}, limit: 1) { id }
    later_tasks: task_runs(order_by: {task: {slug: asc}}, offset: 1) { task { slug } }
    logs(where: {message: {_ilike: "log of %"}}) { message }
    states(order_by: {version: desc}) { state version }
  }
}"""
LEVELS = 10
"""The relationship fields UI_PAGE selects below flow_run, and flow_run itself:
flow_run, flow, project, agent, task_runs, task, flow, first_task, later_tasks,
later_tasks.task, logs, states; agent reads nothing (no run has one)."""


def test_statements_per_relationship_and_level_not_per_row(nested: GraphQL, reads: Reads) -> None:
    counts = {}
    for runs in (2, 12):
        world = build_world(nested)
        grow(nested, world, runs)
        reads.clear()
        page = nested.data(UI_PAGE, {"flow": world.flow_id})["flow_run"]
        assert len(page) == runs
        counts[runs] = len(reads.statements)
    assert counts[2] == counts[12], counts
    assert counts[12] <= 12, reads.statements


def test_answers_are_those_of_reading_row_by_row(
    nested: GraphQL, monkeypatch: pytest.MonkeyPatch, reads: Reads
) -> None:
    world = build_world(nested)
    grow(nested, world, 6)
    reads.clear()
    batched = nested.data(UI_PAGE, {"flow": world.flow_id})
    batched_statements = len(reads.statements)
    monkeypatch.setattr(Batches, "prefetch", lambda *_, **__: None)
    reads.clear()
    row_by_row = nested.data(UI_PAGE, {"flow": world.flow_id})
    assert batched == row_by_row
    assert len(reads.statements) > 5 * batched_statements, "the comparison read ahead too"
    page = batched["flow_run"]
    assert [[tr["task"]["slug"] for tr in run["task_runs"]] for run in page] == [
        ["load-1", "extract-1"]
    ] * 6
    assert all(run["agent"] is None for run in page)
    assert [len(run["first_task"]) for run in page] == [1] * 6
    assert [run["later_tasks"] for run in page] == [[{"task": {"slug": "load-1"}}]] * 6
    assert [run["logs"] for run in page] == [[{"message": f"log of {run['id']}"}] for run in page]
    assert [[s["state"] for s in run["states"]] for run in page] == [["Running", "Scheduled"]] * 6


def test_a_nested_query_over_the_budget_reads_no_level_it_cannot_answer(
    nested: GraphQL, monkeypatch: pytest.MonkeyPatch, reads: Reads
) -> None:
    world = build_world(nested)
    grow(nested, world, 30)
    budget = 200
    monkeypatch.setattr(_limits, "MAX_RESOLVED_FIELDS", budget)
    monkeypatch.setattr(_limits, "clock", lambda: 0.0)
    query = (
        "query($flow: uuid!) { flow_run(where: {flow_id: {_eq: $flow}}) { id"
        " flow { flow_runs { id name task_runs { id state } } } } }"
    )
    reads.clear()
    error = nested.error(query, {"flow": world.flow_id})
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert f"{budget} fields" in error["message"]
    assert reads.rows <= 2 * budget, (reads.rows, len(reads.statements))


def test_a_nested_query_over_the_budget_stops_at_the_field_row_by_row_reading_would(
    nested: GraphQL, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = build_world(nested)
    grow(nested, world, 4)
    monkeypatch.setattr(_limits, "clock", lambda: 0.0)
    for budget in (37, 60, 61, 95):
        monkeypatch.setattr(_limits, "MAX_RESOLVED_FIELDS", budget)
        batched = nested.error(UI_PAGE, {"flow": world.flow_id})
        with monkeypatch.context() as row_by_row:
            row_by_row.setattr(Batches, "prefetch", lambda *_, **__: None)
            expected = nested.error(UI_PAGE, {"flow": world.flow_id})
        assert batched == expected, budget
        assert batched["extensions"]["code"] == "QUERY_TOO_COMPLEX"


FLOW_FAILURES = """
query ($projectId: uuid, $heartbeat:timestamptz) {
  flow  (where: { project_id: { _eq: $projectId }}) {
    id
    name
    archived
    failed_count: flow_runs_aggregate(where: {state: {_eq: "Failed"},
                                              updated: {_gte: $heartbeat}}) {
      aggregate{
        count
      }
    }
    runs_count: flow_runs_aggregate(where:{ updated: {_gte: $heartbeat}}) {
      aggregate{
        count
      }
    }
    named: flow_runs_aggregate { aggregate { count(columns: [name], distinct: true) } }
  }
}
"""
"""legacy-ui ``src/graphql/Dashboard/flow-failures.gql`` (the dashboard's failures tile;
one long line wrapped), and a distinct count."""


def test_aggregate_counts_per_level_not_per_row(
    nested: GraphQL, monkeypatch: pytest.MonkeyPatch, reads: Reads
) -> None:
    statements = {}
    for flows in (2, 7):
        project_id = create_project(nested, f"failures-{flows}-{uuid.uuid4().hex[:6]}")
        for number in range(flows):
            flow_id = nested.data(
                mutation("create_flow", "id"),
                {"i": {"project_id": project_id, "serialized_flow": {"name": f"f{number}"}}},
            )["create_flow"]["id"]
            for run in range(number):
                run_id = create_flow_run(nested, flow_id, flow_run_name=f"run-{run % 2}")
                if run % 2:
                    set_state(nested, "flow_run", run_id, {"type": "Failed"})
        variables = {"projectId": project_id, "heartbeat": "2000-01-01T00:00:00+00:00"}
        reads.clear()
        batched = nested.data(FLOW_FAILURES, variables)
        statements[flows] = len(reads.statements)
        with monkeypatch.context() as row_by_row:
            row_by_row.setattr(Batches, "prefetch", lambda *_, **__: None)
            assert nested.data(FLOW_FAILURES, variables) == batched
    assert statements[2] == statements[7] == 4, statements
    counts = [
        (flow["failed_count"]["aggregate"]["count"], flow["runs_count"]["aggregate"]["count"],
         flow["named"]["aggregate"]["count"])
        for flow in batched["flow"]
    ]  # fmt: skip
    assert counts == [(n // 2, n, min(n, 2)) for n in range(7)]
