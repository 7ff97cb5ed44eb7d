"""Every generated model, by name: results, fragments, inputs and enums of the operations
in ``queries/``, and the JSON types of their fields (``JSONValue``, ``JSONAnswer``).

    from prefect_gql.types import GetFlowRunInfo, create_flow_run_input
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._generated import *  # noqa: F403
    from ._generated.json_value import (
        JSONAnswer as JSONAnswer,  # noqa: PLC0414 - re-exported
        JSONValue as JSONValue,  # noqa: PLC0414 - re-exported
    )

_JSON_TYPES = ("JSONAnswer", "JSONValue")


def __getattr__(name: str) -> Any:
    from . import _generated  # noqa: PLC0415 - loaded on first use, like prefect_gql

    if name in _JSON_TYPES:
        from ._generated import json_value  # noqa: PLC0415

        return getattr(json_value, name)
    if name.startswith("_") or name not in _generated.__all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(_generated, name)


def __dir__() -> list[str]:
    from . import _generated  # noqa: PLC0415

    return sorted([*_generated.__all__, *_JSON_TYPES])
