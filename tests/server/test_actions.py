"""Prefect Server's Python-layer mutations beyond running flows, over HTTP."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest

from prefect_gql.server import DEFAULT_TENANT_ID, AuthConfig, LocalServer, ServiceIntervals
from prefect_gql.server._actions import ACTIONS
from prefect_gql.server._resolvers import MUTATIONS

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


@pytest.fixture(scope="module")
def own_server() -> Iterator[LocalServer]:
    """These tests add hooks, messages and tenants, and delete what others would read;
    its services run only when a test runs them."""
    with LocalServer(services=ServiceIntervals.off()) as server:
        yield server


@pytest.fixture
def gql(own_server: LocalServer) -> Iterator[GraphQL]:
    client = GraphQL(own_server.url)
    yield client
    client.close()


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


FLOW = """query($id: uuid!) { flow_by_pk(id: $id) {
    archived project_id flow_group { id labels description default_parameters run_config
    settings schedule } } }"""


def flow_of(gql: GraphQL, flow_id: str) -> dict[str, Any]:
    flow: dict[str, Any] = gql.data(FLOW, {"id": flow_id})["flow_by_pk"]
    return flow


def act(gql: GraphQL, field: str, selection: str = "success", **input: Any) -> Any:
    return gql.data(mutation(field, selection), {"i": input})[field]


def test_archive_flow_cancels_its_scheduled_runs(gql: GraphQL, world: World) -> None:
    running = create_flow_run(gql, world.flow_id)
    assert "errors" not in set_state(gql, "flow_run", running, RUNNING)
    assert act(gql, "archive_flow", flow_id=world.flow_id) == {"success": True}
    assert flow_of(gql, world.flow_id)["archived"] is True
    runs = gql.data(
        "query($f: uuid!) { flow_run(where: {flow_id: {_eq: $f}}, order_by: {created: asc})"
        " { state state_message } }",
        {"f": world.flow_id},
    )["flow_run"]
    assert runs == [
        {"state": "Cancelled", "state_message": f"Flow {world.flow_id} was archived."},
        {"state": "Running", "state_message": "go"},
    ]
    assert act(gql, "archive_flow", flow_id=str(uuid.uuid4())) == {"success": False}
    error = gql.error(mutation("create_flow_run", "id"), {"i": {"flow_id": world.flow_id}})
    assert "archived" in error["message"]


def test_update_flow_project_moves_a_flow_within_its_tenant(gql: GraphQL, world: World) -> None:
    other = build_world(gql)
    moved = act(
        gql, "update_flow_project", "id", flow_id=world.flow_id, project_id=other.project_id
    )
    assert moved == {"id": world.flow_id}
    assert flow_of(gql, world.flow_id)["project_id"] == other.project_id
    error = gql.error(
        mutation("update_flow_project", "id"),
        {"i": {"flow_id": world.flow_id, "project_id": str(uuid.uuid4())}},
    )
    assert (error["message"], error["extensions"]["code"]) == (
        "Invalid flow or project ID.",
        "BAD_USER_INPUT",
    )


def test_flow_run_and_flow_group_labels(gql: GraphQL, world: World) -> None:
    assert act(gql, "set_flow_run_labels", flow_run_id=world.flow_run_id, labels=["b", "a"]) == {
        "success": True
    }
    labels = gql.data(
        "query($id: uuid!) { flow_run_by_pk(id: $id) { labels } }", {"id": world.flow_run_id}
    )
    assert labels == {"flow_run_by_pk": {"labels": ["a", "b"]}}
    unknown = str(uuid.uuid4())
    assert act(gql, "set_flow_run_labels", flow_run_id=unknown, labels=[]) == {"success": False}
    group_id = flow_of(gql, world.flow_id)["flow_group"]["id"]
    assert act(gql, "set_flow_group_labels", flow_group_id=group_id, labels=["x", "y", "x"]) == {
        "success": True
    }
    assert flow_of(gql, world.flow_id)["flow_group"]["labels"] == ["x", "y"]
    assert create_flow_run_labels(gql, world) == ["x", "y"]
    assert act(gql, "set_flow_group_labels", flow_group_id=group_id, labels=None)["success"]
    assert flow_of(gql, world.flow_id)["flow_group"]["labels"] is None
    assert create_flow_run_labels(gql, world) == ["local"]


def create_flow_run_labels(gql: GraphQL, world: World) -> list[str]:
    """The labels a new run of the world's flow gets."""
    run_id = create_flow_run(gql, world.flow_id)
    run = gql.data("query($id: uuid!) { flow_run_by_pk(id: $id) { labels } }", {"id": run_id})
    labels: list[str] = run["flow_run_by_pk"]["labels"]
    return labels


def test_flow_group_settings_defaults_description_and_run_config(
    gql: GraphQL, world: World
) -> None:
    group_id = flow_of(gql, world.flow_id)["flow_group"]["id"]
    for field, value in (
        ("disable_flow_heartbeat", {"heartbeat_enabled": False, "disable_heartbeat": True}),
        ("disable_flow_lazarus_process", {"lazarus_enabled": False}),
        ("enable_flow_heartbeat", {"heartbeat_enabled": True, "disable_heartbeat": False}),
    ):
        assert act(gql, field, flow_id=world.flow_id) == {"success": True}
        settings = flow_of(gql, world.flow_id)["flow_group"]["settings"]
        assert settings.items() >= value.items(), (field, settings)
    assert flow_of(gql, world.flow_id)["flow_group"]["settings"] == {
        "heartbeat_enabled": True,
        "disable_heartbeat": False,
        "lazarus_enabled": False,
    }
    error = gql.error(
        mutation("enable_flow_lazarus_process", "success"), {"i": {"flow_id": group_id}}
    )
    assert (error["message"], error["extensions"]["code"]) == ("Invalid flow ID.", "NOT_FOUND")
    run_config = {"type": "LocalRun", "labels": ["gpu"]}
    for field, input in (
        ("set_flow_group_default_parameters", {"parameters": {"day": "friday"}}),
        ("set_flow_group_description", {"description": "*markdown*"}),
        ("set_flow_group_run_config", {"run_config": run_config}),
    ):
        assert act(gql, field, flow_group_id=group_id, **input) == {"success": True}
        assert act(gql, field, flow_group_id=str(uuid.uuid4()), **input) == {"success": False}
    not_an_object = gql.error(
        mutation("set_flow_group_default_parameters", "success"),
        {"i": {"flow_group_id": group_id, "parameters": [1]}},
    )
    assert not_an_object["extensions"]["code"] == "BAD_USER_INPUT"
    bad_labels = gql.error(
        mutation("set_flow_group_run_config", "success"),
        {"i": {"flow_group_id": group_id, "run_config": {"labels": [1]}}},
    )
    assert bad_labels["extensions"]["code"] == "BAD_USER_INPUT"
    group = flow_of(gql, world.flow_id)["flow_group"]
    assert (group["default_parameters"], group["description"], group["run_config"]) == (
        {"day": "friday"},
        "*markdown*",
        run_config,
    )
    run_id = create_flow_run(gql, world.flow_id)
    run = gql.data(
        "query($id: uuid!) { flow_run_by_pk(id: $id) { parameters labels } }", {"id": run_id}
    )["flow_run_by_pk"]
    assert run == {"parameters": {"day": "friday"}, "labels": ["gpu"]}


def test_flow_group_schedule_is_set_and_deleted(gql: GraphQL, world: World) -> None:
    group_id = flow_of(gql, world.flow_id)["flow_group"]["id"]
    answer = act(
        gql,
        "set_flow_group_schedule",
        flow_group_id=group_id,
        cron_clocks=[{"cron": "0 * * * *", "parameter_defaults": {"day": "sunday"}}],
        interval_clocks=[{"interval": 60}],
        timezone="Europe/Paris",
    )
    assert answer == {"success": True}
    schedule = flow_of(gql, world.flow_id)["flow_group"]["schedule"]
    start = schedule["clocks"][0]["start_date"]
    assert start["tz"] == "Europe/Paris"
    assert "T" in start["dt"]
    assert schedule == {
        "type": "Schedule",
        "clocks": [
            {"type": "CronClock", "cron": "0 * * * *", "parameter_defaults": {"day": "sunday"},
             "start_date": start},
            {"type": "IntervalClock", "interval": 60_000_000, "start_date": start},
        ],
    }  # fmt: skip
    for bad in (
        {"cron_clocks": [{"cron": "every hour"}]},
        {"interval_clocks": [{"interval": 0}]},
        {"interval_clocks": [{"interval": 30}]},
        {"timezone": "Mars/Olympus"},
    ):
        error = gql.error(
            mutation("set_flow_group_schedule", "success"),
            {"i": {"flow_group_id": group_id, **bad}},
        )
        assert error["extensions"]["code"] == "BAD_USER_INPUT", bad
    assert act(gql, "delete_flow_group_schedule", flow_group_id=group_id) == {"success": True}
    assert flow_of(gql, world.flow_id)["flow_group"]["schedule"] is None


def test_project_name_and_description(gql: GraphQL, world: World) -> None:
    other = build_world(gql)
    name = f"renamed-{uuid.uuid4().hex[:6]}"
    assert act(gql, "set_project_name", "id", project_id=world.project_id, name=name) == {
        "id": world.project_id
    }
    assert act(
        gql, "set_project_description", "id", project_id=world.project_id, description="d"
    ) == {"id": world.project_id}
    project = gql.data(
        "query($id: uuid!) { project_by_pk(id: $id) { name description } }",
        {"id": world.project_id},
    )["project_by_pk"]
    assert project == {"name": name, "description": "d"}
    taken = gql.error(
        mutation("set_project_name", "id"),
        {"i": {"project_id": world.project_id, "name": other.project_name}},
    )
    assert taken["message"] == "Uniqueness violation."
    missing = gql.error(
        mutation("set_project_name", "id"), {"i": {"project_id": str(uuid.uuid4()), "name": "n"}}
    )
    assert missing["extensions"]["code"] == "NOT_FOUND"


def test_delete_project_and_flow_group(gql: GraphQL, world: World) -> None:
    group_id = flow_of(gql, world.flow_id)["flow_group"]["id"]
    assert act(gql, "delete_flow_group", flow_group_id=group_id) == {"success": True}
    assert gql.data("query($id: uuid!) { flow_by_pk(id: $id) { id } }", {"id": world.flow_id}) == {
        "flow_by_pk": None
    }
    assert act(gql, "delete_project", project_id=world.project_id) == {"success": True}
    assert act(gql, "delete_project", project_id=world.project_id) == {"success": False}


def test_tenant_name_slug_settings_and_delete(gql: GraphQL) -> None:
    slug = f"t-{uuid.uuid4().hex[:8]}"
    tenant_id = act(gql, "create_tenant", "id", name="T", slug=slug)["id"]
    assert act(gql, "update_tenant_name", "id", tenant_id=tenant_id, name="New") == {
        "id": tenant_id
    }
    assert act(gql, "update_tenant_slug", "id", tenant_id=tenant_id, slug=f"{slug}-2") == {
        "id": tenant_id
    }
    for settings in ({"a": 1}, {"b": 2}):
        act(gql, "update_tenant_settings", "id", tenant_id=tenant_id, settings=settings)
    tenant = gql.data(
        "query($id: uuid!) { tenant_by_pk(id: $id) { name slug settings } }", {"id": tenant_id}
    )["tenant_by_pk"]
    assert tenant == {"name": "New", "slug": f"{slug}-2", "settings": {"a": 1, "b": 2}}
    for bad_slug in ("Not Slugified", "default"):
        error = gql.error(
            mutation("update_tenant_slug", "id"), {"i": {"tenant_id": tenant_id, "slug": bad_slug}}
        )
        assert error["extensions"]["code"] == "BAD_USER_INPUT", bad_slug
    project = act(gql, "create_project", "id", tenant_id=tenant_id, name="p")["id"]
    refused = gql.error(
        mutation("delete_tenant", "success"), {"i": {"tenant_id": tenant_id, "confirm": False}}
    )
    assert refused["message"] == "Must pass `confirm=True` to proceed."
    assert act(gql, "delete_tenant", tenant_id=tenant_id, confirm=True) == {"success": True}
    gone = gql.data(
        "query($t: uuid!, $p: uuid!) { tenant_by_pk(id: $t) { id } project_by_pk(id: $p) { id } }",
        {"t": tenant_id, "p": project},
    )
    assert gone == {"tenant_by_pk": None, "project_by_pk": None}


def test_cloud_hooks_are_stored_and_a_message_hook_writes_messages(
    gql: GraphQL, world: World
) -> None:
    created = act(
        gql,
        "create_cloud_hook",
        "id",
        tenant_id=world.tenant_id,
        type="PREFECT_MESSAGE",
        states=["failed", "Success"],
        name="inbox",
    )
    hook_id = created["id"]
    hook = gql.data(
        "query($id: uuid!) { cloud_hook_by_pk(id: $id) { type states active name config } }",
        {"id": hook_id},
    )["cloud_hook_by_pk"]
    assert hook == {
        "type": "PREFECT_MESSAGE", "states": ["FAILED", "SUCCESS"], "active": True,
        "name": "inbox", "config": {},
    }  # fmt: skip
    assert act(gql, "set_cloud_hook_inactive", cloud_hook_id=hook_id) == {"success": True}
    assert act(gql, "set_cloud_hook_active", cloud_hook_id=hook_id) == {"success": True}
    tested = act(
        gql, "test_cloud_hook", "success error", cloud_hook_id=hook_id,
        flow_run_id=world.flow_run_id, state_type="FAILED",
    )  # fmt: skip
    assert tested == {"success": True, "error": None}
    messages = gql.data(
        '{ message(where: {type: {_eq: "CLOUD_HOOK"}}, order_by: {created: desc}, limit: 1)'
        " { id read content } }"
    )["message"]
    event = messages[0]["content"]["event"]
    assert (event["flow_run"]["id"], event["state"]["state"]) == (world.flow_run_id, "Failed")
    message_id = messages[0]["id"]
    assert messages[0]["read"] is False
    assert act(gql, "mark_message_as_read", message_id=message_id) == {"success": True}
    read = gql.data("query($id: uuid!) { message_by_pk(id: $id) { read } }", {"id": message_id})
    assert read == {"message_by_pk": {"read": True}}
    assert act(gql, "mark_message_as_unread", message_id=message_id) == {"success": True}
    assert act(gql, "delete_message", message_id=message_id) == {"success": True}
    assert act(gql, "delete_message", message_id=message_id) == {"success": False}
    assert act(gql, "delete_cloud_hook", cloud_hook_id=hook_id) == {"success": True}
    assert act(gql, "test_cloud_hook", "success error", cloud_hook_id=hook_id) == {
        "success": False,
        "error": "Invalid ID",
    }


def test_cloud_hooks_are_checked_and_never_call_out(gql: GraphQL, world: World) -> None:
    def create(**input: Any) -> dict[str, Any]:
        return gql(
            mutation("create_cloud_hook", "id"), {"i": {"tenant_id": world.tenant_id, **input}}
        )

    for bad, message in (
        ({"type": "WEBHOOK", "states": ["FAILED"], "config": {}}, "Invalid config"),
        ({"type": "WEBHOOK", "states": ["NOPE"], "config": {"url": "x"}}, "Invalid states"),
        ({"type": "WEBHOOK", "states": [], "config": {"url": "x"}}, "Invalid states"),
        ({"type": "PAGERDUTY", "states": ["FAILED"],
          "config": {"api_token": "t", "routing_key": "k", "severity": "loud"}}, "severity"),
        ({"type": "PAGERDUTY", "states": ["FAILED"],
          "config": {"api_token": "t", "routing_key": "k", "severity": ["info"]}}, "severity"),
    ):  # fmt: skip
        error = create(**bad)["errors"][0]
        assert message in error["message"]
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
    hook_id = create(type="WEBHOOK", states=["FAILED"], config={"url": "http://127.0.0.1:9"})
    tested = act(
        gql,
        "test_cloud_hook",
        "success error",
        cloud_hook_id=hook_id["data"]["create_cloud_hook"]["id"],
    )
    assert tested["success"] is False
    assert "sends no requests" in tested["error"]


def test_mapped_children_count_a_parent_task_runs_children(gql: GraphQL, world: World) -> None:
    parent = world.task_run_ids["extract-1"]
    assert "errors" not in set_state(gql, "flow_run", world.flow_run_id, RUNNING)
    task_id = world.task_ids["extract-1"]
    for index in range(3):
        child = act(
            gql, "get_or_create_task_run", "id",
            flow_run_id=world.flow_run_id, task_id=task_id, map_index=index,
        )["id"]  # fmt: skip
        if index:
            assert "errors" not in set_state(gql, "task_run", child, RUNNING)
    summary = gql.data(
        "query($id: UUID!) { mapped_children(task_run_id: $id)"
        " { min_start_time max_end_time state_counts } }",
        {"id": parent},
    )["mapped_children"]
    assert summary["state_counts"] == {"Pending": 1, "Running": 2}
    assert summary["min_start_time"] is not None
    assert summary["max_end_time"] is None
    empty = gql.data(
        "query($id: UUID!) { mapped_children(task_run_id: $id) { state_counts min_start_time } }",
        {"id": str(uuid.uuid4())},
    )
    assert empty == {"mapped_children": {"state_counts": {}, "min_start_time": None}}


def test_task_graph_traversals(gql: GraphQL, world: World) -> None:
    extract, load = world.task_ids["extract-1"], world.task_ids["load-1"]

    def walk(direction: str, start: str, **more: Any) -> list[tuple[str, int]]:
        arguments = ", ".join(f"{key}: {value}" for key, value in more.items())
        rows = gql.data(
            f"query($ids: _uuid) {{ utility_{direction}_tasks(args: {{start_task_ids: $ids"
            f"{', depth_limit: ' + str(more.pop('depth_limit')) if 'depth_limit' in more else ''}}}"
            f"{', ' + arguments if arguments and 'depth_limit' not in arguments else ''})"
            " { task_id depth task { slug } } }",
            {"ids": "{" + start + "}"},
        )[f"utility_{direction}_tasks"]
        assert all(row["task"]["slug"] for row in rows)
        return [(row["task_id"], row["depth"]) for row in rows]

    assert walk("downstream", extract) == [(extract, 0), (load, 1)]
    assert walk("upstream", load) == [(load, 0), (extract, 1)]
    assert walk("downstream", extract, depth_limit=0) == [(extract, 0)]
    assert walk("downstream", load) == [(load, 0)]
    only_load = gql.data(
        "query($ids: _uuid) { utility_downstream_tasks(args: {start_task_ids: $ids},"
        ' where: {task: {slug: {_eq: "load-1"}}}) { depth }'
        " utility_downstream_tasks_aggregate(args: {start_task_ids: $ids})"
        " { aggregate { count } } }",
        {"ids": "{" + extract + "}"},
    )
    assert only_load == {
        "utility_downstream_tasks": [{"depth": 1}],
        "utility_downstream_tasks_aggregate": {"aggregate": {"count": 2}},
    }
    deepest_per_tenant = gql.data(
        "query($ids: _uuid) { utility_upstream_tasks(args: {start_task_ids: $ids},"
        " distinct_on: [tenant_id], order_by: {depth: desc}) { depth } }",
        {"ids": "{" + load + "}"},
    )
    assert deepest_per_tenant == {"utility_upstream_tasks": [{"depth": 1}]}
    bad = gql.error('{ utility_downstream_tasks(args: {start_task_ids: "{nope}"}) { depth } }')
    assert bad["extensions"]["code"] == "BAD_USER_INPUT"


def test_auto_scheduled_runs_go_when_the_group_schedule_changes(gql: GraphQL, world: World) -> None:
    group_id = flow_of(gql, world.flow_id)["flow_group"]["id"]
    auto = create_flow_run(gql, world.flow_id, idempotency_key="auto-scheduled:x")
    gql.data(
        "mutation($id: uuid!) { update_flow_run(where: {id: {_eq: $id}},"
        " _set: {auto_scheduled: true}) { affected_rows } }",
        {"id": auto},
    )
    assert act(gql, "delete_flow_group_schedule", flow_group_id=group_id) == {"success": True}
    ids = {r["id"] for r in gql.data(
        "query($f: uuid!) { flow_run(where: {flow_id: {_eq: $f}}) { id } }", {"f": world.flow_id}
    )["flow_run"]}  # fmt: skip
    assert ids == {world.flow_run_id}


def test_delete_agent_keeps_the_runs_it_submitted(gql: GraphQL, world: World) -> None:
    agent_id = act(gql, "register_agent", "id", type="LocalAgent", name="a")["id"]
    gql.data(
        "mutation($id: uuid!, $a: uuid!) { update_flow_run(where: {id: {_eq: $id}},"
        " _set: {agent_id: $a}) { affected_rows } }",
        {"id": world.flow_run_id, "a": agent_id},
    )
    assert act(gql, "delete_agent", agent_id=agent_id) == {"success": True}
    assert act(gql, "delete_agent", agent_id=agent_id) == {"success": False}
    run = gql.data(
        "query($id: uuid!) { flow_run_by_pk(id: $id) { agent_id } }", {"id": world.flow_run_id}
    )
    assert run == {"flow_run_by_pk": {"agent_id": None}}


def test_a_message_hook_writes_a_message_when_a_run_enters_a_watched_state(
    gql: GraphQL, world: World
) -> None:
    group = gql.data(
        "query($id: uuid!) { flow_by_pk(id: $id) { version_group_id } }", {"id": world.flow_id}
    )["flow_by_pk"]["version_group_id"]
    hooks = {
        watch: act(
            gql, "create_cloud_hook", "id", tenant_id=world.tenant_id, type="PREFECT_MESSAGE",
            states=["Failed"], version_group_id=version_group,
        )["id"]
        for watch, version_group in (("mine", group), ("other", "another-group"))
    }  # fmt: skip
    count = "{ message_aggregate { aggregate { count } } }"

    def messages() -> int:
        counted: int = gql.data(count)["message_aggregate"]["aggregate"]["count"]
        return counted

    before = messages()
    assert "errors" not in set_state(gql, "flow_run", world.flow_run_id, RUNNING)
    assert messages() == before
    assert "errors" not in set_state(gql, "flow_run", world.flow_run_id, {"type": "Failed"})
    assert messages() == before + 1
    event = gql.data("{ message(order_by: {created: desc}, limit: 1) { type content } }")[
        "message"
    ][0]
    assert event["type"] == "CLOUD_HOOK"
    assert event["content"]["event"]["flow_run"]["id"] == world.flow_run_id
    assert event["content"]["event"]["state"]["state"] == "Failed"
    assert act(gql, "set_cloud_hook_inactive", cloud_hook_id=hooks["mine"]) == {"success": True}
    assert "errors" not in set_state(gql, "flow_run", world.flow_run_id, {"type": "Failed"})
    assert messages() == before + 1


def test_log_out_revokes_a_tenant_token_and_its_refresh_token() -> None:
    auth = AuthConfig(api_tokens=["user-token"])
    with LocalServer(auth=auth) as server:
        user = GraphQL(server.url, {"Authorization": "Bearer user-token"})
        try:
            tokens = act(
                user, "switch_tenant", "access_token refresh_token", tenant_id=DEFAULT_TENANT_ID
            )
            tenant = GraphQL(server.url, {"Authorization": f"Bearer {tokens['access_token']}"})
            assert tenant.data("{ auth_info { tenant_id } }") == {
                "auth_info": {"tenant_id": DEFAULT_TENANT_ID}
            }
            logged_out = act(user, "log_out", access_token=tokens["access_token"])
            assert logged_out == {"success": True}
            assert tenant.error("{ auth_info { tenant_id } }")["message"] == "UNAUTHENTICATED"
            refreshed = user(
                mutation("refresh_token", "access_token"),
                {"i": {"access_token": tokens["access_token"]}},
                headers={"Authorization": f"Bearer {tokens['refresh_token']}"},
            )
            assert refreshed["errors"][0]["message"] == "UNAUTHENTICATED"
            again = act(user, "log_out", access_token=tokens["access_token"])
            assert again == {"success": False}
            tenant.close()
        finally:
            user.close()


def test_no_mutation_has_two_implementations() -> None:
    """``_resolvers.MUTATIONS`` and ``_actions.ACTIONS`` are merged: neither may
    silently replace the other's resolver."""
    assert not set(MUTATIONS) & set(ACTIONS)


def test_agent_configs_are_updated_and_deleted(gql: GraphQL, world: World) -> None:
    config_id = world.agent_config_id
    assert act(gql, "update_agent_config", agent_config_id=config_id, name="renamed") == {
        "success": True
    }
    refused = gql.error(
        mutation("update_agent_config", "success"),
        {"i": {"agent_config_id": config_id, "settings": [1]}},
    )
    assert refused["extensions"]["code"] == "BAD_USER_INPUT"
    agent_id = act(gql, "register_agent", "id", type="LocalAgent", agent_config_id=config_id)["id"]
    assert act(gql, "delete_agent_config", agent_config_id=config_id) == {"success": True}
    assert act(gql, "delete_agent_config", agent_config_id=config_id) == {"success": False}
    agent = gql.data(
        "query($id: uuid!) { agent_by_pk(id: $id) { agent_config_id } }", {"id": agent_id}
    )
    assert agent == {"agent_by_pk": {"agent_config_id": None}}


def test_the_scheduler_follows_the_flow_group_schedule(gql: GraphQL, world: World) -> None:
    group_id = flow_of(gql, world.flow_id)["flow_group"]["id"]
    runs = (
        "query($f: uuid!) { flow_run(where: {flow_id: {_eq: $f}, auto_scheduled: {_eq: true}},"
        " order_by: {scheduled_start_time: asc}) { scheduled_start_time } }"
    )
    schedule = {"flow_group_id": group_id, "interval_clocks": [{"interval": 3600}]}
    assert act(gql, "set_flow_group_schedule", **schedule) == {"success": True}
    assert act(gql, "set_schedule_active", flow_id=world.flow_id) == {"success": True}
    scheduled = [
        datetime.fromisoformat(run["scheduled_start_time"])
        for run in gql.data(runs, {"f": world.flow_id})["flow_run"]
    ]
    assert len(scheduled) == 10
    assert {later - earlier for earlier, later in pairwise(scheduled)} == {timedelta(hours=1)}
    faster = {"flow_group_id": group_id, "interval_clocks": [{"interval": 1800}]}
    assert act(gql, "set_flow_group_schedule", **faster) == {"success": True}
    rescheduled = [
        datetime.fromisoformat(run["scheduled_start_time"])
        for run in gql.data(runs, {"f": world.flow_id})["flow_run"]
    ]
    assert len(rescheduled) == 10
    assert {later - earlier for earlier, later in pairwise(rescheduled)} == {timedelta(minutes=30)}
    assert act(gql, "delete_flow_group_schedule", flow_group_id=group_id) == {"success": True}
    assert gql.data(runs, {"f": world.flow_id}) == {"flow_run": []}


def test_lazarus_follows_the_heartbeat_and_lazarus_toggles(
    own_server: LocalServer, gql: GraphQL, world: World
) -> None:
    lazarus = own_server.services.lazarus
    later = datetime.now(UTC) + timedelta(hours=1)

    def state() -> str:
        run = gql.data(
            "query($id: uuid!) { flow_run_by_pk(id: $id) { state } }", {"id": world.flow_run_id}
        )
        found: str = run["flow_run_by_pk"]["state"]
        return found

    assert "errors" not in set_state(gql, "flow_run", world.flow_run_id, RUNNING)
    for toggle in ("disable_flow_lazarus_process", "disable_flow_heartbeat"):
        assert act(gql, toggle, flow_id=world.flow_id) == {"success": True}
        lazarus.run_once(later)
        assert state() == "Running", toggle
        enable = toggle.replace("disable", "enable")
        assert act(gql, enable, flow_id=world.flow_id) == {"success": True}
    assert lazarus.run_once(later) >= 1
    assert state() == "Scheduled"
