"""The public surface: every documented method, and AsyncClient mirroring Client."""

from __future__ import annotations

import inspect
import typing

import pytest

import prefect_gql
from prefect_gql import AsyncClient, Client

DOCUMENTED_0_12 = [
    "attach_headers", "create_flow_run", "create_project", "delete_task_tag_limit", "get",
    "get_auth_token", "get_available_tenants", "get_cloud_url", "get_default_tenant_slug",
    "get_flow_run_info", "get_latest_cached_states", "get_task_run_info", "get_task_tag_limit",
    "graphql", "login_to_tenant", "logout_from_tenant", "post", "register", "register_agent",
    "save_api_token", "set_flow_run_state", "set_secret", "set_task_run_state",
    "update_flow_run_heartbeat", "update_task_run_heartbeat", "update_task_tag_limit",
    "write_run_logs",
]  # fmt: skip
ADDED_BY_1_4 = [
    "cancel_flow_run", "create_tenant", "delete_project", "get_flow_run_state",
    "get_task_run_state", "set_flow_run_name", "set_task_run_name", "get_agent_config",
    "create_task_run_artifact", "update_task_run_artifact", "delete_task_run_artifact",
    "switch_tenant", "save_auth_to_disk", "load_auth_from_disk",
]  # fmt: skip
LOCAL_ONLY = {
    "attach_headers", "logout_from_tenant", "save_api_token", "save_auth_to_disk",
    "load_auth_from_disk", "with_options",
}  # fmt: skip
SHELL_ONLY = {"close", "aclose"}


def public_methods(cls: type) -> dict[str, typing.Any]:
    return {
        name: member
        for name, member in inspect.getmembers(cls, inspect.isfunction)
        if not name.startswith("_")
    }


@pytest.mark.parametrize("method", DOCUMENTED_0_12 + ADDED_BY_1_4)
def test_every_documented_method_exists_on_both_clients(method: str) -> None:
    assert callable(getattr(Client, method))
    assert callable(getattr(AsyncClient, method))


def test_async_client_mirrors_client() -> None:
    sync_methods = public_methods(Client)
    async_methods = public_methods(AsyncClient)

    assert set(sync_methods) - SHELL_ONLY == set(async_methods) - SHELL_ONLY
    for name in set(sync_methods) - SHELL_ONLY:
        sync_signature = inspect.signature(sync_methods[name])
        async_signature = inspect.signature(async_methods[name])
        assert str(sync_signature) == str(async_signature), name
        is_coroutine = inspect.iscoroutinefunction(async_methods[name])
        assert is_coroutine == (name not in LOCAL_ONLY), name
        assert not inspect.iscoroutinefunction(sync_methods[name]), name


def test_every_io_method_has_a_typed_return() -> None:
    for name, method in public_methods(Client).items():
        hints = typing.get_type_hints(method)
        assert "return" in hints, name
        assert hints["return"] is not typing.Any or name in {"get", "post"}, name


def test_public_names_resolve() -> None:
    for name in prefect_gql.__all__:
        assert getattr(prefect_gql, name) is not None
    assert prefect_gql.ClientError.__name__ == "ClientError"
