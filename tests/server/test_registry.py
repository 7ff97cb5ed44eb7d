"""Tenants, projects and flow registration."""

from __future__ import annotations

import base64
import gzip
import json
import uuid

from prefect_gql.server import DEFAULT_TENANT_ID

from .conftest import (
    SERIALIZED_FLOW,
    GraphQL,
    World,
    compress,
    create_flow,
    create_flow_run,
    create_project,
    mutation,
)

TASKS = """query($id: uuid!) { flow_by_pk(id: $id) { tasks(order_by: {slug: asc}) {
    slug name tags cache_key trigger mapped is_root_task is_terminal_task is_reference_task } } }"""


def test_a_fresh_server_has_the_default_tenant(gql: GraphQL) -> None:
    tenants = gql.data('{ tenant(where: {slug: {_eq: "default"}}) { id name slug } }')
    assert tenants == {"tenant": [{"id": DEFAULT_TENANT_ID, "name": "default", "slug": "default"}]}


def test_slugs_and_project_names_are_unique(gql: GraphQL, world: World) -> None:
    create_tenant = mutation("create_tenant", "id")
    slug = f"t-{uuid.uuid4().hex[:8]}"
    tenant_id = gql.data(create_tenant, {"i": {"name": "T", "slug": slug}})["create_tenant"]["id"]
    again = gql.error(create_tenant, {"i": {"name": "U", "slug": slug}})
    assert again["message"] == "Uniqueness violation."
    assert again["extensions"]["code"] == "BAD_USER_INPUT"

    project = mutation("create_project", "id")

    duplicate = gql.error(
        project, {"i": {"name": world.project_name, "tenant_id": DEFAULT_TENANT_ID}}
    )
    assert duplicate["message"] == "Uniqueness violation."
    assert create_project(gql, world.project_name, tenant_id) != world.project_id
    unknown_tenant = gql.error(
        project, {"i": {"name": "x", "tenant_id": "00000000-0000-4000-8000-00000000dead"}}
    )
    assert unknown_tenant["extensions"]["code"] == "NOT_FOUND"


def test_registering_a_flow_again_makes_a_new_version(gql: GraphQL, world: World) -> None:
    second = create_flow(gql, world.project_id)
    flows = gql.data(
        "query($p: uuid!) { flow(where: {project_id: {_eq: $p}}, order_by: {version: asc})"
        " { id version archived version_group_id flow_group_id is_schedule_active } }",
        {"p": world.project_id},
    )["flow"]
    assert [(f["id"], f["version"], f["archived"]) for f in flows] == [
        (world.flow_id, 1, True),
        (second, 2, False),
    ]
    assert flows[0]["version_group_id"] == flows[1]["version_group_id"]
    assert flows[0]["flow_group_id"] == flows[1]["flow_group_id"]
    assert not flows[1]["is_schedule_active"]


def test_a_repeated_idempotency_key_returns_the_same_flow(gql: GraphQL, world: World) -> None:
    create = mutation("create_flow", "id")
    arguments = {"project_id": world.project_id, "serialized_flow": SERIALIZED_FLOW}
    first = gql.data(create, {"i": {**arguments, "idempotency_key": "v1"}})["create_flow"]["id"]
    again = gql.data(create, {"i": {**arguments, "idempotency_key": "v1"}})["create_flow"]["id"]
    other = gql.data(create, {"i": {**arguments, "idempotency_key": "v2"}})["create_flow"]["id"]
    assert first == again != other


def test_tasks_take_their_roles_from_the_edges(gql: GraphQL, world: World) -> None:
    tasks = gql.data(TASKS, {"id": world.flow_id})["flow_by_pk"]["tasks"]
    assert tasks == [
        {"slug": "extract-1", "name": "extract", "tags": ["db"], "cache_key": "extract-key",
         "trigger": "prefect.triggers.all_successful", "mapped": False, "is_root_task": True,
         "is_terminal_task": False, "is_reference_task": False},
        {"slug": "load-1", "name": "load", "tags": [], "cache_key": None, "trigger": None,
         "mapped": False, "is_root_task": False, "is_terminal_task": True,
         "is_reference_task": True},
    ]  # fmt: skip


def test_tasks_and_edges_registered_after_the_flow(gql: GraphQL, world: World) -> None:
    """1.x registers a flow without tasks, then adds them (in batches, maybe twice)."""
    bare = {**SERIALIZED_FLOW, "name": "bare", "tasks": [], "edges": []}
    flow_id = gql.data(
        mutation("create_flow_from_compressed_string", "id"),
        {"i": {"project_id": world.project_id, "serialized_flow": compress(bare)}},
    )["create_flow_from_compressed_string"]["id"]
    tasks = [{"slug": "a"}, {"slug": "b"}, {"slug": "c"}]
    edges = [
        {"upstream_task": {"slug": "a"}, "downstream_task": {"slug": "b"}, "mapped": True},
        {"upstream_task": "b", "downstream_task": "c", "key": "x"},
    ]
    for _ in range(2):
        gql.data(
            mutation("register_tasks", "success"),
            {"i": {"flow_id": flow_id, "serialized_tasks": tasks}},
        )
        gql.data(
            mutation("register_edges", "success"),
            {"i": {"flow_id": flow_id, "serialized_edges": edges}},
        )
    roles = gql.data(TASKS, {"id": flow_id})["flow_by_pk"]["tasks"]
    assert [(t["slug"], t["mapped"], t["is_root_task"], t["is_terminal_task"]) for t in roles] == [
        ("a", False, True, False),
        ("b", True, False, False),
        ("c", False, False, True),
    ]
    edge_count = gql.data(
        f'{{ flow_by_pk(id: "{flow_id}") {{ edges_aggregate {{ aggregate {{ count }} }} }} }}'
    )
    assert edge_count["flow_by_pk"]["edges_aggregate"]["aggregate"]["count"] == 2
    unknown = gql.error(
        mutation("register_edges", "success"),
        {"i": {"flow_id": flow_id, "serialized_edges": [
            {"upstream_task": "a", "downstream_task": "nope"}]}},
    )  # fmt: skip
    assert "nope" in unknown["message"]


def test_a_compressed_flow_may_be_zlib_or_gzip(gql: GraphQL, world: World) -> None:
    create = mutation("create_flow_from_compressed_string", "id")
    gzipped = base64.b64encode(gzip.compress(json.dumps(SERIALIZED_FLOW).encode())).decode()
    for payload in (compress(SERIALIZED_FLOW), gzipped):
        flow_id = gql.data(
            create, {"i": {"project_id": world.project_id, "serialized_flow": payload}}
        )
        assert flow_id["create_flow_from_compressed_string"]["id"]
    broken = gql.error(create, {"i": {"project_id": world.project_id, "serialized_flow": "eJw="}})
    assert broken["extensions"]["code"] == "BAD_USER_INPUT"


def test_schedules_switch_on_and_off(gql: GraphQL, world: World) -> None:
    active = mutation("set_schedule_active", "success")
    inactive = mutation("set_schedule_inactive", "success")
    state = f'{{ flow_by_pk(id: "{world.flow_id}") {{ is_schedule_active flow_group_id }} }}'
    assert gql.data(active, {"i": {"flow_id": world.flow_id}})["set_schedule_active"]["success"]
    assert gql.data(state)["flow_by_pk"]["is_schedule_active"] is True
    gql.data(inactive, {"i": {"flow_id": world.flow_id}})
    assert gql.data(state)["flow_by_pk"]["is_schedule_active"] is False

    scheduled = {
        **SERIALIZED_FLOW,
        "name": "daily",
        "schedule": {"clocks": [{"type": "CronClock", "cron": "0 0 * * *"}]},
        "parameters": [{"name": "day", "slug": "day", "required": True}],
    }
    flow_id = create_flow(gql, world.project_id, scheduled)
    assert gql.data(f'{{ flow_by_pk(id: "{flow_id}") {{ is_schedule_active }} }}') == {
        "flow_by_pk": {"is_schedule_active": False}
    }
    refused = gql.error(active, {"i": {"flow_id": flow_id}})
    assert refused["message"] == "Can not schedule a flow that has required parameters."


def test_deleting_a_project_deletes_its_flows_and_runs(gql: GraphQL, world: World) -> None:
    delete = mutation("delete_project", "success")
    extra_run = create_flow_run(gql, world.flow_id)
    assert gql.data(delete, {"i": {"project_id": world.project_id}}) == {
        "delete_project": {"success": True}
    }
    gone = gql.data(
        "query($f: uuid!, $r: [uuid!], $t: uuid!) { flow_by_pk(id: $f) { id }"
        " flow_run(where: {id: {_in: $r}}) { id } task_run_by_pk(id: $t) { id }"
        " task_run_artifact(where: {task_run_id: {_eq: $t}}) { id } }",
        {"f": world.flow_id, "r": [world.flow_run_id, extra_run],
         "t": world.task_run_ids["extract-1"]},
    )  # fmt: skip
    assert gone == {
        "flow_by_pk": None,
        "flow_run": [],
        "task_run_by_pk": None,
        "task_run_artifact": [],
    }
    again = gql.data(delete, {"i": {"project_id": world.project_id}})
    assert again == {"delete_project": {"success": False}}  # as Prefect Server answers
