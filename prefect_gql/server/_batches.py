"""Relationship fields read per level of a query, not per row.

graphql-core resolves ``flow_run { flow { project } task_runs { state } }`` row by
row: each flow run's ``flow`` and ``task_runs`` would be a statement of its own, so a
page of 1,000 runs cost thousands of statements. When the executor completes a list
of stored rows, ``prefetch`` reads each relationship field the query selects on them
for all those rows in one statement (``Store.select_related``), then the fields
selected on what it read, level by level. The relationship resolvers (``_reads``)
take their rows from here.

A level is read ahead only while the query's field budget could answer it: a batch
that would bring more rows than the fields left to resolve is not read, and the
rows resolve one by one until the budget stops the query, as before.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from graphql import (
    FieldNode,
    GraphQLField,
    GraphQLObjectType,
    get_argument_values,
    get_named_type,
)

from ._store import Row, Store
from ._tables import RELATIONSHIPS, Relationship

__all__ = ["COUNTED_AHEAD", "MISSING", "READ_AHEAD", "Batches"]

MISSING: Any = object()
"""What ``Batches.take`` returns for a field it has not read ahead."""
READ_AHEAD: set[Callable[..., Any]] = set()
"""The relationship resolvers that take their values from ``Batches``: only the fields
they resolve are read ahead."""
COUNTED_AHEAD: set[Callable[..., Any]] = set()
"""The ``<relationship>_aggregate`` resolvers whose ``aggregate { count }`` takes its
value from ``Batches``."""
AGGREGATE = "_aggregate"

CollectSubfields = Callable[[GraphQLObjectType, list[FieldNode]], dict[str, list[FieldNode]]]
_Key = tuple[int, int]
_CountKey = tuple[int, int, int]


class Batches:
    """A request's relationship values read ahead: per field node and row."""

    def __init__(self) -> None:
        self._values: dict[_Key, tuple[Mapping[str, Any], Any]] = {}
        self._counts: dict[_CountKey, tuple[Mapping[str, Any], int]] = {}

    def counted(self, aggregate: FieldNode, count: FieldNode, row: Mapping[str, Any]) -> Any:
        """The ``count`` (node) of the aggregate field ``aggregate`` on ``row``, counted
        ahead, else ``MISSING``."""
        found = self._counts.get((id(aggregate), id(count), id(row)))
        if found is None or found[0] is not row:
            return MISSING
        return found[1]

    def take(self, node: FieldNode, row: Mapping[str, Any]) -> Any:
        """The value read ahead for ``node`` on ``row``, else ``MISSING``."""
        found = self._values.get((id(node), id(row)))
        if found is None or found[0] is not row:
            return MISSING
        return found[1]

    def prefetch(
        self,
        store: Store,
        object_type: GraphQLObjectType,
        field_nodes: list[FieldNode],
        rows: Sequence[Any],
        *,
        collect_subfields: CollectSubfields,
        variables: dict[str, Any],
        rows_allowed: Callable[[int], int],
    ) -> None:
        """Reads ahead, for ``rows`` of ``object_type``, every relationship field the
        query selects on them, and what it selects on those, one statement a field
        and level. ``rows_allowed(fields_per_row)`` is how many rows the budget could
        still answer."""
        relationships = RELATIONSHIPS.get(object_type.name)
        stored = [row for row in rows if isinstance(row, Mapping)]
        if not relationships or not stored:
            return
        for nodes in collect_subfields(object_type, field_nodes).values():
            node = nodes[0]
            relationship = relationships.get(node.name.value)
            field = object_type.fields.get(node.name.value)
            if field is not None and field.resolve in COUNTED_AHEAD:
                counted = relationships.get(node.name.value.removesuffix(AGGREGATE))
                if counted is not None:
                    self._count(store, counted, field, nodes, stored, collect_subfields, variables)
                continue
            if relationship is None or field is None or field.resolve not in READ_AHEAD:
                continue
            pending = [row for row in stored if (id(node), id(row)) not in self._values]
            child_type = get_named_type(field.type)
            if not pending or not isinstance(child_type, GraphQLObjectType):
                continue
            arguments = get_argument_values(field, node, variables)
            if arguments.get("distinct_on"):
                continue
            fields_per_row = max(1, len(collect_subfields(child_type, nodes)))
            children = self._read(
                store, relationship, arguments, node, pending, rows_allowed(fields_per_row)
            )
            if children:
                self.prefetch(
                    store,
                    child_type,
                    nodes,
                    children,
                    collect_subfields=collect_subfields,
                    variables=variables,
                    rows_allowed=rows_allowed,
                )

    def _read(
        self,
        store: Store,
        relationship: Relationship,
        arguments: dict[str, Any],
        node: FieldNode,
        rows: list[Mapping[str, Any]],
        max_rows: int,
    ) -> list[Row]:
        """Reads one field for ``rows`` and keeps each row's value; returns the rows read
        (none when they would not fit in ``max_rows`` or the arguments cannot apply:
        the resolvers then read, or refuse, row by row)."""
        own_key = relationship.column if relationship.to_one else "id"
        keys = [key for key in dict.fromkeys(row.get(own_key) for row in rows) if key is not None]
        found: list[tuple[Any, Row]] | None = []
        if keys:
            try:
                found = store.select_related(relationship, arguments, keys, max_rows)
            except ValueError:
                return []
        if found is None:
            return []
        grouped: dict[Any, list[Row]] = {}
        for key, child in found:
            grouped.setdefault(key, []).append(child)
        for row in rows:
            children = grouped.get(row.get(own_key), [])
            value: Any = (children[0] if children else None) if relationship.to_one else children
            self._values[(id(node), id(row))] = (row, value)
        return [child for _, child in found]

    def _count(
        self,
        store: Store,
        relationship: Relationship,
        field: GraphQLField,
        nodes: list[FieldNode],
        rows: list[Mapping[str, Any]],
        collect_subfields: CollectSubfields,
        variables: dict[str, Any],
    ) -> None:
        """Counts ahead each ``aggregate { count }`` selected on an aggregate field of
        ``rows``, one statement a ``count``; not for paged aggregates, which count per row."""
        node = nodes[0]
        arguments = get_argument_values(field, node, variables)
        aggregate_type = get_named_type(field.type)
        if any(arguments.get(name) is not None for name in ("limit", "offset", "distinct_on")):
            return
        if not isinstance(aggregate_type, GraphQLObjectType):
            return
        for aggregate_nodes in collect_subfields(aggregate_type, nodes).values():
            aggregate_field = aggregate_type.fields.get(aggregate_nodes[0].name.value)
            fields_type = get_named_type(aggregate_field.type) if aggregate_field else None
            if aggregate_nodes[0].name.value != "aggregate" or not isinstance(
                fields_type, GraphQLObjectType
            ):
                continue
            for count_nodes in collect_subfields(fields_type, aggregate_nodes).values():
                count = count_nodes[0]
                if count.name.value != "count":
                    continue
                pending = [
                    row for row in rows if (id(node), id(count), id(row)) not in self._counts
                ]
                keys = [row.get("id") for row in pending if row.get("id") is not None]
                if not keys:
                    continue
                options = get_argument_values(fields_type.fields["count"], count, variables)
                try:
                    counts = store.count_related(
                        relationship,
                        arguments,
                        keys,
                        columns=options.get("columns"),
                        distinct=bool(options.get("distinct")),
                    )
                except ValueError:
                    continue
                for row in pending:
                    self._counts[(id(node), id(count), id(row))] = (
                        row,
                        counts.get(row.get("id"), 0),
                    )
