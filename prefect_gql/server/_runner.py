"""Running the server: in the foreground (``serve``) or in a background thread (``LocalServer``)."""

from __future__ import annotations

import gc
import socket
import threading
import time
from types import TracebackType
from typing import Self

import httpx
import uvicorn

from ._app import LocalAPI
from ._auth import AuthConfig
from ._registry import DEFAULT_TENANT_ID
from ._services import ServiceIntervals, Services

__all__ = ["LocalServer", "freeze_startup_objects", "serve"]

STARTUP_TIMEOUT = 10.0


def serve(
    *,
    host: str = "127.0.0.1",
    port: int = 4200,
    db: str = ":memory:",
    auth: AuthConfig | None = None,
    services: ServiceIntervals | None = None,
) -> None:
    """Serve until interrupted (what ``prefect-gql server`` runs)."""
    app = LocalAPI(db=db, auth=auth, services=services).app
    freeze_startup_objects()
    uvicorn.run(app, host=host, port=port, log_level="info")


def freeze_startup_objects() -> None:
    """In a process of the server's own: what startup made (modules, the schema's tens of
    thousands of type objects) lives as long as the process, so the garbage collector's
    full passes, frequent while a large query builds its rows, need not walk it."""
    gc.freeze()


def _bound_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``(host, port)`` for uvicorn to listen on. Made with
    ``IPPROTO_TCP`` so that asyncio sets ``TCP_NODELAY`` on the connections it accepts:
    without it every response waits out the client's delayed ACK (about 40 ms)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    bound = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        bound.bind((host, port))
    except OSError:
        bound.close()
        raise
    return bound


class LocalServer:
    """The server in a background thread, for tests and scripts.

    ``port=0`` (the default) takes a free port, bound before the thread starts, so
    ``url`` is known at once. Entering the context starts the server and waits until
    ``GET /health`` answers; leaving it stops the server::

        with LocalServer() as server:
            Client(server.url, backend="server")
    """

    def __init__(
        self,
        *,
        db: str = ":memory:",
        auth: AuthConfig | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        services: ServiceIntervals | None = None,
    ) -> None:
        self.auth = auth
        self._socket = _bound_socket(host, port)
        try:
            self._api = LocalAPI(db=db, auth=auth, services=services)
        except BaseException:
            self._socket.close()
            raise
        self.host = host
        self.port: int = self._socket.getsockname()[1]
        config = uvicorn.Config(self._api.app, log_level="warning", access_log=False, lifespan="on")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._socket]},
            name=f"prefect-gql-server-{self.port}",
            daemon=True,
        )

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def services(self) -> Services:
        """The scheduler, Lazarus and the zombie killer: ``services.scheduler.run_once()``
        runs a pass now."""
        return self._api.services

    @property
    def graphql_url(self) -> str:
        return f"{self.url}/graphql"

    def issue_api_key(self, tenant_id: str = DEFAULT_TENANT_ID) -> str:
        """Token mode: a new API key acting for ``tenant_id`` (created if missing)."""
        return self._api.issue_api_key(tenant_id)

    def issue_api_token(self) -> str:
        """Token mode: a new USER-scoped API token."""
        return self._api.issue_api_token()

    def start(self) -> Self:
        self._thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if not self._thread.is_alive():
                raise RuntimeError(f"the local server could not start on {self.url}")
            if self._server.started and self._healthy():
                return self
            time.sleep(0.01)
        self.stop()
        raise RuntimeError(
            f"the local server did not answer on {self.url} within {STARTUP_TIMEOUT} s"
        )

    def _healthy(self) -> bool:
        try:
            return httpx.get(f"{self.url}/health", timeout=1.0).status_code == 200
        except httpx.TransportError:
            return False

    def stop(self) -> None:
        """Stops the server and closes its database (also when it never started)."""
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=STARTUP_TIMEOUT)
        self._socket.close()
        self._api.store.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
