"""``prefect-gql server`` as a user starts it: the start line names the mode, the database
and the URL; ``--api-key`` starts token mode, where only those keys get in."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from prefect_gql import AuthenticationError, Client

from .cli_helpers import CLI, COMMAND_TIMEOUT, cli_env

pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until_healthy(url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + COMMAND_TIMEOUT
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server exited"
        try:
            if httpx.get(f"{url}/health", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    pytest.fail(f"{url} never answered /health")


def test_server_with_api_keys_runs_in_token_mode(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    key = "cli-test-key-0123456789"
    database = tmp_path / "local.db"
    process = subprocess.Popen(  # noqa: S603 - our own command line
        [*CLI, "server", "--port", str(port), "--db", str(database), "--api-key", key],
        env=cli_env(None),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline().strip()
        wait_until_healthy(url, process)
        with Client(url, api_key=key) as client:
            project_id = client.create_project("token-mode")
        with Client(url, backend="server") as anonymous, pytest.raises(AuthenticationError):
            anonymous.create_project("refused")
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=COMMAND_TIMEOUT)
    assert first == (
        f"prefect-gql server: token mode (1 API key), database SQLite {database}, API {url}"
    )
    assert key not in first + stderr
    assert project_id
    assert database.is_file()
