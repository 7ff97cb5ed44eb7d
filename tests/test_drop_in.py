"""Code written for ``prefect.Client`` runs with two imports swapped (issue 12).

A realistic Prefect-user script, written as a Prefect 1.x user writes it (real Prefect
``Flow``, states, run config, ``with_args``/``EnumValue`` queries read by attribute), runs
against the embedded server with ``from prefect_gql import Client, ClientError`` in
place of Prefect's, sync and async. Nothing here is a look-alike of a Prefect class.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from prefect_gql import (
    AsyncClient,
    AuthenticationError,
    AuthorizationError,
    Client,
    ClientError,
    GraphQLResult,
    State,
    VersionLockError,
)
from prefect_gql.server import LocalServer

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"prefect\.")
    from prefect import Flow, Parameter, task
    from prefect.engine.state import Cancelled, Failed, Running, Scheduled, Success
    from prefect.run_configs import UniversalRun
    from prefect.utilities.graphql import EnumValue, with_args

utcnow_on_purpose = pytest.mark.filterwarnings(
    "ignore:datetime.datetime.utcnow\\(\\) is deprecated:DeprecationWarning"
)
"""For tests that pass ``datetime.utcnow()`` as Prefect users do (deprecated in Python 3.12)."""

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore::marshmallow.warnings.RemovedInMarshmallow4Warning"),
]


@task
def extract(day: str) -> list[int]:
    return [1, 2, 3]


@task
def report(values: list[int]) -> None:
    return None


def etl_flow() -> Flow:
    with Flow("drop-in-etl", run_config=UniversalRun(labels=["etl"])) as flow:
        report(extract(Parameter("day", default="monday")))
    return flow


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer() as running:
        yield running


def runs_query(flow_id: str) -> dict[str, Any]:
    """Prefect's dict DSL, built with Prefect's own helpers."""
    where = {"flow_id": {"_eq": flow_id}}
    order = {"created": EnumValue("desc")}
    return {
        "query": {
            with_args("flow_run", {"where": where, "order_by": order}): {
                "id": True,
                "state": True,
                "version": True,
                "flow": {"name"},
            }
        }
    }


@utcnow_on_purpose
def test_a_prefect_user_script_runs_on_client(server: LocalServer) -> None:
    with Client(server.url) as client:  # Prefect: Client(api_server); no credentials
        prefect_user_script(client)


def prefect_user_script(client: Client) -> None:
    assert client.create_project(project_name="drop-in")
    flow_id = client.register(etl_flow(), project_name="drop-in", build=False, no_url=True)

    run_id = client.create_flow_run(
        flow_id=flow_id,
        parameters={"day": "tuesday"},
        run_config=UniversalRun(labels=["etl"], env={"MODE": "test"}),
        scheduled_start_time=datetime.utcnow(),
    )
    info = client.get_flow_run_info(run_id)
    assert info._asdict()["state"].is_scheduled()
    assert info.parameters == {"day": "tuesday"}

    state = client.set_flow_run_state(run_id, version=info.version, state=Running())  # 0.12
    assert isinstance(state, State)  # our state comes back, not Prefect's
    assert state.is_running()
    info = client.get_flow_run_info(run_id)
    for task_run in info.task_runs:
        task_info = client.get_task_run_info(run_id, task_run.task_id)
        client.set_task_run_state(task_info.id, task_info.version, Running())  # 0.12 order
        client.set_task_run_state(task_info.id, Success(result=1), task_info.version + 1)
    assert {t.state.type for t in client.get_flow_run_info(run_id).task_runs} == {"Success"}

    result = client.graphql(runs_query(flow_id))
    assert isinstance(result, GraphQLResult)
    assert result.data.flow_run[0].id == run_id
    assert result.data.flow_run[0].state == "Running"
    assert result.data.flow_run[0].flow.name == "drop-in-etl"
    assert result["data"]["flow_run"][0]["version"] == result.data.flow_run[0].version

    client.write_run_logs(
        [{"flow_run_id": run_id, "name": "script", "message": "hello", "level": "INFO"}]
    )
    stale = info.version - 1
    with pytest.raises(ClientError) as raised:
        client.set_flow_run_state(run_id, Success(), version=stale)
    assert isinstance(raised.value, VersionLockError)
    client.set_flow_run_state(run_id, None, Success(message="done"))  # 0.12: no version
    assert client.get_flow_run_state(run_id).is_successful()

    second = client.create_flow_run(flow_id=flow_id)
    assert client.cancel_flow_run(second) == "Cancelled"
    assert client.get_flow_run_state(second).type in ("Cancelled", "Cancelling")
    assert client.delete_project("drop-in")


async def test_a_prefect_user_script_runs_on_async_client(server: LocalServer) -> None:
    async with AsyncClient(server.url) as client:
        await client.create_project(project_name="drop-in-async")
        flow_id = await client.register(
            etl_flow(), project_name="drop-in-async", build=False, no_url=True
        )
        run_id = await client.create_flow_run(flow_id=flow_id, run_config=UniversalRun())
        info = await client.get_flow_run_info(run_id)
        await client.set_flow_run_state(run_id, Running(), info.version)  # 1.x order
        for task_run in info.task_runs:
            task_info = await client.get_task_run_info(run_id, task_run.task_id)
            await client.set_task_run_state(task_info.id, Failed(message="boom"))
        result = await client.graphql(runs_query(flow_id))
        assert result.data.flow_run[0].state == "Running"
        with pytest.raises(ClientError):
            await client.set_flow_run_state(run_id, Scheduled(), version=info.version)
        await client.set_flow_run_state(run_id, Failed(message="a task failed"))
        assert (await client.get_flow_run_state(run_id)).is_failed()
        third = await client.create_flow_run(flow_id=flow_id)
        await client.set_flow_run_state(third, Cancelled())
        assert (await client.get_flow_run_state(third)).type == "Cancelled"
        assert await client.delete_project("drop-in-async")


def test_a_stored_012_api_token_logs_in_to_its_active_tenant() -> None:
    """0.12's constructor logged in to the settings file's active tenant; the first
    request does here (a constructor does no network I/O)."""
    from prefect_gql.server import DEFAULT_TENANT_ID, AuthConfig  # noqa: PLC0415

    with LocalServer(auth=AuthConfig(api_tokens=frozenset({"user-token"}))) as token_server:
        with Client(token_server.url, "user-token", backend="cloud") as first:
            assert first.login_to_tenant(tenant_id=DEFAULT_TENANT_ID)  # writes settings.toml
        with Client(token_server.url, backend="cloud") as later:  # token, tenant from the file
            assert later.tenant_id == DEFAULT_TENANT_ID
            assert later.get_task_tag_limit("none") is None
            assert later._config.tokens.has_jwt
            assert later.get_auth_token() != "user-token"  # the tenant JWT, not the token


def test_prefect_names_of_errors_still_catch() -> None:
    assert AuthorizationError is AuthenticationError
    assert issubclass(AuthorizationError, ClientError)


def test_prefect_1_4_1_exception_names_catch_what_the_client_raises(server: LocalServer) -> None:
    """Prefect 1.4.1 code catches ``prefect.exceptions`` names: the swapped import keeps them."""
    import prefect.exceptions  # noqa: PLC0415

    import prefect_gql  # noqa: PLC0415
    from prefect_gql import ObjectNotFoundError, VersionLockMismatchSignal  # noqa: PLC0415

    for name in ("ObjectNotFoundError", "VersionLockMismatchSignal"):
        assert isinstance(getattr(prefect.exceptions, name), type)
        assert name in prefect_gql.__all__
    assert issubclass(ObjectNotFoundError, ClientError)
    with Client(server.url) as client:
        client.create_project("exception-names")
        flow_id = client.register(etl_flow(), "exception-names", build=False, no_url=True)
        run_id = client.create_flow_run(flow_id=flow_id)
        version = client.get_flow_run_info(run_id).version
        client.set_flow_run_state(run_id, Running(), version=version)
        with pytest.raises(VersionLockMismatchSignal):
            client.set_flow_run_state(run_id, Success(), version=version)
        with pytest.raises(ObjectNotFoundError):
            client.get_flow_run_info("99999999-9999-9999-9999-999999999999")


@utcnow_on_purpose
def test_naive_scheduled_start_time_is_utc(server: LocalServer) -> None:
    with Client(server.url) as client:
        client.create_project("naive-times")
        flow_id = client.register(etl_flow(), "naive-times", build=False, no_url=True)
        later = datetime.utcnow() + timedelta(hours=2)
        run_id = client.create_flow_run(flow_id=flow_id, scheduled_start_time=later)
        scheduled = client.get_flow_run_info(run_id).scheduled_start_time
        assert scheduled.utcoffset() == timedelta(0)
        assert scheduled.replace(tzinfo=None) == later.replace(microsecond=later.microsecond)
