"""Running the server: in the foreground (``serve``) or in a background thread (``LocalServer``)."""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType
from typing import Self

import httpx
import uvicorn

from ._app import create_app
from ._auth import AuthConfig

__all__ = ["LocalServer", "serve"]

STARTUP_TIMEOUT = 10.0


def serve(
    *,
    host: str = "127.0.0.1",
    port: int = 4200,
    db: str = ":memory:",
    auth: AuthConfig | None = None,
) -> None:
    """Serve until interrupted (``prefect-gql server``)."""
    uvicorn.run(create_app(db=db, auth=auth), host=host, port=port, log_level="info")


def _free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


class LocalServer:
    """The server on a free loopback port, in a thread, for tests and scripts.

    ``with LocalServer() as server: Client(server.url, backend="server")``.
    """

    def __init__(
        self,
        *,
        db: str = ":memory:",
        auth: AuthConfig | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.host = host
        self.port = port or _free_port(host)
        self.auth = auth
        config = uvicorn.Config(
            create_app(db=db, auth=auth),
            host=host,
            port=self.port,
            log_level="warning",
            lifespan="off",
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, name="prefect-gql-server", daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def graphql_url(self) -> str:
        return f"{self.url}/graphql"

    def start(self) -> Self:
        self._thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if not self._thread.is_alive():
                raise RuntimeError(f"the local server could not start on {self.url}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1.0).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.02)
        self.stop()
        raise RuntimeError(
            f"the local server did not answer on {self.url} within {STARTUP_TIMEOUT} s"
        )

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=STARTUP_TIMEOUT)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
