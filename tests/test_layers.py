"""The layers of ``prefect_gql`` import one way: no module imports, directly or through
others, a module that imports it back. Every import counts, including those made only
for type checkers and those inside functions: each is a dependency a reader follows."""

from __future__ import annotations

import ast
import inspect
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pytest_httpx import HTTPXMock

import prefect_gql
from prefect_gql import Client, Running

from .conftest import FLOW_RUN_ID, ClientFactory, add_graphql
from .test_client_methods import _flow_run_data

PACKAGE_ROOT = Path(prefect_gql.__file__).parent


def module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE_ROOT.parent).with_suffix("")
    parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE_ROOT.rglob("*.py"))}


def imported_modules(name: str, path: Path, known: set[str]) -> Iterator[str]:
    """The modules of ``known`` that ``name`` (at ``path``) imports, anywhere in it."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names if alias.name in known)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*base_parts, *([node.module] if node.module else [])])
            else:
                base = node.module or ""
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                if submodule in known:
                    yield submodule
                elif base in known:
                    yield base


def import_graph() -> dict[str, set[str]]:
    found = modules()
    known = set(found)
    return {name: set(imported_modules(name, path, known)) - {name} for name, path in found.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle through each group of modules that import each other (Tarjan's SCCs)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(group)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [_one_cycle(graph, set(group)) for group in groups]


def _one_cycle(graph: dict[str, set[str]], group: set[str]) -> list[str]:
    """A path ``a -> b -> ... -> a`` within ``group``, for the failure message."""
    start = min(group)
    paths = [[start]]
    while paths:
        path = paths.pop(0)
        for target in sorted(graph[path[-1]] & group):
            if target == start:
                return [*path, start]
            if target not in path:
                paths.append([*path, target])
    return sorted(group)


def test_no_module_imports_itself_through_others() -> None:
    found = cycles(import_graph())
    assert found == [], "import cycles:\n" + "\n".join(" -> ".join(cycle) for cycle in found)


def test_the_cycle_check_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c", "a"]]


def test_the_graph_sees_type_only_and_function_level_imports() -> None:
    graph = import_graph()
    assert "prefect_gql._async.client" in graph["prefect_gql"]  # TYPE_CHECKING only
    assert "prefect_gql._model.flow" in graph["prefect_gql._async.projects"]  # in a function


def our_modules_on_the_stack() -> list[str]:
    """The modules of prefect_gql on the call stack, outermost first, one entry per run of
    frames of one module."""
    modules: list[str] = []
    for frame in reversed(inspect.stack()[2:]):
        path = Path(frame.filename)
        if PACKAGE_ROOT in path.parents and (not modules or modules[-1] != module_name(path)):
            modules.append(module_name(path))
    return modules


@pytest.mark.parametrize("method", ["get_flow_run_info", "set_flow_run_state"])
async def test_a_call_reaches_httpx_through_at_most_five_modules_none_twice(
    make_api: ClientFactory, httpx_mock: HTTPXMock, monkeypatch: pytest.MonkeyPatch, method: str
) -> None:
    """From the public method down to ``httpx``'s ``send``, a call reads top to bottom."""
    stacks: list[list[str]] = []
    for http_class in (httpx.Client, httpx.AsyncClient):
        original = http_class.send

        def recording(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            stacks.append(our_modules_on_the_stack())
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(http_class, "send", recording)
    api = make_api()
    if method == "get_flow_run_info":
        add_graphql(httpx_mock, _flow_run_data({"type": "Running", "message": "go"}))
        await api(Client.get_flow_run_info, FLOW_RUN_ID)
    else:
        add_graphql(
            httpx_mock,
            {
                "set_flow_run_states": {
                    "states": [{"id": FLOW_RUN_ID, "status": "SUCCESS", "message": None}]
                }
            },
        )
        await api(Client.set_flow_run_state, FLOW_RUN_ID, Running(), version=1)

    (stack,) = stacks
    assert stack[0].endswith(".flow_runs"), stack
    assert len(stack) <= 5, stack
    assert len(set(stack)) == len(stack), stack
