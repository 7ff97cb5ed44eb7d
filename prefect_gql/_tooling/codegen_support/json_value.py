"""The type of the schema's ``JSON`` and ``jsonb`` scalars: any JSON value.

Type checkers read the recursive ``TypeAlias`` (mypy resolves it; its resolver does
not follow a recursive ``TypeAliasType``); pydantic reads the ``TypeAliasType``,
its supported spelling of a named recursive type.

``JSONAnswer`` is the same type for result models: an answer was parsed by a JSON
parser, so its JSON values are JSON by construction and are taken as parsed instead
of checked and copied again (that check was most of a typical answer's validation,
issue 16). Inputs keep ``JSONValue``: what a program passes is checked.
"""

from typing import TYPE_CHECKING, TypeAlias, Union

from pydantic import SkipValidation
from typing_extensions import TypeAliasType

if TYPE_CHECKING:
    JSONValue: TypeAlias = Union[  # noqa: UP007 - a string forward reference inside
        dict[str, "JSONValue"], list["JSONValue"], str, int, float, bool, None
    ]
    JSONAnswer: TypeAlias = JSONValue
else:
    JSONValue = TypeAliasType(
        "JSONValue",
        Union[dict[str, "JSONValue"], list["JSONValue"], str, int, float, bool, None],  # noqa: UP007
    )
    JSONAnswer = SkipValidation[JSONValue]
