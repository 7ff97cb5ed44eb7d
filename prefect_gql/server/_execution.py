"""How the server executes a document: graphql-core's execution within the query budget
(``_limits``), with a quicker way through lists of stored rows.

graphql-core completes every field of every row on its own (a resolver call, a
resolve info, argument values, completion), about 5 microseconds a field: a page of
1,000 logs with five columns spent most of its time there. A list whose rows are
mappings and whose selected fields are all plain columns (scalars or enums read
from the row, without arguments) is completed here row by row in one loop instead,
to the same answer. Anything else, and any row this loop cannot complete exactly as
graphql-core would (a null in a non-null column, a value the scalar refuses, a
budget that would run out), goes graphql-core's way.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Callable, Iterable, Mapping
from typing import Any

from graphql import (
    FieldNode,
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLScalarType,
    Undefined,
)
from graphql.pyutils import Path

from ._limits import BudgetedExecutionContext
from ._schema import read_or_empty

__all__ = ["ServerExecutionContext"]

Column = tuple[str, str | None, Callable[[Any], Any] | None, bool]
"""A selected column: its response key, the row key it reads (None for
``__typename``), its serializer (None for ``__typename``) and whether it is non-null."""


class _NotPlainError(Exception):
    """A row the quick loop does not complete; graphql-core completes the list."""


class ServerExecutionContext(BudgetedExecutionContext):
    """``BudgetedExecutionContext`` that completes lists of plain rows in one loop."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._columns: dict[tuple[int, int], list[Column] | None] = {}

    def complete_list_value(
        self,
        return_type: GraphQLList[GraphQLOutputType],
        field_nodes: list[FieldNode],
        info: GraphQLResolveInfo,
        path: Path,
        result: AsyncIterable[Any] | Iterable[Any],
    ) -> Any:
        if isinstance(result, list) and result:
            completed = self._complete_plain_rows(return_type.of_type, field_nodes, result)
            if completed is not None:
                return completed
        return super().complete_list_value(return_type, field_nodes, info, path, result)

    def _complete_plain_rows(
        self, item_type: GraphQLOutputType, field_nodes: list[FieldNode], rows: list[Any]
    ) -> list[Any] | None:
        """The completed rows, or None when graphql-core must complete them."""
        non_null_rows = isinstance(item_type, GraphQLNonNull)
        object_type = item_type.of_type if isinstance(item_type, GraphQLNonNull) else item_type
        if not isinstance(object_type, GraphQLObjectType) or object_type.is_type_of is not None:
            return None
        columns = self._plain_columns(object_type, field_nodes)
        if columns is None or not self._spend(len(rows) * len(columns)):
            return None
        completed: list[Any] = []
        append = completed.append
        try:
            for row in rows:
                if row is None:
                    if non_null_rows:
                        raise _NotPlainError
                    append(None)
                    continue
                if not isinstance(row, Mapping):
                    raise _NotPlainError
                append({column[0]: _column_value(row, column, object_type) for column in columns})
        except _NotPlainError:
            self._refund(len(rows) * len(columns))
            return None
        return completed

    def _plain_columns(
        self, object_type: GraphQLObjectType, field_nodes: list[FieldNode]
    ) -> list[Column] | None:
        key = (id(object_type), id(field_nodes[0]) if len(field_nodes) == 1 else id(field_nodes))
        if len(field_nodes) != 1:
            return _columns_of(object_type, self.collect_subfields(object_type, field_nodes))
        if key not in self._columns:
            subfields = self.collect_subfields(object_type, field_nodes)
            self._columns[key] = _columns_of(object_type, subfields)
        return self._columns[key]


def _columns_of(
    object_type: GraphQLObjectType, subfields: Mapping[str, list[FieldNode]]
) -> list[Column] | None:
    """The selected fields as columns, or None when one of them is not a plain column."""
    columns: list[Column] = []
    for response_key, nodes in subfields.items():
        node = nodes[0]
        name = node.name.value
        if name == "__typename":
            columns.append((response_key, None, None, True))
            continue
        field = object_type.fields.get(name)
        if field is None or node.arguments or field.resolve is not read_or_empty:
            return None
        field_type = field.type
        non_null = isinstance(field_type, GraphQLNonNull)
        leaf = field_type.of_type if isinstance(field_type, GraphQLNonNull) else field_type
        if not isinstance(leaf, GraphQLScalarType | GraphQLEnumType):
            return None
        columns.append((response_key, name, leaf.serialize, non_null))
    return columns


def _column_value(row: Mapping[str, Any], column: Column, object_type: GraphQLObjectType) -> Any:
    _, name, serialize, non_null = column
    if name is None or serialize is None:
        return object_type.name
    value = row.get(name)
    if value is None:
        if non_null:
            raise _NotPlainError
        return None
    try:
        serialized = serialize(value)
    except Exception as err:
        raise _NotPlainError from err
    if serialized is None or serialized is Undefined:
        raise _NotPlainError
    return serialized
