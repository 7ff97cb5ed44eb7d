"""What editors read from the source alone: Jedi (IPython, Jupyter, jedi-based editors).

Jedi does not run the code; it reads it. Every public method of both clients must show
Jedi the parameters ``inspect.signature`` shows, and completing on a method's result must
list the fields of its model, as for a generated model.
"""

from __future__ import annotations

import inspect
import sys
import types
import typing
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import jedi
import pytest
from pydantic import BaseModel
from typing_extensions import TypeAliasType

from prefect_gql import AsyncClient, Client

ENVIRONMENT = jedi.create_environment(sys.executable, safe=False)
"""This interpreter's packages, read in a subprocess of Jedi's: what an editor sees, not
the modules this test process has imported."""


def public_methods(cls: type[Client] | type[AsyncClient]) -> list[str]:
    return sorted(
        name
        for name in dir(cls)
        if not name.startswith("_") and inspect.isfunction(getattr(cls, name))
    )


def _without_annotated(hint: object) -> object:
    while typing.get_origin(hint) is typing.Annotated:
        hint = typing.get_args(hint)[0]
    return hint


def _models(hint: object) -> list[type[BaseModel]] | None:
    """The model classes a hint names (one, or each member of a union); None otherwise."""
    hint = _without_annotated(hint)
    if isinstance(hint, TypeAliasType):
        hint = hint.__value__
    if isinstance(hint, type) and issubclass(hint, BaseModel):
        return [hint]
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        members = [_models(member) for member in typing.get_args(hint)]
        if all(members):
            return [model for member in members if member for model in member]
    return None


@dataclass(frozen=True)
class ResultShape:
    """How a method's result holds its model(s): as is, in a list, or as an iterator's items."""

    container: str
    models: list[type[BaseModel]]

    @property
    def fields(self) -> set[str]:
        """The fields every one of the models has (what completion must offer)."""
        return set.intersection(*(set(model.model_fields) for model in self.models))


def result_shape(cls: type[Client] | type[AsyncClient], name: str) -> ResultShape | None:
    method = getattr(cls, name)
    annotation = inspect.signature(method).return_annotation
    try:
        hint = eval(annotation, vars(sys.modules[method.__module__]))  # noqa: S307 - our source
    except NameError:  # imported for type checkers only: GraphQLResult, a dict
        return None
    hint = _without_annotated(hint)
    origin = typing.get_origin(hint)
    if origin in (list, Iterator, AsyncIterator):
        models = _models(typing.get_args(hint)[0])
        container = "list" if origin is list else "iterator"
        return ResultShape(container, models) if models else None
    models = _models(hint)
    return ResultShape("model", models) if models else None


def _complete_after(cls_name: str, call: str, *, awaited: bool, container: str) -> set[str]:
    """The names Jedi completes after a model that ``call`` (of a ``cls_name``) gives: its
    result, its result's first item or, for an iterator, an item of a ``for`` loop."""
    lines = [f"from prefect_gql import {cls_name}", f"client = {cls_name}()"]
    indent = ""
    if awaited:
        lines.append("async def main():")
        indent = "    "
    if container == "iterator":
        lines.append(f"{indent}{'async ' if awaited else ''}for item in {call}:")
        indent += "    "
        expression = "item"
    else:
        expression = f"(await {call})" if awaited else call
        expression += "[0]" if container == "list" else ""
    lines.append(f"{indent}{expression}.")
    script = jedi.Script("\n".join(lines), environment=ENVIRONMENT)
    return {completion.name for completion in script.complete(len(lines), len(lines[-1]))}


@pytest.mark.parametrize("cls", [Client, AsyncClient], ids=["Client", "AsyncClient"])
def test_jedi_reads_every_method_signature_as_inspect_does(
    cls: type[Client] | type[AsyncClient],
) -> None:
    names = public_methods(cls)
    assert len(names) > 50
    lines = [f"from prefect_gql import {cls.__name__}", f"client = {cls.__name__}()"]
    lines += [f"client.{name}()" for name in names]
    script = jedi.Script("\n".join(lines), environment=ENVIRONMENT)
    instance = cls("http://localhost:4200", backend="server")
    mismatches = {}
    for line, name in enumerate(names, start=3):
        signatures = script.get_signatures(line, len(f"client.{name}("))
        seen = [(param.name, param.kind) for sig in signatures[:1] for param in sig.params]
        expected = [
            (param.name, param.kind)
            for param in inspect.signature(getattr(instance, name)).parameters.values()
        ]
        if seen != expected:
            mismatches[name] = (seen, expected)
    assert mismatches == {}


@pytest.mark.parametrize("cls", [Client, AsyncClient], ids=["Client", "AsyncClient"])
def test_jedi_completes_each_result_with_its_model_fields(
    cls: type[Client] | type[AsyncClient],
) -> None:
    checked = 0
    missing = {}
    for name in public_methods(cls):
        shape = result_shape(cls, name)
        if shape is None:
            continue
        completed = _complete_after(
            cls.__name__, f"client.{name}()", awaited=cls is AsyncClient, container=shape.container
        )
        checked += 1
        if not shape.fields <= completed:
            missing[name] = sorted(shape.fields - completed)
    assert missing == {}
    assert checked >= 13, "every method whose result is a model is checked"


def test_the_named_example_completes() -> None:
    """``client.get_flow_run_info("x").`` lists ``state`` and ``task_runs`` (sync and async)."""
    for cls_name, awaited in (("Client", False), ("AsyncClient", True)):
        completed = _complete_after(
            cls_name, 'client.get_flow_run_info("x")', awaited=awaited, container="model"
        )
        assert {"state", "task_runs", "version"} <= completed, cls_name
        assert "send" not in completed, cls_name
        assert "__await__" not in completed, cls_name


def test_jedi_completes_a_generated_model_and_a_generated_operation() -> None:
    from prefect_gql.types import GetFlowRunInfoFlowRunByPk  # noqa: PLC0415

    fields = set(GetFlowRunInfoFlowRunByPk.model_fields)
    header = (
        "from prefect_gql import Client\n"
        "from prefect_gql.types import GetFlowRunInfoFlowRunByPk\n"
        "client = Client()\n"
    )
    for expression in (
        "GetFlowRunInfoFlowRunByPk()",
        'client.operations.get_flow_run_info(id="x").flow_run_by_pk',
    ):
        script = jedi.Script(f"{header}{expression}.", environment=ENVIRONMENT)
        names = {c.name for c in script.complete(4, len(expression) + 1)}
        assert fields <= names, expression
