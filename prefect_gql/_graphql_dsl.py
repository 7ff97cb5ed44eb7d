"""Prefect's dict DSL for GraphQL documents, and the attribute-access result it returns.

Code written for ``prefect.Client`` builds queries as nested Python values and reads the
answers by attribute::

    query = {"query": {with_args("flow_run", {"where": {"id": {"_eq": run_id}}}): {"id", "state"}}}
    result = client.graphql(query)
    result.data.flow_run[0].state

``parse_graphql`` turns such a document into GraphQL text, as
``prefect.utilities.graphql.parse_graphql`` did: a dict maps a field (a key, possibly
rendered by ``with_args``) to its selection; lists, tuples, sets and dict views list
fields; a string is GraphQL text used as is; a value of ``True`` or ``...`` marks a field
without a selection. ``with_args`` renders arguments as GraphQL literals. Prefect's own
``with_args`` strings, ``EnumValue``, ``LiteralSetValue`` and ``GQLObject`` instances work
here too, without importing Prefect.

Differences from Prefect, all where Prefect produced invalid GraphQL: a field with an
empty selection, a non-finite float, an argument value of an unsupported type or an
argument name that is not a GraphQL name raise ``InvalidInputError``;
``with_args(field, {})`` renders ``field`` instead of ``field()``; datetimes render as
ISO-8601 strings (a naive one is taken as UTC); string arguments are used verbatim, and
strings holding ``    }`` are not altered.

``GraphQLResult`` is the answer: a ``dict`` (``result["data"]``, ``json.dumps(result)``
and ``==`` with the plain answer work) whose keys are also attributes, recursively, as
Prefect's ``Box``-based ``GraphQLResult``.
"""

from __future__ import annotations

import json
import math
import re
import textwrap
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence, Set, ValuesView
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, SupportsIndex

from ._exceptions import InvalidInputError
from ._prefect_compat import defined_in_prefect
from ._times import naive_as_utc

__all__ = [
    "EnumValue",
    "GraphQLResult",
    "LiteralSetValue",
    "MissingFieldError",
    "parse_graphql",
    "with_args",
]

INDENT = "    "
_GRAPHQL_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]*\Z")


# -- values -------------------------------------------------------------------------------


@dataclass(frozen=True)
class EnumValue:
    """An argument rendered without quotes: an enum value such as ``EnumValue("desc")``.

    Like Prefect's, the text is not checked, so ``EnumValue("$id")`` refers to a variable.
    """

    value: str

    def __post_init__(self) -> None:
        if not isinstance(self.value, str):
            raise InvalidInputError(
                f"EnumValue takes a string, got {type(self.value).__name__}: {self.value!r}"
            )

    def __str__(self) -> str:
        return self.value


def LiteralSetValue(values: Iterable[str]) -> str:  # noqa: N802 - Prefect's name
    """Strings as a Postgres set literal, ``"{a, b, c}"``, for Hasura array filters.

    It is a plain string, so ``with_args`` quotes it, as Prefect's did.
    """
    if isinstance(values, str):
        raise InvalidInputError("LiteralSetValue takes a collection of strings, not one string")
    items = list(values)
    for item in items:
        if not isinstance(item, str):
            raise InvalidInputError(
                f"LiteralSetValue takes strings, got {type(item).__name__}: {item!r}"
            )
    return "{" + ", ".join(items) + "}"


def _enum_text(value: object) -> str | None:
    """The text of our ``EnumValue`` or Prefect's (``prefect.utilities.graphql``), else None."""
    if isinstance(value, EnumValue):
        return value.value
    if type(value).__name__ == "EnumValue" and defined_in_prefect(value):
        return str(value)
    return None


# -- documents ----------------------------------------------------------------------------


def parse_graphql(document: object) -> str:
    """GraphQL text for a document: a GraphQL string, or Prefect's dict DSL.

    A string is returned dedented and stripped. Raises ``InvalidInputError`` for what cannot
    be a field (``None``, numbers, classes) and for a field whose selection is empty.
    """
    if isinstance(document, str):
        return textwrap.dedent(document).strip()
    return "\n".join(_selection_lines(document, depth=0))


def _is_field_list(value: object) -> bool:
    return isinstance(value, Sequence | Set | ValuesView | Iterator) and not isinstance(
        value, str | bytes | bytearray
    )


def _marks_bare_field(value: object) -> bool:
    """``{"id": True}`` and ``{"id": ...}`` select ``id`` alone (Prefect also took ``1``)."""
    return value is Ellipsis or (isinstance(value, int | float) and value == 1)


def _text_lines(text: str, depth: int) -> list[str]:
    body = textwrap.dedent(text).strip()
    if not body:
        return []
    return [INDENT * depth + line if line.strip() else "" for line in body.splitlines()]


def _field_text(value: object) -> str:
    """A field (or key) as text: a string, or an object rendering itself (``GQLObject``)."""
    if isinstance(value, str):
        return value
    if isinstance(value, type):
        raise InvalidInputError(
            f"the GraphQL document holds the class {value.__name__!r}; "
            "did you mean an instance of it?"
        )
    if value is None or isinstance(value, bool | int | float | bytes | bytearray):
        raise InvalidInputError(
            f"{value!r} cannot be a GraphQL field; fields are strings (or dicts, lists and "
            "sets of them)"
        )
    return str(value)


def _selection_lines(document: object, depth: int) -> list[str]:
    if isinstance(document, Mapping):
        lines: list[str] = []
        for key, value in document.items():
            key_lines = _text_lines(_field_text(key), depth)
            if not key_lines:
                raise InvalidInputError("a GraphQL field name is empty")
            if _marks_bare_field(value):
                lines.extend(key_lines)
                continue
            selection = _selection_lines(value, depth + 1)
            if not selection:
                raise InvalidInputError(
                    f"the GraphQL field {key_lines[-1].strip()!r} has an empty selection"
                )
            key_lines[-1] += " {"
            lines.extend([*key_lines, *selection, INDENT * depth + "}"])
        return lines
    if _is_field_list(document):
        assert isinstance(document, Iterable)
        return [line for item in document for line in _selection_lines(item, depth)]
    return _text_lines(_field_text(document), depth)


# -- arguments ----------------------------------------------------------------------------


def with_args(field: object, arguments: object) -> str:
    """``field(name: value, ...)``: a field with its arguments rendered as GraphQL literals.

    ``arguments`` is a mapping of argument names to values (strings are quoted, ``True``
    is ``true``, ``None`` is ``null``, mappings are input objects, lists, tuples and sets
    are lists, ``EnumValue`` is unquoted, UUIDs and datetimes are strings) or a string of
    GraphQL argument text, used verbatim.
    """
    field_text = parse_graphql(field)
    if isinstance(arguments, str):
        return f"{field_text}({arguments.strip()})"
    if not isinstance(arguments, Mapping):
        raise InvalidInputError(
            "with_args takes the arguments as a dict (or GraphQL text), "
            f"got {type(arguments).__name__}"
        )
    if not arguments:
        return field_text
    return f"{field_text}({_object_fields(arguments, field_text)})"


def _argument_name(key: object, path: str) -> str:
    name = _enum_text(key)
    if name is None:
        if not isinstance(key, str):
            raise InvalidInputError(f"argument names must be strings; {path} has the key {key!r}")
        name = key
    if not _GRAPHQL_NAME.match(name):
        raise InvalidInputError(f"{name!r} in {path} is not a GraphQL name")
    return name


def _object_fields(arguments: Mapping[Any, Any], path: str) -> str:
    rendered = []
    for key, value in arguments.items():
        name = _argument_name(key, path)
        rendered.append(f"{name}: {_literal(value, f'{path}.{name}')}")
    return ", ".join(rendered)


def _literal(value: object, path: str) -> str:
    """One argument value as a GraphQL literal; ``path`` names it in errors."""
    enum_text = _enum_text(value)
    if enum_text is not None:
        return enum_text
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)  # a str-valued Enum member renders its value
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidInputError(f"{path} is {value!r}, which GraphQL cannot express")
        return repr(float(value))
    if isinstance(value, uuid.UUID):
        return json.dumps(str(value))
    if isinstance(value, datetime):
        return json.dumps(naive_as_utc(value).isoformat())
    if isinstance(value, date):
        return json.dumps(value.isoformat())
    if isinstance(value, Mapping):
        return "{ " + _object_fields(value, path) + " }" if value else "{}"
    if _is_field_list(value):
        assert isinstance(value, Iterable)
        items = [_literal(item, f"{path}[{index}]") for index, item in enumerate(value)]
        return "[" + ", ".join(items) + "]"
    raise InvalidInputError(
        f"{path} is a {type(value).__name__}, which has no GraphQL literal; use a string, "
        "number, bool, None, dict, list, UUID, datetime or EnumValue"
    )


# -- results ------------------------------------------------------------------------------


class MissingFieldError(AttributeError, KeyError):
    """A ``GraphQLResult`` has no such key; an ``AttributeError`` and a ``KeyError``.

    Both, as Prefect's ``Box`` raised, so ``hasattr`` and ``except KeyError`` keep working.
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def _wrapped(value: Any) -> Any:
    """Mappings as ``GraphQLResult`` and lists with their mappings wrapped; else unchanged."""
    if isinstance(value, GraphQLResult):
        return value
    if isinstance(value, Mapping):
        return GraphQLResult(value)
    if isinstance(value, list):
        return [_wrapped(item) for item in value]
    return value


def _unwrapped(value: Any) -> Any:
    if isinstance(value, GraphQLResult):
        return {key: _unwrapped(item) for key, item in dict.items(value)}
    if isinstance(value, list):
        return [_unwrapped(item) for item in value]
    return value


class GraphQLResult(dict[str, Any]):
    """A GraphQL answer: a ``dict`` whose keys are attributes too, at every depth.

    ``result.data.flow_run[0].id`` reads ``result["data"]["flow_run"][0]["id"]``: nested
    mappings become ``GraphQLResult`` and lists hold them. A missing key raises
    ``MissingFieldError`` naming it and the keys there are. Keys named like ``dict``
    methods (``items``, ``keys``...) are only reachable by subscript, as with Prefect.
    Setting an attribute sets the key. ``to_dict()`` gives plain dicts and lists back.
    """

    __slots__ = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()
        self.update(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        try:
            return self[name]
        except KeyError:
            raise MissingFieldError(self._missing(name)) from None

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value

    def __delattr__(self, name: str) -> None:
        try:
            del self[name]
        except KeyError:
            raise MissingFieldError(self._missing(name)) from None

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, _wrapped(value))

    def __dir__(self) -> Iterable[str]:
        return [*super().__dir__(), *(key for key in self if isinstance(key, str))]

    def _missing(self, name: str) -> str:
        keys = sorted(str(key) for key in self)
        shown = ", ".join(keys[:20]) + (", ..." if len(keys) > 20 else "")
        return f"the GraphQL result has no field {name!r} (its fields: {shown or 'none'})"

    def update(self, *args: Any, **kwargs: Any) -> None:
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def setdefault(self, key: str, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return self[key]

    def copy(self) -> GraphQLResult:
        """A shallow copy, still a ``GraphQLResult``."""
        return GraphQLResult(self)

    def to_dict(self) -> dict[str, Any]:
        """The answer as plain dicts and lists (as Prefect's ``Box.to_dict``)."""
        plain: dict[str, Any] = _unwrapped(self)
        return plain

    def to_json(self, **dumps_kwargs: Any) -> str:
        """``json.dumps`` of the answer."""
        return json.dumps(self, **dumps_kwargs)

    def __repr__(self) -> str:
        """Indented JSON, as Prefect's ``GraphQLResult`` printed."""
        try:
            return json.dumps(self, indent=4)
        except (TypeError, ValueError):
            return f"GraphQLResult({dict.__repr__(self)})"

    def __str__(self) -> str:
        return str(self.to_dict())

    def __reduce_ex__(self, protocol: SupportsIndex) -> tuple[Any, ...]:
        return (GraphQLResult, (self.to_dict(),))
