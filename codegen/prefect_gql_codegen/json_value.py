"""The type of the schema's ``JSON`` and ``jsonb`` scalars: any JSON value.

Type checkers read the recursive ``TypeAlias`` (mypy resolves it; its resolver does
not follow a recursive ``TypeAliasType``); pydantic reads the ``TypeAliasType``,
its supported spelling of a named recursive type.
"""

from typing import TYPE_CHECKING, TypeAlias, Union

from typing_extensions import TypeAliasType

if TYPE_CHECKING:
    JSONValue: TypeAlias = Union[  # noqa: UP007 - a string forward reference inside
        dict[str, "JSONValue"], list["JSONValue"], str, int, float, bool, None
    ]
else:
    JSONValue = TypeAliasType(
        "JSONValue",
        Union[dict[str, "JSONValue"], list["JSONValue"], str, int, float, bool, None],  # noqa: UP007
    )
