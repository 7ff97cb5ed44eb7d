"""Every root field of the schema answers: data, or an error with a known code.

The documents are built from the schema itself (graphql-core's type objects): each
required argument gets a minimal valid value, and the field selects its leaf fields.
A field the server does not implement answers ``NOT_IMPLEMENTED`` naming it; no
field answers ``null`` without an error, or ``INTERNAL_SERVER_ERROR``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    Undefined,
    build_schema,
    get_named_type,
    is_leaf_type,
    is_non_null_type,
)

from prefect_gql.server import LocalServer, load_sdl

from .conftest import GraphQL

SCHEMA: GraphQLSchema = build_schema(load_sdl())
KNOWN_CODES = frozenset(
    {"BAD_USER_INPUT", "NOT_FOUND", "NOT_IMPLEMENTED", "FORBIDDEN", "UNAUTHENTICATED"}
)
SCALARS: dict[str, Any] = {
    "String": "x",
    "Int": 1,
    "Float": 1.5,
    "Boolean": True,
    "ID": "x",
    "UUID": "6f1b5e1a-6cd3-4c61-9f0b-3d0c6f1c2a10",
    "uuid": "6f1b5e1a-6cd3-4c61-9f0b-3d0c6f1c2a10",
    "JSON": {},
    "jsonb": {},
    "DateTime": "2026-01-01T00:00:00+00:00",
    "timestamptz": "2026-01-01T00:00:00+00:00",
    "_uuid": "{}",
}
NOT_IMPLEMENTED = frozenset(
    {
        "delete_utility_traversal",
        "get_runs_in_queue",
        "insert_utility_traversal",
        "insert_utility_traversal_one",
        "log_out",
        "update_utility_traversal",
    }
)
"""Root fields the local server answers with ``NOT_IMPLEMENTED``: what it does not do."""


def minimal_value(input_type: GraphQLInputType) -> Any:
    """The smallest value the type accepts: required input fields only, one list item."""
    if isinstance(input_type, GraphQLNonNull):
        return minimal_value(input_type.of_type)
    if isinstance(input_type, GraphQLList):
        return [minimal_value(input_type.of_type)]
    if isinstance(input_type, GraphQLEnumType):
        return next(iter(input_type.values))
    if isinstance(input_type, GraphQLScalarType):
        return SCALARS[input_type.name]
    assert isinstance(input_type, GraphQLInputObjectType)
    return {
        name: minimal_value(field.type)
        for name, field in input_type.fields.items()
        if is_non_null_type(field.type) and field.default_value is Undefined
    }


def leaf_selection(field: GraphQLField) -> str:
    """The field's leaf subfields that need no argument (``affected_rows``, ``id``...)."""
    named = get_named_type(field.type)
    if is_leaf_type(named):
        return ""
    assert isinstance(named, GraphQLObjectType)
    leaves = [
        name
        for name, sub in named.fields.items()
        if is_leaf_type(get_named_type(sub.type))
        and not any(is_non_null_type(a.type) for a in sub.args.values())
    ]
    return "{ " + " ".join(leaves or ["__typename"]) + " }"


def document(operation: str, name: str, field: GraphQLField) -> tuple[str, dict[str, Any]]:
    """``operation($a: T!, ...) { name(a: $a, ...) { leaves } }`` and its variables."""
    required = {
        arg: spec
        for arg, spec in field.args.items()
        if is_non_null_type(spec.type) and spec.default_value is Undefined
    }
    declared = ", ".join(f"${arg}: {spec.type}" for arg, spec in required.items())
    passed = ", ".join(f"{arg}: ${arg}" for arg in required)
    text = (
        f"{operation}{f'({declared})' if declared else ''}"
        f" {{ {name}{f'({passed})' if passed else ''} {leaf_selection(field)} }}"
    )
    return text, {arg: minimal_value(spec.type) for arg, spec in required.items()}


def may_be_absent(name: str, field: GraphQLField) -> bool:
    """A by-key read or write of a row that does not exist answers null, as in Hasura."""
    return name.endswith("_by_pk") and not is_non_null_type(field.type)


def root_fields() -> Iterator[tuple[str, str, GraphQLField]]:
    for operation, root in (("query", SCHEMA.query_type), ("mutation", SCHEMA.mutation_type)):
        assert root is not None
        for name, field in root.fields.items():
            yield operation, name, field


@pytest.fixture(scope="module")
def walked() -> Iterator[GraphQL]:
    """A server of its own: the minimal mutations delete with ``where: {}``."""
    with LocalServer() as server:
        client = GraphQL(server.url)
        yield client
        client.close()


def test_every_root_field_answers_data_or_an_error_with_a_known_code(walked: GraphQL) -> None:
    not_implemented = set()
    answered = 0
    for operation, name, field in root_fields():
        text, variables = document(operation, name, field)
        response = walked.post(text, variables)
        assert response.status_code == 200, (name, response.text)
        answer = response.json()
        errors = answer.get("errors") or []
        value = (answer.get("data") or {}).get(name)
        for error in errors:
            code = error.get("extensions", {}).get("code")
            assert code in KNOWN_CODES, (name, error)
            if code == "NOT_IMPLEMENTED":
                assert name in error["message"], error
                not_implemented.add(name)
        if value is None:
            assert errors or may_be_absent(name, field), f"{name} answered null without an error"
        else:
            answered += 1
    assert not_implemented == NOT_IMPLEMENTED
    assert answered > 0
