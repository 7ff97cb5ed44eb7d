"""Wire-level behaviour of every client method, run against Client and AsyncClient.

Each test pins the exact GraphQL document (the generated one), the variables, the
headers and the typed result, and the documented error paths.
"""

from __future__ import annotations

import json
import logging
import zlib
from base64 import b64decode
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from pytest_httpx import HTTPXMock

from prefect_gql import (
    APIResponseError,
    AsyncClient,
    Client,
    ClientError,
    FlowRunInfo,
    FlowSpec,
    InvalidInputError,
    InvalidStateError,
    LogWriteError,
    NotFoundError,
    OperationFailedError,
    Pending,
    PrefectResult,
    Queued,
    Running,
    Success,
    TaskRunInfo,
    TaskSpec,
    VersionLockError,
    parse_state,
    types,
    with_args,
)
from prefect_gql._generated import documents

from .conftest import (
    FLOW_ID,
    FLOW_RUN_ID,
    LIMIT_ID,
    PROJECT_ID,
    SERVER_URL,
    TASK_ID,
    TASK_RUN_ID,
    TENANT_ID,
    Api,
    ClientFactory,
    add_graphql,
    graphql_body,
    sent_operations,
)

RUNNING_WIRE = Running(message="go").to_wire(core_version="1.4.1")


def only_body(httpx_mock: HTTPXMock) -> dict[str, Any]:
    requests = httpx_mock.get_requests()
    assert len(requests) == 1
    return graphql_body(requests[0])


async def test_create_flow_run_sends_document_variables_and_returns_id(
    api: Api, httpx_mock: HTTPXMock
) -> None:
    add_graphql(httpx_mock, {"create_flow_run": {"id": FLOW_RUN_ID}})
    start = datetime(2020, 6, 17, tzinfo=UTC)

    run_id = await api(
        Client.create_flow_run,
        flow_id=FLOW_ID,
        parameters={"x": 1},
        context={"c": True},
        scheduled_start_time=start,
        idempotency_key="key-1",
        run_name="nightly",
        labels=["a"],
    )

    assert run_id == FLOW_RUN_ID
    body = only_body(httpx_mock)
    assert body["query"] == documents.CREATE_FLOW_RUN_GQL
    assert body["operationName"] == "CreateFlowRun"
    assert body["variables"] == {
        "input": {
            "flow_id": FLOW_ID,
            "parameters": {"x": 1},
            "context": {"c": True},
            "scheduled_start_time": "2020-06-17T00:00:00Z",
            "idempotency_key": "key-1",
            "flow_run_name": "nightly",
            "labels": ["a"],
        }
    }


async def test_create_flow_run_generates_an_idempotency_key(
    api: Api, httpx_mock: HTTPXMock
) -> None:
    add_graphql(httpx_mock, {"create_flow_run": {"id": FLOW_RUN_ID}})
    add_graphql(httpx_mock, {"create_flow_run": {"id": FLOW_RUN_ID}})

    await api(Client.create_flow_run, version_group_id="nightly-group")
    await api(Client.create_flow_run, version_group_id="nightly-group")

    first, second = (variables["input"] for _, variables in sent_operations(httpx_mock))
    assert first["version_group_id"] == "nightly-group"
    assert "flow_id" not in first
    assert len(first["idempotency_key"]) == 32
    assert first["idempotency_key"] != second["idempotency_key"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "flow_id or version_group_id"),
        ({"flow_id": "not-a-uuid"}, "flow_id must be a UUID"),
        (
            {"flow_id": FLOW_ID, "scheduled_start_time": "2020-01-01"},
            "scheduled_start_time must be a datetime",
        ),
        (
            {"flow_id": FLOW_ID, "parameters": {"x": object()}},
            "parameters must be JSON-serializable",
        ),
        ({"flow_id": FLOW_ID, "context": {"s": {1, 2}}}, "context must be JSON-serializable"),
    ],
)
async def test_create_flow_run_rejects_bad_input_before_any_request(
    api: Api, httpx_mock: HTTPXMock, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message) as raised:
        await api(Client.create_flow_run, **kwargs)
    assert isinstance(raised.value, ValueError)
    assert httpx_mock.get_requests() == []


async def test_create_project_resolves_the_server_tenant(api: Api, httpx_mock: HTTPXMock) -> None:
    add_graphql(httpx_mock, {"tenant": [{"id": TENANT_ID, "slug": "default"}]})
    add_graphql(httpx_mock, {"create_project": {"id": PROJECT_ID}})

    project_id = await api(Client.create_project, "etl", "nightly jobs")

    assert project_id == PROJECT_ID
    assert sent_operations(httpx_mock) == [
        ("ListTenantSlugs", {}),
        (
            "CreateProject",
            {"input": {"tenant_id": TENANT_ID, "name": "etl", "description": "nightly jobs"}},
        ),
    ]
    assert api.client.tenant_id == TENANT_ID


async def test_create_project_falls_back_to_the_existing_project(
    make_api: ClientFactory, httpx_mock: HTTPXMock
) -> None:
    api = make_api(tenant_id=TENANT_ID)
    add_graphql(httpx_mock, errors=[{"message": "Uniqueness violation."}])
    add_graphql(httpx_mock, {"project": [{"id": PROJECT_ID}]})

    assert await api(Client.create_project, "etl") == PROJECT_ID
    assert [name for name, _ in sent_operations(httpx_mock)] == [
        "CreateProject",
        "FindProjectByName",
    ]


async def test_delete_project(api: Api, httpx_mock: HTTPXMock) -> None:
    add_graphql(httpx_mock, {"project": [{"id": PROJECT_ID}]})
    add_graphql(httpx_mock, {"delete_project": {"success": True}})

    assert await api(Client.delete_project, "etl") is True
    assert sent_operations(httpx_mock)[1] == (
        "DeleteProject",
        {"input": {"project_id": PROJECT_ID}},
    )


async def test_delete_project_unknown_name(api: Api, httpx_mock: HTTPXMock) -> None:
    add_graphql(httpx_mock, {"project": []})
    with pytest.raises(NotFoundError, match="'nope' not found"):
        await api(Client.delete_project, "nope")


def _flow() -> FlowSpec:
    return FlowSpec(
        name="etl",
        description="nightly etl",
        tasks=[TaskSpec(slug=f"t{i}", name=f"t{i}") for i in range(3)],
    )


@pytest.mark.parametrize("compressed", [True, False])
async def test_register_runs_the_1_4_1_sequence(
    api: Api, httpx_mock: HTTPXMock, compressed: bool, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="prefect_gql")
    created_field = "create_flow_from_compressed_string" if compressed else "create_flow"
    add_graphql(httpx_mock, {"project": [{"id": PROJECT_ID}]})
    add_graphql(httpx_mock, {created_field: {"id": FLOW_ID}})
    add_graphql(httpx_mock, {"register_tasks": {"success": True}})
    add_graphql(httpx_mock, {"set_schedule_active": {"success": True}})
    add_graphql(
        httpx_mock, {"flow_by_pk": {"flow_group_id": "77777777-7777-7777-7777-777777777777"}}
    )

    flow_id = await api(Client.register, _flow(), project_name="etl", compressed=compressed)

    assert flow_id == FLOW_ID
    operations = sent_operations(httpx_mock)
    assert [name for name, _ in operations] == [
        "FindProjectByName",
        "CreateFlowFromCompressedString" if compressed else "CreateFlow",
        "RegisterTasks",
        "SetScheduleActive",
        "GetFlowGroupId",
    ]
    create_input = operations[1][1]["input"]
    assert create_input["set_schedule_active"] is False
    assert create_input["description"] == "nightly etl"
    serialized = create_input["serialized_flow"]
    flow = json.loads(zlib.decompress(b64decode(serialized))) if compressed else serialized
    assert flow["name"] == "etl"
    assert flow["tasks"] == []
    assert [task["slug"] for task in operations[2][1]["input"]["serialized_tasks"]] == [
        "t0",
        "t1",
        "t2",
    ]
    assert "Flow URL: http://localhost:8080/flow/77777777-7777-7777-7777-777777777777" in (
        caplog.messages
    )


async def test_register_batches_tasks_by_500(api: Api, httpx_mock: HTTPXMock) -> None:
    flow = FlowSpec(name="big", tasks=[TaskSpec(slug=f"t{i}", name="t") for i in range(1001)])
    add_graphql(httpx_mock, {"project": [{"id": PROJECT_ID}]})
    add_graphql(httpx_mock, {"create_flow_from_compressed_string": {"id": FLOW_ID}})
    for _ in range(3):
        add_graphql(httpx_mock, {"register_tasks": {"success": True}})

    await api(Client.register, flow, project_name="p", set_schedule_active=False, no_url=True)

    batches = [
        len(variables["input"]["serialized_tasks"])
        for name, variables in sent_operations(httpx_mock)
        if name == "RegisterTasks"
    ]
    assert batches == [500, 500, 1]


async def test_register_requires_a_project(api: Api, httpx_mock: HTTPXMock) -> None:
    with pytest.raises(InvalidInputError, match="project_name is required"):
        await api(Client.register, _flow())
    assert httpx_mock.get_requests() == []


def _flow_run_data(serialized_state: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "flow_run_by_pk": {
            "id": FLOW_RUN_ID,
            "name": "nightly",
            "flow_id": FLOW_ID,
            "parameters": {"x": 1},
            "context": None,
            "version": 3,
            "scheduled_start_time": "2020-06-17T00:00:00+00:00",
            "serialized_state": serialized_state,
            "task_runs": [
                {
                    "id": TASK_RUN_ID,
                    "version": 1,
                    "serialized_state": {"type": "Pending", "message": "Task run created"},
                    "task": {"id": TASK_ID, "slug": "extract"},
                }
            ],
            "flow": {"project": {"id": PROJECT_ID, "name": "etl"}},
        }
    }


async def test_get_flow_run_info_returns_typed_states(api: Api, httpx_mock: HTTPXMock) -> None:
    add_graphql(httpx_mock, _flow_run_data(RUNNING_WIRE))

    info = await api(Client.get_flow_run_info, FLOW_RUN_ID)

    assert isinstance(info, FlowRunInfo)
    assert isinstance(info.state, Running)
    assert info.state.message == "go"
    assert info.version == 3
    assert info.parameters == {"x": 1}
    assert info.context == {}
    assert info.project is not None
    assert info.project.name == "etl"
    assert isinstance(info.task_runs[0], TaskRunInfo)
    assert isinstance(info.task_runs[0].state, Pending)
    assert info.task_runs[0].task_slug == "extract"
    body = only_body(httpx_mock)
    assert body["query"] == documents.GET_FLOW_RUN_INFO_GQL
    assert body["variables"] == {"id": FLOW_RUN_ID}


async def test_get_flow_run_info_of_a_state_less_run_is_pending(
    api: Api, httpx_mock: HTTPXMock
) -> None:
    add_graphql(httpx_mock, _flow_run_data(None))
    info = await api(Client.get_flow_run_info, FLOW_RUN_ID)
    assert isinstance(info.state, Pending)


async def test_get_flow_run_info_sends_the_generated_document(
    api: Api, httpx_mock: HTTPXMock
) -> None:
    add_graphql(httpx_mock, _flow_run_data(RUNNING_WIRE))
    await api(Client.get_flow_run_info, FLOW_RUN_ID)
    body = only_body(httpx_mock)
    assert body["query"] == documents.GET_FLOW_RUN_INFO_GQL
    assert body["operationName"] == "GetFlowRunInfo"
    assert body["variables"] == {"id": FLOW_RUN_ID}


async def test_get_flow_run_info_with_a_malformed_task_run_state(
    api: Api, httpx_mock: HTTPXMock
) -> None:
    data = _flow_run_data(RUNNING_WIRE)
    data["flow_run_by_pk"]["task_runs"][0]["serialized_state"] = {"type": "Running", "message": 5}
    add_graphql(httpx_mock, data)
    with pytest.raises(InvalidStateError, match="invalid Running state: message"):
        await api(Client.get_flow_run_info, FLOW_RUN_ID)


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda run: run.pop("version"), "version"),
        (lambda run: run.update(task_runs=None), "task_runs"),
        (lambda run: run["task_runs"][0].pop("task"), "task_runs.0.task"),
        (lambda run: run.update(flow={"project": {"id": 5, "name": "p"}}), "flow.project.id"),
        (lambda run: run.update(scheduled_start_time="soon"), "scheduled_start_time"),
    ],
)
async def test_get_flow_run_info_answer_of_another_shape_is_the_apis_fault(
    api: Api, httpx_mock: HTTPXMock, change: Callable[[dict[str, Any]], object], where: str
) -> None:
    data = _flow_run_data(RUNNING_WIRE)
    change(data["flow_run_by_pk"])
    add_graphql(httpx_mock, data)
    with pytest.raises(APIResponseError, match=f"GetFlowRunInfo does not match.*{where}"):
        await api(Client.get_flow_run_info, FLOW_RUN_ID)


async def test_get_flow_run_info_unknown_run(api: Api, httpx_mock: HTTPXMock) -> None:
    add_graphql(httpx_mock, {"flow_run_by_pk": None})
    with pytest.raises(NotFoundError, match=FLOW_RUN_ID):
        await api(Client.get_flow_run_info, FLOW_RUN_ID)


async def test_get_flow_run_state(api: Api, httpx_mock: HTTPXMock) -> None:
    add_graphql(httpx_mock, {"flow_run_by_pk": {"serialized_state": RUNNING_WIRE}})
    state = await api(Client.get_flow_run_state, FLOW_RUN_ID)
    assert isinstance(state, Running)
    assert only_body(httpx_mock)["query"] == documents.GET_FLOW_RUN_STATE_GQL


@pytest.mark.parametrize("order", ["1.x", "0.12"])
async def test_set_flow_run_state_sends_the_serialized_state(
    api: Api, httpx_mock: HTTPXMock, order: str
) -> None:
    add_graphql(
        httpx_mock,
        {
            "set_flow_run_states": {
                "states": [{"id": FLOW_RUN_ID, "status": "SUCCESS", "message": None}]
            }
        },
    )
    state = Running(message="go")

    if order == "1.x":
        result = await api(Client.set_flow_run_state, FLOW_RUN_ID, state, version=2)
    else:
        result = await api(Client.set_flow_run_state, FLOW_RUN_ID, 2, state)

    assert result is state
    body = only_body(httpx_mock)
    assert body["query"] == documents.SET_FLOW_RUN_STATES_GQL
    assert body["variables"] == {
        "input": {"states": [{"flow_run_id": FLOW_RUN_ID, "version": 2, "state": RUNNING_WIRE}]}
    }


async def test_set_flow_run_state_queued_answer(api: Api, httpx_mock: HTTPXMock) -> None:
    add_graphql(
        httpx_mock,
        {
            "set_flow_run_states": {
                "states": [{"id": FLOW_RUN_ID, "status": "QUEUED", "message": "limit"}]
            }
        },
    )
    before = datetime.now(UTC)

    result = await api(Client.set_flow_run_state, FLOW_RUN_ID, Running())

    assert isinstance(result, Queued)
    assert isinstance(result.state, Running)
    assert result.start_time is not None
    assert result.start_time >= before + timedelta(seconds=29)


async def test_set_flow_run_state_stale_version(api: Api, httpx_mock: HTTPXMock) -> None:
    add_graphql(
        httpx_mock,
        errors=[
            {
                "message": "State update failed: version mismatch",
                "path": ["set_flow_run_states"],
                "extensions": {"code": "VERSION_LOCKING_ERROR"},
            }
        ],
    )
    with pytest.raises(VersionLockError) as raised:
        await api(Client.set_flow_run_state, FLOW_RUN_ID, Running(), version=1)
    assert isinstance(raised.value, ClientError)
    assert raised.value.code == "VERSION_LOCKING_ERROR"
    assert raised.value.errors[0].path == ("set_flow_run_states",)


async def test_set_flow_run_state_rejects_a_non_state(api: Api, httpx_mock: HTTPXMock) -> None:
    with pytest.raises(InvalidStateError, match="must be a prefect_gql State"):
        await api(Client.set_flow_run_state, FLOW_RUN_ID, cast(Any, {"type": "Running"}))
    assert httpx_mock.get_requests() == []


async def test_set_flow_run_name_and_cancel(api: Api, httpx_mock: HTTPXMock) -> None:
    add_graphql(httpx_mock, {"set_flow_run_name": {"success": True}})
    add_graphql(httpx_mock, {"cancel_flow_run": {"state": "Cancelling"}})

    assert await api(Client.set_flow_run_name, FLOW_RUN_ID, "renamed") is True
    assert await api(Client.cancel_flow_run, FLOW_RUN_ID) == "Cancelling"
    assert sent_operations(httpx_mock) == [
        ("SetFlowRunName", {"input": {"flow_run_id": FLOW_RUN_ID, "name": "renamed"}}),
        ("CancelFlowRun", {"input": {"flow_run_id": FLOW_RUN_ID}}),
    ]


async def test_delete_flow_run_sends_the_mutation_and_returns_success(
    api: Api, httpx_mock: HTTPXMock
) -> None:
    add_graphql(httpx_mock, {"delete_flow_run": {"success": True}})
    add_graphql(httpx_mock, {"delete_flow_run": {"success": False}})

    assert await api(Client.delete_flow_run, FLOW_RUN_ID) is True
    assert await api(Client.delete_flow_run, FLOW_RUN_ID) is False

    first = httpx_mock.get_requests()[0]
    assert graphql_body(first)["query"] == documents.DELETE_FLOW_RUN_GQL
    assert sent_operations(httpx_mock) == [
        ("DeleteFlowRun", {"input": {"flow_run_id": FLOW_RUN_ID}}),
        ("DeleteFlowRun", {"input": {"flow_run_id": FLOW_RUN_ID}}),
    ]


async def test_delete_flow_run_refuses_a_bad_id_before_any_request(
    api: Api, httpx_mock: HTTPXMock
) -> None:
    with pytest.raises(InvalidInputError, match="flow_run_id must be a UUID"):
        await api(Client.delete_flow_run, "not-a-uuid")
    assert httpx_mock.get_requests() == []


async def test_flow_run_heartbeat_sends_the_heartbeat_header(
    api: Api, httpx_mock: HTTPXMock
) -> None:
    add_graphql(httpx_mock, {"update_flow_run_heartbeat": {"success": True}})

    await api(Client.update_flow_run_heartbeat, FLOW_RUN_ID)

    request = httpx_mock.get_requests()[0]
    assert request.headers["X-PREFECT-HEARTBEAT-ID"] == FLOW_RUN_ID
    assert graphql_body(request)["query"] == documents.UPDATE_FLOW_RUN_HEARTBEAT_GQL


@pytest.mark.parametrize(
    "method", [Client.update_flow_run_heartbeat, Client.update_task_run_heartbeat]
)
async def test_heartbeats_never_raise(
    make_api: ClientFactory,
    httpx_mock: HTTPXMock,
    method: Callable[[Client, str], None],
    caplog: pytest.LogCaptureFixture,
) -> None:
    api = make_api(max_retries=0)
    httpx_mock.add_response(url=SERVER_URL, status_code=500, text="boom")

    await api(method, FLOW_RUN_ID)
    await api(method, "not-a-uuid")
    assert "heartbeat failed" in caplog.text


async def test_get_task_run_info_uses_get_or_create(api: Api, httpx_mock: HTTPXMock) -> None:
    add_graphql(
        httpx_mock,
        {
            "get_or_create_task_run_info": {
                "id": TASK_RUN_ID,
                "version": 4,
                "serialized_state": RUNNING_WIRE,
            }
        },
    )

    info = await api(Client.get_task_run_info, FLOW_RUN_ID, TASK_ID)

    assert info == TaskRunInfo(
        id=TASK_RUN_ID, task_id=TASK_ID, version=4, state=parse_state(RUNNING_WIRE)
    )
    assert only_body(httpx_mock)["variables"] == {
        "input": {"flow_run_id": FLOW_RUN_ID, "task_id": TASK_ID, "map_index": -1}
    }


async def test_get_task_run_state(api: Api, httpx_mock: HTTPXMock) -> None:
    add_graphql(httpx_mock, {"get_task_run_info": {"serialized_state": None}})
    assert isinstance(await api(Client.get_task_run_state, TASK_RUN_ID), Pending)
    assert only_body(httpx_mock)["variables"] == {"task_run_id": TASK_RUN_ID}


async def test_set_task_run_state_with_cache_for(api: Api, httpx_mock: HTTPXMock) -> None:
    add_graphql(
        httpx_mock,
        {
            "set_task_run_states": {
                "states": [{"id": TASK_RUN_ID, "status": "SUCCESS", "message": None}]
            }
        },
    )
    state = Success(message="ok", result=PrefectResult(location="42"))

    result = await api(Client.set_task_run_state, TASK_RUN_ID, state, 5, timedelta(hours=1))

    assert result is state
    sent = only_body(httpx_mock)["variables"]["input"]["states"][0]
    assert sent["task_run_id"] == TASK_RUN_ID
    assert sent["version"] == 5
    assert sent["state"]["type"] == "Success"
    assert sent["state"]["_result"] == {
        "type": "PrefectResult",
        "location": "42",
        "__version__": "1.4.1",
    }


async def test_set_task_run_name(api: Api, httpx_mock: HTTPXMock) -> None:
    add_graphql(httpx_mock, {"set_task_run_name": {"success": True}})
    assert await api(Client.set_task_run_name, TASK_RUN_ID, "x") is True


async def test_get_latest_cached_states(api: Api, httpx_mock: HTTPXMock) -> None:
    cached = {"type": "Cached", "message": "c", "cached_result_expiration": None}
    add_graphql(httpx_mock, {"task_run": [{"serialized_state": cached}]})
    add_graphql(httpx_mock, {"task_run": []})
    after = datetime(2020, 6, 17, tzinfo=UTC)

    by_task = await api(Client.get_latest_cached_states, TASK_ID, None, after)
    by_key = await api(Client.get_latest_cached_states, TASK_ID, "ck", after)

    assert [state.type for state in by_task] == ["Cached"]
    assert by_key == []
    assert sent_operations(httpx_mock) == [
        (
            "GetCachedStatesByTask",
            {"task_id": TASK_ID, "created_after": "2020-06-17T00:00:00Z", "limit": 100},
        ),
        (
            "GetCachedStatesByCacheKey",
            {"cache_key": "ck", "created_after": "2020-06-17T00:00:00Z", "limit": 100},
        ),
    ]


async def test_naive_datetimes_are_taken_as_utc(api: Api, httpx_mock: HTTPXMock) -> None:
    """As the Prefect API took them: Prefect code passes ``datetime.utcnow()``."""
    add_graphql(httpx_mock, {"task_run": []})
    add_graphql(httpx_mock, {"create_flow_run": {"id": FLOW_RUN_ID}})
    naive = datetime(2020, 1, 1, 12, 30)

    await api(Client.get_latest_cached_states, TASK_ID, None, naive)
    await api(Client.create_flow_run, FLOW_ID, scheduled_start_time=naive)

    (_, cached), (_, created) = sent_operations(httpx_mock)
    assert datetime.fromisoformat(cached["created_after"]) == naive.replace(tzinfo=UTC)
    sent_start = datetime.fromisoformat(created["input"]["scheduled_start_time"])
    assert sent_start == naive.replace(tzinfo=UTC)
    assert sent_start.utcoffset() is not None


async def test_artifacts(api: Api, httpx_mock: HTTPXMock) -> None:
    artifact_id = "99999999-9999-9999-9999-999999999999"
    add_graphql(httpx_mock, {"create_task_run_artifact": {"id": artifact_id}})
    add_graphql(httpx_mock, {"update_task_run_artifact": {"success": True}})
    add_graphql(httpx_mock, {"delete_task_run_artifact": {"success": True}})

    assert (
        await api(Client.create_task_run_artifact, TASK_RUN_ID, "markdown", {"md": "# hi"})
        == artifact_id
    )
    await api(Client.update_task_run_artifact, artifact_id, {"md": "# bye"})
    await api(Client.delete_task_run_artifact, artifact_id)

    assert sent_operations(httpx_mock) == [
        (
            "CreateTaskRunArtifact",
            {"input": {"task_run_id": TASK_RUN_ID, "kind": "markdown", "data": {"md": "# hi"}}},
        ),
        (
            "UpdateTaskRunArtifact",
            {"input": {"task_run_artifact_id": artifact_id, "data": {"md": "# bye"}}},
        ),
        ("DeleteTaskRunArtifact", {"input": {"task_run_artifact_id": artifact_id}}),
    ]


async def test_set_secret(api: Api, httpx_mock: HTTPXMock) -> None:
    add_graphql(httpx_mock, {"set_secret": {"success": True}})
    await api(Client.set_secret, "DB", {"user": "u"})
    assert only_body(httpx_mock)["variables"] == {"input": {"name": "DB", "value": {"user": "u"}}}


async def test_set_secret_failure_is_a_value_error(api: Api, httpx_mock: HTTPXMock) -> None:
    add_graphql(httpx_mock, {"set_secret": {"success": False, "error": "denied"}})
    with pytest.raises(ValueError, match="set_secret was not successful") as raised:
        await api(Client.set_secret, "DB", "x")
    assert isinstance(raised.value, OperationFailedError)


async def test_set_secret_rejects_non_json_values(api: Api, httpx_mock: HTTPXMock) -> None:
    with pytest.raises(InvalidInputError, match="JSON-serializable"):
        await api(Client.set_secret, "DB", {1, 2})
    assert httpx_mock.get_requests() == []


async def test_task_tag_limits(api: Api, httpx_mock: HTTPXMock) -> None:
    add_graphql(httpx_mock, {"task_tag_limit": [{"limit": 3}]})
    add_graphql(httpx_mock, {"task_tag_limit": []})
    add_graphql(httpx_mock, {"update_task_tag_limit": {"id": LIMIT_ID}})
    add_graphql(httpx_mock, {"delete_task_tag_limit": {"success": True}})

    assert await api(Client.get_task_tag_limit, "db") == 3
    assert await api(Client.get_task_tag_limit, "none") is None
    assert await api(Client.update_task_tag_limit, "db", 0) == LIMIT_ID
    await api(Client.delete_task_tag_limit, LIMIT_ID)

    assert sent_operations(httpx_mock) == [
        ("GetTaskTagLimit", {"tag": "db"}),
        ("GetTaskTagLimit", {"tag": "none"}),
        ("UpdateTaskTagLimit", {"input": {"tag": "db", "limit": 0}}),
        ("DeleteTaskTagLimit", {"input": {"limit_id": LIMIT_ID}}),
    ]


@pytest.mark.parametrize(
    ("method", "args", "message"),
    [
        (Client.update_task_tag_limit, ("db", -1), "limit must be an integer >= 0"),
        (Client.delete_task_tag_limit, ("bad-id",), "limit_id must be a UUID"),
    ],
)
async def test_task_tag_limit_bad_input(
    api: Api,
    httpx_mock: HTTPXMock,
    method: Callable[..., object],
    args: tuple[Any, ...],
    message: str,
) -> None:
    with pytest.raises(ValueError, match=message):
        await api(method, *args)
    assert httpx_mock.get_requests() == []


async def test_delete_task_tag_limit_unsuccessful(api: Api, httpx_mock: HTTPXMock) -> None:
    add_graphql(httpx_mock, {"delete_task_tag_limit": {"success": False}})
    with pytest.raises(ValueError, match="not successful"):
        await api(Client.delete_task_tag_limit, LIMIT_ID)


async def test_write_run_logs(api: Api, httpx_mock: HTTPXMock) -> None:
    add_graphql(httpx_mock, {"write_run_logs": {"success": True}})
    when = datetime(2020, 6, 17, tzinfo=UTC)

    await api(
        Client.write_run_logs,
        [{"flow_run_id": FLOW_RUN_ID, "message": "hi", "level": "INFO", "timestamp": when}],
    )

    assert only_body(httpx_mock)["variables"] == {
        "input": {
            "logs": [
                {
                    "flow_run_id": FLOW_RUN_ID,
                    "message": "hi",
                    "level": "INFO",
                    "timestamp": "2020-06-17T00:00:00Z",
                }
            ]
        }
    }


async def test_write_run_logs_reports_unwritten_entries(
    make_api: ClientFactory, httpx_mock: HTTPXMock
) -> None:
    api = make_api(max_retries=0)
    add_graphql(httpx_mock, {"write_run_logs": {"success": True}})
    httpx_mock.add_response(url=SERVER_URL, status_code=503)
    logs = [{"flow_run_id": FLOW_RUN_ID, "message": f"line {i}"} for i in range(5)]

    with pytest.raises(LogWriteError, match="3 of 5 log entries were not written") as raised:
        await api(Client.write_run_logs, logs, batch_size=2)

    assert raised.value.unwritten == logs[2:]
    assert isinstance(raised.value, ValueError)
    assert len(httpx_mock.get_requests()) == 2


async def test_write_run_logs_checks_every_entry_first(api: Api, httpx_mock: HTTPXMock) -> None:
    logs = [{"flow_run_id": FLOW_RUN_ID}, {"message": "no run id"}]
    with pytest.raises(InvalidInputError, match="log entry 1 is invalid"):
        await api(Client.write_run_logs, logs)
    assert httpx_mock.get_requests() == []


async def test_register_agent_and_config(api: Api, httpx_mock: HTTPXMock) -> None:
    agent_id = "aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa"
    add_graphql(httpx_mock, {"tenant": [{"id": TENANT_ID, "slug": "default"}]})
    add_graphql(httpx_mock, {"register_agent": {"id": agent_id}})
    add_graphql(httpx_mock, {"agent_config": [{"settings": {"labels": ["x"]}}]})

    assert await api(Client.register_agent, "LocalAgent", name="a", labels=["x"]) == agent_id
    assert await api(Client.get_agent_config, agent_id) == {"labels": ["x"]}
    assert sent_operations(httpx_mock)[1] == (
        "RegisterAgent",
        {"input": {"type": "LocalAgent", "name": "a", "labels": ["x"], "tenant_id": TENANT_ID}},
    )


async def test_get_agent_config_missing(api: Api, httpx_mock: HTTPXMock) -> None:
    add_graphql(httpx_mock, {"agent_config": []})
    with pytest.raises(NotFoundError):
        await api(Client.get_agent_config, TENANT_ID)


async def test_attach_headers(api: Api, httpx_mock: HTTPXMock) -> None:
    add_graphql(httpx_mock, {"task_tag_limit": []})
    api.client.attach_headers({"X-PREFECT-AGENT-ID": "agent-1"})

    await api(Client.get_task_tag_limit, "db")

    headers = httpx_mock.get_requests()[0].headers
    assert headers["X-PREFECT-AGENT-ID"] == "agent-1"
    assert headers["X-PREFECT-CORE-VERSION"] == "1.4.1"
    assert "Authorization" not in headers


async def test_graphql_escape_hatch(api: Api, httpx_mock: HTTPXMock) -> None:
    add_graphql(httpx_mock, {"hello": "world"})
    add_graphql(httpx_mock, {"x": None}, errors=[{"message": "partial", "path": ["x"]}])

    assert await api(Client.graphql, "query { hello }") == {"data": {"hello": "world"}}
    result = await api(Client.graphql, "query { x }", raise_on_error=False)

    assert result == {
        "data": {"x": None},
        "errors": [{"message": "partial", "path": ["x"], "extensions": {}}],
    }
    assert graphql_body(httpx_mock.get_requests()[0]) == {
        "query": "query { hello }",
        "variables": {},
    }


async def test_graphql_raises_client_error_with_partial_data(
    api: Api, httpx_mock: HTTPXMock
) -> None:
    add_graphql(httpx_mock, {"a": 1}, errors=[{"message": "bad field"}])
    with pytest.raises(ClientError, match="bad field") as raised:
        await api(Client.graphql, "query { a b }", variables={"v": 1})
    assert raised.value.data == {"a": 1}


async def test_rest_get_and_post(api: Api, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=f"{SERVER_URL}/auth/login?x=1", method="GET", json={"ok": True})
    httpx_mock.add_response(
        url=f"{SERVER_URL}/auth/login", method="POST", match_json={"y": 2}, json=[1]
    )

    assert await api(Client.get, "/auth/login/", params={"x": 1}) == {"ok": True}
    assert await api(Client.post, "auth/login", params={"y": 2}, token="explicit") == [1]
    assert httpx_mock.get_requests()[1].headers["Authorization"] == "Bearer explicit"


async def test_get_default_tenant_slug_and_cloud_url(api: Api, httpx_mock: HTTPXMock) -> None:
    add_graphql(httpx_mock, {"tenant": [{"id": TENANT_ID, "slug": "default"}]})
    assert await api(Client.get_default_tenant_slug) == "default"
    assert await api(Client.get_cloud_url, "flow-run", FLOW_RUN_ID) == (
        f"http://localhost:8080/flow-run/{FLOW_RUN_ID}"
    )


async def test_create_tenant_and_available_tenants(api: Api, httpx_mock: HTTPXMock) -> None:
    add_graphql(httpx_mock, {"create_tenant": {"id": TENANT_ID}})
    add_graphql(httpx_mock, {"tenant": [{"id": TENANT_ID, "slug": "my-team", "name": "My Team"}]})

    assert await api(Client.create_tenant, "My Team") == TENANT_ID
    tenants = await api(Client.get_available_tenants)

    assert [(str(t.id), t.slug, t.name) for t in tenants] == [(TENANT_ID, "my-team", "My Team")]
    assert sent_operations(httpx_mock)[0] == (
        "CreateTenant",
        {"input": {"name": "My Team", "slug": "my-team"}},
    )


async def test_answer_not_matching_the_schema_is_a_typed_error(
    api: Api, httpx_mock: HTTPXMock
) -> None:
    add_graphql(httpx_mock, {"flow_run_by_pk": {"id": "not-a-uuid"}})

    with pytest.raises(APIResponseError, match="the answer to GetFlowRunInfo does not match"):
        await api(Client.get_flow_run_info, FLOW_RUN_ID)


async def test_register_agent_with_an_agent_config(
    make_api: ClientFactory, httpx_mock: HTTPXMock
) -> None:
    api = make_api(tenant_id=TENANT_ID)
    config_id = "cccccccc-cccc-cccc-cccc-cccccccccccc"
    add_graphql(httpx_mock, {"register_agent": {"id": LIMIT_ID}})

    assert (
        await api(Client.register_agent, "KubernetesAgent", agent_config_id=config_id) == LIMIT_ID
    )
    assert sent_operations(httpx_mock) == [
        (
            "RegisterAgent",
            {
                "input": {
                    "type": "KubernetesAgent",
                    "labels": [],
                    "tenant_id": TENANT_ID,
                    "agent_config_id": config_id,
                }
            },
        )
    ]
    with pytest.raises(InvalidInputError, match="agent_config_id must be a UUID"):
        await api(Client.register_agent, "KubernetesAgent", agent_config_id="nope")


async def test_graphql_takes_prefects_dict_dsl_and_answers_by_attribute(
    api: Api, httpx_mock: HTTPXMock
) -> None:
    add_graphql(httpx_mock, {"flow_run": [{"id": FLOW_RUN_ID, "flow": {"name": "etl"}}]})
    query = {
        "query": {
            with_args("flow_run", {"where": {"id": {"_eq": FLOW_RUN_ID}}, "limit": 1}): {
                "id": True,
                "flow": {"name"},
            }
        }
    }

    result = await api(Client.graphql, query)

    assert result.data.flow_run[0].flow.name == "etl"
    assert result == {"data": {"flow_run": [{"id": FLOW_RUN_ID, "flow": {"name": "etl"}}]}}
    sent = graphql_body(httpx_mock.get_requests()[0])["query"]
    assert f'flow_run(where: {{ id: {{ _eq: "{FLOW_RUN_ID}" }} }}, limit: 1)' in sent


@pytest.mark.parametrize("credential", ["token", "api_key"])
async def test_a_per_call_credential_replaces_the_clients(
    make_api: ClientFactory, httpx_mock: HTTPXMock, credential: str
) -> None:
    api = make_api(api_key="client-key", tenant_id=TENANT_ID)
    add_graphql(httpx_mock, {"hello": 1})
    httpx_mock.add_response(url=f"{SERVER_URL}/ping", json={"pong": True})

    if credential == "token":
        await api(Client.graphql, "{ hello }", token="call-key")
        await api(Client.get, "ping", token="call-key")
    else:
        await api(Client.graphql, "{ hello }", api_key="call-key")
        await api(Client.get, "ping", api_key="call-key")

    for request in httpx_mock.get_requests():
        assert request.headers["Authorization"] == "Bearer call-key"


async def test_retry_on_api_error_false_does_not_retry(
    api: Api, httpx_mock: HTTPXMock, no_retry_sleep: list[float]
) -> None:
    add_graphql(httpx_mock, errors=[{"message": "db", "extensions": {"code": "API_ERROR"}}])
    with pytest.raises(ClientError, match="db"):
        await api(Client.graphql, "query { hello }", retry_on_api_error=False)
    assert len(httpx_mock.get_requests()) == 1
    assert no_retry_sleep == []


async def test_rest_follows_prefects_request_rules(api: Api, httpx_mock: HTTPXMock) -> None:
    """Empty body is ``{}``; list params repeat their key, ``None`` ones are dropped;
    the client's attached headers win over the call's (as in Prefect)."""
    httpx_mock.add_response(url=f"{SERVER_URL}/runs?label=a&label=b&n=1", content=b"")
    api.client.attach_headers({"X-Team": "attached"})

    answer = await api(
        Client.get,
        "runs",
        params={"label": ["a", "b"], "n": 1, "skip": None},
        headers={"X-Team": "per-call", "X-Other": "kept"},
    )

    assert answer == {}
    request = httpx_mock.get_requests()[0]
    assert request.headers["X-Team"] == "attached"
    assert request.headers["X-Other"] == "kept"


def test_012_cloud_graphql_key_names_the_api(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREFECT__CLOUD__GRAPHQL", "http://prefect.test:4200/graphql")
    with Client(backend="server") as client:
        assert client.api_server == "http://prefect.test:4200/graphql"
    monkeypatch.setenv("PREFECT__CLOUD__API", "http://other.test:4200")
    with Client(backend="server") as client:
        assert client.api_server == "http://other.test:4200"


async def test_tenant_ids_are_strings_everywhere(api: Api, httpx_mock: HTTPXMock) -> None:
    add_graphql(httpx_mock, {"tenant": [{"id": TENANT_ID, "slug": "t", "name": "T"}]})
    (tenant,) = await api(Client.get_available_tenants)
    assert type(tenant.id) is str
    assert tenant.id == TENANT_ID


async def test_operations_without_a_method_run_through_the_client(
    api: Api, httpx_mock: HTTPXMock
) -> None:
    """``client.operations`` sends what the facade has no method for, with the client's
    transport (its retries, auth and errors), typed by the generated models."""
    add_graphql(
        httpx_mock,
        {
            "log": [
                {
                    "timestamp": "2026-11-24T10:00:00+00:00",
                    "level": "INFO",
                    "name": "prefect.flow",
                    "message": "hello",
                    "task_run_id": None,
                }
            ]
        },
    )
    add_graphql(httpx_mock, {"set_schedule_inactive": {"success": True}})
    client = api.client
    unschedule = types.set_schedule_inactive_input(flow_id=FLOW_ID)
    if isinstance(client, AsyncClient):
        logs = await client.operations.get_flow_run_logs(flow_run_id=FLOW_RUN_ID)
        unscheduled = await client.operations.set_schedule_inactive(input=unschedule)
    else:
        logs = client.operations.get_flow_run_logs(flow_run_id=FLOW_RUN_ID)
        unscheduled = client.operations.set_schedule_inactive(input=unschedule)

    assert [line.message for line in logs.log] == ["hello"]
    assert unscheduled.set_schedule_inactive is not None
    assert unscheduled.set_schedule_inactive.success is True
    assert sent_operations(httpx_mock) == [
        ("GetFlowRunLogs", {"flow_run_id": FLOW_RUN_ID}),
        ("SetScheduleInactive", {"input": {"flow_id": FLOW_ID}}),
    ]
