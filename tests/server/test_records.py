"""Logs, secrets, task tag limits, agents and artifacts."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import pytest

from prefect_gql.server import DEFAULT_TENANT_ID

from .conftest import GraphQL, World, mutation

SECRET_VALUE = "s3cr3t-never-shown-9d1f"
LOGS = """query($run: uuid!, $order: order_by!) {
    log(where: {flow_run_id: {_eq: $run}}, order_by: {timestamp: $order}) {
        message level name task_run_id timestamp info } }"""


def test_run_logs_are_kept_and_read_in_order(gql: GraphQL, world: World) -> None:
    write = mutation("write_run_logs", "success")
    logs: list[dict[str, Any]] = [
        {"flow_run_id": world.flow_run_id, "message": "second", "level": "ERROR",
         "timestamp": "2026-11-24T12:00:01+01:00", "task_run_id": world.task_run_ids["load-1"]},
        {"flow_run_id": world.flow_run_id, "message": "first", "name": "prefect.FlowRunner",
         "timestamp": "2026-11-24T11:00:00Z", "info": {"k": 1}},
    ]  # fmt: skip
    assert gql.data(write, {"i": {"logs": logs}}) == {"write_run_logs": {"success": True}}
    ascending = gql.data(LOGS, {"run": world.flow_run_id, "order": "asc"})["log"]
    assert ascending == [
        {"message": "first", "level": "INFO", "name": "prefect.FlowRunner", "task_run_id": None,
         "timestamp": "2026-11-24T11:00:00+00:00", "info": {"k": 1}},
        {"message": "second", "level": "ERROR", "name": None,
         "task_run_id": world.task_run_ids["load-1"], "timestamp": "2026-11-24T11:00:01+00:00",
         "info": None},
    ]  # fmt: skip
    descending = gql.data(LOGS, {"run": world.flow_run_id, "order": "desc"})["log"]
    assert descending == ascending[::-1]

    unknown_run = [{**logs[0], "flow_run_id": "00000000-0000-4000-8000-00000000dead"}]
    refused = gql.error(write, {"i": {"logs": [logs[0], *unknown_run]}})
    assert refused["extensions"]["code"] == "NOT_FOUND"
    assert len(gql.data(LOGS, {"run": world.flow_run_id, "order": "asc"})["log"]) == 2


def test_secrets_are_kept_but_never_answered_or_logged(
    gql: GraphQL, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    set_secret = mutation("set_secret", "success")
    answers = [
        gql.post(set_secret, {"i": {"name": "DB_PASSWORD", "value": SECRET_VALUE}}),
        gql.post(set_secret, {"i": {"name": "DB_PASSWORD", "value": {"nested": SECRET_VALUE}}}),
        gql.post(set_secret, {"i": {"name": None, "value": SECRET_VALUE}}),
        gql.post(
            f'mutation {{ set_secret(input: {{name: 1, value: "{SECRET_VALUE}"}}) {{ success }} }}'
        ),
    ]
    assert [answer.json() for answer in answers[:2]] == [
        {"data": {"set_secret": {"success": True}}}
    ] * 2
    assert [answer.status_code for answer in answers[2:]] == [400, 400]
    assert not any(SECRET_VALUE in answer.text for answer in answers)
    assert SECRET_VALUE not in caplog.text


def test_task_tag_limits_upsert_read_and_delete(gql: GraphQL, world: World) -> None:
    tag = f"tag-{uuid.uuid4().hex[:8]}"
    update = mutation("update_task_tag_limit", "id")
    delete = mutation("delete_task_tag_limit", "success")
    read = (
        "query($tag: String!) { task_tag_limit(where: {tag: {_eq: $tag}}) { id limit tenant_id } }"
    )
    limit_id = gql.data(update, {"i": {"tag": tag, "limit": 3}})["update_task_tag_limit"]["id"]
    assert (
        gql.data(update, {"i": {"tag": tag, "limit": 7}})["update_task_tag_limit"]["id"] == limit_id
    )
    assert gql.data(read, {"tag": tag}) == {
        "task_tag_limit": [{"id": limit_id, "limit": 7, "tenant_id": DEFAULT_TENANT_ID}]
    }
    negative = gql.error(update, {"i": {"tag": tag, "limit": -1}})
    assert negative["extensions"]["code"] == "BAD_USER_INPUT"
    assert gql.data(delete, {"i": {"limit_id": limit_id}}) == {
        "delete_task_tag_limit": {"success": True}
    }
    assert gql.data(read, {"tag": tag}) == {"task_tag_limit": []}
    assert gql.error(delete, {"i": {"limit_id": limit_id}})["extensions"]["code"] == "NOT_FOUND"


def test_agents_and_their_configs(gql: GraphQL, world: World) -> None:
    register = mutation("register_agent", "id")
    agent_id = gql.data(
        register,
        {"i": {"type": "KubernetesAgent", "name": "k", "labels": ["gpu"],
               "agent_config_id": world.agent_config_id}},
    )["register_agent"]["id"]  # fmt: skip
    agent = gql.data(
        f'{{ agent_by_pk(id: "{agent_id}") {{ type name labels tenant_id last_queried'
        " agent_config { id settings } } }"
    )["agent_by_pk"]
    assert agent["type"] == "KubernetesAgent"
    assert agent["labels"] == ["gpu"]
    assert agent["tenant_id"] == DEFAULT_TENANT_ID
    assert agent["agent_config"] == {"id": world.agent_config_id, "settings": {"labels": ["gpu"]}}
    assert agent["last_queried"].endswith("+00:00")
    config = gql.data(
        "query($id: uuid!) { agent_config(where: {id: {_eq: $id}}) { settings } }",
        {"id": world.agent_config_id},
    )
    assert config == {"agent_config": [{"settings": {"labels": ["gpu"]}}]}
    unknown = gql.error(
        register,
        {"i": {"type": "LocalAgent", "agent_config_id": "00000000-0000-4000-8000-00000000dead"}},
    )
    assert unknown["extensions"]["code"] == "NOT_FOUND"


def test_artifacts_are_created_updated_and_deleted(gql: GraphQL, world: World) -> None:
    read = f'{{ task_run_artifact_by_pk(id: "{world.artifact_id}") {{ kind data task_run_id }} }}'
    assert gql.data(read)["task_run_artifact_by_pk"] == {
        "kind": "markdown", "data": {"m": 1}, "task_run_id": world.task_run_ids["extract-1"]
    }  # fmt: skip
    gql.data(
        mutation("update_task_run_artifact", "success"),
        {"i": {"task_run_artifact_id": world.artifact_id, "data": {"m": 2}}},
    )
    assert gql.data(read)["task_run_artifact_by_pk"]["data"] == {"m": 2}
    delete = mutation("delete_task_run_artifact", "success")
    gql.data(delete, {"i": {"task_run_artifact_id": world.artifact_id}})
    assert gql.data(read) == {"task_run_artifact_by_pk": None}
    gone = gql.error(delete, {"i": {"task_run_artifact_id": world.artifact_id}})
    assert gone["extensions"]["code"] == "NOT_FOUND"
    orphan = gql.error(
        mutation("create_task_run_artifact", "id"),
        {"i": {"task_run_id": world.flow_run_id, "kind": "link", "data": {}}},
    )
    assert orphan["extensions"]["code"] == "NOT_FOUND"
