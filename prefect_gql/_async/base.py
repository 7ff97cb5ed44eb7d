"""``AsyncClientBase``: what every method of ``AsyncClient`` reads: its configuration, its
transport and the generated operations bound to it."""

from __future__ import annotations

import anyio
import httpx

from prefect_gql._generated.client import AsyncOperations

from .._base_client import BaseClient
from .._constants import DEFAULT_LIMITS
from .._http.tls import lazy_verifying_context
from .transport import AsyncTransport

__all__ = ["AsyncClientBase"]


class AsyncClientBase(BaseClient[httpx.AsyncClient]):
    """The base of the method groups (one per concern) that make up ``AsyncClient``."""

    operations: AsyncOperations
    """The generated operations, for operations the client has no method for."""
    _transport: AsyncTransport

    _sleep = staticmethod(anyio.sleep)
    """How retries and polls wait; tests replace it to count delays instead of sleeping."""

    def _new_http_client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(limits=DEFAULT_LIMITS, verify=lazy_verifying_context())

    def _bind_operations(self) -> None:
        transport = getattr(self, "_transport", None)
        if transport is None:
            self._transport = AsyncTransport(self._config, self._http, self._auth, self._sleep)
        else:
            self._transport = transport.with_config(self._config)
        self.operations = AsyncOperations(self._transport)
