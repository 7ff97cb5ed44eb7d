"""``prefect-gql run --watch`` against the embedded server: Success with a real Prefect 1.4.1
agent, exit 1 on ``--timeout``, and the no-agent warning with the command that starts one.

No verdict depends on the machine's speed: the timeout is reached by counting polls (the
watch gives up before a poll that would end past it), the warning is awaited line by line
(no agent ever picks the run up), and the agent's run is bounded by a generous timeout.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from prefect_gql import Client, ClientError
from prefect_gql.cli._runs import no_agent_message, start_agent_command
from prefect_gql.server import LocalServer

from .cli_helpers import CLI, COMMAND_TIMEOUT, cli, cli_env, register_flow

pytestmark = pytest.mark.e2e

AGENT_RUN_TIMEOUT = 180.0
"""Seconds a real agent may take to run the flow (it starts Python processes)."""


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
    return cli_env(server.url)


def test_watch_gives_up_after_the_timeout(client: Client, env: dict[str, str]) -> None:
    flow_id, _ = register_flow(client)
    done = cli(env, "run", flow_id, "--watch", "--timeout", "0.5", "--agent-wait", "600")
    run_id = done.stdout.strip()
    assert done.returncode == 1, done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        f"Error: flow run {run_id} did not finish within 0.5 s (last state: Scheduled)"
    )
    assert "Traceback" not in done.stderr
    alone = cli(env, "run", flow_id, "--timeout", "5")
    assert alone.returncode == 2
    assert "--timeout bounds --watch" in alone.stderr


def test_watch_says_when_no_agent_picks_the_run_up(
    client: Client, env: dict[str, str], server: LocalServer
) -> None:
    flow_id, _ = register_flow(client)
    process = subprocess.Popen(  # noqa: S603 - our own command line
        [*CLI, "run", flow_id, "--label", "gpu", "--watch", "--agent-wait", "0"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stderr is not None
        run_id = process.stdout.readline().strip()
        seen: list[str] = []
        for line in process.stderr:
            seen.append(line)
            if "no agent has picked up" in line:
                break
        client.cancel_flow_run(run_id)
        _, rest = process.communicate(timeout=COMMAND_TIMEOUT)
    finally:
        process.kill()
        process.wait()
    said = seen[-1]
    assert f"no agent has picked up flow run {run_id}." in said
    assert "No agent has asked this API for work in the last minute." in said
    assert (
        f"Start one for this run: PREFECT__BACKEND=server prefect agent local start"
        f" --api {server.url} --no-hostname-label --label gpu"
    ) in said
    assert process.returncode == 1, rest
    assert f"flow run {run_id} finished: Cancelled" in rest


FLOW_SCRIPT = """
    import prefect
    from prefect import Flow, Parameter, task
    from prefect.storage import Local

    @task
    def numbers(count):
        return list(range(count))

    @task
    def double(number):
        prefect.context.get("logger").info("doubling %s", number)
        return number * 2

    @task(log_stdout=True)
    def total(values):
        print("total", sum(values))
        return sum(values)

    with Flow(
        "cli-agent-flow",
        storage=Local(path=__file__, stored_as_script=True, add_default_labels=False),
    ) as flow:
        total(double.map(numbers(Parameter("count", default=3))))
"""


def _queue_is_served(client: Client) -> bool:
    """Whether the server answers the agent's poll (``get_runs_in_queue``)."""
    try:
        answer = client.graphql(
            "mutation Poll($input: get_runs_in_queue_input!) {"
            " get_runs_in_queue(input: $input) { flow_run_ids } }",
            variables={"input": {"tenant_id": client.get_tenant_id()}},
        )
    except ClientError:
        return False
    return answer["data"]["get_runs_in_queue"] is not None


def test_watch_reaches_success_when_a_real_agent_runs_the_flow(
    client: Client, server: LocalServer, tmp_path: Path
) -> None:
    if not _queue_is_served(client):
        pytest.skip("the embedded server does not answer get_runs_in_queue yet")
    prefect = shutil.which("prefect", path=str(Path(sys.executable).parent))
    assert prefect is not None, "Prefect 1.4.1 (a test dependency) installs the prefect command"
    script = tmp_path / "agent_flow.py"
    script.write_text(textwrap.dedent(FLOW_SCRIPT))
    namespace: dict[str, Any] = {"__file__": str(script)}
    exec(compile(script.read_text(), str(script), "exec"), namespace)  # noqa: S102 - our script
    project = f"agent-{uuid.uuid4().hex[:8]}"
    client.create_project(project)
    client.register(namespace["flow"], project_name=project, no_url=True)

    home = tmp_path / "home"
    agent_env = {
        **{name: value for name, value in os.environ.items() if not name.startswith("PREFECT__")},
        "PREFECT__BACKEND": "server",
        "PREFECT__HOME_DIR": str(home),
        "PREFECT__CLOUD__API": server.url,
    }
    agent = subprocess.Popen(  # noqa: S603 - Prefect's own agent
        [prefect, "agent", "local", "start", "--api", server.url, "--no-hostname-label"],
        env=agent_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        done = subprocess.run(  # noqa: S603 - our own command line
            [
                *CLI,
                "run",
                "cli-agent-flow",
                "--project",
                project,
                "--param",
                "count=4",
                "--watch",
                "--timeout",
                str(AGENT_RUN_TIMEOUT),
            ],
            env=cli_env(server.url),
            capture_output=True,
            text=True,
            timeout=AGENT_RUN_TIMEOUT + COMMAND_TIMEOUT,
            check=False,
        )
    finally:
        agent.terminate()
        agent_output, _ = agent.communicate(timeout=COMMAND_TIMEOUT)
    run_id = done.stdout.strip()
    assert done.returncode == 0, done.stderr + agent_output
    assert f"flow run {run_id} finished: Success" in done.stderr
    assert "doubling 3" in done.stderr
    assert client.get_flow_run_state(run_id).type == "Success"


POLL = (
    "mutation Poll($input: get_runs_in_queue_input!) {"
    " get_runs_in_queue(input: $input) { flow_run_ids } }"
)


def test_the_no_agent_message_names_the_agents_that_could_take_the_run() -> None:
    with LocalServer() as fresh, Client(fresh.url, backend="server") as client:
        run_id = str(uuid.uuid4())
        nobody = no_agent_message(client, run_id, ["gpu"], waited=15)
        assert nobody == (
            f"It has been 15.0s and no agent has picked up flow run {run_id}. No agent has asked"
            " this API for work in the last minute. Start one for this run: PREFECT__BACKEND=server"
            f" prefect agent local start --api {fresh.url} --no-hostname-label --label gpu"
        )
        agent_id = client.register_agent("LocalAgent", name="laptop", labels=["gpu"])
        client.graphql(
            POLL,
            variables={"input": {"tenant_id": client.get_tenant_id(), "labels": ["gpu"]}},
            headers={"X-PREFECT-AGENT-ID": agent_id},
        )
        fits = no_agent_message(client, run_id, ["gpu"], waited=45)
        assert "It has been 45.0s" in fits
        assert "Agent laptop has matching labels and asked for work within the last minute" in fits
        other = no_agent_message(client, run_id, ["eu"], waited=15)
        assert "1 healthy agent(s), but none takes runs with labels eu." in other
        unlabeled = no_agent_message(client, run_id, [], waited=15)
        assert "none takes runs with no labels" in unlabeled
        assert unlabeled.endswith("--no-hostname-label")


def test_the_agent_command_for_token_mode_asks_for_the_key_without_showing_one() -> None:
    with Client("http://127.0.0.1:4200", api_key="secret-key", backend="cloud") as client:
        command = start_agent_command(client, ["b", "a", "b"])
    assert command == (
        "prefect agent local start --api http://127.0.0.1:4200 --key YOUR_API_KEY"
        " --no-hostname-label --label a --label b"
    )
