"""Every operation in ``queries/`` is sent by a client method, and every such method is
called by a test: a new operation cannot go unnoticed, and the failure names the file to
edit (README, "Adding a method")."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from graphql import OperationDefinitionNode, parse

ROOT = Path(__file__).parents[1]
QUERIES = ROOT / "queries"
ASYNC_METHODS = ROOT / "prefect_gql" / "_async"
TESTS = Path(__file__).parent
NOT_BEHAVIOUR_TESTS = {"test_every_operation.py", "test_editors.py", "test_surface.py"}
"""Tests that list every method by reflection: they call none for what it does."""


def snake_case(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def operations() -> dict[str, Path]:
    """Each operation's name -> the ``queries/`` file defining it."""
    found = {}
    for path in sorted(QUERIES.glob("*.graphql")):
        for definition in parse(path.read_text(encoding="utf-8")).definitions:
            if isinstance(definition, OperationDefinitionNode) and definition.name:
                found[definition.name.value] = path
    return found


def documents_sent(method: ast.AST) -> set[str]:
    """The operations whose generated document (``GET_FLOW_RUN_INFO_GQL``) ``method`` sends."""
    return {
        node.id.removesuffix("_GQL").lower()
        for node in ast.walk(method)
        if isinstance(node, ast.Name) and node.id.endswith("_GQL")
    }


def senders() -> dict[str, set[tuple[str, str]]]:
    """Each generated operation method -> the (module file, public method) sending it,
    through ``self.operations`` or with its generated document (``GET_FLOW_RUN_INFO_GQL``).

    A private helper's operations count for the public methods that call the helper.
    """
    sent: dict[str, set[tuple[str, str]]] = {}
    calls: dict[str, set[str]] = {}
    sends: dict[tuple[str, str], set[str]] = {}
    for path in sorted(ASYNC_METHODS.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ClassDef):
                continue
            for method in node.body:
                if not isinstance(method, ast.AsyncFunctionDef | ast.FunctionDef):
                    continue
                for call in ast.walk(method):
                    if not isinstance(call, ast.Attribute):
                        continue
                    target = call.value
                    if (
                        isinstance(target, ast.Attribute)
                        and target.attr == "operations"
                        and isinstance(target.value, ast.Name)
                        and target.value.id == "self"
                    ):
                        sends.setdefault((path.name, method.name), set()).add(call.attr)
                    elif isinstance(target, ast.Name) and target.id == "self":
                        calls.setdefault(call.attr, set()).add(method.name)
                sends.setdefault((path.name, method.name), set()).update(documents_sent(method))
    for (module, sender), operation_methods in sends.items():
        public = {sender} if not sender.startswith("_") else calls.get(sender, set())
        for operation in operation_methods:
            sent.setdefault(operation, set()).update((module, name) for name in public)
    return sent


def called_by_tests(attribute: str) -> bool:
    """Whether a test's source reads ``.attribute`` (a method of a client, or of
    ``client.operations``)."""
    pattern = re.compile(rf"\.{re.escape(attribute)}\b")
    return any(
        pattern.search(path.read_text(encoding="utf-8"))
        for path in TESTS.rglob("test_*.py")
        if path.name not in NOT_BEHAVIOUR_TESTS
    )


def problems() -> list[str]:
    """Why each operation no test exercises is not exercised, naming the file to edit."""
    sent = senders()
    found = []
    for name, path in operations().items():
        query_file = path.relative_to(ROOT)
        operation = snake_case(name)
        if called_by_tests(f"operations.{operation}"):
            continue
        methods = sorted(sent.get(operation, ()))
        if not methods:
            found.append(
                f"{query_file}: {name} is sent by no client method and called by no test: "
                f"write the method in prefect_gql/_async/{path.stem}.py (or the _async/ module "
                f"of its concern; it calls self.operations.{operation}(...)) and its test in "
                "tests/test_client_methods.py"
            )
        elif not any(called_by_tests(method) for _, method in methods):
            found += [
                f"{query_file}: {name} is sent by {method} (prefect_gql/_async/{module}), "
                "which no test calls: add its test to tests/test_client_methods.py "
                f"(`await api(Client.{method}, ...)` runs it on both clients)"
                for module, method in methods
            ]
    return found


def test_every_operation_is_exercised_by_a_test() -> None:
    found = problems()
    assert found == [], "\n".join(found)


def test_the_checks_see_operations_methods_and_tests() -> None:
    sent = senders()
    assert ("flow_runs.py", "get_flow_run_info") in sent["get_flow_run_info"]
    assert ("projects.py", "register") in sent["find_project_by_name"]  # via _project_id
    assert called_by_tests("get_flow_run_info")
    assert not called_by_tests("a_method_nobody_calls")
    assert len(operations()) > 40
