"""Every generated model, by name: results, fragments, inputs and enums of the operations
in ``queries/``, so applications never import ``prefect_gql_generated`` themselves.

    from prefect_gql.types import GetFlowRunInfo, create_flow_run_input
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from prefect_gql_generated import *  # noqa: F403


def __getattr__(name: str) -> Any:
    import prefect_gql_generated  # noqa: PLC0415 - loaded on first use, like prefect_gql

    if name.startswith("_") or name not in prefect_gql_generated.__all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(prefect_gql_generated, name)


def __dir__() -> list[str]:
    import prefect_gql_generated  # noqa: PLC0415

    return sorted(prefect_gql_generated.__all__)
