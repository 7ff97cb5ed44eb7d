"""``AsyncTransport``: where ``AsyncClient`` does its network I/O and its waiting.

It performs the exchanges of ``_http.exchange`` (I/O-free flows that build a request,
decide retries and map the answer) with ``httpx.AsyncClient`` and the client's auth flow.
The generated operations send through it (``execute_operation``), and so do the
untyped methods (``graphql``, ``get``, ``post``).
"""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anyio
import httpx

from .._constants import DEFAULT_MAX_CONNECTIONS
from .._http.auth import PrefectAuth
from .._http.config import ClientConfig
from .._http.exchange import SEND_FAILURES, Exchange, Sleep, graphql_exchange

__all__ = ["AsyncTransport"]

T = TypeVar("T")


class AsyncTransport:
    """Sends requests for one client configuration; ``with_config`` shares the rest."""

    def __init__(
        self,
        config: ClientConfig,
        http: httpx.AsyncClient,
        auth: PrefectAuth,
        sleep: Callable[[float], Awaitable[None]],
    ) -> None:
        self._config = config
        self._http = http
        self._auth = auth
        self._sleep = sleep
        self._send_slots: anyio.Semaphore | None = None
        """Bounds the requests in flight: more wait here, cheaply, rather than in httpx's
        pool queue (where a thousand waiters end in ``PoolTimeout``). Made on first send."""

    def with_config(self, config: ClientConfig) -> AsyncTransport:
        clone = copy.copy(self)
        clone._config = config
        return clone

    async def execute_operation(
        self, query: str, operation_name: str, variables: dict[str, Any], /, **options: Any
    ) -> dict[str, Any]:
        """Send one named operation and return its ``data`` (the generated operations'
        transport)."""
        return await self.run(
            graphql_exchange(self._config, query, operation_name, variables, **options)
        )

    async def run(self, exchange: Exchange[T]) -> T:
        """Perform the exchange's sends and sleeps; its result."""
        step: Callable[[Any], Any] = exchange.send
        outcome: Any = None
        while True:
            try:
                effect = step(outcome)
            except StopIteration as done:
                result: T = done.value
                return result
            step = exchange.send
            try:
                if isinstance(effect, Sleep):
                    await self._sleep(effect.seconds)
                    outcome = None
                else:
                    outcome = await self._send(effect.request)
            except SEND_FAILURES as failure:
                outcome, step = failure, exchange.throw

    async def _send(self, request: httpx.Request) -> httpx.Response:
        if self._send_slots is None:
            self._send_slots = anyio.Semaphore(DEFAULT_MAX_CONNECTIONS)
        async with self._send_slots:
            return await self._http.send(request, auth=self._auth)
