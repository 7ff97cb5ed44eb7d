"""How the server executes a document: graphql-core's execution within the query budget
(``_limits``), with a quicker way through lists of stored rows.

graphql-core completes every field of every row on its own (a resolver call, a
resolve info, argument values, completion), about 5 microseconds a field: a page of
1,000 logs with five columns spent most of its time there. A list whose rows are
mappings and whose selected fields are all plain columns (scalars or enums read
from the row, without arguments) or relationships read ahead (``_batches``, their
rows completed the same way) is completed here row by row in one loop instead, to
the same answer. Anything else, and any row this loop cannot complete exactly as
graphql-core would (a null in a non-null column, a value the scalar refuses, a
budget that would run out), goes graphql-core's way.
"""

from __future__ import annotations

from asyncio import gather
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
    get_named_type,
    located_error,
)
from graphql.pyutils import Path

from ._batches import MISSING, READ_AHEAD
from ._context import RequestContext
from ._limits import BudgetedExecutionContext
from ._schema import read_or_empty

__all__ = ["ServerExecutionContext"]

Column = tuple[str, str | None, Callable[[Any], Any] | None, bool]
"""A selected column: its response key, the row key it reads (None for
``__typename``), its serializer (None for ``__typename``) and whether it is non-null."""
Planned = tuple[str, list[FieldNode], Column | None]
"""A selected field: its response key, its nodes, and its column if it is a plain one."""
Quick = tuple[str, list[FieldNode], Column | None, GraphQLOutputType | None]
"""A field completed without graphql-core: its response key, its nodes, and its column
or, for a relationship read ahead, its type."""


class _NotPlainError(Exception):
    """A row the quick loop does not complete; graphql-core completes the list."""


class _OverBudgetError(Exception):
    """The quick loop reached a field past the query's budget: its node, and its path
    below the list being completed, innermost key first."""

    def __init__(self, node: FieldNode, keys: list[str | int]) -> None:
        super().__init__()
        self.node = node
        self.keys = keys


class ServerExecutionContext(BudgetedExecutionContext):
    """``BudgetedExecutionContext`` that reads plain columns straight from their rows."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plans: dict[int, tuple[Mapping[str, list[FieldNode]], list[Planned]]] = {}

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        fields: dict[str, list[FieldNode]],
    ) -> Any:
        """graphql-core's ``execute_fields``, with each plain column of a row read here."""
        results: dict[str, Any] = {}
        awaitable: list[str] = []
        row = source_value if isinstance(source_value, Mapping) else None
        for response_name, field_nodes, column in self._plan(parent_type, fields):
            if column is not None and row is not None:
                try:
                    value = _column_value(row, column, parent_type)
                except _NotPlainError:
                    pass
                else:
                    if self._spend(1):
                        results[response_name] = value
                        continue
            result = self.execute_field(
                parent_type, source_value, field_nodes, Path(path, response_name, parent_type.name)
            )
            if result is not Undefined:
                results[response_name] = result
                if self.is_awaitable(result):
                    awaitable.append(response_name)
        if not awaitable:
            return results

        async def gathered() -> dict[str, Any]:
            values = await gather(*(results[name] for name in awaitable))
            results.update(zip(awaitable, values, strict=True))
            return results

        return gathered()

    def complete_list_value(
        self,
        return_type: GraphQLList[GraphQLOutputType],
        field_nodes: list[FieldNode],
        info: GraphQLResolveInfo,
        path: Path,
        result: AsyncIterable[Any] | Iterable[Any],
    ) -> Any:
        if isinstance(result, list) and result:
            self._read_ahead(return_type.of_type, field_nodes, result)
            completed = self._complete_plain_rows(return_type.of_type, field_nodes, result, path)
            if completed is not None:
                return completed
        return super().complete_list_value(return_type, field_nodes, info, path, result)

    def _read_ahead(
        self, item_type: GraphQLOutputType, field_nodes: list[FieldNode], rows: list[Any]
    ) -> None:
        """Reads the relationship fields selected on ``rows`` level by level (``_batches``)."""
        object_type = get_named_type(item_type)
        context = self.context_value
        if not isinstance(object_type, GraphQLObjectType) or not isinstance(
            context, RequestContext
        ):
            return
        context.batches.prefetch(
            context.store,
            object_type,
            field_nodes,
            rows,
            collect_subfields=self.collect_subfields,
            variables=self.variable_values,
            rows_allowed=self._rows_allowed,
        )

    def _complete_plain_rows(
        self,
        item_type: GraphQLOutputType,
        field_nodes: list[FieldNode],
        rows: list[Any],
        path: Path,
    ) -> list[Any] | None:
        """The completed rows when every selected field is a plain column or a
        relationship read ahead (whose rows are completed the same way), or None when
        graphql-core must complete them. The budget is spent field by field in
        graphql-core's order, so a query that overruns it ends at the same field."""
        before = self._fields_left
        try:
            return self._rows_quickly(item_type, field_nodes, rows)
        except _NotPlainError:
            self._fields_left = before
            return None
        except _OverBudgetError as over:
            keys = [*path.as_list(), *reversed(over.keys)]
            error = self._budget_exceeded([over.node], path)
            raise located_error(error.original_error or error, [over.node], keys) from None

    def _rows_quickly(
        self, item_type: GraphQLOutputType, field_nodes: list[FieldNode], rows: list[Any]
    ) -> list[Any]:
        non_null_rows = isinstance(item_type, GraphQLNonNull)
        object_type = item_type.of_type if isinstance(item_type, GraphQLNonNull) else item_type
        if not isinstance(object_type, GraphQLObjectType) or object_type.is_type_of is not None:
            raise _NotPlainError
        plan = self._quick_plan(object_type, field_nodes)
        columns_only = all(related is None for _, _, _, related in plan)
        if columns_only and not self._spend(len(rows) * len(plan)):
            self._spend_row_by_row(plan, rows)
        columns = [column for _, _, column, _ in plan if column is not None]
        completed: list[Any] = []
        append = completed.append
        for index, row in enumerate(rows):
            if row is None:
                if non_null_rows:
                    raise _NotPlainError
                append(None)
            elif not isinstance(row, Mapping):
                raise _NotPlainError
            elif columns_only:
                append({column[0]: _column_value(row, column, object_type) for column in columns})
            else:
                try:
                    append(self._object_quickly(object_type, plan, row))
                except _OverBudgetError as over:
                    over.keys.append(index)
                    raise
        return completed

    def _spend_row_by_row(self, plan: list[Quick], rows: list[Any]) -> None:
        """Spends the budget on ``rows`` as graphql-core would (no field of a null row);
        ``_OverBudgetError`` at the first field past it (the first field of all once the
        deadline has passed)."""
        if self._deadline_passed():
            raise _OverBudgetError(plan[0][1][0], [plan[0][0], 0])
        left = self._fields_left or 0
        for index, row in enumerate(rows):
            if row is None:
                continue
            if left < len(plan):
                self._fields_left = -1
                response_name, nodes, _, _ = plan[left]
                raise _OverBudgetError(nodes[0], [response_name, index])
            left -= len(plan)
        self._fields_left = left

    def _object_quickly(
        self, object_type: GraphQLObjectType, plan: list[Quick], row: Mapping[str, Any]
    ) -> dict[str, Any]:
        context = self.context_value
        if not isinstance(context, RequestContext):
            raise _NotPlainError
        budgeted = self._fields_left is not None
        if budgeted and self._deadline_passed():
            raise _OverBudgetError(plan[0][1][0], [plan[0][0]])
        completed: dict[str, Any] = {}
        for response_name, nodes, column, related in plan:
            if self._fields_left is not None:
                self._fields_left -= 1
                if self._fields_left < 0:
                    raise _OverBudgetError(nodes[0], [response_name])
            if column is not None:
                completed[response_name] = _column_value(row, column, object_type)
                continue
            value = context.batches.take(nodes[0], row)
            field_type = related
            nullable = field_type.of_type if isinstance(field_type, GraphQLNonNull) else field_type
            if value is MISSING or (value is None and nullable is not field_type):
                raise _NotPlainError
            try:
                if value is None:
                    completed[response_name] = None
                elif isinstance(nullable, GraphQLList) and isinstance(value, list):
                    completed[response_name] = self._rows_quickly(nullable.of_type, nodes, value)
                elif isinstance(nullable, GraphQLObjectType) and isinstance(value, Mapping):
                    inner = self._quick_plan(nullable, nodes)
                    completed[response_name] = self._object_quickly(nullable, inner, value)
                else:
                    raise _NotPlainError
            except _OverBudgetError as over:
                over.keys.append(response_name)
                raise
        return completed

    def _quick_plan(
        self, object_type: GraphQLObjectType, field_nodes: list[FieldNode]
    ) -> list[Quick]:
        """The selected fields as plain columns or relationships read ahead;
        ``_NotPlainError`` when any is neither."""
        quick: list[Quick] = []
        for response_name, nodes, column in self._plan(
            object_type, self.collect_subfields(object_type, field_nodes)
        ):
            if column is not None:
                quick.append((response_name, nodes, column, None))
                continue
            field = object_type.fields.get(nodes[0].name.value)
            if field is None or field.resolve not in READ_AHEAD:
                raise _NotPlainError
            quick.append((response_name, nodes, None, field.type))
        return quick

    def _plan(
        self, parent_type: GraphQLObjectType, fields: Mapping[str, list[FieldNode]]
    ) -> list[Planned]:
        """Each selected field with its column, or None when it is not a plain column
        (kept per selection: collected fields live as long as the execution)."""
        found = self._plans.get(id(fields))
        if found is not None and found[0] is fields:
            return found[1]
        plan = [
            (response_name, nodes, _column(parent_type, response_name, nodes))
            for response_name, nodes in fields.items()
        ]
        self._plans[id(fields)] = (fields, plan)
        return plan


def _column(
    object_type: GraphQLObjectType, response_name: str, nodes: list[FieldNode]
) -> Column | None:
    """The field as a plain column: a scalar or enum the server reads from the row
    (``read_or_empty``), without arguments; None for any other field."""
    node = nodes[0]
    name = node.name.value
    if name == "__typename":
        return (response_name, None, None, True)
    field = object_type.fields.get(name)
    if field is None or node.arguments or field.resolve is not read_or_empty:
        return None
    field_type = field.type
    non_null = isinstance(field_type, GraphQLNonNull)
    leaf = field_type.of_type if isinstance(field_type, GraphQLNonNull) else field_type
    if not isinstance(leaf, GraphQLScalarType | GraphQLEnumType):
        return None
    return (response_name, name, leaf.serialize, non_null)


def _column_value(row: Mapping[str, Any], column: Column, object_type: GraphQLObjectType) -> Any:
    """The column's value in the answer; ``_NotPlainError`` when graphql-core must
    complete it (a null in a non-null column, a value the type refuses)."""
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
