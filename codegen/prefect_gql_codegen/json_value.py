"""The type of the schema's ``JSON`` and ``jsonb`` scalars: any JSON value."""

from typing_extensions import TypeAliasType

JSONValue = TypeAliasType(
    "JSONValue",
    dict[str, "JSONValue"] | list["JSONValue"] | str | int | float | bool | None,
)
