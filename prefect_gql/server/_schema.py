"""The executable schema: the project's SDL, its scalars, and the resolvers.

The SDL is package data in a wheel (``prefect_gql/server/schema.graphql``) and the
repository's ``schema/prefect.graphql`` in a checkout. Fields the local server does
not keep (aggregates' ``max``, ...) are still served, as
empty values: null, or ``[]`` for a list, so that any document the schema
validates gets an answer. A root field with no resolver answers an error with code
``NOT_IMPLEMENTED`` that names it, never a null.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

from ariadne import ScalarType, make_executable_schema
from graphql import (
    GraphQLEnumType,
    GraphQLFieldResolver,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLSchema,
    StringValueNode,
    ValueNode,
    value_from_ast_untyped,
)

from ._computed_reads import install_computed_reads
from ._context import context_of
from ._errors import NOT_IMPLEMENTED, APIError
from ._reads import aggregate_of, install_reads
from ._resolvers import bindables
from ._store import normalize_timestamp
from ._writes import install_writes

__all__ = ["build_schema", "load_sdl", "not_implemented", "read_or_empty"]

PACKAGED_SCHEMA = "schema.graphql"
REPOSITORY_SCHEMA = Path(__file__).resolve().parents[2] / "schema" / "prefect.graphql"


def load_sdl() -> str:
    """The schema SDL: package data when installed from a wheel, else the repository's."""
    packaged = resources.files(__package__ or "prefect_gql.server").joinpath(PACKAGED_SCHEMA)
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    if REPOSITORY_SCHEMA.is_file():
        return REPOSITORY_SCHEMA.read_text(encoding="utf-8")
    raise FileNotFoundError(
        f"prefect_gql.server has no schema: neither package data {PACKAGED_SCHEMA}"
        f" nor {REPOSITORY_SCHEMA} exists"
    )


def _parse_uuid(value: Any) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError as err:
        raise ValueError(f"invalid UUID {value!r}") from err


def _parse_timestamp(value: Any) -> str:
    try:
        return normalize_timestamp(value)
    except ValueError as err:
        raise ValueError(f"invalid ISO-8601 timestamp {value!r}") from err


_STORED_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00")
"""The form the store keeps timestamps in (``normalize_timestamp``)."""


def _serialize_timestamp(value: Any) -> str:
    """Timestamps go out timezone-aware, in UTC, as Hasura writes them (microseconds
    only when there are some). A timestamp in the store's form is rewritten as text
    (rows are read thousands at a time); any other is parsed."""
    if isinstance(value, str) and _STORED_TIMESTAMP.fullmatch(value):
        return value[:19] + value[26:] if value.endswith(".000000+00:00") else value
    try:
        return datetime.fromisoformat(normalize_timestamp(value)).isoformat()
    except ValueError:
        return str(value)


def _parse_json_literal(node: ValueNode, variables: dict[str, Any] | None = None) -> Any:
    """A ``JSON`` argument written in the document, as Prefect Server's JSON scalar reads
    it: a string literal holding JSON text is that JSON (``state: "{\\"type\\":
    \\"Scheduled\\"}"``); an object, list or number literal is taken as written. A string
    literal that is not JSON text stays a string (Prefect Server refuses it, echoing
    the literal, which may be a secret's value)."""
    if isinstance(node, StringValueNode):
        try:
            return json.loads(node.value)
        except ValueError:
            return node.value
    return value_from_ast_untyped(node, variables)


def _scalars() -> list[ScalarType]:
    scalars = [ScalarType("JSON", literal_parser=_parse_json_literal)]
    for name in ("UUID", "uuid"):
        scalars.append(ScalarType(name, serializer=str, value_parser=_parse_uuid))
    for name in ("DateTime", "timestamptz"):
        scalars.append(
            ScalarType(name, serializer=_serialize_timestamp, value_parser=_parse_timestamp)
        )
    return scalars


def _empty(return_type: GraphQLOutputType) -> Any:
    nullable = return_type.of_type if isinstance(return_type, GraphQLNonNull) else return_type
    if isinstance(nullable, GraphQLList):
        return []
    if isinstance(nullable, GraphQLObjectType) and nullable.name.endswith("_aggregate"):
        return aggregate_of([])
    return None


def read_or_empty(source: Any, info: GraphQLResolveInfo, **_: Any) -> Any:
    """The resolver of every stored column: the row's value, or the field's empty value."""
    value = source.get(info.field_name) if isinstance(source, Mapping) else None
    return _empty(info.return_type) if value is None else value


def not_implemented(_: Any, info: GraphQLResolveInfo, **__: Any) -> Any:
    """The resolver of every root field the local server does not implement."""
    raise APIError(
        f"{info.field_name} is not implemented by the prefect_gql local server", NOT_IMPLEMENTED
    )


def _serve_unbound_fields(schema: GraphQLSchema) -> None:
    for root in (schema.query_type, schema.mutation_type):
        for schema_field in root.fields.values() if root is not None else ():
            if schema_field.resolve is None:
                schema_field.resolve = not_implemented
    for named_type in schema.type_map.values():
        if isinstance(named_type, GraphQLObjectType) and not named_type.name.startswith("__"):
            for schema_field in named_type.fields.values():
                if schema_field.resolve is None:
                    schema_field.resolve = read_or_empty


def _use_graphql_core_enum_parsing(schema: GraphQLSchema) -> None:
    """ariadne 1.1 replaces every enum's ``parse_value`` with a one-argument function
    that graphql-core 3.2 calls with two, so enum variables would fail. No Python
    enum is bound here, so graphql-core's own ``parse_value`` is the right one."""
    for named_type in schema.type_map.values():
        if isinstance(named_type, GraphQLEnumType):
            vars(named_type).pop("parse_value", None)


def _read_as_member(read: GraphQLFieldResolver) -> GraphQLFieldResolver:
    def resolve(source: Any, info: GraphQLResolveInfo, **arguments: Any) -> Any:
        return read(source, info._replace(context=context_of(info).as_member()), **arguments)

    return resolve


def _list_tenants_as_a_member(schema: GraphQLSchema) -> None:
    """The root tenant reads list the tenants the caller is a member of
    (``RequestContext.member_tenants``): get_available_tenants and login_to_tenant
    find any tenant with a USER token, which reads every other table in one."""
    root = schema.query_type
    assert root is not None
    for name in ("tenant", "tenant_by_pk", "tenant_aggregate"):
        read = root.fields[name].resolve if name in root.fields else None
        if read is not None:
            root.fields[name].resolve = _read_as_member(read)


def build_schema() -> GraphQLSchema:
    schema = make_executable_schema(load_sdl(), *_scalars(), *bindables())
    _use_graphql_core_enum_parsing(schema)
    install_reads(schema)
    install_computed_reads(schema)
    install_writes(schema)
    _list_tenants_as_a_member(schema)
    _serve_unbound_fields(schema)
    return schema
