"""Base classes of the generated operation classes.

ariadne-codegen copies this file into every generated package (prefect_gql's own
and an application's, made by ``prefect-gql generate``). The generated classes only
describe operations (document, name, variables, result model); sending is delegated to a
*transport*: anything with ``execute_operation(query, operation_name, variables, **options)``
answering the ``data`` (``OperationTransport``; awaited for ``AsyncOperations``). A
``prefect_gql.Client`` / ``AsyncClient`` is one, so ``Operations(client)`` runs each
operation with that client's auth, tenant header, token refresh, retries, timeouts and
error tree; the clients themselves pass their own transport.

A result that does not match its model raises ``prefect_gql.APIResponseError``, never
pydantic's ``ValidationError``. Optional variables the caller left out (ariadne-codegen's
``UNSET``) are not sent, so the operation's own defaults apply.
"""

from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, ValidationError

ResultT = TypeVar("ResultT", bound=BaseModel)


class OperationTransport(Protocol):
    """What ``Operations`` sends through (a ``prefect_gql.Client``, or its transport):
    ``execute_operation(query, operation_name, variables, **options)``."""

    @property
    def execute_operation(self) -> Callable[..., dict[str, Any]]: ...


class AsyncOperationTransport(Protocol):
    """What ``AsyncOperations`` sends through (a ``prefect_gql.AsyncClient``, or its
    transport): ``await execute_operation(query, operation_name, variables, **options)``."""

    @property
    def execute_operation(self) -> Callable[..., Awaitable[dict[str, Any]]]: ...


def sent_variables(variables: dict[str, Any]) -> dict[str, Any]:
    """``variables`` without the ones left ``UNSET`` (the generated ``base_model.UnsetType``).

    By the class name: this file is copied next to ``base_model.py`` into each generated
    package, and cannot import it where it is written.
    """
    return {name: value for name, value in variables.items() if type(value).__name__ != "UnsetType"}


def validate_result(model: type[ResultT], data: dict[str, Any]) -> ResultT:
    """``data`` as ``model``; an answer of another shape is the API's fault, not the caller's."""
    try:
        return model.model_validate(data)
    except ValidationError as err:
        from prefect_gql._exceptions import APIResponseError  # noqa: PLC0415 - error path only

        raise APIResponseError.from_validation_error(model.__name__, err) from err


class BaseOperations:
    def __init__(self, transport: OperationTransport) -> None:
        self.transport = transport

    def execute(
        self, query: str, operation_name: str, variables: dict[str, Any], **kwargs: Any
    ) -> dict[str, Any]:
        """``kwargs``: the per-call options given to the operation (``headers``, ``token``)."""
        return self.transport.execute_operation(
            query, operation_name, sent_variables(variables), **kwargs
        )

    def get_data(self, data: dict[str, Any]) -> dict[str, Any]:
        return data


class AsyncBaseOperations:
    def __init__(self, transport: AsyncOperationTransport) -> None:
        self.transport = transport

    async def execute(
        self, query: str, operation_name: str, variables: dict[str, Any], **kwargs: Any
    ) -> dict[str, Any]:
        """``kwargs``: the per-call options given to the operation (``headers``, ``token``)."""
        return await self.transport.execute_operation(
            query, operation_name, sent_variables(variables), **kwargs
        )

    def get_data(self, data: dict[str, Any]) -> dict[str, Any]:
        return data
