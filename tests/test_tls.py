"""The clients' own TLS context: httpx's default verification, with the trust store read on
the first handshake. Checked against a real HTTPS server on loopback with throwaway CAs."""

from __future__ import annotations

import json
import shutil
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import trustme

import prefect_gql._async.base
import prefect_gql._sync.base
from prefect_gql import APIConnectionError, Client
from prefect_gql._http.tls import _LazyVerifyingContext, lazy_verifying_context

from .conftest import ClientFactory

HELLO = {"data": {"hello": "world"}}


class _Server(ThreadingHTTPServer):
    request_queue_size = 64


class _GraphQLHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        body = json.dumps(HELLO).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def server_ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def ca_file(server_ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("trusted") / "ca.pem"
    server_ca.cert_pem.write_to_path(str(path))
    return path


@pytest.fixture(scope="module")
def unrelated_ca_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("unrelated") / "ca.pem"
    trustme.CA().cert_pem.write_to_path(str(path))
    return path


@pytest.fixture(scope="module")
def port(server_ca: trustme.CA) -> Iterator[int]:
    """An HTTPS server on 127.0.0.1 whose certificate names ``localhost`` only."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ca.issue_cert("localhost").configure_cert(context)
    server = _Server(("127.0.0.1", 0), _GraphQLHandler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01})
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def contexts(monkeypatch: pytest.MonkeyPatch) -> list[ssl.SSLContext]:
    """Every TLS context the clients make from here on."""
    made: list[ssl.SSLContext] = []

    def recording() -> ssl.SSLContext:
        made.append(lazy_verifying_context())
        return made[-1]

    for module in (prefect_gql._sync.base, prefect_gql._async.base):
        monkeypatch.setattr(module, "lazy_verifying_context", recording)
    return made


@pytest.fixture
def trusted(monkeypatch: pytest.MonkeyPatch, ca_file: Path) -> None:
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))


async def test_https_api_with_its_ca_trusted_answers(
    make_api: ClientFactory, port: int, trusted: None
) -> None:
    api = make_api(api_server=f"https://localhost:{port}/", max_retries=0)

    assert await api(Client.graphql, "query { hello }") == HELLO


async def test_certificate_from_an_untrusted_ca_is_refused(
    make_api: ClientFactory, port: int, monkeypatch: pytest.MonkeyPatch, unrelated_ca_file: Path
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(unrelated_ca_file))
    api = make_api(api_server=f"https://localhost:{port}/", max_retries=0)

    with pytest.raises(APIConnectionError, match="CERTIFICATE_VERIFY_FAILED"):
        await api(Client.graphql, "query { hello }")


async def test_host_name_not_in_the_certificate_is_refused(
    make_api: ClientFactory, port: int, trusted: None
) -> None:
    api = make_api(api_server=f"https://127.0.0.1:{port}/", max_retries=0)

    with pytest.raises(APIConnectionError, match="CERTIFICATE_VERIFY_FAILED"):
        await api(Client.graphql, "query { hello }")


async def test_ca_certificates_are_loaded_on_the_first_handshake_not_before(
    make_api: ClientFactory, port: int, trusted: None, contexts: list[ssl.SSLContext]
) -> None:
    api = make_api(api_server=f"https://localhost:{port}/", max_retries=0)
    [context] = contexts
    assert context.get_ca_certs() == []

    await api(Client.graphql, "query { hello }")

    assert context.cert_store_stats()["x509_ca"] == 1


async def test_plain_http_never_loads_ca_certificates(
    make_api: ClientFactory, contexts: list[ssl.SSLContext], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", "/nonexistent/ca.pem")
    api = make_api(api_server="http://127.0.0.1:1/", max_retries=0)

    with pytest.raises(APIConnectionError, match="ConnectError"):
        await api(Client.graphql, "query { hello }")

    assert contexts[0].cert_store_stats() == {"crl": 0, "x509": 0, "x509_ca": 0}


async def test_unreadable_trust_store_fails_every_handshake(
    make_api: ClientFactory, port: int, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "missing.pem"))
    api = make_api(api_server=f"https://localhost:{port}/", max_retries=0)

    for _ in range(2):
        with pytest.raises(APIConnectionError, match="cannot load the trusted CA certificates"):
            await api(Client.graphql, "query { hello }")


def test_trust_store_variables_are_read_when_the_client_is_made(
    port: int, monkeypatch: pytest.MonkeyPatch, ca_file: Path, unrelated_ca_file: Path
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    with Client(f"https://localhost:{port}/", backend="server", max_retries=0) as client:
        monkeypatch.setenv("SSL_CERT_FILE", str(unrelated_ca_file))

        assert client.graphql("query { hello }") == HELLO


def test_ssl_cert_dir_is_used_when_ssl_cert_file_is_not_set(
    port: int, monkeypatch: pytest.MonkeyPatch, server_ca: trustme.CA, tmp_path: Path
) -> None:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("needs the openssl command to hash a CA directory")
    server_ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    subprocess.run([openssl, "rehash", str(tmp_path)], check=True)  # noqa: S603 - found on PATH
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path))

    with Client(f"https://localhost:{port}/", backend="server", max_retries=0) as client:
        assert client.graphql("query { hello }") == HELLO


def test_concurrent_first_handshakes_load_the_trust_store_once(
    port: int, trusted: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    loads: list[str | None] = []
    load = _LazyVerifyingContext.load_verify_locations

    def slow_load(
        self: ssl.SSLContext, cafile: str | None = None, capath: str | None = None
    ) -> None:
        loads.append(cafile)
        time.sleep(0.05)
        load(self, cafile=cafile, capath=capath)

    monkeypatch.setattr(_LazyVerifyingContext, "load_verify_locations", slow_load)
    threads = 8
    start = threading.Barrier(threads)

    def call(client: Client) -> object:
        start.wait()
        return client.graphql("query { hello }")

    with (
        Client(f"https://localhost:{port}/", backend="server", max_retries=0) as client,
        ThreadPoolExecutor(threads) as pool,
    ):
        results = list(pool.map(call, [client] * threads))

    assert results == [HELLO] * threads
    assert len(loads) == 1


def test_context_is_configured_as_ssl_create_default_context(
    monkeypatch: pytest.MonkeyPatch, ca_file: Path, tmp_path: Path
) -> None:
    monkeypatch.setenv("SSLKEYLOGFILE", str(tmp_path / "keys.log"))
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    lazy = lazy_verifying_context()
    eager = ssl.create_default_context(cafile=str(ca_file))

    def settings(context: ssl.SSLContext) -> dict[str, object]:
        return {
            "protocol": context.protocol,
            "options": context.options,
            "verify_mode": context.verify_mode,
            "verify_flags": context.verify_flags,
            "check_hostname": context.check_hostname,
            "minimum_version": context.minimum_version,
            "maximum_version": context.maximum_version,
            "post_handshake_auth": context.post_handshake_auth,
            "keylog_filename": context.keylog_filename,
            "ciphers": context.get_ciphers(),
        }

    assert settings(lazy) == settings(eager)
    assert lazy.keylog_filename == str(tmp_path / "keys.log")
