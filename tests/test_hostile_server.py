"""The client against hostile servers on raw sockets (issue 14): trickling bodies, endless
and oversized answers, credentials echoed back, and credentials no header could carry.

Each server is a thread on a loopback socket that answers one scripted way; every loop
is bounded in count and time. Verdicts count connections and bytes, never durations;
the bounds an attempt gets are checked at a given clock reading.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
import pytest

from prefect_gql import (
    APIResponseError,
    APITimeoutError,
    AsyncClient,
    Client,
    ClientError,
    ConfigurationError,
    InvalidInputError,
    PrefectGQLError,
)
from prefect_gql._exchange import _bound_attempt, _longest_phase
from prefect_gql._limits import READ_LIMITS_EXTENSION, ReadLimits

SECRET_KEY = "pgql-key-7f3a9c-SENTINEL"
Handler = Callable[[socket.socket], None]


def _read_request(connection: socket.socket) -> bytes:
    connection.settimeout(5)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    while len(body) < length:
        body += connection.recv(65536)
    return head + b"\r\n\r\n" + body


@contextmanager
def raw_server(handler: Handler, connections: int = 8) -> Iterator[str]:
    """A loopback server answering at most ``connections`` connections with ``handler``."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(connections)
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        served = 0
        while not stop.is_set() and served < connections:
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            served += 1
            with connection:
                try:
                    _read_request(connection)
                    handler(connection)
                except OSError:
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=10)
        listener.close()


class Trickle:
    """Promises a body, then sends it a byte at a time (bounded); counts its connections
    and the bytes of body it sent, so tests assert counts rather than durations."""

    def __init__(self, seconds_per_byte: float, total_bytes: int = 200) -> None:
        self.seconds_per_byte = seconds_per_byte
        self.total_bytes = total_bytes
        self.connections = 0
        self.bytes_sent = 0

    def __call__(self, connection: socket.socket) -> None:
        self.connections += 1
        connection.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {self.total_bytes}\r\n\r\n".encode()
        )
        for _ in range(self.total_bytes):
            connection.sendall(b" ")
            self.bytes_sent += 1
            time.sleep(self.seconds_per_byte)


def answer(
    status: int, body: bytes, headers: str = "Content-Type: application/json\r\n"
) -> Handler:
    def handler(connection: socket.socket) -> None:
        connection.sendall(
            f"HTTP/1.1 {status} X\r\n{headers}Content-Length: {len(body)}\r\n\r\n".encode() + body
        )

    return handler


def test_a_trickling_body_ends_the_call_at_its_timeout() -> None:
    """Each byte comes well within the read timeout, but the whole body may take only the
    longest timeout phase: the call ends with the body unfinished (whole, 200 spaces take
    40 s and are not JSON, an APIResponseError)."""
    trickle = Trickle(0.2)
    with (
        raw_server(trickle) as url,
        Client(url, backend="server", timeout=1, max_retries=0) as client,
        pytest.raises(APITimeoutError),
    ):
        client.get_task_tag_limit("db")
    assert trickle.connections == 1
    assert trickle.bytes_sent < trickle.total_bytes


def test_the_deadline_bounds_the_call_with_its_retries() -> None:
    """A query is retried after a timeout, but not past its deadline: one attempt only."""
    trickle = Trickle(0.2)
    with (
        raw_server(trickle) as url,
        Client(url, backend="server", timeout=5, deadline=1.5) as client,
        pytest.raises(APITimeoutError),
    ):
        client.get_task_tag_limit("db")
    assert trickle.connections == 1
    assert trickle.bytes_sent < trickle.total_bytes


async def test_the_deadline_bounds_an_async_call_too() -> None:
    trickle = Trickle(0.2)
    with raw_server(trickle) as url:
        async with AsyncClient(url, backend="server", timeout=5, deadline=1.5) as client:
            with pytest.raises(APITimeoutError):
                await client.get_task_tag_limit("db")
    assert trickle.connections == 1
    assert trickle.bytes_sent < trickle.total_bytes


@pytest.mark.parametrize(
    ("timeout", "deadline", "body_bound", "read_timeout"),
    [(5.0, 1.5, 1.5, 1.5), (1.0, 120.0, 1.0, 1.0), (5.0, None, 5.0, 5.0)],
)
def test_an_attempt_is_bounded_by_the_deadline_left_and_its_longest_timeout(
    timeout: float, deadline: float | None, body_bound: float, read_timeout: float
) -> None:
    """The bounds an attempt gets, computed at a given clock reading (no real time)."""
    with Client("http://prefect.test", backend="server", timeout=timeout) as client:
        config = client.with_options(deadline=deadline)._config
    request = httpx.Request("POST", "http://prefect.test")
    now = 1000.0
    _bound_attempt(
        config,
        request,
        now,
        None if deadline is None else now + deadline,
        _longest_phase(config.timeout),
    )
    limits = request.extensions[READ_LIMITS_EXTENSION]
    assert isinstance(limits, ReadLimits)
    assert limits.deadline == now + body_bound
    assert request.extensions["timeout"]["read"] == read_timeout


def test_an_answer_over_the_size_cap_is_refused_unread() -> None:
    huge = b'{"data": {"task_tag_limit": []}, "pad": "' + b"x" * 3_000_000 + b'"}'
    with (
        raw_server(answer(200, huge)) as url,
        Client(url, backend="server", max_response_size=1_000_000) as client,
        pytest.raises(APIResponseError, match="larger than 1,000,000 bytes"),
    ):
        client.get_task_tag_limit("db")


def test_an_endless_chunked_answer_stops_at_the_size_cap() -> None:
    def endless(connection: socket.socket) -> None:
        connection.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"x" * 65536
        for _ in range(200):  # at most ~13 MB, far past the cap
            connection.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")

    with (
        raw_server(endless) as url,
        Client(url, backend="server", max_response_size=1_000_000) as client,
        pytest.raises(APIResponseError, match="larger than 1,000,000 bytes"),
    ):
        client.get_task_tag_limit("db")


ECHOES = {
    "graphql error": answer(
        200,
        json.dumps(
            {"data": None, "errors": [{"message": f"bad token Bearer {SECRET_KEY} ({SECRET_KEY})"}]}
        ).encode(),
    ),
    "http 401": answer(
        401, json.dumps({"message": f"Authorization: Bearer {SECRET_KEY}"}).encode()
    ),
    "http 500 html": answer(
        500, f"<html>{SECRET_KEY}</html>".encode(), "Content-Type: text/html\r\n"
    ),
    "http 400 graphql": answer(
        400, json.dumps({"errors": [{"message": f"key {SECRET_KEY} refused"}]}).encode()
    ),
}


@pytest.mark.parametrize("echo", list(ECHOES))
def test_credentials_a_server_echoes_back_are_redacted(
    echo: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with (
        raw_server(ECHOES[echo]) as url,
        Client(url, api_key=SECRET_KEY, max_retries=0) as client,
        pytest.raises(PrefectGQLError) as raised,
    ):
        client.get_task_tag_limit("db")
    error = raised.value
    texts = [str(error), repr(error), *map(str, error.args)]
    if isinstance(error, ClientError):
        texts += [detail.message for detail in error.errors]
    texts.append(str(getattr(error, "body_excerpt", "")))
    assert not [text for text in texts if SECRET_KEY in text], texts
    assert SECRET_KEY not in caplog.text


@pytest.mark.parametrize(
    "bad_key",
    [f"{SECRET_KEY} ", f"{SECRET_KEY}\n", f"{SECRET_KEY}\u00e9", f"{SECRET_KEY}\u2603", ""],
)
def test_a_credential_no_header_can_carry_is_refused_when_configured(
    bad_key: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ConfigurationError, match="api_key") as raised:
        Client("http://127.0.0.1:9", api_key=bad_key)
    assert SECRET_KEY not in str(raised.value)
    monkeypatch.setenv("PREFECT__CLOUD__API_KEY", bad_key)
    if bad_key:
        with pytest.raises(ConfigurationError, match="PREFECT__CLOUD__API_KEY") as from_env:
            Client("http://127.0.0.1:9")
        assert SECRET_KEY not in str(from_env.value)
    monkeypatch.delenv("PREFECT__CLOUD__API_KEY")
    with pytest.raises(ConfigurationError, match="api_token"):
        Client("http://127.0.0.1:9", api_token=bad_key or " ")
    assert SECRET_KEY not in caplog.text


def test_a_per_call_token_no_header_can_carry_is_refused_before_sending() -> None:
    sent: list[bytes] = []

    def record(connection: socket.socket) -> None:
        sent.append(b"request")

    with (
        raw_server(record) as url,
        Client(url, backend="server") as client,
        pytest.raises(InvalidInputError, match="token is not a usable credential") as raised,
    ):
        client.graphql("{ tenant { id } }", token=f"{SECRET_KEY}\n")
    assert SECRET_KEY not in str(raised.value)
    assert sent == []
