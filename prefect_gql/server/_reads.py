"""Hasura's read side for every stored table, generically.

For each table the store keeps, the schema's ``<table>``, ``<table>_by_pk`` and
``<table>_aggregate`` root fields and the relationship fields of its type
(``flow_run.task_runs(where: ...)``, ``task_run.task``, ``..._aggregate``) read
the caller's rows with SQL the store compiles from the field's arguments. An
aggregate counts (``count(columns, distinct)``, in SQL too) and lists ``nodes``;
its ``max``/``min``/... read as null.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from graphql import FieldNode, GraphQLObjectType, GraphQLResolveInfo, GraphQLSchema

from ._batches import COUNTED_AHEAD, MISSING, READ_AHEAD, Batches
from ._context import context_of
from ._errors import APIError
from ._query import ReadArguments
from ._store import Row, Store
from ._tables import RELATIONSHIPS, TABLES, Relationship

__all__ = ["StoredAggregate", "aggregate_of", "install_reads"]

Resolver = Callable[..., Any]
AGGREGATE = "_aggregate"


class StoredAggregate(Mapping[str, Any]):
    """An ``<table>_aggregate`` value of stored rows, read only as far as the query
    asks: its ``nodes`` are selected when read, and its ``aggregate`` (itself)
    counts in SQL without fetching the rows."""

    _FIELDS = ("nodes", "aggregate")

    def __init__(
        self,
        store: Store,
        table: str,
        arguments: ReadArguments,
        equal: Mapping[str, object],
        *,
        counted_ahead: tuple[Batches, FieldNode, Row] | None = None,
    ) -> None:
        """``counted_ahead``: where a relationship's aggregate finds its counts read
        ahead (``_batches``), its field node and the row it belongs to."""
        self.store = store
        self.table = table
        self.arguments = arguments
        self.equal = equal
        self.counted_ahead = counted_ahead

    def __getitem__(self, field: str) -> Any:
        if field == "nodes":
            return _select(self.store, self.table, self.arguments, self.equal)
        if field == "aggregate":
            return self
        raise KeyError(field)

    def __iter__(self) -> Iterator[str]:
        return iter(self._FIELDS)

    def __len__(self) -> int:
        return len(self._FIELDS)

    def count(self, columns: list[str] | None, distinct: bool) -> int:
        return self.store.count(
            self.table, self.arguments, columns=columns, distinct=distinct, equal=self.equal
        )


def _select(
    store: Store, table: str, arguments: ReadArguments, equal: Mapping[str, object]
) -> list[Row]:
    try:
        return store.select(table, arguments, **equal)
    except ValueError as err:
        raise APIError(str(err)) from err


def aggregate_of(rows: list[Row]) -> dict[str, Any]:
    """An ``<table>_aggregate`` value over rows in memory: its ``aggregate`` fields read
    the rows themselves."""
    return {"nodes": rows, "aggregate": rows}


def _count(
    rows: list[Row] | StoredAggregate,
    info: GraphQLResolveInfo,
    columns: list[str] | None = None,
    distinct: bool | None = None,
) -> int:
    if isinstance(rows, StoredAggregate):
        if rows.counted_ahead is not None:
            batches, aggregate, parent = rows.counted_ahead
            found = batches.counted(aggregate, info.field_nodes[0], parent)
            if found is not MISSING:
                return int(found)
        try:
            return rows.count(columns, bool(distinct))
        except ValueError as err:
            raise APIError(str(err)) from err
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
        if aggregate:
            return StoredAggregate(store, table, arguments, {})
        return _select(store, table, arguments, {})

    return read


def _by_pk_reader(table: str) -> Resolver:
    def read(_: Any, info: GraphQLResolveInfo, id: str) -> Row | None:
        return context_of(info).store.get(table, id)

    return read


def _relationship_reader(relationship: Relationship, *, aggregate: bool = False) -> Resolver:
    def read(row: Row, info: GraphQLResolveInfo, **arguments: Any) -> Any:
        ctx = context_of(info)
        if not aggregate:
            found = ctx.batches.take(info.field_nodes[0], row)
            if found is not MISSING:
                return found
        store = ctx.store
        if relationship.to_one:
            return store.get(relationship.table, row.get(relationship.column))
        equal = {relationship.column: row["id"]}
        if aggregate:
            return StoredAggregate(
                store,
                relationship.table,
                arguments,
                equal,
                counted_ahead=(ctx.batches, info.field_nodes[0], row),
            )
        return _select(store, relationship.table, arguments, equal)

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
            reader = _relationship_reader(relationship)
            READ_AHEAD.add(reader)
            object_type.fields[name].resolve = reader
            if f"{name}{AGGREGATE}" in object_type.fields:
                counter = _relationship_reader(relationship, aggregate=True)
                COUNTED_AHEAD.add(counter)
                object_type.fields[f"{name}{AGGREGATE}"].resolve = counter
    for named_type in schema.type_map.values():
        if isinstance(named_type, GraphQLObjectType) and named_type.name.endswith(
            f"{AGGREGATE}_fields"
        ):
            named_type.fields["count"].resolve = _count
