"""Prefect Server's Python-layer mutations beyond running flows, over HTTP."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from prefect_gql.server import DEFAULT_TENANT_ID, AuthConfig, LocalServer

from .conftest import GraphQL, World, build_world, create_flow_run, mutation, set_state

RUNNING = {"type": "Running", "message": "go"}
COUNTS = """query($flow: uuid!, $run: uuid!) {
    flow(where: {id: {_eq: $flow}}) { id }
    task(where: {flow_id: {_eq: $flow}}) { id }
    edge(where: {flow_id: {_eq: $flow}}) { id }
    flow_run(where: {flow_id: {_eq: $flow}}) { id }
    task_run(where: {flow_run_id: {_eq: $run}}) { id }
    flow_run_state(where: {flow_run_id: {_eq: $run}}) { id }
    task_run_state(where: {task_run: {flow_run_id: {_eq: $run}}}) { id }
    log(where: {flow_run_id: {_eq: $run}}) { id }
    task_run_artifact(where: {task_run: {flow_run_id: {_eq: $run}}}) { id }
}"""


def counts(gql: GraphQL, world: World, run_id: str | None = None) -> dict[str, int]:
    data = gql.data(COUNTS, {"flow": world.flow_id, "run": run_id or world.flow_run_id})
    return {table: len(rows) for table, rows in data.items()}


def write_logs(gql: GraphQL, world: World) -> None:
    logs = [
        {"flow_run_id": world.flow_run_id, "message": "flow log"},
        {
            "flow_run_id": world.flow_run_id,
            "task_run_id": world.task_run_ids["extract-1"],
            "message": "task log",
        },
    ]
    gql.data(mutation("write_run_logs", "success"), {"i": {"logs": logs}})


def run_some(gql: GraphQL, world: World) -> None:
    """States, logs and an artifact hang off the world's flow run."""
    assert "errors" not in set_state(gql, "flow_run", world.flow_run_id, RUNNING)
    assert "errors" not in set_state(gql, "task_run", world.task_run_ids["load-1"], RUNNING)
    write_logs(gql, world)


def delete(gql: GraphQL, field: str, **input: Any) -> dict[str, Any]:
    answer: dict[str, Any] = gql.data(mutation(field, "success error"), {"i": input})[field]
    return answer


def test_delete_flow_run_deletes_its_task_runs_states_logs_and_artifacts(
    gql: GraphQL, world: World
) -> None:
    run_some(gql, world)
    other_run = create_flow_run(gql, world.flow_id)
    before = counts(gql, world)
    assert before == {
        "flow": 1, "task": 2, "edge": 1, "flow_run": 2, "task_run": 2,
        "flow_run_state": 2, "task_run_state": 1, "log": 2, "task_run_artifact": 1,
    }  # fmt: skip
    assert delete(gql, "delete_flow_run", flow_run_id=world.flow_run_id) == {
        "success": True,
        "error": None,
    }
    after = counts(gql, world)
    assert after == {**dict.fromkeys(before, 0), "flow": 1, "task": 2, "edge": 1, "flow_run": 1}
    assert counts(gql, world, other_run)["task_run"] == 2
    assert gql.data(
        "query($id: uuid!) { flow_run_by_pk(id: $id) { id } }", {"id": world.flow_run_id}
    ) == {"flow_run_by_pk": None}


def test_delete_flow_run_of_an_unknown_run_answers_false(gql: GraphQL, world: World) -> None:
    unknown = str(uuid.uuid4())
    assert delete(gql, "delete_flow_run", flow_run_id=unknown)["success"] is False
    assert delete(gql, "delete_flow_run", flow_run_id=world.flow_run_id)["success"] is True
    assert delete(gql, "delete_flow_run", flow_run_id=world.flow_run_id)["success"] is False
    response = gql.post(mutation("delete_flow_run", "success"), {"i": {"flow_run_id": "nope"}})
    assert response.status_code == 400
    assert "invalid UUID" in response.json()["errors"][0]["message"]


def test_delete_flow_deletes_its_tasks_edges_and_runs_but_not_its_group_or_project(
    gql: GraphQL, world: World
) -> None:
    run_some(gql, world)
    group = gql.data(
        "query($id: uuid!) { flow_by_pk(id: $id) { flow_group_id } }", {"id": world.flow_id}
    )["flow_by_pk"]["flow_group_id"]
    assert delete(gql, "delete_flow", flow_id=world.flow_id) == {"success": True, "error": None}
    assert counts(gql, world) == dict.fromkeys(counts(gql, world), 0)
    left = gql.data(
        "query($g: uuid!, $p: uuid!)"
        " { flow_group_by_pk(id: $g) { id } project_by_pk(id: $p) { id } }",
        {"g": group, "p": world.project_id},
    )
    assert left == {"flow_group_by_pk": {"id": group}, "project_by_pk": {"id": world.project_id}}
    assert delete(gql, "delete_flow", flow_id=world.flow_id)["success"] is False


@pytest.fixture(scope="module")
def token_server() -> Iterator[LocalServer]:
    with LocalServer(auth=AuthConfig(api_keys={"key-one": DEFAULT_TENANT_ID})) as server:
        yield server


def test_deletes_stay_in_the_callers_tenant(token_server: LocalServer) -> None:
    other_tenant = str(uuid.uuid4())
    mine = GraphQL(token_server.url, {"Authorization": "Bearer key-one"})
    theirs = GraphQL(
        token_server.url, {"Authorization": f"Bearer {token_server.issue_api_key(other_tenant)}"}
    )
    try:
        world = build_world(mine)
        assert delete(theirs, "delete_flow_run", flow_run_id=world.flow_run_id)["success"] is False
        assert delete(theirs, "delete_flow", flow_id=world.flow_id)["success"] is False
        assert counts(mine, world)["flow_run"] == 1
        assert delete(mine, "delete_flow", flow_id=world.flow_id)["success"] is True
    finally:
        mine.close()
        theirs.close()
