"""prefect_gql: a typed client for the Prefect 1.x GraphQL API (Server and Cloud v1).

    from prefect_gql import Client, Running

    with Client("http://localhost:4200", backend="server") as client:
        run_id = client.create_flow_run(flow_id=...)
        info = client.get_flow_run_info(run_id)
        client.set_flow_run_state(run_id, Running(), version=info.version)

Names are imported on first use (PEP 562), so ``import prefect_gql`` and
``from prefect_gql import ClientError`` do not pay for httpx and pydantic.
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._async_client import (
        AsyncClient as AsyncClient,
    )
    from ._bundled import (
        schema_path as schema_path,
    )
    from ._client import (
        Client as Client,
    )
    from ._constants import (
        DEFAULT_CORE_VERSION as DEFAULT_CORE_VERSION,
        DEFAULT_DEADLINE as DEFAULT_DEADLINE,
    )
    from ._constants import (
        DEFAULT_MAX_CONNECTIONS as DEFAULT_MAX_CONNECTIONS,
    )
    from ._constants import (
        DEFAULT_MAX_RETRIES as DEFAULT_MAX_RETRIES,
    )
    from ._constants import (
        DEFAULT_TIMEOUT as DEFAULT_TIMEOUT,
    )
    from ._constants import (
        INITIAL_RETRY_DELAY as INITIAL_RETRY_DELAY,
    )
    from ._constants import (
        LOG_BATCH_SIZE as LOG_BATCH_SIZE,
        MAX_RESPONSE_BYTES as MAX_RESPONSE_BYTES,
    )
    from ._constants import (
        MAX_RETRY_AFTER as MAX_RETRY_AFTER,
    )
    from ._constants import (
        MAX_RETRY_DELAY as MAX_RETRY_DELAY,
    )
    from ._constants import (
        REGISTRATION_BATCH_SIZE as REGISTRATION_BATCH_SIZE,
    )
    from ._exceptions import (
        APIConnectionError as APIConnectionError,
    )
    from ._exceptions import (
        APIResponseError as APIResponseError,
    )
    from ._exceptions import (
        APIStatusError as APIStatusError,
    )
    from ._exceptions import (
        APITimeoutError as APITimeoutError,
    )
    from ._exceptions import (
        AuthenticationError as AuthenticationError,
    )
    from ._exceptions import (
        AuthorizationError as AuthorizationError,
    )
    from ._exceptions import (
        BadRequestError as BadRequestError,
    )
    from ._exceptions import (
        ClientError as ClientError,
    )
    from ._exceptions import (
        ConfigurationError as ConfigurationError,
    )
    from ._exceptions import (
        FlowRunTimeoutError as FlowRunTimeoutError,
    )
    from ._exceptions import (
        GraphQLErrorDetail as GraphQLErrorDetail,
    )
    from ._exceptions import (
        InvalidInputError as InvalidInputError,
    )
    from ._exceptions import (
        InvalidStateError as InvalidStateError,
    )
    from ._exceptions import (
        LogWriteError as LogWriteError,
    )
    from ._exceptions import (
        NotFoundError as NotFoundError,
    )
    from ._exceptions import (
        OperationFailedError as OperationFailedError,
    )
    from ._exceptions import (
        PrefectGQLError as PrefectGQLError,
    )
    from ._exceptions import (
        VersionLockError as VersionLockError,
    )
    from ._flow import (
        EdgeSpec as EdgeSpec,
    )
    from ._flow import (
        FlowSpec as FlowSpec,
    )
    from ._flow import (
        ParameterSpec as ParameterSpec,
    )
    from ._flow import (
        TaskSpec as TaskSpec,
    )
    from ._flow import (
        compress_flow as compress_flow,
    )
    from ._flow import (
        decompress_flow as decompress_flow,
    )
    from ._graphql_dsl import (
        EnumValue as EnumValue,
    )
    from ._graphql_dsl import (
        GraphQLResult as GraphQLResult,
    )
    from ._graphql_dsl import (
        LiteralSetValue as LiteralSetValue,
    )
    from ._graphql_dsl import (
        parse_graphql as parse_graphql,
    )
    from ._graphql_dsl import (
        with_args as with_args,
    )
    from ._models import (
        FlowRunInfo as FlowRunInfo,
    )
    from ._models import (
        LogEntry as LogEntry,
    )
    from ._models import (
        ProjectInfo as ProjectInfo,
    )
    from ._models import (
        TaskRunInfo as TaskRunInfo,
    )
    from ._models import (
        TenantInfo as TenantInfo,
    )
    from ._settings import (
        Settings as Settings,
    )
    from ._settings import (
        load_settings as load_settings,
    )
    from ._states import (
        AnyResult as AnyResult,
    )
    from ._states import (
        AnyState as AnyState,
    )
    from ._states import (
        AzureResult as AzureResult,
    )
    from ._states import (
        Cached as Cached,
    )
    from ._states import (
        Cancelled as Cancelled,
    )
    from ._states import (
        Cancelling as Cancelling,
    )
    from ._states import (
        ClientFailed as ClientFailed,
    )
    from ._states import (
        ConstantResult as ConstantResult,
    )
    from ._states import (
        CustomResult as CustomResult,
    )
    from ._states import (
        Failed as Failed,
    )
    from ._states import (
        Finished as Finished,
    )
    from ._states import (
        GCSResult as GCSResult,
    )
    from ._states import (
        LocalResult as LocalResult,
    )
    from ._states import (
        Looped as Looped,
    )
    from ._states import (
        Mapped as Mapped,
    )
    from ._states import (
        NoResultType as NoResultType,
    )
    from ._states import (
        Paused as Paused,
    )
    from ._states import (
        Pending as Pending,
    )
    from ._states import (
        PrefectResult as PrefectResult,
    )
    from ._states import (
        Queued as Queued,
    )
    from ._states import (
        Result as Result,
    )
    from ._states import (
        ResultHandlerResult as ResultHandlerResult,
    )
    from ._states import (
        Resume as Resume,
    )
    from ._states import (
        Retrying as Retrying,
    )
    from ._states import (
        Running as Running,
    )
    from ._states import (
        S3Result as S3Result,
    )
    from ._states import (
        SafeResult as SafeResult,
    )
    from ._states import (
        Scheduled as Scheduled,
    )
    from ._states import (
        SecretResult as SecretResult,
    )
    from ._states import (
        Skipped as Skipped,
    )
    from ._states import (
        State as State,
    )
    from ._states import (
        Submitted as Submitted,
    )
    from ._states import (
        Success as Success,
    )
    from ._states import (
        TimedOut as TimedOut,
    )
    from ._states import (
        TriggerFailed as TriggerFailed,
    )
    from ._states import (
        ValidationFailed as ValidationFailed,
    )
    from ._states import (
        parse_state as parse_state,
    )
    from ._version import (
        __version__ as __version__,
    )
    from ._views import (
        FlowRunEvent as FlowRunEvent,
    )
    from ._views import (
        FlowRunSummary as FlowRunSummary,
    )
    from ._views import (
        FlowRunView as FlowRunView,
    )
    from ._views import (
        FlowSummary as FlowSummary,
    )
    from ._views import (
        FlowView as FlowView,
    )
    from ._views import (
        LogLine as LogLine,
    )
    from ._views import (
        StateChange as StateChange,
    )
    from ._views import (
        TaskRunProgress as TaskRunProgress,
    )
    from ._views import (
        TaskRunView as TaskRunView,
    )

# Module -> the public names it defines; the TYPE_CHECKING imports above say the same
# for type checkers (tests/test_surface.py checks that the two agree).
_EXPORTS: dict[str, tuple[str, ...]] = {
    "._async_client": ("AsyncClient",),
    "._bundled": ("schema_path",),
    "._client": ("Client",),
    "._constants": (
        "DEFAULT_CORE_VERSION",
        "DEFAULT_DEADLINE",
        "DEFAULT_MAX_CONNECTIONS",
        "DEFAULT_MAX_RETRIES",
        "DEFAULT_TIMEOUT",
        "INITIAL_RETRY_DELAY",
        "LOG_BATCH_SIZE",
        "MAX_RESPONSE_BYTES",
        "MAX_RETRY_AFTER",
        "MAX_RETRY_DELAY",
        "REGISTRATION_BATCH_SIZE",
    ),
    "._exceptions": (
        "APIConnectionError",
        "APIResponseError",
        "APIStatusError",
        "APITimeoutError",
        "AuthenticationError",
        "AuthorizationError",
        "BadRequestError",
        "ClientError",
        "ConfigurationError",
        "FlowRunTimeoutError",
        "GraphQLErrorDetail",
        "InvalidInputError",
        "InvalidStateError",
        "LogWriteError",
        "NotFoundError",
        "OperationFailedError",
        "PrefectGQLError",
        "VersionLockError",
    ),
    "._flow": (
        "EdgeSpec",
        "FlowSpec",
        "ParameterSpec",
        "TaskSpec",
        "compress_flow",
        "decompress_flow",
    ),
    "._graphql_dsl": (
        "EnumValue",
        "GraphQLResult",
        "LiteralSetValue",
        "parse_graphql",
        "with_args",
    ),
    "._models": (
        "FlowRunInfo",
        "LogEntry",
        "ProjectInfo",
        "TaskRunInfo",
        "TenantInfo",
    ),
    "._settings": (
        "Settings",
        "load_settings",
    ),
    "._states": (
        "AnyResult",
        "AnyState",
        "AzureResult",
        "Cached",
        "Cancelled",
        "Cancelling",
        "ClientFailed",
        "ConstantResult",
        "CustomResult",
        "Failed",
        "Finished",
        "GCSResult",
        "LocalResult",
        "Looped",
        "Mapped",
        "NoResultType",
        "Paused",
        "Pending",
        "PrefectResult",
        "Queued",
        "Result",
        "ResultHandlerResult",
        "Resume",
        "Retrying",
        "Running",
        "S3Result",
        "SafeResult",
        "Scheduled",
        "SecretResult",
        "Skipped",
        "State",
        "Submitted",
        "Success",
        "TimedOut",
        "TriggerFailed",
        "ValidationFailed",
        "parse_state",
    ),
    "._version": ("__version__",),
    "._views": (
        "FlowRunEvent",
        "FlowRunSummary",
        "FlowRunView",
        "FlowSummary",
        "FlowView",
        "LogLine",
        "StateChange",
        "TaskRunProgress",
        "TaskRunView",
    ),
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = sorted(_MODULE_OF)  # noqa: PLE0605 - checked against the imports by a test


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
