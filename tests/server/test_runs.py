"""Flow and task runs: creation, version-locked states, idempotency, cancellation."""

from __future__ import annotations

import uuid
from typing import Any

from .conftest import (
    SERIALIZED_FLOW,
    GraphQL,
    World,
    create_flow,
    create_flow_run,
    create_project,
    mutation,
    set_state,
)

RUN = """query($id: uuid!) { flow_run_by_pk(id: $id) {
    version state state_message serialized_state start_time end_time heartbeat labels
    parameters run_config states(order_by: {version: asc}) { version state message }
    task_runs(order_by: {map_index: asc}) { id version state map_index cache_key task { slug } }
} }"""
TASK_RUN = """query($id: uuid!) { task_run_by_pk(id: $id) {
    version state serialized_state start_time end_time states { version state } } }"""
RUNNING = {"type": "Running", "message": "go", "context": {}, "cached_inputs": {}}
SUCCESS = {"type": "Success", "_result": {"type": "PrefectResult", "location": "1"}}


def flow_run(gql: GraphQL, run_id: str) -> dict[str, Any]:
    run: dict[str, Any] = gql.data(RUN, {"id": run_id})["flow_run_by_pk"]
    return run


def task_run(gql: GraphQL, run_id: str) -> dict[str, Any]:
    run: dict[str, Any] = gql.data(TASK_RUN, {"id": run_id})["task_run_by_pk"]
    return run


def test_a_new_flow_run_is_scheduled_with_a_pending_task_run_per_task(
    gql: GraphQL, world: World
) -> None:
    run = flow_run(gql, world.flow_run_id)
    assert (run["version"], run["state"]) == (1, "Scheduled")
    assert run["states"] == [{"version": 1, "state": "Scheduled", "message": "Flow run scheduled."}]
    assert run["labels"] == ["local"]
    assert run["run_config"] == SERIALIZED_FLOW["run_config"]
    assert run["parameters"] == {"day": "monday"}
    assert [(tr["task"]["slug"], tr["map_index"], tr["version"], tr["state"], tr["cache_key"])
            for tr in run["task_runs"]] == [
        ("extract-1", -1, 0, "Pending", "extract-key"),
        ("load-1", -1, 0, "Pending", None),
    ]  # fmt: skip


def test_states_are_version_locked_for_flow_runs_and_task_runs(gql: GraphQL, world: World) -> None:
    moved = set_state(gql, "flow_run", world.flow_run_id, RUNNING, version=1)
    assert moved["data"]["set_flow_run_states"]["states"] == [
        {"id": world.flow_run_id, "status": "SUCCESS", "message": None}
    ]
    stale = set_state(gql, "flow_run", world.flow_run_id, SUCCESS, version=1)
    assert stale["errors"][0]["extensions"]["code"] == "VERSION_LOCKING_ERROR"
    run = flow_run(gql, world.flow_run_id)
    assert (run["version"], run["state"], run["serialized_state"]) == (2, "Running", RUNNING)
    assert run["start_time"] is not None
    assert run["heartbeat"] is not None

    task_run_id = world.task_run_ids["extract-1"]
    set_state(gql, "task_run", task_run_id, RUNNING, version=0)
    stale = set_state(gql, "task_run", task_run_id, SUCCESS, version=0)
    assert stale["errors"][0]["extensions"]["code"] == "VERSION_LOCKING_ERROR"
    assert "errors" not in set_state(gql, "task_run", task_run_id, SUCCESS, version=1)
    assert "errors" not in set_state(gql, "flow_run", world.flow_run_id, SUCCESS)

    done = task_run(gql, task_run_id)
    assert (done["version"], done["state"], done["serialized_state"]) == (2, "Success", SUCCESS)
    assert done["start_time"] <= done["end_time"]
    assert sorted(s["version"] for s in done["states"]) == [1, 2]
    assert flow_run(gql, world.flow_run_id)["end_time"] is not None


def test_a_task_run_runs_only_inside_a_running_flow_run(gql: GraphQL, world: World) -> None:
    refused = set_state(gql, "task_run", world.task_run_ids["load-1"], RUNNING)
    assert "not in a running state" in refused["errors"][0]["message"]
    set_state(gql, "flow_run", world.flow_run_id, RUNNING)
    assert "errors" not in set_state(gql, "task_run", world.task_run_ids["load-1"], RUNNING)


def test_a_full_task_tag_limit_queues_the_task_run(gql: GraphQL, world: World) -> None:
    tag = f"tag-{uuid.uuid4().hex[:8]}"
    flow = {**SERIALIZED_FLOW, "name": tag, "tasks": [{"slug": "t-1", "tags": [tag]}], "edges": []}
    flow_id = create_flow(gql, world.project_id, flow)
    gql.data(mutation("update_task_tag_limit", "id"), {"i": {"tag": tag, "limit": 1}})
    task_runs = []
    for run_id in (create_flow_run(gql, flow_id), create_flow_run(gql, flow_id)):
        set_state(gql, "flow_run", run_id, RUNNING)
        task_runs.append(flow_run(gql, run_id)["task_runs"][0]["id"])
    assert "errors" not in set_state(gql, "task_run", task_runs[0], RUNNING)
    queued = set_state(gql, "task_run", task_runs[1], RUNNING)
    payload = queued["data"]["set_task_run_states"]["states"][0]
    assert payload["status"] == "QUEUED"
    assert repr(tag) in payload["message"]
    assert task_run(gql, task_runs[1])["state"] == "Pending"
    set_state(gql, "task_run", task_runs[0], SUCCESS)
    assert "errors" not in set_state(gql, "task_run", task_runs[1], RUNNING)
    assert task_run(gql, task_runs[1])["state"] == "Running"


def test_cached_inputs_carry_over_to_the_next_state(gql: GraphQL, world: World) -> None:
    inputs = {"x": {"type": "PrefectResult", "location": "1"}}
    task_run_id = world.task_run_ids["load-1"]
    set_state(gql, "task_run", task_run_id, {"type": "Pending", "cached_inputs": inputs})
    set_state(gql, "task_run", task_run_id, {"type": "Failed", "message": "boom"})
    assert task_run(gql, task_run_id)["serialized_state"]["cached_inputs"] == inputs


def test_a_repeated_idempotency_key_returns_the_same_flow_run(gql: GraphQL, world: World) -> None:
    first = create_flow_run(gql, world.flow_id, idempotency_key="nightly")
    assert create_flow_run(gql, world.flow_id, idempotency_key="nightly") == first
    assert create_flow_run(gql, world.flow_id, idempotency_key="other") != first
    assert create_flow_run(gql, world.flow_id) != create_flow_run(gql, world.flow_id)
    other_flow = create_flow(gql, create_project(gql, f"p-{first[:8]}"))
    assert create_flow_run(gql, other_flow, idempotency_key="nightly") != first


def test_a_run_of_a_version_group_runs_its_unarchived_flow(gql: GraphQL, world: World) -> None:
    group = gql.data(f'{{ flow_by_pk(id: "{world.flow_id}") {{ version_group_id }} }}')
    newer = create_flow(gql, world.project_id)
    run_id = gql.data(
        mutation("create_flow_run", "id"),
        {"i": {"version_group_id": group["flow_by_pk"]["version_group_id"]}},
    )["create_flow_run"]["id"]
    assert gql.data(f'{{ flow_run_by_pk(id: "{run_id}") {{ flow_id }} }}') == {
        "flow_run_by_pk": {"flow_id": newer}
    }
    archived = gql.error(mutation("create_flow_run", "id"), {"i": {"flow_id": world.flow_id}})
    assert archived["message"] == f"Flow {world.flow_id} is archived."


def test_parameters_labels_and_required_parameters(gql: GraphQL, world: World) -> None:
    flow = {**SERIALIZED_FLOW, "name": "needs-day",
            "parameters": [{"name": "day", "slug": "day", "required": True}]}  # fmt: skip
    flow_id = create_flow(gql, world.project_id, flow)
    missing = gql.error(
        mutation("create_flow_run", "id"), {"i": {"flow_id": flow_id, "parameters": {"other": 1}}}
    )
    assert missing["message"] == "Required parameters were not supplied: ['day']"
    run_id = create_flow_run(gql, flow_id, parameters={"day": "sunday"}, labels=["b", "a"])
    run = flow_run(gql, run_id)
    assert run["parameters"] == {"day": "sunday"}
    assert run["labels"] == ["a", "b"]


def test_cancelling_follows_the_runs_state(gql: GraphQL, world: World) -> None:
    cancel = mutation("cancel_flow_run", "state")
    assert gql.data(cancel, {"i": {"flow_run_id": world.flow_run_id}}) == {
        "cancel_flow_run": {"state": "Cancelled"}
    }
    run = flow_run(gql, world.flow_run_id)
    assert run["state"] == "Cancelled"
    assert {tr["state"] for tr in run["task_runs"]} == {"Cancelled"}
    assert gql.data(cancel, {"i": {"flow_run_id": world.flow_run_id}}) == {
        "cancel_flow_run": {"state": "Cancelled"}
    }
    running = create_flow_run(gql, world.flow_id)
    set_state(gql, "flow_run", running, RUNNING)
    assert gql.data(cancel, {"i": {"flow_run_id": running}}) == {
        "cancel_flow_run": {"state": "Cancelling"}
    }


def test_get_or_create_task_run_creates_mapped_children_once(gql: GraphQL, world: World) -> None:
    info = mutation("get_or_create_task_run_info", "id version state serialized_state")
    arguments = {"flow_run_id": world.flow_run_id, "task_id": world.task_ids["load-1"]}
    unmapped = gql.data(info, {"i": arguments})["get_or_create_task_run_info"]
    assert unmapped["id"] == world.task_run_ids["load-1"]
    child = gql.data(info, {"i": {**arguments, "map_index": 0}})["get_or_create_task_run_info"]
    assert child["id"] not in world.task_run_ids.values()
    assert (child["version"], child["state"]) == (0, "Pending")
    again = gql.data(info, {"i": {**arguments, "map_index": 0}})["get_or_create_task_run_info"]
    assert again["id"] == child["id"]
    foreign_task = gql.error(
        info, {"i": {"flow_run_id": world.flow_run_id, "task_id": world.flow_id}}
    )
    assert foreign_task["extensions"]["code"] == "NOT_FOUND"


def test_names_heartbeats_and_unknown_runs(gql: GraphQL, world: World) -> None:
    rename = mutation("set_flow_run_name", "success")
    gql.data(rename, {"i": {"flow_run_id": world.flow_run_id, "name": "renamed"}})
    assert gql.data(f'{{ flow_run_by_pk(id: "{world.flow_run_id}") {{ name }} }}') == {
        "flow_run_by_pk": {"name": "renamed"}
    }
    empty = gql.error(rename, {"i": {"flow_run_id": world.flow_run_id, "name": ""}})
    assert empty["extensions"]["code"] == "BAD_USER_INPUT"
    unknown = gql.error(
        "mutation { update_task_run_heartbeat(input: "
        '{task_run_id: "00000000-0000-4000-8000-00000000dead"}) { success } }'
    )
    assert unknown["extensions"]["code"] == "NOT_FOUND"
    missing_state = gql.error(
        "query($id: UUID!) { get_task_run_info(task_run_id: $id) { serialized_state } }",
        {"id": world.flow_run_id},
    )
    assert missing_state["extensions"]["code"] == "NOT_FOUND"


def test_a_state_must_be_a_known_serialized_state(gql: GraphQL, world: World) -> None:
    for state in ({"type": "Exploded"}, {"message": "no type"}, ["Running"]):
        answer = set_state(gql, "flow_run", world.flow_run_id, state)
        assert answer["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert flow_run(gql, world.flow_run_id)["version"] == 1


def test_cached_states_are_found_by_cache_key_and_by_task(gql: GraphQL, world: World) -> None:
    cached = {"type": "Cached", "message": "cached", "cached_parameters": {"p": 1}}
    set_state(gql, "task_run", world.task_run_ids["extract-1"], cached)
    by_key = """query($key: String!, $after: timestamptz!) {
        task_run(where: {state: {_eq: "Cached"}, state_timestamp: {_gte: $after},
                         cache_key: {_eq: $key}},
                 order_by: {state_timestamp: desc}, limit: 100) { id serialized_state } }"""
    found = gql.data(by_key, {"key": "extract-key", "after": "2020-01-01T00:00:00Z"})["task_run"]
    assert {"id": world.task_run_ids["extract-1"], "serialized_state": cached} in found
    later = gql.data(by_key, {"key": "extract-key", "after": "2999-01-01T00:00:00+00:00"})
    assert later == {"task_run": []}
    by_task = gql.data(
        """query($task: uuid!) { task_run(where: {state: {_eq: "Cached"},
               task_id: {_eq: $task}}) { id } }""",
        {"task": world.task_ids["extract-1"]},
    )
    assert by_task == {"task_run": [{"id": world.task_run_ids["extract-1"]}]}


def test_a_mutation_with_one_failing_change_changes_nothing(gql: GraphQL, world: World) -> None:
    other_run = create_flow_run(gql, world.flow_id)
    answer = gql(
        mutation("set_flow_run_states", "states { id status }"),
        {"i": {"states": [
            {"flow_run_id": other_run, "state": RUNNING, "version": 1},
            {"flow_run_id": world.flow_run_id, "state": RUNNING, "version": 7},
        ]}},
    )  # fmt: skip
    assert answer["errors"][0]["extensions"]["code"] == "VERSION_LOCKING_ERROR"
    assert flow_run(gql, other_run)["state"] == "Scheduled"
    assert flow_run(gql, world.flow_run_id)["version"] == 1
