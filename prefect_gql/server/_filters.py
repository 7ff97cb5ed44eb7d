"""Hasura's read arguments over plain rows: ``where``, ``order_by``, ``limit``, ``offset``.

Comparison operators: ``_eq _neq _in _nin _gt _gte _lt _lte _is_null``, combined with
``_and _or _not``; several keys in one object all have to hold. A filter on a
relationship (a nested object under a name that is not a column) is applied to the
related row(s) through ``relations``. Timestamps are stored in one ISO form, so
they order correctly as strings.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from ._store import Row

__all__ = ["Related", "apply_read_arguments", "matches"]


class Related(Protocol):
    """Rows related to a row through a relationship name (and how to follow theirs)."""

    def __call__(self, row: Row, name: str) -> tuple[list[Row], Related] | None: ...


_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "_eq": lambda value, operand: value == operand,
    "_neq": lambda value, operand: value != operand,
    "_in": lambda value, operand: value in operand,
    "_nin": lambda value, operand: value not in operand,
    "_gt": lambda value, operand: value is not None and value > operand,
    "_gte": lambda value, operand: value is not None and value >= operand,
    "_lt": lambda value, operand: value is not None and value < operand,
    "_lte": lambda value, operand: value is not None and value <= operand,
    "_is_null": lambda value, operand: (value is None) == bool(operand),
}


def _compare(value: Any, condition: Mapping[str, Any]) -> bool:
    for operator, operand in condition.items():
        check = _COMPARISONS.get(operator)
        if check is None:
            raise ValueError(f"unsupported filter operator {operator}")
        if operand is None and operator != "_is_null":
            continue
        try:
            if not check(value, operand):
                return False
        except TypeError:
            return False
    return True


def matches(row: Row, where: Mapping[str, Any] | None, related: Related | None = None) -> bool:
    return not where or all(
        _holds(row, key, condition, related) for key, condition in where.items()
    )


def _holds(row: Row, key: str, condition: Any, related: Related | None) -> bool:
    if key == "_and":
        return all(matches(row, part, related) for part in condition or [])
    if key == "_or":
        return not condition or any(matches(row, part, related) for part in condition)
    if key == "_not":
        return not (condition and matches(row, condition, related))
    if condition and all(name.startswith("_") for name in condition):
        return _compare(row.get(key), condition)
    found = related(row, key) if related is not None else None
    if found is None:
        raise ValueError(f"cannot filter on {key!r}")
    others, their_related = found
    return any(matches(other, condition, their_related) for other in others)


def _order_key(row: Row, column: str) -> tuple[bool, Any]:
    value = row.get(column)
    return (value is None, value)


def apply_read_arguments(
    rows: list[Row],
    *,
    where: Mapping[str, Any] | None = None,
    order_by: Sequence[Mapping[str, str]] | Mapping[str, str] | None = None,
    limit: int | None = None,
    offset: int | None = None,
    related: Related | None = None,
) -> list[Row]:
    selected = [row for row in rows if matches(row, where, related)]
    orderings = [order_by] if isinstance(order_by, Mapping) else list(order_by or [])
    for ordering in reversed(orderings):
        for column, direction in reversed(list(ordering.items())):
            if not isinstance(direction, str):
                continue
            selected.sort(
                key=functools.partial(_order_key, column=column),
                reverse=direction.startswith("desc"),
            )
    start = offset or 0
    return selected[start : start + limit if limit is not None else None]
