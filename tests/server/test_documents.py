"""Every operation in queries/*.graphql (what prefect_gql sends) executes without errors."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from graphql import (
    DocumentNode,
    FieldNode,
    OperationDefinitionNode,
    parse,
    print_ast,
    separate_operations,
)

from prefect_gql.server import DEFAULT_TENANT_ID

from .conftest import SERIALIZED_FLOW, GraphQL, World, compress

QUERIES = Path(__file__).resolve().parents[2] / "queries"


def _operations() -> dict[str, str]:
    """Operation name -> a document holding it and the fragments it uses."""
    source = "\n".join(path.read_text() for path in sorted(QUERIES.glob("*.graphql")))
    return {
        name: print_ast(document) for name, document in separate_operations(parse(source)).items()
    }


OPERATIONS = _operations()
Call = tuple[dict[str, Any], dict[str, str]]
"""The variables and extra headers of one call."""


def _tokens(gql: GraphQL, world: World) -> dict[str, Any]:
    answer = gql.data(
        "mutation($i: switch_tenant_input!) { switch_tenant(input: $i) "
        "{ access_token refresh_token } }",
        {"i": {"tenant_id": world.tenant_id}},
    )
    tokens: dict[str, Any] = answer["switch_tenant"]
    return tokens


def _refresh(gql: GraphQL, world: World) -> Call:
    tokens = _tokens(gql, world)
    return (
        {"input": {"access_token": tokens["access_token"]}},
        {"Authorization": f"Bearer {tokens['refresh_token']}"},
    )


def _plain(variables: Callable[[World], dict[str, Any]]) -> Callable[[GraphQL, World], Call]:
    return lambda gql, world: (variables(world), {})


def _run_state(table: str) -> Callable[[World], dict[str, Any]]:
    def variables(world: World) -> dict[str, Any]:
        run_id = world.flow_run_id if table == "flow_run" else world.task_run_ids["load-1"]
        state = {"type": "Success", "message": "done", "_result": {"type": "NoResultType"}}
        return {"input": {"states": [{f"{table}_id": run_id, "state": state, "version": None}]}}

    return variables


TASK = {"slug": "extra-1", "name": "extra", "tags": []}
CALLS: dict[str, Callable[[GraphQL, World], Call]] = {
    "RegisterAgent": _plain(lambda w: {"input": {
        "type": "LocalAgent", "name": "a", "labels": ["x"], "tenant_id": w.tenant_id,
        "agent_config_id": w.agent_config_id}}),
    "GetAgentConfig": _plain(lambda w: {"id": w.agent_config_id}),
    "CreateTaskRunArtifact": _plain(lambda w: {"input": {
        "task_run_id": w.task_run_ids["load-1"], "kind": "link", "data": {"link": "x"}}}),
    "UpdateTaskRunArtifact": _plain(lambda w: {"input": {
        "task_run_artifact_id": w.artifact_id, "data": {"m": 2}}}),
    "DeleteTaskRunArtifact": _plain(lambda w: {"input": {"task_run_artifact_id": w.artifact_id}}),
    "SwitchTenant": _plain(lambda w: {"input": {"tenant_id": w.tenant_id}}),
    "RefreshToken": _refresh,
    "CreateFlow": _plain(lambda w: {"input": {
        "project_id": w.project_id, "serialized_flow": SERIALIZED_FLOW,
        "set_schedule_active": False, "idempotency_key": "k"}}),
    "CreateFlowFromCompressedString": _plain(lambda w: {"input": {
        "project_id": w.project_id, "serialized_flow": compress(SERIALIZED_FLOW)}}),
    "RegisterTasks": _plain(lambda w: {"input": {
        "flow_id": w.flow_id, "serialized_tasks": [TASK]}}),
    "RegisterEdges": _plain(lambda w: {"input": {"flow_id": w.flow_id, "serialized_edges": [
        {"upstream_task": {"slug": "load-1"}, "downstream_task": {"slug": "extract-1"}}]}}),
    "SetScheduleActive": _plain(lambda w: {"input": {"flow_id": w.flow_id}}),
    "SetScheduleInactive": _plain(lambda w: {"input": {"flow_id": w.flow_id}}),
    "GetFlowGroupId": _plain(lambda w: {"id": w.flow_id}),
    "CreateFlowRun": _plain(lambda w: {"input": {
        "flow_id": w.flow_id, "parameters": {"day": "friday"}, "context": {"c": 1},
        "labels": ["l"], "run_config": {"type": "LocalRun"}, "flow_run_name": "r",
        "scheduled_start_time": "2026-11-24T10:00:00+00:00", "idempotency_key": "k"}}),
    "GetFlowRunInfo": _plain(lambda w: {"id": w.flow_run_id}),
    "GetFlowRunState": _plain(lambda w: {"id": w.flow_run_id}),
    "SetFlowRunStates": _plain(_run_state("flow_run")),
    "SetFlowRunName": _plain(lambda w: {"input": {"flow_run_id": w.flow_run_id, "name": "n"}}),
    "UpdateFlowRunHeartbeat": _plain(lambda w: {"input": {"flow_run_id": w.flow_run_id}}),
    "CancelFlowRun": _plain(lambda w: {"input": {"flow_run_id": w.flow_run_id}}),
    "WriteRunLogs": _plain(lambda w: {"input": {"logs": [{
        "flow_run_id": w.flow_run_id, "task_run_id": w.task_run_ids["load-1"], "message": "hi",
        "level": "WARNING", "name": "prefect", "timestamp": "2026-11-24T10:00:00Z", "info": {}}]}}),
    "GetFlowRunLogs": _plain(lambda w: {"flow_run_id": w.flow_run_id}),
    "CreateProject": _plain(lambda w: {"input": {"name": "another", "tenant_id": w.tenant_id}}),
    "FindProjectByName": _plain(lambda w: {"name": w.project_name}),
    "DeleteProject": _plain(lambda w: {"input": {"project_id": w.project_id}}),
    "DeleteFlowRun": _plain(lambda w: {"input": {"flow_run_id": w.flow_run_id}}),
    "SetSecret": _plain(lambda w: {"input": {"name": "PASSWORD", "value": "hunter2"}}),
    "GetOrCreateTaskRunInfo": _plain(lambda w: {"input": {
        "flow_run_id": w.flow_run_id, "task_id": w.task_ids["load-1"], "map_index": 3}}),
    "GetTaskRunState": _plain(lambda w: {"task_run_id": w.task_run_ids["load-1"]}),
    "SetTaskRunStates": _plain(_run_state("task_run")),
    "SetTaskRunName": _plain(lambda w: {"input": {
        "task_run_id": w.task_run_ids["load-1"], "name": "n"}}),
    "UpdateTaskRunHeartbeat": _plain(lambda w: {"input": {
        "task_run_id": w.task_run_ids["load-1"]}}),
    "GetCachedStatesByTask": _plain(lambda w: {
        "task_id": w.task_ids["extract-1"], "created_after": "2020-01-01T00:00:00Z", "limit": 10}),
    "GetCachedStatesByCacheKey": _plain(lambda w: {
        "cache_key": "extract-key", "created_after": "2020-01-01T00:00:00+00:00", "limit": 10}),
    "GetTaskTagLimit": _plain(lambda w: {"tag": "db"}),
    "UpdateTaskTagLimit": _plain(lambda w: {"input": {"tag": "db", "limit": 2}}),
    "DeleteTaskTagLimit": _plain(lambda w: {"input": {"limit_id": w.limit_id}}),
    "ListTenantsBySlug": _plain(lambda w: {}),
    "FindTenantId": _plain(lambda w: {"slug": "default", "id": None}),
    "ListTenantSlugs": _plain(lambda w: {}),
    "GetUserDefaultTenantSlug": _plain(lambda w: {}),
    "GetAuthTenant": _plain(lambda w: {}),
    "CreateTenant": _plain(lambda w: {"input": {"name": "T", "slug": f"t-{uuid.uuid4().hex[:8]}"}}),
    "GetFlowRunView": _plain(lambda w: {"id": w.flow_run_id, "finished_states": ["Success"]}),
    "GetTaskRunView": _plain(lambda w: {"id": w.task_run_ids["load-1"]}),
    "GetFlowView": _plain(lambda w: {"id": w.flow_id}),
    "ListFlowRunsPage": _plain(lambda w: {"flow_id": w.flow_id, "direction": "desc", "limit": 10}),
    "ListTaskRunsPage": _plain(lambda w: {
        "flow_run_id": w.flow_run_id, "created_after": "2020-01-01T00:00:00Z", "limit": 10}),
    "ListFlowRunLogsPage": _plain(lambda w: {
        "flow_run_id": w.flow_run_id, "created_after": "2020-01-01T00:00:00Z", "limit": 10}),
    "PollFlowRun": _plain(lambda w: {
        "id": w.flow_run_id, "finished_states": ["Success"], "log_limit": 10}),
}  # fmt: skip
"""Operation name -> its variables (and headers) against a fresh ``World``."""


def test_every_operation_has_a_call() -> None:
    missing = sorted(set(OPERATIONS) - set(CALLS))
    assert not missing, f"add variables to CALLS in tests/server/test_documents.py for {missing}"


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_operation_executes(name: str, gql: GraphQL, world: World) -> None:
    if name not in CALLS:
        pytest.fail(f"no variables for {name}: add it to CALLS in tests/server/test_documents.py")
    variables, headers = CALLS[name](gql, world)
    data = gql.data(OPERATIONS[name], variables, headers=headers)
    document: DocumentNode = parse(OPERATIONS[name])
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    for selection in operation.selection_set.selections:
        assert isinstance(selection, FieldNode)
        root = (selection.alias or selection.name).value
        assert data[root] is not None, (name, data)


def test_every_operation_also_takes_variables_as_a_json_string(gql: GraphQL, world: World) -> None:
    """The Prefect clients send ``"variables": "<json>"``; prefect_gql sends an object."""
    variables, _ = CALLS["GetFlowRunInfo"](gql, world)
    as_object = gql.data(OPERATIONS["GetFlowRunInfo"], variables)
    as_string = gql.data(OPERATIONS["GetFlowRunInfo"], variables, as_string=True)
    assert as_object == as_string
    tenants = gql.data(OPERATIONS["ListTenantSlugs"], None, as_string=True)["tenant"]
    assert {"id": DEFAULT_TENANT_ID, "slug": "default"} in tenants
