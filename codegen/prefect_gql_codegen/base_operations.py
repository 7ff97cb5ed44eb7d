"""Base classes of the generated operation clients.

ariadne-codegen copies this file into the generated package. The generated
clients only describe operations (document, name, variables, result model);
sending them is delegated to a transport supplied by ``prefect_gql``, which owns
auth, retries and error mapping. That keeps the generated package free of I/O
policy and lets one set of operations serve the sync and the async client.
"""

from typing import Any, Protocol


class SyncTransport(Protocol):
    def execute(
        self,
        query: str,
        operation_name: str,
        variables: dict[str, Any],
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Send one operation and return its ``data`` object.

        ``kwargs`` are the per-call options given to the operation method.
        """
        ...


class AsyncTransport(Protocol):
    async def execute(
        self,
        query: str,
        operation_name: str,
        variables: dict[str, Any],
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Send one operation and return its ``data`` object.

        ``kwargs`` are the per-call options given to the operation method.
        """
        ...


class BaseOperations:
    def __init__(self, transport: SyncTransport) -> None:
        self.transport = transport

    def execute(
        self,
        query: str,
        operation_name: str,
        variables: dict[str, Any],
        **kwargs: Any,
    ) -> dict[str, Any]:
        return self.transport.execute(query, operation_name, variables, **kwargs)

    def get_data(self, data: dict[str, Any]) -> dict[str, Any]:
        return data


class AsyncBaseOperations:
    def __init__(self, transport: AsyncTransport) -> None:
        self.transport = transport

    async def execute(
        self,
        query: str,
        operation_name: str,
        variables: dict[str, Any],
        **kwargs: Any,
    ) -> dict[str, Any]:
        return await self.transport.execute(query, operation_name, variables, **kwargs)

    def get_data(self, data: dict[str, Any]) -> dict[str, Any]:
        return data
