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
        DEFAULT_MAX_CONNECTIONS as DEFAULT_MAX_CONNECTIONS,
        DEFAULT_MAX_RETRIES as DEFAULT_MAX_RETRIES,
        DEFAULT_TIMEOUT as DEFAULT_TIMEOUT,
        INITIAL_RETRY_DELAY as INITIAL_RETRY_DELAY,
        LOG_BATCH_SIZE as LOG_BATCH_SIZE,
        MAX_RESPONSE_BYTES as MAX_RESPONSE_BYTES,
        MAX_RETRY_AFTER as MAX_RETRY_AFTER,
        MAX_RETRY_DELAY as MAX_RETRY_DELAY,
        REGISTRATION_BATCH_SIZE as REGISTRATION_BATCH_SIZE,
    )
    from ._exceptions import (
        APIConnectionError as APIConnectionError,
        APIResponseError as APIResponseError,
        APIStatusError as APIStatusError,
        APITimeoutError as APITimeoutError,
        AuthenticationError as AuthenticationError,
        AuthorizationError as AuthorizationError,
        BadRequestError as BadRequestError,
        ClientError as ClientError,
        ConfigurationError as ConfigurationError,
        FlowRunTimeoutError as FlowRunTimeoutError,
        GraphQLErrorDetail as GraphQLErrorDetail,
        InvalidInputError as InvalidInputError,
        InvalidStateError as InvalidStateError,
        LogWriteError as LogWriteError,
        NotFoundError as NotFoundError,
        ObjectNotFoundError as ObjectNotFoundError,
        OperationFailedError as OperationFailedError,
        PrefectGQLError as PrefectGQLError,
        VersionLockError as VersionLockError,
        VersionLockMismatchSignal as VersionLockMismatchSignal,
    )
    from ._flow import (
        EdgeSpec as EdgeSpec,
        FlowSpec as FlowSpec,
        ParameterSpec as ParameterSpec,
        TaskSpec as TaskSpec,
        compress_flow as compress_flow,
        decompress_flow as decompress_flow,
    )
    from ._graphql_dsl import (
        EnumValue as EnumValue,
        GraphQLResult as GraphQLResult,
        LiteralSetValue as LiteralSetValue,
        parse_graphql as parse_graphql,
        with_args as with_args,
    )
    from ._models import (
        FlowRunInfo as FlowRunInfo,
        LogEntry as LogEntry,
        ProjectInfo as ProjectInfo,
        TaskRunInfo as TaskRunInfo,
        TenantInfo as TenantInfo,
    )
    from ._settings import (
        Settings as Settings,
        load_settings as load_settings,
    )
    from ._states import (
        AnyResult as AnyResult,
        AnyState as AnyState,
        AzureResult as AzureResult,
        Cached as Cached,
        Cancelled as Cancelled,
        Cancelling as Cancelling,
        ClientFailed as ClientFailed,
        ConstantResult as ConstantResult,
        CustomResult as CustomResult,
        Failed as Failed,
        Finished as Finished,
        GCSResult as GCSResult,
        LocalResult as LocalResult,
        Looped as Looped,
        Mapped as Mapped,
        NoResultType as NoResultType,
        Paused as Paused,
        Pending as Pending,
        PrefectResult as PrefectResult,
        Queued as Queued,
        Result as Result,
        ResultHandlerResult as ResultHandlerResult,
        Resume as Resume,
        Retrying as Retrying,
        Running as Running,
        S3Result as S3Result,
        SafeResult as SafeResult,
        Scheduled as Scheduled,
        SecretResult as SecretResult,
        Skipped as Skipped,
        State as State,
        Submitted as Submitted,
        Success as Success,
        TimedOut as TimedOut,
        TriggerFailed as TriggerFailed,
        ValidationFailed as ValidationFailed,
        parse_state as parse_state,
    )
    from ._version import (
        __version__ as __version__,
    )
    from ._views import (
        FlowRunEvent as FlowRunEvent,
        FlowRunSummary as FlowRunSummary,
        FlowRunView as FlowRunView,
        FlowSummary as FlowSummary,
        FlowView as FlowView,
        LogLine as LogLine,
        StateChange as StateChange,
        TaskRunProgress as TaskRunProgress,
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
        "ObjectNotFoundError",
        "OperationFailedError",
        "PrefectGQLError",
        "VersionLockError",
        "VersionLockMismatchSignal",
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
