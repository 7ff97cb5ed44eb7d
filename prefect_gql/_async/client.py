"""``AsyncClient``: every method group of this package, and closing the connections."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from .flow_runs import FlowRunMethods
from .projects import ProjectMethods
from .raw import RawMethods
from .records import RecordMethods
from .task_runs import TaskRunMethods
from .tenants import TenantMethods
from .views import ViewMethods

__all__ = ["AsyncClient"]


class AsyncClient(
    FlowRunMethods,
    TaskRunMethods,
    ViewMethods,
    ProjectMethods,
    RecordMethods,
    TenantMethods,
    RawMethods,
):
    """A typed client for the Prefect 1.x API (Server and Cloud v1).

    Arguments not given are read from the environment and ``~/.prefect`` (see
    ``Settings``). ``http_client`` lets you bring your own ``httpx.AsyncClient`` (proxies,
    certificates, transports); the client does not close one it did not create.
    """

    async def aclose(self) -> None:
        """Close the connections, unless the ``httpx.AsyncClient`` was passed in."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()
