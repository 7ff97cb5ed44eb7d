"""Hasura's read arguments over rows in memory: ``where``, ``order_by``, ``limit``, ``offset``.

For rows the server makes up rather than stores (the local user); stored tables
are read with the same rules compiled to SQL (``_query``). Comparison operators:
``_eq _neq _in _nin _gt _gte _lt _lte _is_null`` and Postgres's text matching
(``TEXT_OPERATORS``: ``_like _ilike _similar _regex _iregex`` and their ``_n``
negations, which hold only for text: a null column matches neither way), combined
with ``_and _or _not``;
the keys of one object must all hold. A key naming a relationship filters through
the related row(s) (any of them, for an array relationship). As in Hasura 1.x,
which the Prefect 0.12 client was written against, and as Prefect Server's Hasura 2.x
runs (``HASURA_GRAPHQL_V1_BOOLEAN_NULL_COLLAPSE``), a comparison with a ``null``
operand is ignored (true), so ``{cache_key: {_eq: null}}`` does not narrow and the
Prefect UI's ``{name: {_ilike: null}}`` (nothing typed in its search box) lists all.
``order_by`` takes Hasura's six directions (``asc`` puts nulls last, ``desc``
first), columns of to-one related rows, and ``<relationship>_aggregate: {count:
...}``. Timestamps are stored in one ISO form, so they compare and sort correctly
as strings.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import lru_cache
from typing import Any, Protocol

from ._tables import Row

__all__ = [
    "DIRECTIONS",
    "TEXT_OPERATORS",
    "Relations",
    "apply_read_arguments",
    "check_distinct_on",
    "matches",
    "order_terms",
    "text_matches",
    "text_pattern",
]


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

TEXT_OPERATORS = frozenset(
    {"_like", "_nlike", "_ilike", "_nilike", "_similar", "_nsimilar",
     "_regex", "_nregex", "_iregex", "_niregex"}
)  # fmt: skip
"""Hasura's text comparisons: Postgres ``LIKE``, ``ILIKE``, ``SIMILAR TO``, ``~``, ``~*``,
each with its negation (``_n...``)."""
_SIMILAR_SPECIAL = frozenset("|*+?{}()[]")


def _like_regex(pattern: str, *, similar: bool) -> str:
    """A ``LIKE`` (or ``SIMILAR TO``) pattern as a Python regex matching the whole text:
    ``%`` any run of characters, ``_`` any one, a backslash takes the next character
    as itself; ``SIMILAR TO`` keeps ``| * + ? {m,n} ( ) [...]`` as regex operators."""
    parts: list[str] = []
    escaped = False
    in_brackets = False
    for char in pattern:
        if escaped:
            parts.append(re.escape(char))
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_brackets:
            parts.append(re.escape(char) if char in "[&~|" else char)
            in_brackets = char != "]"
        elif char == "%":
            parts.append(".*")
        elif char == "_":
            parts.append(".")
        elif similar and char in _SIMILAR_SPECIAL:
            parts.append(char)
            in_brackets = char == "["
        else:
            parts.append(re.escape(char))
    if escaped:
        raise ValueError(f"the pattern {pattern!r} ends with an escape character")
    return "".join(parts)


@lru_cache(maxsize=256)
def text_pattern(operator: str, pattern: str) -> re.Pattern[str]:
    """The compiled form of a text operator's pattern (the operator with or without
    its ``n``). Raises ``ValueError`` for a pattern Postgres would refuse."""
    base = operator.replace("_n", "_", 1) if operator.startswith("_n") else operator
    flags = re.DOTALL | (re.IGNORECASE if base in ("_ilike", "_iregex") else 0)
    if base in ("_regex", "_iregex"):
        source = pattern
    else:
        source = "(?:" + _like_regex(pattern, similar=base == "_similar") + r")\Z"
    try:
        with warnings.catch_warnings(action="ignore", category=FutureWarning):
            return re.compile(source, flags)
    except re.error as err:
        raise ValueError(f"invalid pattern {pattern!r} for {operator}: {err}") from err


def text_matches(operator: str, value: object, pattern: str) -> bool:
    """Whether ``value`` satisfies ``{operator: pattern}``; never for a value that is not
    text (a null column matches neither an operator nor its negation)."""
    if not isinstance(value, str):
        return False
    compiled = text_pattern(operator, pattern)
    found = compiled.search(value) if operator.endswith("regex") else compiled.match(value)
    return (found is None) if operator.startswith("_n") else (found is not None)


def _text_check(operator: str) -> Callable[[Any, Any], bool]:
    return lambda value, operand: text_matches(operator, value, _text_operand(operator, operand))


def _text_operand(operator: str, operand: Any) -> str:
    if not isinstance(operand, str):
        raise ValueError(f"{operator} takes a text pattern")
    return operand


_COMPARISONS.update({operator: _text_check(operator) for operator in TEXT_OPERATORS})
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


def check_distinct_on(distinct_on: Sequence[str], terms: Sequence[tuple[Any, Any]]) -> None:
    """Hasura's (and Postgres's) rule for ``distinct_on``: when there is an ``order_by``,
    its first terms are the ``distinct_on`` columns, in any order. Raises ``ValueError``."""
    if not terms:
        return
    leading = [path for path, _ in terms[: len(distinct_on)]]
    if sorted(leading) != sorted((column,) for column in distinct_on):
        raise ValueError('"distinct_on" columns must match initial "order_by" columns')


def _distinct_columns(distinct_on: Sequence[str] | str | None) -> list[str]:
    if distinct_on is None:
        return []
    return [distinct_on] if isinstance(distinct_on, str) else list(dict.fromkeys(distinct_on))


def apply_read_arguments(
    rows: list[Row],
    *,
    distinct_on: Sequence[str] | str | None = None,
    where: Mapping[str, Any] | None = None,
    order_by: Sequence[Mapping[str, Any]] | Mapping[str, Any] | None = None,
    limit: int | None = None,
    offset: int | None = None,
    relations: Relations | None = None,
) -> list[Row]:
    """The rows a Hasura ``<table>(distinct_on, where, order_by, limit, offset)`` read
    returns: with ``distinct_on``, the first row (in ``order_by`` order) of each
    combination of those columns.

    Raises ``ValueError`` for an operator, column or ordering it cannot apply.
    """
    if (limit is not None and limit < 0) or (offset is not None and offset < 0):
        raise ValueError("limit and offset must not be negative")
    selected = [row for row in rows if matches(row, where, relations)]
    orderings = [order_by] if isinstance(order_by, Mapping) else list(order_by or [])
    terms = [term for ordering in orderings for term in order_terms(ordering)]
    distinct = _distinct_columns(distinct_on)
    check_distinct_on(distinct, terms)
    for path, direction in reversed(terms):
        selected = _ordered(selected, path, direction, relations)
    if distinct:
        seen: set[str] = set()
        firsts = []
        for row in selected:
            key = json.dumps([row.get(column) for column in distinct], sort_keys=True)
            if key not in seen:
                seen.add(key)
                firsts.append(row)
        selected = firsts
    start = offset or 0
    return selected[start : None if limit is None else start + limit]
