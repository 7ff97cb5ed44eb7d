# ruff: noqa: S608  (SQL text is built only from the names in _tables; values are bound)
"""Hasura's read arguments compiled to SQL over the store's tables.

The same rules as ``_filters`` (which applies them to rows in memory), so that a
read costs what its indexes make it cost instead of a scan of the table:
``_eq _neq _in _nin _gt _gte _lt _lte _is_null`` and the text operators (matched by
``_filters.text_matches``, which the store's connections know as the SQL function
``TEXT_MATCH_FUNCTION``) combined with ``_and _or _not``; a comparison with a
``null`` operand is ignored; a key naming a relationship
filters through the related row(s); ``order_by`` takes Hasura's six directions,
columns of related rows and ``<relationship>_aggregate: {count: ...}``; rows that
order equal stay in insertion order. Every condition compiles to an expression
that is 0 or 1, never NULL, so ``_not`` negates it as Python's ``not`` would.
A column the table does not keep reads as NULL. Rows of related tables are seen
through the same tenant scope as the rows read.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping, Sequence
from typing import Any

from ._filters import DIRECTIONS, TEXT_OPERATORS, check_distinct_on, order_terms, text_pattern
from ._tables import COLUMNS, NOT_NULL, RELATIONSHIPS, Relationship

__all__ = [
    "BATCH_KEY",
    "SELECTED",
    "TEXT_MATCH_FUNCTION",
    "ReadArguments",
    "compile_count",
    "compile_related",
    "compile_related_count",
    "compile_select",
    "quote",
    "scope_condition",
]

ReadArguments = Mapping[str, Any]
"""``where``, ``order_by``, ``limit`` and ``offset`` as a GraphQL field received them."""

_RANGES = {"_gt": ">", "_gte": ">=", "_lt": "<", "_lte": "<="}
_OPERATORS = frozenset({"_eq", "_neq", "_in", "_nin", "_is_null", *_RANGES, *TEXT_OPERATORS})
TEXT_MATCH_FUNCTION = "hasura_text_match"
"""``hasura_text_match(operator, value, pattern)``: 1 when ``value`` matches, else 0."""
_AGGREGATE = "_aggregate"


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


SELECTED = {
    table: ", ".join(f"t0.{quote(name)}" for name in columns) for table, columns in COLUMNS.items()
}
"""``table -> its columns as a SELECT lists them``, in ``COLUMNS`` order."""


def scope_condition(table: str, alias: str, tenant_id: str | None) -> tuple[str, dict[str, Any]]:
    """The condition that keeps ``alias``'s rows to one tenant's (and shared) rows."""
    if tenant_id is None:
        return "1", {}
    if table == "tenant":
        return f"{alias}.id = :scope", {"scope": tenant_id}
    return f"({alias}.tenant_id IS NULL OR {alias}.tenant_id = :scope)", {"scope": tenant_id}


class _Compiler:
    def __init__(self, tenant_id: str | None) -> None:
        self.tenant_id = tenant_id
        self.parameters: dict[str, Any] = {}
        self._aliases = itertools.count(1)
        self._names = itertools.count()

    def alias(self) -> str:
        return f"t{next(self._aliases)}"

    def bind(self, value: Any) -> str:
        name = f"p{next(self._names)}"
        self.parameters[name] = value
        return f":{name}"

    def visible(self, table: str, alias: str) -> str:
        condition, parameters = scope_condition(table, alias, self.tenant_id)
        self.parameters.update(parameters)
        return condition

    def column(self, table: str, alias: str, name: str) -> str:
        return f"{alias}.{quote(name)}" if name in COLUMNS[table] else "NULL"

    def operand(self, table: str, name: str, value: Any) -> str:
        """A bound operand in the form ``name``'s values are kept in."""
        kind = COLUMNS[table].get(name, "value")
        if kind == "json" or isinstance(value, Mapping | list):
            return self.bind(json.dumps(value))
        return self.bind(value)

    # -- where --------------------------------------------------------------------------

    def where(self, table: str, alias: str, where: Mapping[str, Any] | None) -> str:
        if not where:
            return "1"
        return _all([self._holds(table, alias, key, condition) for key, condition in where.items()])

    def _holds(self, table: str, alias: str, key: str, condition: Any) -> str:
        if key == "_and":
            return _all([self.where(table, alias, part) for part in condition or []])
        if key == "_or":
            if not condition:
                return "1"
            return "(" + " OR ".join(self.where(table, alias, part) for part in condition) + ")"
        if key == "_not":
            return "1" if condition is None else f"NOT {self.where(table, alias, condition)}"
        if condition is None:
            return "1"
        relationship = RELATIONSHIPS.get(table, {}).get(key)
        if relationship is not None:
            other = self.alias()
            inner = _all(
                [
                    _joined(relationship, alias, other),
                    self.visible(relationship.table, other),
                    self.where(relationship.table, other, condition),
                ]
            )
            return f"EXISTS (SELECT 1 FROM {quote(relationship.table)} AS {other} WHERE {inner})"
        if not all(name.startswith("_") for name in condition):
            raise ValueError(f"cannot filter on {key!r}")
        return self._compare(table, alias, key, condition)

    def _compare(self, table: str, alias: str, name: str, condition: Mapping[str, Any]) -> str:
        column = self.column(table, alias, name)
        parts: list[str] = []
        for operator, operand in condition.items():
            if operator not in _OPERATORS:
                raise ValueError(f"unsupported filter operator {operator}")
            if operand is None:
                continue
            if operator == "_eq":
                parts.append(f"({column} IS {self.operand(table, name, operand)})")
            elif operator == "_neq":
                parts.append(f"({column} IS NOT {self.operand(table, name, operand)})")
            elif operator in ("_in", "_nin"):
                parts.append(self._membership(table, column, name, operand, operator == "_in"))
            elif operator == "_is_null":
                parts.append(f"({column} IS {'' if operand else 'NOT '}NULL)")
            elif operator in TEXT_OPERATORS:
                parts.append(self._text(column, operator, operand))
            else:
                parts.append(self._range(table, column, name, _RANGES[operator], operand))
        return _all(parts)

    def _text(self, column: str, operator: str, operand: Any) -> str:
        if not isinstance(operand, str):
            raise ValueError(f"{operator} takes a text pattern")
        text_pattern(operator, operand)
        return f"{TEXT_MATCH_FUNCTION}({self.bind(operator)}, {column}, {self.bind(operand)})"

    def _membership(self, table: str, column: str, name: str, operand: Any, inside: bool) -> str:
        values = list(operand) if isinstance(operand, list | tuple) else [operand]
        present = ", ".join(
            self.operand(table, name, value) for value in values if value is not None
        )
        found = f"(COALESCE({column} IN ({present}), 0)"
        if None in values:
            found += f" OR {column} IS NULL"
        found += ")"
        return found if inside else f"NOT {found}"

    def _range(self, table: str, column: str, name: str, sign: str, operand: Any) -> str:
        """Like Python's comparison: values of different kinds (a number and a string)
        are never in order, and NULL is in no order."""
        bound = self.operand(table, name, operand)
        if COLUMNS[table].get(name) == "json":
            same_kind = "1"
        elif isinstance(operand, str):
            same_kind = f"typeof({column}) = 'text'"
        elif isinstance(operand, int | float):
            same_kind = f"typeof({column}) IN ('integer', 'real')"
        else:
            return "0"
        return f"(COALESCE({column} {sign} {bound}, 0) AND {same_kind})"

    # -- order_by -----------------------------------------------------------------------

    def order(
        self, table: str, alias: str, order_by: Any, distinct_on: Sequence[str] = ()
    ) -> list[str]:
        orderings = [order_by] if isinstance(order_by, Mapping) else list(order_by or [])
        listed = [term for ordering in orderings for term in order_terms(ordering)]
        check_distinct_on(distinct_on, listed)
        terms: list[str] = []
        for path, direction in listed:
            if direction not in DIRECTIONS:
                raise ValueError(f"unsupported order_by direction {direction}")
            descending, nulls_first = DIRECTIONS[direction]
            expression, never_null = self._order_value(table, alias, path)
            term = f"{expression} {'DESC' if descending else 'ASC'}"
            if not never_null and nulls_first == descending:
                term += " NULLS FIRST" if nulls_first else " NULLS LAST"
            terms.append(term)
        return terms

    def _order_value(self, table: str, alias: str, path: tuple[str, ...]) -> tuple[str, bool]:
        """The expression a row orders by at ``path``, and whether it is never NULL."""
        name, rest = path[0], path[1:]
        if not rest:
            return self.column(table, alias, name), name in NOT_NULL[table]
        relationships = RELATIONSHIPS.get(table, {})
        if name.endswith(_AGGREGATE) and rest == ("count",):
            counted = name.removesuffix(_AGGREGATE)
            if counted not in relationships:
                raise ValueError(f"cannot order by {counted!r}")
            relationship = relationships[counted]
            other = self.alias()
            inner = _all(
                [_joined(relationship, alias, other), self.visible(relationship.table, other)]
            )
            return (
                f"(SELECT COUNT(*) FROM {quote(relationship.table)} AS {other} WHERE {inner})",
                True,
            )
        if name not in relationships:
            raise ValueError(f"cannot order by {'.'.join(path)!r}")
        relationship = relationships[name]
        other = self.alias()
        value, _ = self._order_value(relationship.table, other, rest)
        inner = _all([_joined(relationship, alias, other), self.visible(relationship.table, other)])
        return (
            f"(SELECT {value} FROM {quote(relationship.table)} AS {other} WHERE {inner}"
            f" ORDER BY {other}.seq LIMIT 1)",
            False,
        )

    # -- whole statements ---------------------------------------------------------------

    def rows_query(
        self,
        table: str,
        selected: str,
        arguments: ReadArguments,
        equal: Mapping[str, Any],
        *,
        ordered: bool = True,
    ) -> str:
        limit, offset = arguments.get("limit"), arguments.get("offset")
        if (limit is not None and limit < 0) or (offset is not None and offset < 0):
            raise ValueError("limit and offset must not be negative")
        conditions = [self.visible(table, "t0")]
        conditions += [
            f"{self.column(table, 't0', name)} IS {self.operand(table, name, value)}"
            for name, value in equal.items()
        ]
        conditions.append(self.where(table, "t0", arguments.get("where")))
        distinct = _distinct_columns(arguments.get("distinct_on"))
        paged = limit is not None or offset is not None
        ordering = ""
        if ordered or paged or distinct:
            ordering = ", ".join(
                [*self.order(table, "t0", arguments.get("order_by"), distinct), "t0.seq"]
            )
        sql = f"SELECT {selected} FROM {quote(table)} AS t0 WHERE {_all(conditions)}"
        if distinct:
            sql = self._distinct(table, selected, distinct, ordering, _all(conditions))
            ordering = "t0.position" if ordered or paged else ""
        if ordering:
            sql += f" ORDER BY {ordering}"
        if paged:
            sql += f" LIMIT {self.bind(-1 if limit is None else limit)}"
            sql += f" OFFSET {self.bind(offset or 0)}"
        return sql

    def _distinct(
        self, table: str, selected: str, distinct: Sequence[str], ordering: str, condition: str
    ) -> str:
        """Postgres's ``DISTINCT ON``: of each combination of the ``distinct`` columns,
        the first row in ``ordering``; ``t0.position`` is a row's place in that order."""
        partition = ", ".join(self.column(table, "t0", name) for name in distinct)
        inner = (
            f"SELECT t0.*, ROW_NUMBER() OVER (PARTITION BY {partition} ORDER BY {ordering})"
            f" AS first_of_kind, ROW_NUMBER() OVER (ORDER BY {ordering}) AS position"
            f" FROM {quote(table)} AS t0 WHERE {condition}"
        )
        return f"SELECT {selected} FROM ({inner}) AS t0 WHERE t0.first_of_kind = 1"


def _distinct_columns(distinct_on: Any) -> list[str]:
    if distinct_on is None:
        return []
    return [distinct_on] if isinstance(distinct_on, str) else list(dict.fromkeys(distinct_on))


def _all(conditions: Sequence[str]) -> str:
    kept = [condition for condition in conditions if condition != "1"]
    if not kept:
        return "1"
    return kept[0] if len(kept) == 1 else "(" + " AND ".join(kept) + ")"


def _joined(relationship: Relationship, alias: str, other: str) -> str:
    column = quote(relationship.column)
    if relationship.to_one:
        return f"{other}.id = {alias}.{column}"
    return f"{other}.{column} = {alias}.id"


def compile_select(
    table: str,
    tenant_id: str | None,
    arguments: ReadArguments,
    equal: Mapping[str, Any],
) -> tuple[str, dict[str, Any]]:
    """SQL for the rows a ``<table>(where, order_by, limit, offset)`` read returns
    (their columns in ``COLUMNS`` order), among those whose columns equal ``equal``.

    Raises ``ValueError`` for an operator, column or ordering it cannot apply.
    """
    compiler = _Compiler(tenant_id)
    return compiler.rows_query(table, SELECTED[table], arguments, equal), compiler.parameters


BATCH_KEY = "batch_key"
"""The column of ``compile_related``'s rows that names the row each belongs to."""


def compile_related(
    relationship: Relationship,
    tenant_id: str | None,
    arguments: ReadArguments,
    keys: Sequence[Any],
    max_rows: int,
) -> tuple[str, dict[str, Any]]:
    """SQL for the rows a relationship field reads for many rows at once: the rows of
    ``relationship.table`` whose ``id`` (to one) or ``relationship.column`` (to many)
    is among ``keys``, each with its key as ``BATCH_KEY`` after the table's columns.
    A to-many read takes its ``where``, ``order_by``, ``limit`` and ``offset`` for each
    key's rows on their own; at most ``max_rows`` rows in all.

    Raises ``ValueError`` as ``compile_select`` does.
    """
    compiler = _Compiler(tenant_id)
    table = relationship.table
    key = "id" if relationship.to_one else relationship.column
    key_column = compiler.column(table, "t0", key)
    limit, offset = arguments.get("limit"), arguments.get("offset")
    if (limit is not None and limit < 0) or (offset is not None and offset < 0):
        raise ValueError("limit and offset must not be negative")
    conditions = [
        compiler.visible(table, "t0"),
        f"{key_column} IN (SELECT value FROM json_each({compiler.bind(json.dumps(list(keys)))}))",
        compiler.where(table, "t0", arguments.get("where")),
    ]
    ordering = ", ".join([*compiler.order(table, "t0", arguments.get("order_by")), "t0.seq"])
    selected = f"{SELECTED[table]}, {key_column} AS {BATCH_KEY}"
    if limit is None and not offset:
        sql = (
            f"SELECT {selected} FROM {quote(table)} AS t0 WHERE {_all(conditions)}"
            f" ORDER BY {ordering}"
        )
    else:
        first = offset or 0
        last = "" if limit is None else f" AND t0.place <= {compiler.bind(first + limit)}"
        inner = (
            f"SELECT t0.*, ROW_NUMBER() OVER (PARTITION BY {key_column} ORDER BY {ordering})"
            f" AS place FROM {quote(table)} AS t0 WHERE {_all(conditions)}"
        )
        sql = (
            f"SELECT {selected} FROM ({inner}) AS t0 WHERE t0.place > {compiler.bind(first)}"
            f"{last} ORDER BY t0.place"
        )
    return f"{sql} LIMIT {compiler.bind(max_rows)}", compiler.parameters


def compile_related_count(
    relationship: Relationship,
    tenant_id: str | None,
    arguments: ReadArguments,
    keys: Sequence[Any],
    columns: Sequence[str] | None,
    distinct: bool,
) -> tuple[str, dict[str, Any]]:
    """SQL for an array relationship's ``<field>_aggregate { aggregate { count } }`` of
    many rows at once: ``(key, count)`` for each key among ``keys`` that has rows
    (``relationship.column`` = key), counted as ``compile_count`` counts. The
    arguments must not page (no ``limit``, ``offset`` or ``distinct_on``)."""
    compiler = _Compiler(tenant_id)
    table = relationship.table
    key_column = compiler.column(table, "t0", relationship.column)
    names = list(columns or [])
    listed = "".join(
        f", {compiler.column(table, 't0', name)} AS c{index}" for index, name in enumerate(names)
    )
    conditions = [
        compiler.visible(table, "t0"),
        f"{key_column} IN (SELECT value FROM json_each({compiler.bind(json.dumps(list(keys)))}))",
        compiler.where(table, "t0", arguments.get("where")),
    ]
    inner = (
        f"SELECT {key_column} AS {BATCH_KEY}{listed} FROM {quote(table)} AS t0"
        f" WHERE {_all(conditions)}"
    )
    if names:
        present = " AND ".join(f"c{index} IS NOT NULL" for index in range(len(names)))
        kept = ", ".join(f"c{index}" for index in range(len(names)))
        inner = (
            f"SELECT {'DISTINCT ' if distinct else ''}{BATCH_KEY}, {kept} FROM ({inner})"
            f" WHERE {present}"
        )
    sql = f"SELECT {BATCH_KEY}, COUNT(*) FROM ({inner}) GROUP BY {BATCH_KEY}"
    return sql, compiler.parameters


def compile_count(
    table: str,
    tenant_id: str | None,
    arguments: ReadArguments,
    equal: Mapping[str, Any],
    columns: Sequence[str] | None,
    distinct: bool,
) -> tuple[str, dict[str, Any]]:
    """SQL for an aggregate's ``count(columns, distinct)`` over the rows that read
    selects: every row, else those where all ``columns`` are set (distinct: the
    different combinations of their values)."""
    compiler = _Compiler(tenant_id)
    names = list(columns or [])
    selected = ", ".join(
        f"{compiler.column(table, 't0', name)} AS c{index}" for index, name in enumerate(names)
    )
    inner = compiler.rows_query(table, selected or "1", arguments, equal, ordered=False)
    if not names:
        return f"SELECT COUNT(*) FROM ({inner})", compiler.parameters
    present = " AND ".join(f"c{index} IS NOT NULL" for index in range(len(names)))
    listed = ", ".join(f"c{index}" for index in range(len(names)))
    counted = f"SELECT {'DISTINCT ' if distinct else ''}{listed} FROM ({inner}) WHERE {present}"
    return f"SELECT COUNT(*) FROM ({counted})", compiler.parameters
