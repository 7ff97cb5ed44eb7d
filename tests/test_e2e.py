"""End to end: Client and AsyncClient against the embedded server over real HTTP."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from prefect_gql import (
    AsyncClient,
    AuthenticationError,
    BadRequestError,
    Cached,
    Client,
    ClientError,
    EdgeSpec,
    FlowSpec,
    NotFoundError,
    ParameterSpec,
    PrefectResult,
    Running,
    Success,
    TaskSpec,
    VersionLockError,
)
from prefect_gql.server import DEFAULT_TENANT_ID, AuthConfig, LocalServer

from .conftest import SECRET_SENTINEL, Api, ApiCaller

pytestmark = pytest.mark.e2e

API_KEY = "local-api-key"
USER_TOKEN = "local-user-token"


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer() as running:
        yield running


@pytest.fixture(scope="module")
def token_server() -> Iterator[LocalServer]:
    auth = AuthConfig(
        api_keys={API_KEY: DEFAULT_TENANT_ID},
        api_tokens=frozenset({USER_TOKEN}),
        access_token_ttl=20,
    )
    with LocalServer(auth=auth) as running:
        yield running


@pytest.fixture(params=["sync", "async"])
async def e2e(request: pytest.FixtureRequest, server: LocalServer) -> AsyncIterator[Api]:
    if request.param == "sync":
        with Client(server.url, backend="server") as client:
            yield ApiCaller(client)
    else:
        async with AsyncClient(server.url, backend="server") as async_client:
            yield ApiCaller(async_client)


def flow_spec(name: str) -> FlowSpec:
    return FlowSpec(
        name=name,
        tasks=[
            TaskSpec(slug="extract-1", name="extract", cache_key="extract-cache"),
            TaskSpec(slug="load-1", name="load"),
        ],
        edges=[EdgeSpec(upstream_task="extract-1", downstream_task="load-1")],
        parameters=[ParameterSpec(name="day", default="monday")],
    )


async def registered_flow(api: Api, compressed: bool = True) -> str:
    project = f"project-{uuid.uuid4().hex[:8]}"
    await api(Client.create_project, project)
    flow_id: str = await api(
        Client.register, flow_spec("etl"), project_name=project, compressed=compressed, no_url=True
    )
    return flow_id


@pytest.mark.parametrize("compressed", [True, False])
async def test_a_flow_run_from_scheduled_to_success(e2e: Api, compressed: bool) -> None:
    flow_id = await registered_flow(e2e, compressed)
    run_id = await e2e(Client.create_flow_run, flow_id=flow_id, parameters={"x": 1}, run_name="r1")

    run = await e2e(Client.get_flow_run_info, run_id)
    assert run.state.type == "Scheduled"
    assert run.name == "r1"
    assert run.parameters == {"day": "monday", "x": 1}
    assert sorted(str(task_run.task_slug) for task_run in run.task_runs) == [
        "day",
        "extract-1",
        "load-1",
    ]
    assert all(task_run.state.type == "Pending" for task_run in run.task_runs)

    await e2e(Client.set_flow_run_state, run_id, Running(message="go"), version=run.version)
    for task_run in run.task_runs:
        info = await e2e(Client.get_task_run_info, run_id, task_run.task_id)
        assert info.id == task_run.id
        await e2e(Client.set_task_run_state, info.id, Running(), info.version)
        await e2e(
            Client.set_task_run_state,
            info.id,
            Success(result=PrefectResult(location="1")),
            info.version + 1,
        )
        await e2e(Client.update_task_run_heartbeat, info.id)
    await e2e(Client.update_flow_run_heartbeat, run_id)
    current = await e2e(Client.get_flow_run_info, run_id)
    await e2e(Client.set_flow_run_state, run_id, Success(message="done"), version=current.version)

    final = await e2e(Client.get_flow_run_info, run_id)
    assert final.state.type == "Success"
    assert final.state.message == "done"
    assert final.version == run.version + 2
    assert all(task_run.state.is_successful() for task_run in final.task_runs)
    assert (await e2e(Client.get_flow_run_state, run_id)).type == "Success"
    task_state = await e2e(Client.get_task_run_state, final.task_runs[0].id)
    assert isinstance(task_state.result, PrefectResult)


async def test_a_stale_version_is_a_version_lock_error(e2e: Api) -> None:
    run_id = await e2e(Client.create_flow_run, flow_id=await registered_flow(e2e))
    run = await e2e(Client.get_flow_run_info, run_id)
    await e2e(Client.set_flow_run_state, run_id, Running(), version=run.version)

    with pytest.raises(VersionLockError) as raised:
        await e2e(Client.set_flow_run_state, run_id, Success(), version=run.version)
    assert raised.value.code == "VERSION_LOCKING_ERROR"

    task_run = run.task_runs[0]
    await e2e(Client.set_task_run_state, task_run.id, Running(), version=task_run.version)
    with pytest.raises(VersionLockError):
        await e2e(Client.set_task_run_state, task_run.id, Success(), version=task_run.version)


async def test_a_repeated_idempotency_key_returns_the_same_run(e2e: Api) -> None:
    flow_id = await registered_flow(e2e)
    first = await e2e(Client.create_flow_run, flow_id=flow_id, idempotency_key="nightly-2026-11-24")
    again = await e2e(Client.create_flow_run, flow_id=flow_id, idempotency_key="nightly-2026-11-24")
    other = await e2e(Client.create_flow_run, flow_id=flow_id)
    assert first == again
    assert other != first


async def test_names_cancel_logs_and_artifacts(e2e: Api) -> None:
    run_id = await e2e(Client.create_flow_run, flow_id=await registered_flow(e2e))
    run = await e2e(Client.get_flow_run_info, run_id)
    task_run_id = run.task_runs[0].id

    assert await e2e(Client.set_flow_run_name, run_id, "renamed") is True
    assert await e2e(Client.set_task_run_name, task_run_id, "task-renamed") is True
    assert (await e2e(Client.get_flow_run_info, run_id)).name == "renamed"

    now = datetime.now(UTC)
    logs = [
        {"flow_run_id": run_id, "task_run_id": task_run_id, "message": f"line {i}", "level": "INFO",
         "timestamp": now + timedelta(seconds=i)}
        for i in range(5)
    ]  # fmt: skip
    await e2e(Client.write_run_logs, logs, batch_size=2)
    result = await e2e(
        Client.graphql,
        "query($id: uuid!) { log(where: {flow_run_id: {_eq: $id}},"
        " order_by: {timestamp: desc}, limit: 2) { message } }",
        variables={"id": run_id},
    )
    assert result == {"data": {"log": [{"message": "line 4"}, {"message": "line 3"}]}}

    artifact = await e2e(Client.create_task_run_artifact, task_run_id, "markdown", {"md": "# hi"})
    await e2e(Client.update_task_run_artifact, artifact, {"md": "# bye"})
    await e2e(Client.delete_task_run_artifact, artifact)
    with pytest.raises(ClientError, match="not found"):
        await e2e(Client.delete_task_run_artifact, artifact)

    assert await e2e(Client.cancel_flow_run, run_id) == "Cancelled"
    assert (await e2e(Client.get_flow_run_state, run_id)).type == "Cancelled"


async def test_a_deleted_flow_run_is_gone(e2e: Api) -> None:
    run_id = await e2e(Client.create_flow_run, flow_id=await registered_flow(e2e))

    assert await e2e(Client.delete_flow_run, run_id) is True

    with pytest.raises(NotFoundError):
        await e2e(Client.get_flow_run_info, run_id)
    assert await e2e(Client.delete_flow_run, run_id) is False


async def test_cached_states_by_task_and_by_cache_key(e2e: Api) -> None:
    run_id = await e2e(Client.create_flow_run, flow_id=await registered_flow(e2e))
    run = await e2e(Client.get_flow_run_info, run_id)
    extract = next(t for t in run.task_runs if t.task_slug == "extract-1")
    before = datetime.now(UTC) - timedelta(seconds=1)
    cached = Cached(message="cached", result=PrefectResult(location="7"))
    await e2e(
        Client.set_task_run_state,
        extract.id,
        cached,
        version=extract.version,
        cache_for=timedelta(hours=1),
    )

    by_task = await e2e(Client.get_latest_cached_states, extract.task_id, None, before)
    by_key = await e2e(Client.get_latest_cached_states, extract.task_id, "extract-cache", before)
    none_later = await e2e(
        Client.get_latest_cached_states,
        extract.task_id,
        None,
        datetime.now(UTC) + timedelta(minutes=1),
    )

    assert [s.message for s in by_task] == ["cached"]
    assert isinstance(by_key[0], Cached)
    assert by_key[0].cached_result_expiration is not None
    assert none_later == []


async def test_tenants_projects_limits_agents_and_secrets(e2e: Api) -> None:
    slug = f"team-{uuid.uuid4().hex[:6]}"
    tenant_id = await e2e(Client.create_tenant, "Team", slug)
    assert slug in [t.slug for t in await e2e(Client.get_available_tenants)]
    assert await e2e(Client.get_tenant_id) != tenant_id

    project = f"p-{uuid.uuid4().hex[:6]}"
    project_id = await e2e(Client.create_project, project)
    assert await e2e(Client.create_project, project) == project_id
    assert await e2e(Client.delete_project, project) is True
    with pytest.raises(NotFoundError):
        await e2e(Client.delete_project, project)

    tag = f"db-{uuid.uuid4().hex[:6]}"
    assert await e2e(Client.get_task_tag_limit, tag) is None
    limit_id = await e2e(Client.update_task_tag_limit, tag, 3)
    assert await e2e(Client.update_task_tag_limit, tag, 5) == limit_id
    assert await e2e(Client.get_task_tag_limit, tag) == 5
    await e2e(Client.delete_task_tag_limit, limit_id)
    with pytest.raises(ValueError, match="was not successful: no limit"):
        await e2e(Client.delete_task_tag_limit, limit_id)

    agent_id = await e2e(Client.register_agent, "LocalAgent", name="a", labels=["x"])
    uuid.UUID(agent_id)
    with pytest.raises(NotFoundError):
        await e2e(Client.get_agent_config, str(uuid.uuid4()))

    await e2e(Client.set_secret, "DB_PASSWORD", SECRET_SENTINEL)
    everything = await e2e(Client.graphql, "{ tenant { id name slug } project { id name } }")
    assert SECRET_SENTINEL not in str(everything)

    assert await e2e(Client.get_default_tenant_slug) == "default"


async def test_unknown_fields_are_refused_by_validation(e2e: Api) -> None:
    """Prefect Server answers a document it cannot run with HTTP 400 and GraphQL errors:
    a ClientError (BadRequestError) keeping the status, or the errors in the result."""
    with pytest.raises(BadRequestError, match="Cannot query field 'nope'") as raised:
        await e2e(Client.graphql, "{ flow_run { nope } }")
    assert raised.value.status_code == 400
    assert isinstance(raised.value, ClientError)

    answer = await e2e(Client.graphql, "{ flow_run { nope } }", raise_on_error=False)
    assert answer.data is None
    assert "Cannot query field 'nope'" in answer.errors[0].message


class LoseFirstAnswerTo(httpx.HTTPTransport):
    """Forwards to the real server, which commits; the first answer to ``operation`` is
    then lost on the way back (answered 503, as a proxy would)."""

    def __init__(self, operation: bytes) -> None:
        super().__init__()
        self.operation = operation
        self.lost = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if b'"operationName":"' + self.operation + b'"' in request.content and not self.lost:
            self.lost += 1
            response.read()
            return httpx.Response(503, request=request)
        return response


async def test_retried_create_flow_run_after_a_lost_answer_makes_one_run(
    server: LocalServer,
) -> None:
    """The first answer is lost on the way back; the retry carries the same key."""
    transport = LoseFirstAnswerTo(b"CreateFlowRun")
    with (
        httpx.Client(transport=transport) as http,
        Client(server.url, backend="server", http_client=http) as client,
    ):
        flow_id = await registered_flow(ApiCaller(client))
        run_id = client.create_flow_run(flow_id=flow_id)
        runs = client.graphql(
            "query($id: uuid!) { flow_run(where: {flow_id: {_eq: $id}}) { id } }",
            variables={"id": flow_id},
        )
    assert transport.lost == 1
    assert runs["data"]["flow_run"] == [{"id": run_id}]


@pytest.mark.parametrize("compressed", [True, False])
async def test_register_after_a_lost_answer_makes_one_flow_version(
    server: LocalServer, compressed: bool
) -> None:
    """Issue 14: without an idempotency key of the caller's, a create whose answer was lost
    was retried as a new create, and a second flow version appeared."""
    operation = b"CreateFlowFromCompressedString" if compressed else b"CreateFlow"
    transport = LoseFirstAnswerTo(operation)
    name = f"lost-answer-{compressed}"
    with (
        httpx.Client(transport=transport) as http,
        Client(server.url, backend="server", http_client=http) as client,
    ):
        client.create_project("lost-answers")
        flow_id = client.register(
            flow_spec(name), "lost-answers", compressed=compressed, no_url=True
        )
        versions = client.graphql(
            "query($name: String) { flow(where: {name: {_eq: $name}}) { id version } }",
            variables={"name": name},
        )
    assert transport.lost == 1
    assert versions.data.flow == [{"id": flow_id, "version": 1}]


async def test_api_key_mode(token_server: LocalServer) -> None:
    async with AsyncClient(token_server.url, api_key=API_KEY, backend="cloud") as client:
        tenant_id = await client.get_tenant_id()
        assert await client.create_project(f"p-{uuid.uuid4().hex[:6]}")
        assert client.tenant_id == tenant_id
    async with AsyncClient(token_server.url, api_key="wrong", backend="cloud") as client:
        with pytest.raises(AuthenticationError):
            await client.get_tenant_id()


def test_api_token_tenant_login_refresh_and_expiry(token_server: LocalServer) -> None:
    with Client(token_server.url, USER_TOKEN, backend="cloud") as client:
        assert client.login_to_tenant(tenant_slug="default") is True
        first = client.get_auth_token()
        assert first != USER_TOKEN
        assert client._config.tokens.needs_refresh()
        project_id = client.create_project(f"p-{uuid.uuid4().hex[:6]}")
        assert project_id
        assert client.get_auth_token() not in (first, USER_TOKEN)

        tokens = client._config.tokens
        assert tokens.tenant_tokens is not None
        client.logout_from_tenant()
        assert client.get_auth_token() == USER_TOKEN


async def test_concurrent_async_calls_share_one_connection_pool(server: LocalServer) -> None:
    async with AsyncClient(server.url, backend="server") as client:
        flow_id = await registered_flow(ApiCaller(client))
        run_id = await client.create_flow_run(flow_id=flow_id)
        await asyncio.gather(*(client.update_flow_run_heartbeat(run_id) for _ in range(50)))
        info = await client.get_flow_run_info(run_id)
    assert info.id == run_id


def test_variables_as_a_json_string_are_accepted(server: LocalServer) -> None:
    body: dict[str, Any] = {
        "query": "query($slug: String) { tenant(where: {slug: {_eq: $slug}}) { slug } }",
        "variables": '{"slug": "default"}',
    }
    answer = httpx.post(server.url, json=body).json()
    assert answer == {"data": {"tenant": [{"slug": "default"}]}}


async def test_agent_config_links_and_tenant_switch(e2e: Api) -> None:
    created = await e2e(
        Client.graphql,
        "mutation($i: create_agent_config_input!) { create_agent_config(input: $i) { id } }",
        variables={
            "i": {"tenant_id": DEFAULT_TENANT_ID, "name": "k8s", "settings": {"labels": ["gpu"]}}
        },
    )
    config_id = created["data"]["create_agent_config"]["id"]
    assert await e2e(Client.get_agent_config, config_id) == {"labels": ["gpu"]}
    agent_id = await e2e(Client.register_agent, "KubernetesAgent", agent_config_id=config_id)
    assert agent_id

    run_id = await e2e(Client.create_flow_run, flow_id=await registered_flow(e2e))
    assert (
        await e2e(Client.get_cloud_url, "flow-run", run_id)
        == f"http://localhost:8080/flow-run/{run_id}"
    )

    slug = f"other-{uuid.uuid4().hex[:6]}"
    other = await e2e(Client.create_tenant, "Other", slug)
    assert await e2e(Client.switch_tenant, tenant_slug=slug) == other
    assert e2e.client.tenant_id == other
