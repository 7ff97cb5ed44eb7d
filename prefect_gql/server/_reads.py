"""Hasura's read side for every stored table, generically.

For each table the store keeps, the schema's ``<table>``, ``<table>_by_pk`` and
``<table>_aggregate`` root fields and the relationship fields of its type
(``flow_run.task_runs(where: ...)``, ``task_run.task``, ``..._aggregate``) read
the caller's rows through ``_filters``. An aggregate counts (``count(columns,
distinct)``) and lists ``nodes``; its ``max``/``min``/... read as null.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from graphql import GraphQLObjectType, GraphQLResolveInfo, GraphQLSchema

from ._context import context_of
from ._errors import APIError
from ._filters import Relations, apply_read_arguments
from ._store import Row, Store
from ._tables import RELATIONSHIPS, TABLES, Relationship

__all__ = ["TableRelations", "aggregate_of", "install_reads"]

Resolver = Callable[..., Any]
AGGREGATE = "_aggregate"


class TableRelations:
    """How rows of ``table`` reach their related rows in ``store``."""

    def __init__(self, store: Store, table: str) -> None:
        self.store = store
        self.table = table

    def __contains__(self, name: object) -> bool:
        return name in RELATIONSHIPS.get(self.table, {})

    def follow(self, row: Row, name: str) -> tuple[list[Row], Relations]:
        relationship = RELATIONSHIPS[self.table][name]
        return related_rows(self.store, row, relationship), TableRelations(
            self.store, relationship.table
        )


def related_rows(store: Store, row: Row, relationship: Relationship) -> list[Row]:
    if relationship.to_one:
        other = store.get(relationship.table, row.get(relationship.column))
        return [other] if other is not None else []
    return store.rows(relationship.table, **{relationship.column: row["id"]})


def _select(store: Store, table: str, rows: list[Row], arguments: Mapping[str, Any]) -> list[Row]:
    try:
        return apply_read_arguments(
            rows,
            where=arguments.get("where"),
            order_by=arguments.get("order_by"),
            limit=arguments.get("limit"),
            offset=arguments.get("offset"),
            relations=TableRelations(store, table),
        )
    except ValueError as err:
        raise APIError(str(err)) from err


def aggregate_of(rows: list[Row]) -> dict[str, Any]:
    """An ``<table>_aggregate`` value: its ``aggregate`` fields read the rows themselves."""
    return {"nodes": rows, "aggregate": rows}


def _count(
    rows: list[Row],
    info: GraphQLResolveInfo,
    columns: list[str] | None = None,
    distinct: bool | None = None,
) -> int:
    if not columns:
        return len(rows)
    present = [
        tuple(json.dumps(row.get(column), sort_keys=True) for column in columns)
        for row in rows
        if all(row.get(column) is not None for column in columns)
    ]
    return len(set(present)) if distinct else len(present)


def _table_reader(table: str, *, aggregate: bool = False) -> Resolver:
    def read(_: Any, info: GraphQLResolveInfo, **arguments: Any) -> Any:
        store = context_of(info).store
        rows = _select(store, table, store.rows(table), arguments)
        return aggregate_of(rows) if aggregate else rows

    return read


def _by_pk_reader(table: str) -> Resolver:
    def read(_: Any, info: GraphQLResolveInfo, id: str) -> Row | None:
        return context_of(info).store.get(table, id)

    return read


def _relationship_reader(relationship: Relationship, *, aggregate: bool = False) -> Resolver:
    def read(row: Row, info: GraphQLResolveInfo, **arguments: Any) -> Any:
        store = context_of(info).store
        rows = related_rows(store, row, relationship)
        if relationship.to_one:
            return rows[0] if rows else None
        selected = _select(store, relationship.table, rows, arguments)
        return aggregate_of(selected) if aggregate else selected

    return read


def install_reads(schema: GraphQLSchema) -> None:
    """Resolves the schema's read fields of every stored table."""
    root = schema.query_type
    assert root is not None
    for table in TABLES:
        readers = {
            table: _table_reader(table),
            f"{table}_by_pk": _by_pk_reader(table),
            f"{table}{AGGREGATE}": _table_reader(table, aggregate=True),
        }
        for name, reader in readers.items():
            if name in root.fields:
                root.fields[name].resolve = reader
        object_type = schema.type_map.get(table)
        if not isinstance(object_type, GraphQLObjectType):
            continue
        for name, relationship in RELATIONSHIPS.get(table, {}).items():
            object_type.fields[name].resolve = _relationship_reader(relationship)
            if f"{name}{AGGREGATE}" in object_type.fields:
                object_type.fields[f"{name}{AGGREGATE}"].resolve = _relationship_reader(
                    relationship, aggregate=True
                )
    for named_type in schema.type_map.values():
        if isinstance(named_type, GraphQLObjectType) and named_type.name.endswith(
            f"{AGGREGATE}_fields"
        ):
            named_type.fields["count"].resolve = _count
