"""The people-facing ``prefect-gql`` commands, run as real subprocesses against the embedded
server: exit codes, JSON shapes, one-line errors, ``--follow`` and ``--watch`` ending when
the run does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from prefect_gql import Client, Failed, Success, __version__
from prefect_gql.server import DEFAULT_TENANT_ID, AuthConfig, LocalServer

from .cli_helpers import (
    CLI,
    COMMAND_TIMEOUT,
    assert_one_error_line,
    cli,
    cli_env,
    register_flow,
)
from .test_views import drive, log

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer() as running:
        yield running


@pytest.fixture
def client(server: LocalServer) -> Iterator[Client]:
    with Client(server.url, backend="server") as running:
        yield running


@pytest.fixture
def env(server: LocalServer) -> dict[str, str]:
    return cli_env(server.url, COLUMNS="200")


def flow(client: Client, tasks: int = 1) -> tuple[str, str]:
    return register_flow(client, tasks)


def test_importing_the_library_and_the_cli_never_loads_rich() -> None:
    """prefect_gql and the CLI's module import rich only inside the commands that print.

    httpx itself imports rich (its ``httpx._main`` command line) whenever click, rich and
    pygments are installed; that module is stubbed so the check sees our imports only.
    """
    code = (
        "import sys, types;"
        " stub = types.ModuleType('httpx._main'); stub.main = lambda: None;"
        " sys.modules['httpx._main'] = stub;"
        " import prefect_gql; prefect_gql.Client; prefect_gql.AsyncClient;"
        " import prefect_gql.cli._commands;"
        " loaded = sorted(name for name in sys.modules if name.split('.')[0] == 'rich');"
        " assert not loaded, loaded"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=COMMAND_TIMEOUT)  # noqa: S603


def test_version(env: dict[str, str]) -> None:
    done = cli(env, "--version")
    assert (done.returncode, done.stdout.strip()) == (0, f"prefect-gql {__version__}")


def test_run_then_list_and_describe_as_json(client: Client, env: dict[str, str]) -> None:
    flow_id, project = flow(client)
    created = cli(env, "run", flow_id, "--param", "day=friday", "--param", "n=3", "--label", "gpu")
    assert created.returncode == 0, created.stderr
    run_id = created.stdout.strip()
    uuid.UUID(run_id)

    listed = cli(env, "flow-runs", "list", "--project", project, "--output", "json")
    assert listed.returncode == 0, listed.stderr
    runs: list[dict[str, Any]] = json.loads(listed.stdout)
    assert [run["id"] for run in runs] == [run_id]
    assert set(runs[0]) == {
        "id", "name", "flow", "project", "state", "state_message", "labels", "parameters",
        "created", "scheduled_start_time", "start_time", "end_time", "duration_seconds",
    }  # fmt: skip
    assert runs[0]["parameters"] == {"day": "friday", "n": 3}
    assert runs[0]["flow"]["id"] == flow_id
    assert (runs[0]["project"]["name"], runs[0]["state"], runs[0]["labels"]) == (
        project,
        "Scheduled",
        ["gpu"],
    )
    none_running = cli(
        env, "flow-runs", "list", "--project", project, "--state", "Running", "-o", "json"
    )
    assert json.loads(none_running.stdout) == []

    described = cli(env, "flow-run", "describe", run_id, "-o", "json")
    assert described.returncode == 0, described.stderr
    view = json.loads(described.stdout)
    assert [change["state"] for change in view["states"]] == ["Scheduled"]
    assert sorted(task_run["task_slug"] for task_run in view["task_runs"]) == ["day", "task-0"]

    table = cli(env, "flow-runs", "list", "--project", project)
    assert table.returncode == 0
    assert run_id in table.stdout


def test_errors_are_one_line_and_a_non_zero_exit(env: dict[str, str]) -> None:
    for args in (
        ("flow-run", "describe", "not-a-uuid"),
        ("flow-run", "describe", str(uuid.uuid4())),
        ("logs", str(uuid.uuid4()), "--follow"),
        ("flow-runs", "list", "--api", "http://127.0.0.1:9"),
    ):
        done = cli(env, *args)
        assert done.returncode == 1, args
        assert "Traceback" not in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert done.stderr.startswith("Error: ")
    bad_usage = cli(env, "run", str(uuid.uuid4()), "--param", "no-equals-sign")
    assert bad_usage.returncode == 2
    assert "Traceback" not in bad_usage.stderr


def test_logs_and_a_query_from_stdin(client: Client, env: dict[str, str]) -> None:
    run_id = client.create_flow_run(flow_id=flow(client)[0])
    log(client, run_id, "first", "second")
    printed = cli(env, "logs", run_id, "-o", "json")
    assert printed.returncode == 0, printed.stderr
    lines = [json.loads(line) for line in printed.stdout.splitlines()]
    assert [line["message"] for line in lines] == ["first", "second"]
    assert set(lines[0]) == {"timestamp", "level", "name", "message", "task_run_id"}

    answered = cli(
        env,
        "query",
        "-",
        "--var",
        f"id={run_id}",
        stdin="query Q($id: uuid!) { flow_run_by_pk(id: $id) { id state } }",
    )
    assert answered.returncode == 0, answered.stderr
    assert json.loads(answered.stdout) == {
        "data": {"flow_run_by_pk": {"id": run_id, "state": "Scheduled"}}
    }


RUN_APPEARS_POLLS = 600
"""Polls (0.05 s apart) for the run ``run --watch`` creates, before the driver gives up."""


def drive_the_new_run(client: Client, flow_id: str, final: Success | Failed) -> None:
    """As an agent would: wait for the flow's run to exist, then take it to ``final``."""
    for _ in range(RUN_APPEARS_POLLS):
        runs = list(client.iter_flow_runs(flow_id=flow_id, limit=1))
        if runs:
            drive(client, runs[0].id, final, lines=2)
            return
        time.sleep(0.05)


@pytest.mark.parametrize(("final", "exit_code"), [(Success(), 0), (Failed(message="boom"), 1)])
def test_run_watch_exits_zero_only_when_the_run_succeeds(
    client: Client, env: dict[str, str], final: Success | Failed, exit_code: int
) -> None:
    flow_id, _ = flow(client, tasks=2)
    driver = threading.Thread(target=drive_the_new_run, args=(client, flow_id, final))
    driver.start()
    try:
        done = cli(env, "run", flow_id, "--watch", "--agent-wait", "600")
    finally:
        driver.join(COMMAND_TIMEOUT)
    assert done.returncode == exit_code, done.stderr
    assert f"state: {final.type}" in done.stderr
    assert "line 1" in done.stderr
    assert "3/3" in done.stderr  # the task-run progress line: 2 tasks and the parameter finished
    assert f"flow run {done.stdout.strip()} finished: {final.type}" in done.stderr


def test_logs_follow_ends_when_the_run_finishes(client: Client, env: dict[str, str]) -> None:
    run_id = client.create_flow_run(flow_id=flow(client)[0])
    process = subprocess.Popen(  # noqa: S603 - our own command line
        [*CLI, "logs", run_id, "--follow"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    driver = threading.Thread(target=drive, args=(client, run_id, Success()), kwargs={"lines": 3})
    driver.start()
    try:
        stdout, stderr = process.communicate(timeout=COMMAND_TIMEOUT)
    finally:
        process.kill()
        process.wait()
        driver.join(COMMAND_TIMEOUT)
    assert process.returncode == 0, stderr
    messages = [line.split(" | ", 1)[1] for line in stdout.splitlines()]
    assert messages == ["line 0", "line 1", "line 2", "last line"]


def test_auth_status_names_the_server_and_never_the_key(env: dict[str, str]) -> None:
    secret = f"key-{uuid.uuid4().hex}"
    done = cli({**env, "PREFECT__CLOUD__API_KEY": secret}, "auth", "status", "-o", "json")
    assert done.returncode == 0, done.stderr
    status = json.loads(done.stdout)
    assert status["api"] == env["PREFECT__SERVER__ENDPOINT"]
    assert status["backend"] == "server"
    assert status["credential"] == "api_key"
    assert secret not in done.stdout + done.stderr


def test_auth_login_status_and_switch_tenant_with_an_api_key(tmp_path: Path) -> None:
    """Against a server in token mode: the key is checked, saved to auth.toml (0600) with
    its tenant, used by later commands, and never printed."""
    home = tmp_path / "home"
    with LocalServer(auth=AuthConfig()) as token_server:
        key = token_server.issue_api_key()
        env = {
            **os.environ,
            "PREFECT__HOME_DIR": str(home),
            "PREFECT__CLOUD__API": token_server.url,
        }
        env = {name: value for name, value in env.items() if name != "PREFECT__CLOUD__API_KEY"}

        login = cli(env, "auth", "login", "--key", key)
        assert login.returncode == 0, login.stderr
        assert DEFAULT_TENANT_ID in login.stdout
        saved = (home / "auth.toml").read_text()
        assert key in saved
        assert (home / "auth.toml").stat().st_mode & 0o777 == 0o600

        status = cli(env, "auth", "status", "-o", "json")
        assert json.loads(status.stdout) == {
            "api": token_server.url,
            "backend": "cloud",
            "credential": "api_key",
            "tenant_id": DEFAULT_TENANT_ID,
        }
        switched = cli(env, "auth", "switch-tenant", "default")
        assert switched.returncode == 0, switched.stderr
        refused = cli(env, "auth", "switch-tenant", str(uuid.uuid4()))
        assert refused.returncode == 1
        assert refused.stderr.startswith("Error:")
        assert "Traceback" not in refused.stderr
        bad = cli(env, "auth", "login", "--key", "not-a-known-key")
        assert bad.returncode == 1
        for done in (login, status, switched, refused):
            assert key not in done.stdout + done.stderr


def test_auth_login_status_and_logout_use_the_api_client_would(tmp_path: Path) -> None:
    """With PREFECT__BACKEND=server and PREFECT__SERVER__ENDPOINT set, login checks the key
    against that server (not the Cloud URL), status names it, logout forgets the key."""
    home = tmp_path / "home"
    with LocalServer(auth=AuthConfig()) as token_server:
        key = token_server.issue_api_key()
        env = cli_env(token_server.url, PREFECT__HOME_DIR=str(home))

        login = cli(env, "auth", "login", "--key", key)
        assert login.returncode == 0, login.stderr
        assert (
            login.stdout.strip() == f"logged in to {token_server.url} (tenant {DEFAULT_TENANT_ID})"
        )
        status = cli(env, "auth", "status", "-o", "json")
        assert json.loads(status.stdout) == {
            "api": token_server.url,
            "backend": "server",
            "credential": "api_key",
            "tenant_id": DEFAULT_TENANT_ID,
        }
        assert cli(env, "projects", "list", "-o", "json").returncode == 0

        refused = cli(env, "auth", "logout")  # no terminal to confirm on
        assert refused.returncode == 1
        assert key in (home / "auth.toml").read_text()
        logout = cli(env, "auth", "logout", "--yes")
        assert logout.returncode == 0, logout.stderr
        assert logout.stdout.strip() == f"logged out of {token_server.url}"
        assert key not in (home / "auth.toml").read_text()
        after = json.loads(cli(env, "auth", "status", "-o", "json").stdout)
        assert after["credential"] == "none"
        assert_one_error_line(
            cli(env, "auth", "logout", "--yes"), f"no API key is saved for {token_server.url}"
        )
        from_env = cli({**env, "PREFECT__CLOUD__API_KEY": key}, "auth", "logout", "--yes")
        assert_one_error_line(from_env, "PREFECT__CLOUD__API_KEY")
        for done in (login, status, logout, from_env):
            assert key not in done.stdout + done.stderr
