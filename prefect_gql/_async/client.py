"""``AsyncClient``: the asynchronous driver of the shared plans (see ``_core``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from types import TracebackType
from typing import Any, Self, TypeVar

import anyio
import httpx
from prefect_gql_generated.client import AsyncOperations

from .._base_client import BaseClient
from .._constants import DEFAULT_LIMITS, DEFAULT_MAX_CONNECTIONS
from .._http.config import EFFECT_FAILURES, AfterHook, Emit, Plan, Send, Sleep, Stepper
from .._http.tls import lazy_verifying_context

__all__ = ["AsyncClient"]

T = TypeVar("T")


class AsyncClient(BaseClient[httpx.AsyncClient, AsyncOperations]):
    """The asyncio (and trio) twin of ``Client``: the same methods, arguments, results and
    errors, each awaited.

    Arguments not given are read from the environment and ``~/.prefect`` (see
    ``Settings``). ``http_client`` lets you bring your own ``httpx.AsyncClient`` (proxies,
    certificates, transports); the client does not close one it did not create.
    """

    _operations_class = AsyncOperations

    _sleep = staticmethod(anyio.sleep)
    """How retries wait; tests replace it to count delays instead of sleeping."""

    _send_slots: anyio.Semaphore | None = None
    """Bounds the requests in flight: more wait here, cheaply, rather than in httpx's
    pool queue (where a thousand waiters end in ``PoolTimeout``). Made on first send."""

    def _new_http_client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(limits=DEFAULT_LIMITS, verify=lazy_verifying_context())

    async def _run(self, plan: Plan[T], after: AfterHook | None = None) -> T:
        stepper = Stepper(plan)
        async for _ in self._iterate(stepper):
            break
        return stepper.finish(self._config, after)

    async def _iterate(self, stepper: Stepper[Any]) -> AsyncIterator[Any]:
        """Perform the plan's effects; ``Emit`` items are yielded to the caller."""
        for effect in stepper.pending():
            if not isinstance(effect, Emit):
                stepper.resume(await self._perform(effect))
                continue
            yield effect.item

    async def _perform(self, effect: Send | Sleep) -> Any:
        """The effect's outcome, or the failure its plan should see."""
        try:
            if isinstance(effect, Sleep):
                return await self._sleep(effect.seconds)
            if self._send_slots is None:
                self._send_slots = anyio.Semaphore(DEFAULT_MAX_CONNECTIONS)
            async with self._send_slots:
                return await self._http.send(effect.request, auth=self._auth)
        except EFFECT_FAILURES as failure:
            return failure

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
