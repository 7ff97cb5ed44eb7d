"""The public surface: every documented method, and AsyncClient mirroring Client."""

from __future__ import annotations

import ast
import inspect
import re
import subprocess
import sys
import typing
from pathlib import Path

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


def public_methods(client: Client | AsyncClient) -> dict[str, typing.Any]:
    """The public methods of a client instance, as its user calls them."""
    return {
        name: getattr(client, name)
        for name in dir(type(client))
        if not name.startswith("_") and inspect.isfunction(getattr(type(client), name))
    }


@pytest.fixture
def clients() -> typing.Iterator[tuple[Client, AsyncClient]]:
    sync_client = Client("http://localhost:4200", backend="server")
    async_client = AsyncClient("http://localhost:4200", backend="server")
    yield sync_client, async_client
    sync_client.close()


@pytest.mark.parametrize("method", DOCUMENTED_0_12 + ADDED_BY_1_4)
def test_every_documented_method_exists_on_both_clients(method: str) -> None:
    assert callable(getattr(Client, method))
    assert callable(getattr(AsyncClient, method))


def test_async_client_mirrors_client(clients: tuple[Client, AsyncClient]) -> None:
    sync_methods = public_methods(clients[0])
    async_methods = public_methods(clients[1])

    assert set(sync_methods) - SHELL_ONLY == set(async_methods) - SHELL_ONLY
    for name in set(sync_methods) - SHELL_ONLY:
        sync_signature = str(inspect.signature(sync_methods[name]))
        async_signature = str(inspect.signature(async_methods[name]))
        assert sync_signature == async_signature.replace("AsyncIterator[", "Iterator["), name
        assert sync_methods[name].__doc__, name
        assert sync_methods[name].__doc__ == async_methods[name].__doc__, name
        sync_home = getattr(Client, name).__module__
        async_home = getattr(AsyncClient, name).__module__
        if name in LOCAL_ONLY:
            assert sync_home == async_home == "prefect_gql._base_client", name
        else:
            assert sync_home == async_home.replace("prefect_gql._async.", "prefect_gql._sync."), (
                name
            )


def test_class_members_read_like_methods_defined_in_the_class(
    clients: tuple[Client, AsyncClient],
) -> None:
    """``help(Client)``, IDEs and ``inspect`` see ``Client.x`` as ``def x(self, ...)``."""
    for name, bound in public_methods(clients[0]).items():
        member = getattr(Client, name)
        parameters = list(inspect.signature(member).parameters)
        assert parameters[0] == "self", name
        assert parameters[1:] == list(inspect.signature(bound).parameters), name
    assert str(inspect.signature(Client.iter_flow_runs).return_annotation) == (
        "Iterator[FlowRunSummary]"
    )
    assert str(inspect.signature(AsyncClient.iter_flow_runs).return_annotation) == (
        "AsyncIterator[FlowRunSummary]"
    )


def test_every_io_method_has_a_typed_return(clients: tuple[Client, AsyncClient]) -> None:
    for name, method in public_methods(clients[0]).items():
        returns = inspect.signature(method).return_annotation
        assert returns is not inspect.Signature.empty, name
        assert returns not in ("Any", typing.Any) or name in {"get", "post"}, name


async def test_async_methods_return_awaitables(clients: tuple[Client, AsyncClient]) -> None:
    """An I/O method of AsyncClient gives a coroutine (nothing is sent until awaited)."""
    pending = clients[1].get_flow_run_info("not-a-uuid")
    assert inspect.iscoroutine(pending)
    with pytest.raises(prefect_gql.InvalidInputError):
        await pending
    with pytest.raises(prefect_gql.InvalidInputError):
        clients[0].get_flow_run_info("not-a-uuid")


def test_each_export_is_named_once_and_all_lists_exactly_them() -> None:
    """The ``TYPE_CHECKING`` imports are the one list of exports: type checkers and Jedi read
    them, ``__getattr__`` and ``__all__`` are derived from them at run time."""
    source = Path(prefect_gql.__file__).read_text()
    imported: dict[str, str] = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            for statement in node.body:
                assert isinstance(statement, ast.ImportFrom)
                for alias in statement.names:
                    assert alias.asname == alias.name, alias.name
                    assert alias.name not in imported, alias.name
                    imported[alias.name] = "." + (statement.module or "")
    assert sorted(prefect_gql.__all__) == sorted(imported)
    assert len(prefect_gql.__all__) == len(set(prefect_gql.__all__))
    code = source.split('"""', 2)[2]  # past the module docstring's example
    for name in imported:
        assert len(re.findall(rf"\b{name}\b", code)) == 2, f"{name} is named more than once"


def test_public_names_resolve() -> None:
    for name in prefect_gql.__all__:
        assert getattr(prefect_gql, name) is not None
    assert prefect_gql.ClientError.__name__ == "ClientError"


def test_states_and_flow_specs_load_without_the_http_stack() -> None:
    """Code that only builds states or flow specs (inside a flow, say) never imports httpx."""
    program = (
        "import sys\n"
        "from prefect_gql import Running, FlowSpec, parse_state, DEFAULT_CORE_VERSION\n"
        "Running(message='x').to_wire(); FlowSpec(name='f')\n"
        "print(sorted(m for m in ('httpx', 'anyio', 'prefect') if m in sys.modules))\n"
    )
    done = subprocess.run(  # noqa: S603 - this interpreter, a fixed program
        [sys.executable, "-c", program], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"
