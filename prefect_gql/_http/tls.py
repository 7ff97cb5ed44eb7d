"""The TLS context of the clients' own httpx clients: httpx's default, with the trust store
read on the first handshake rather than at construction.

Parsing certifi's CA bundle costs ~20-30 ms, paid by every ``httpx.Client()`` even when the
API is plain ``http://`` (a local Prefect Server) and no handshake ever happens.
"""

from __future__ import annotations

import os
import socket
import ssl
import sys
import threading

__all__ = ["lazy_verifying_context"]


class _LazyVerifyingContext(ssl.SSLContext):
    """An ``SSLContext`` that loads its CA locations once, just before the first
    ``wrap_socket`` (httpcore's sync backend) or ``wrap_bio`` (anyio, trio). If loading
    fails, so does the handshake, with an ``ssl.SSLError`` (which httpcore's sync and anyio
    backends report as ``httpx.ConnectError``); the next handshake tries loading again."""

    def __init__(
        self, protocol: int, *, cafile: str | None = None, capath: str | None = None
    ) -> None:
        """``protocol`` is taken by ``SSLContext.__new__``; ``cafile``/``capath`` are kept
        for the first handshake (neither: certifi's bundle)."""
        self._cafile = cafile
        self._capath = capath
        self._loaded = False
        self._load_lock = threading.Lock()

    def _load_verify_locations_once(self) -> None:
        if self._loaded:
            return
        with self._load_lock:
            if self._loaded:
                return
            cafile, capath = self._cafile, self._capath
            if cafile is None and capath is None:
                import certifi  # noqa: PLC0415 - the point: only when a handshake needs it

                cafile = certifi.where()
            try:
                self.load_verify_locations(cafile=cafile, capath=capath)
            except OSError as err:
                raise ssl.SSLError(
                    f"cannot load the trusted CA certificates from {cafile or capath}: {err}"
                ) from err
            self._loaded = True

    def wrap_socket(
        self,
        sock: socket.socket,
        server_side: bool = False,
        do_handshake_on_connect: bool = True,
        suppress_ragged_eofs: bool = True,
        server_hostname: str | bytes | None = None,
        session: ssl.SSLSession | None = None,
    ) -> ssl.SSLSocket:
        self._load_verify_locations_once()
        return super().wrap_socket(
            sock,
            server_side=server_side,
            do_handshake_on_connect=do_handshake_on_connect,
            suppress_ragged_eofs=suppress_ragged_eofs,
            server_hostname=server_hostname,
            session=session,
        )

    def wrap_bio(
        self,
        incoming: ssl.MemoryBIO,
        outgoing: ssl.MemoryBIO,
        server_side: bool = False,
        server_hostname: str | bytes | None = None,
        session: ssl.SSLSession | None = None,
    ) -> ssl.SSLObject:
        self._load_verify_locations_once()
        return super().wrap_bio(
            incoming,
            outgoing,
            server_side=server_side,
            server_hostname=server_hostname,
            session=session,
        )


def lazy_verifying_context() -> ssl.SSLContext:
    """What httpx 0.28's ``verify=True`` (with ``trust_env``) builds, minus the eager load.

    Like ``httpx.create_ssl_context``: ``SSL_CERT_FILE``, else ``SSL_CERT_DIR``, else
    certifi's bundle, the variables read now; and like ``ssl.create_default_context``:
    certificates and host names verified, ``SSLKEYLOGFILE`` honoured, and no system
    default certificates loaded when a CA location is given.
    """
    cafile = os.environ.get("SSL_CERT_FILE") or None
    capath = None if cafile else os.environ.get("SSL_CERT_DIR") or None
    context = _LazyVerifyingContext(ssl.PROTOCOL_TLS_CLIENT, cafile=cafile, capath=capath)
    context.verify_mode = ssl.CERT_REQUIRED
    context.check_hostname = True
    if sys.version_info >= (3, 13):
        context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN | ssl.VERIFY_X509_STRICT
    keylog_file = os.environ.get("SSLKEYLOGFILE")
    if keylog_file and not sys.flags.ignore_environment:
        context.keylog_filename = keylog_file
    return context
