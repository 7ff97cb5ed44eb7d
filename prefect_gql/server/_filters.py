"""Hasura's read arguments over rows in memory: ``where``, ``order_by``, ``limit``, ``offset``.

For rows the server makes up rather than stores (the local user); stored tables
are read with the same rules compiled to SQL (``_query``). Comparison operators:
``_eq _neq _in _nin _gt _gte _lt _lte _is_null``, combined with ``_and _or _not``;
the keys of one object must all hold. A key naming a relationship filters through
the related row(s) (any of them, for an array relationship). As in Hasura 1.x,
which the Prefect 0.12 client was written against, a comparison with a ``null``
operand is ignored (true), so ``{cache_key: {_eq: null}}`` does not narrow.
``order_by`` takes Hasura's six directions (``asc`` puts nulls last, ``desc``
first), columns of to-one related rows, and ``<relationship>_aggregate: {count:
...}``. Timestamps are stored in one ISO form, so they compare and sort correctly
as strings.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Protocol

from ._tables import Row

__all__ = ["DIRECTIONS", "Relations", "apply_read_arguments", "matches", "order_terms"]


class Relations(Protocol):
    """How the rows of one table reach their related rows."""

    def __contains__(self, name: object) -> bool: ...

    def follow(self, row: Row, name: str) -> tuple[list[Row], Relations]: ...


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
_LOGICAL = ("_and", "_or", "_not")
_AGGREGATE = "_aggregate"


def _compare(value: Any, condition: Mapping[str, Any]) -> bool:
    for operator, operand in condition.items():
        check = _COMPARISONS.get(operator)
        if check is None:
            raise ValueError(f"unsupported filter operator {operator}")
        if operand is None:
            continue
        try:
            if not check(value, operand):
                return False
        except TypeError:
            return False
    return True


def matches(row: Row, where: Mapping[str, Any] | None, relations: Relations | None = None) -> bool:
    """Whether ``row`` satisfies a Hasura ``where`` (``<table>_bool_exp``)."""
    return not where or all(
        _holds(row, key, condition, relations) for key, condition in where.items()
    )


def _holds(row: Row, key: str, condition: Any, relations: Relations | None) -> bool:
    if key == "_and":
        return all(matches(row, part, relations) for part in condition or [])
    if key == "_or":
        return not condition or any(matches(row, part, relations) for part in condition)
    if key == "_not":
        return condition is None or not matches(row, condition, relations)
    if condition is None:
        return True
    if relations is not None and key in relations:
        others, their_relations = relations.follow(row, key)
        return any(matches(other, condition, their_relations) for other in others)
    if not all(name.startswith("_") for name in condition):
        raise ValueError(f"cannot filter on {key!r}")
    return _compare(row.get(key), condition)


DIRECTIONS = {
    "asc": (False, False),
    "asc_nulls_first": (False, True),
    "asc_nulls_last": (False, False),
    "desc": (True, True),
    "desc_nulls_first": (True, True),
    "desc_nulls_last": (True, False),
}
"""``order_by`` value -> (descending, nulls first)."""


def order_terms(ordering: Mapping[str, Any], path: tuple[str, ...] = ()) -> Iterator[Any]:
    for name, direction in ordering.items():
        if isinstance(direction, Mapping):
            yield from order_terms(direction, (*path, name))
        elif direction is not None:
            yield (*path, name), direction


def _order_value(row: Row, path: tuple[str, ...], relations: Relations | None) -> Any:
    name, rest = path[0], path[1:]
    if not rest:
        return row.get(name)
    if name.endswith(_AGGREGATE) and rest == ("count",):
        name = name.removesuffix(_AGGREGATE)
        if relations is None or name not in relations:
            raise ValueError(f"cannot order by {name!r}")
        return len(relations.follow(row, name)[0])
    if relations is None or name not in relations:
        raise ValueError(f"cannot order by {'.'.join(path)!r}")
    others, their_relations = relations.follow(row, name)
    return _order_value(others[0], rest, their_relations) if others else None


def _sort_key(value: Any) -> tuple[int, Any]:
    """Values of one column sort by their natural order; JSON values by their text."""
    if isinstance(value, int | float):
        return (0, value)
    if isinstance(value, str):
        return (1, value)
    return (2, json.dumps(value, sort_keys=True))


def _ordered(
    rows: list[Row], path: tuple[str, ...], direction: str, relations: Relations | None
) -> list[Row]:
    if direction not in DIRECTIONS:
        raise ValueError(f"unsupported order_by direction {direction}")
    descending, nulls_first = DIRECTIONS[direction]
    keyed = [(_order_value(row, path, relations), row) for row in rows]
    nulls = [row for value, row in keyed if value is None]
    values = sorted(
        ((value, row) for value, row in keyed if value is not None),
        key=lambda pair: _sort_key(pair[0]),
        reverse=descending,
    )
    present = [row for _, row in values]
    return nulls + present if nulls_first else present + nulls


def apply_read_arguments(
    rows: list[Row],
    *,
    where: Mapping[str, Any] | None = None,
    order_by: Sequence[Mapping[str, Any]] | Mapping[str, Any] | None = None,
    limit: int | None = None,
    offset: int | None = None,
    relations: Relations | None = None,
) -> list[Row]:
    """The rows a Hasura ``<table>(where, order_by, limit, offset)`` read returns.

    Raises ``ValueError`` for an operator, column or ordering it cannot apply.
    """
    if (limit is not None and limit < 0) or (offset is not None and offset < 0):
        raise ValueError("limit and offset must not be negative")
    selected = [row for row in rows if matches(row, where, relations)]
    orderings = [order_by] if isinstance(order_by, Mapping) else list(order_by or [])
    terms = [term for ordering in orderings for term in order_terms(ordering)]
    for path, direction in reversed(terms):
        selected = _ordered(selected, path, direction, relations)
    start = offset or 0
    return selected[start : None if limit is None else start + limit]
