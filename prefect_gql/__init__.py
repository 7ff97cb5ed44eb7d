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
    from ._async.client import (
        AsyncClient as AsyncClient,
    )
    from ._bundled import (
        schema_path as schema_path,
    )
    from ._config.settings import (
        Settings as Settings,
        load_settings as load_settings,
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
    from ._model.flow import (
        EdgeSpec as EdgeSpec,
        FlowSpec as FlowSpec,
        ParameterSpec as ParameterSpec,
        TaskSpec as TaskSpec,
        compress_flow as compress_flow,
        decompress_flow as decompress_flow,
    )
    from ._model.graphql_dsl import (
        EnumValue as EnumValue,
        GraphQLResult as GraphQLResult,
        LiteralSetValue as LiteralSetValue,
        parse_graphql as parse_graphql,
        with_args as with_args,
    )
    from ._model.results import (
        FlowRunInfo as FlowRunInfo,
        LogEntry as LogEntry,
        ProjectInfo as ProjectInfo,
        TaskRunInfo as TaskRunInfo,
        TenantInfo as TenantInfo,
    )
    from ._model.states import (
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
    from ._model.views import (
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
    from ._sync.client import (
        Client as Client,
    )
    from ._version import (
        __version__ as __version__,
    )


def _public_names() -> dict[str, str]:
    """Each public name -> its module, read from the ``TYPE_CHECKING`` imports above: the
    one list of exports, so no name is listed twice. Read on first use, not at import."""
    global _MODULE_OF  # noqa: PLW0603 - filled once, on first use
    if _MODULE_OF is None:
        import re  # noqa: PLC0415

        with open(__file__, encoding="utf-8") as source:
            text = source.read().split("\ndef _public_names", 1)[0]
        _MODULE_OF = {
            name: module
            for module, names in re.findall(r"from (\.[\w.]*) import \(([^)]*)\)", text)
            for name in re.findall(r"(\w+) as \1\b", names)
        }
    return _MODULE_OF


_MODULE_OF: dict[str, str] | None = None


def __getattr__(name: str) -> Any:
    if name == "__all__":
        return sorted(_public_names())
    module = _public_names().get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(_public_names())
