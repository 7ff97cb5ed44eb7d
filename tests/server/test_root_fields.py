"""Every root field of the schema answers: data, or an error with a known code.

The documents are built from the schema itself (graphql-core's type objects): each
required argument gets a minimal valid value, and the field selects its leaf fields.
A field the server does not implement answers ``NOT_IMPLEMENTED`` naming it; no
field answers ``null`` without an error, or ``INTERNAL_SERVER_ERROR``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
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
from hypothesis import HealthCheck, given, settings, strategies as st

from prefect_gql.server import DEFAULT_TENANT_ID, AuthConfig, LocalServer, load_sdl

from .conftest import GraphQL, build_world

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
        "insert_utility_traversal",
        "insert_utility_traversal_one",
        "update_utility_traversal",
    }
)
"""Root fields the local server answers with ``NOT_IMPLEMENTED``: what it does not do."""
ANSWERED_WITH_REAL_IDS = 127
"""How many root fields answer data in the walk with real ids (the others answer
errors: a minimal input is not a valid flow, state or update)."""


def minimal_value(
    input_type: GraphQLInputType, name: str = "", ids: Mapping[str, str] | None = None
) -> Any:
    """The smallest value the type accepts: required input fields only, one list item.
    A UUID named as a key of ``ids`` (``flow_run_id``...) takes that id."""
    if isinstance(input_type, GraphQLNonNull):
        return minimal_value(input_type.of_type, name, ids)
    if isinstance(input_type, GraphQLList):
        return [minimal_value(input_type.of_type, name, ids)]
    if isinstance(input_type, GraphQLEnumType):
        return next(iter(input_type.values))
    if isinstance(input_type, GraphQLScalarType):
        if ids and name in ids and input_type.name in ("UUID", "uuid"):
            return ids[name]
        return SCALARS[input_type.name]
    assert isinstance(input_type, GraphQLInputObjectType)
    return {
        field_name: minimal_value(field.type, field_name if field_name != "id" else name, ids)
        for field_name, field in input_type.fields.items()
        if is_non_null_type(field.type) and field.default_value is Undefined
    }


def table_of(root_field: str) -> str:
    """``delete_flow_run_by_pk`` -> ``flow_run``."""
    for prefix in ("insert_", "update_", "delete_"):
        root_field = root_field.removeprefix(prefix)
    return root_field.removesuffix("_by_pk").removesuffix("_one")


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


def document(
    operation: str, name: str, field: GraphQLField, ids: Mapping[str, str] | None = None
) -> tuple[str, dict[str, Any]]:
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
    by_key = f"{table_of(name)}_id"
    variables = {
        arg: minimal_value(spec.type, by_key if arg in ("id", "pk_columns") else arg, ids)
        for arg, spec in required.items()
    }
    return text, variables


def may_be_absent(
    name: str, field: GraphQLField, arguments: Mapping[str, Any] | None = None
) -> bool:
    """A by-key read or write of a row that does not exist answers null, as in Hasura; so
    does an ``insert_*_one`` whose ``on_conflict`` did nothing (no update columns, or its
    ``where`` left the conflicting row alone)."""
    if is_non_null_type(field.type):
        return False
    conflict_handled = (
        name.startswith("insert_")
        and name.endswith("_one")
        and bool((arguments or {}).get("on_conflict"))
    )
    return name.endswith("_by_pk") or conflict_handled


def root_fields() -> Iterator[tuple[str, str, GraphQLField]]:
    for operation, root in (("query", SCHEMA.query_type), ("mutation", SCHEMA.mutation_type)):
        assert root is not None
        for name, field in root.fields.items():
            yield operation, name, field


@pytest.fixture(scope="module", params=["open mode", "token mode"])
def walked(request: pytest.FixtureRequest) -> Iterator[GraphQL]:
    """A server of its own: the minimal mutations delete with ``where: {}``."""
    auth = (
        AuthConfig(api_keys={"walk": DEFAULT_TENANT_ID}) if request.param == "token mode" else None
    )
    with LocalServer(auth=auth) as server:
        client = GraphQL(server.url, {"Authorization": "Bearer walk"} if auth else None)
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


def world_ids(gql: GraphQL) -> dict[str, str]:
    """The ids of a fresh world in a tenant of its own (a walked mutation may have
    deleted every tenant), under the names arguments give them."""
    slug = f"walk-{uuid.uuid4().hex[:8]}"
    tenant_id = gql.data(
        "mutation($i: create_tenant_input!) { create_tenant(input: $i) { id } }",
        {"i": {"name": slug, "slug": slug}},
    )["create_tenant"]["id"]
    world = build_world(gql, tenant_id)
    flow = gql.data(
        "query($id: uuid!) { flow_by_pk(id: $id) { flow_group_id } }", {"id": world.flow_id}
    )["flow_by_pk"]
    return {
        "tenant_id": world.tenant_id,
        "project_id": world.project_id,
        "flow_id": world.flow_id,
        "flow_group_id": flow["flow_group_id"],
        "flow_run_id": world.flow_run_id,
        "task_id": world.task_ids["extract-1"],
        "task_run_id": world.task_run_ids["extract-1"],
        "agent_config_id": world.agent_config_id,
        "task_run_artifact_id": world.artifact_id,
        "limit_id": world.limit_id,
    }


def test_every_root_field_given_real_ids_answers() -> None:
    """The same walk with the ids of rows that exist (a fresh world for each mutation):
    most fields then answer data."""
    with LocalServer() as server:
        walked = GraphQL(server.url)
        try:
            with_data = walk_with_real_ids(walked)
        finally:
            walked.close()
    assert len(with_data) >= ANSWERED_WITH_REAL_IDS, sorted(
        {n for _, n, _ in root_fields()} - with_data
    )


def walk_with_real_ids(walked: GraphQL) -> set[str]:
    """The root fields that answered data."""
    with_data = set()
    ids = world_ids(walked)
    for operation, name, field in root_fields():
        if operation == "mutation":
            ids = world_ids(walked)
        text, variables = document(operation, name, field, ids)
        response = walked.post(text, variables)
        assert response.status_code == 200, (name, response.text)
        answer = response.json()
        errors = answer.get("errors") or []
        for error in errors:
            assert error.get("extensions", {}).get("code") in KNOWN_CODES, (name, error)
        if (answer.get("data") or {}).get(name) is not None:
            with_data.add(name)
        else:
            assert errors or may_be_absent(name, field), f"{name} answered null without an error"
    return with_data


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=6,
)


def values_of(input_type: GraphQLInputType, ids: Mapping[str, str], depth: int = 0) -> Any:
    """A hypothesis strategy for any value of the type: nulls where it allows them,
    ids of rows that exist (or not), nested inputs three levels deep at most."""
    if not isinstance(input_type, GraphQLNonNull):
        return st.none() | values_of(GraphQLNonNull(input_type), ids, depth)
    inner = input_type.of_type
    if isinstance(inner, GraphQLList):
        return st.lists(values_of(inner.of_type, ids, depth), max_size=3)
    if isinstance(inner, GraphQLEnumType):
        return st.sampled_from(list(inner.values))
    if isinstance(inner, GraphQLScalarType):
        return _scalar_values(inner.name, ids)
    assert isinstance(inner, GraphQLInputObjectType)
    required = {
        name: values_of(field.type, ids, depth + 1)
        for name, field in inner.fields.items()
        if is_non_null_type(field.type)
    }
    optional = {
        name: values_of(field.type, ids, depth + 1)
        for name, field in inner.fields.items()
        if not is_non_null_type(field.type) and depth < 3
    }
    return st.fixed_dictionaries(required, optional=optional)


def _scalar_values(name: str, ids: Mapping[str, str]) -> Any:
    if name in ("UUID", "uuid"):
        return st.sampled_from([*ids.values(), "6f1b5e1a-6cd3-4c61-9f0b-3d0c6f1c2a10"])
    if name == "_uuid":
        return st.sampled_from(["{}", "{" + ids["task_id"] + "}"])
    if name in ("DateTime", "timestamptz"):
        return st.sampled_from(["2026-01-01T00:00:00+00:00", "2020-05-05T10:00:00"])
    return {
        "String": st.text(max_size=8),
        "Int": st.integers(-(2**31), 2**31 - 1),
        "Float": st.floats(allow_nan=False, allow_infinity=False),
        "Boolean": st.booleans(),
        "JSON": JSON_VALUES,
        "jsonb": JSON_VALUES,
    }.get(name, st.text(max_size=5))


@pytest.fixture(scope="module")
def fuzzed() -> Iterator[tuple[GraphQL, dict[str, str]]]:
    with LocalServer() as server:
        client = GraphQL(server.url)
        yield client, world_ids(client)
        client.close()


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_random_arguments_to_any_root_field_never_fault(
    fuzzed: tuple[GraphQL, dict[str, str]], data: st.DataObject
) -> None:
    """Any root field, any arguments the schema allows (ids of real rows among them):
    data, or an error with a known code; never a fault, never a silent null."""
    gql, ids = fuzzed
    operation, name, field = data.draw(st.sampled_from(list(root_fields())))
    arguments = {arg: data.draw(values_of(spec.type, ids)) for arg, spec in field.args.items()}
    arguments = {arg: value for arg, value in arguments.items() if value is not None}
    declared = ", ".join(f"${arg}: {field.args[arg].type}" for arg in arguments)
    passed = ", ".join(f"{arg}: ${arg}" for arg in arguments)
    text = (
        f"{operation}{f'({declared})' if declared else ''}"
        f" {{ {name}{f'({passed})' if passed else ''} {leaf_selection(field)} }}"
    )
    response = gql.post(text, arguments)
    if response.status_code == 400:
        return
    assert response.status_code == 200, response.text
    answer = response.json()
    errors = answer.get("errors") or []
    for error in errors:
        assert error.get("extensions", {}).get("code") in KNOWN_CODES, (name, arguments, error)
    if (answer.get("data") or {}).get(name) is None:
        assert errors or may_be_absent(name, field, arguments), (name, arguments)
