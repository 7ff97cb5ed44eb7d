"""Real Prefect 1.4.1 tools against the embedded server: a ``LocalAgent`` started with
``prefect agent local start`` runs registered flows to Success, scheduled runs included.

The flow is a script (``Local`` storage, stored as a script) registered by a Prefect
process of its own, so the agent's flow-run subprocess loads it from disk as it would
on a laptop. Every process started here runs in its own session and is killed with
its children when the test ends, whatever the outcome. Waits are bounded by generous
deadlines: the verdict is the final state, never how long it took.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from prefect_gql import Client, Running
from prefect_gql.server import LocalServer
from prefect_gql.server._services import HEARTBEAT_TIMEOUT

pytestmark = pytest.mark.e2e

LABEL = "prefect-gql-real-agent"
FINAL_STATE_DEADLINE = 300.0
PREFECT_GQL = "from prefect_gql.cli import main; main()"
"""``prefect-gql`` as its console script runs it."""
FLOW_SCRIPT = """
import sys
from datetime import datetime, timedelta, timezone

import prefect
from prefect import Client, Flow, task
from prefect.engine.results import PrefectResult
from prefect.run_configs import LocalRun
from prefect.schedules import Schedule
from prefect.schedules.clocks import DatesClock
from prefect.storage import Local


@task
def numbers():
    return [1, 2, 3]


@task
def double(x):
    return 2 * x


@task
def total(doubled):
    prefect.context.get("logger").info("the total is %s", sum(doubled))
    return sum(doubled)


def build(name, schedule=None):
    with Flow(
        name,
        storage=Local(path=__file__, stored_as_script=True, add_default_labels=False),
        run_config=LocalRun(labels=["{label}"]),
        result=PrefectResult(),
        schedule=schedule,
    ) as flow:
        total(double.map(numbers()))
    return flow


flow = build("real-agent")
scheduled_flow = build(
    "real-agent-scheduled",
    Schedule(clocks=[DatesClock([datetime.now(timezone.utc) + timedelta(seconds=2)])]),
)

if __name__ == "__main__":
    Client().create_project("real-agent")
    chosen = scheduled_flow if sys.argv[1] == "scheduled" else flow
    print("FLOW_ID=" + chosen.register(project_name="real-agent", no_url=True))
""".replace("{label}", LABEL)


class Processes:
    """Subprocesses started for one test, each the leader of a session of its own."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self._started: list[subprocess.Popen[str]] = []

    def run(self, *args: str, timeout: float = 120.0) -> str:
        process = self.start(*args)
        try:
            output, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill_all()
            raise
        assert process.returncode == 0, output
        return output

    def start(self, *args: str) -> subprocess.Popen[str]:
        process = subprocess.Popen(  # noqa: S603 - our interpreter, our arguments
            [sys.executable, *args],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self._started.append(process)
        return process

    def kill_all(self) -> None:
        """Kills each process started here with its children (its process group)."""
        for process in self._started:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
            if process.stdout is not None and not process.stdout.closed:
                process.communicate(timeout=30)
            process.wait(timeout=30)


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer() as running:
        yield running


@pytest.fixture
def processes(server: LocalServer, tmp_path: Path) -> Iterator[Processes]:
    home = tmp_path / "prefect-home"
    home.mkdir()
    env = {
        **os.environ,
        "PREFECT__BACKEND": "server",
        "PREFECT__SERVER__ENDPOINT": server.url,
        "PREFECT__HOME_DIR": str(home),
        "PREFECT__USER_CONFIG_PATH": str(home / "config.toml"),
        "PREFECT__BACKEND_CONFIG_PATH": str(home / "backend.toml"),
        "PREFECT__LOGGING__LEVEL": "DEBUG",
    }
    started = Processes(env)
    yield started
    started.kill_all()


@pytest.fixture
def flow_script(tmp_path: Path) -> Path:
    script = tmp_path / "real_agent_flow.py"
    script.write_text(FLOW_SCRIPT)
    return script


def register(processes: Processes, script: Path, which: str) -> str:
    output = processes.run(str(script), which)
    return output.strip().splitlines()[-1].removeprefix("FLOW_ID=")


def start_agent(processes: Processes) -> subprocess.Popen[str]:
    return processes.start(
        "-m", "prefect", "agent", "local", "start", "--label", LABEL, "--no-hostname-label"
    )


def wait_for(what: str, check: Callable[[], Any], agent: subprocess.Popen[str]) -> Any:
    """Polls ``check`` until it answers something true; fails with the agent's output
    if the deadline passes or the agent exits."""
    deadline = time.monotonic() + FINAL_STATE_DEADLINE
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        if agent.poll() is not None:
            output = agent.communicate(timeout=30)[0]
            pytest.fail(f"the agent exited while waiting for {what}:\n{output}")
        time.sleep(0.5)
    os.killpg(agent.pid, signal.SIGKILL)
    output = agent.communicate(timeout=30)[0]
    pytest.fail(f"no {what} within {FINAL_STATE_DEADLINE} s; the agent said:\n{output}")


FINISHED = {"Success", "Failed", "Cancelled", "TimedOut", "TriggerFailed"}


def finished_state(client: Client, run_id: str) -> str | None:
    state = client.get_flow_run_info(run_id).state.type
    return state if state in FINISHED else None


def run_log_messages(client: Client, run_id: str) -> list[str]:
    return [
        line["message"]
        for line in client.graphql(
            "query($id: uuid!) { log(where: {flow_run_id: {_eq: $id}}) { message } }",
            variables={"id": run_id},
        )["data"]["log"]
    ]


def assert_ran_the_flow(client: Client, run_id: str) -> None:
    info = client.get_flow_run_info(run_id)
    assert info.state.type == "Success", info.state
    by_task: dict[str, list[dict[str, Any]]] = {}
    for task_run in client.graphql(
        "query($id: uuid!) { task_run(where: {flow_run_id: {_eq: $id}}) "
        "{ map_index state serialized_state task { name } } }",
        variables={"id": run_id},
    )["data"]["task_run"]:
        by_task.setdefault(task_run["task"]["name"], []).append(task_run)
    assert sorted(tr["map_index"] for tr in by_task["double"]) == [-1, 0, 1, 2]
    assert all(tr["state"] in {"Success", "Mapped"} for trs in by_task.values() for tr in trs)
    (total,) = by_task["total"]
    assert total["serialized_state"]["_result"]["location"] == "12"
    # A flow run's logs are sent in batches, the last ones as its process exits: they
    # may land after its final state.
    deadline = time.monotonic() + FINAL_STATE_DEADLINE
    while "the total is 12" not in (messages := run_log_messages(client, run_id)):
        assert time.monotonic() < deadline, messages
        time.sleep(0.5)
    runs = client.graphql(
        "query($id: uuid!) { flow_run_by_pk(id: $id) { agent { name type last_queried } } }",
        variables={"id": run_id},
    )["data"]["flow_run_by_pk"]
    assert runs["agent"]["type"] == "LocalAgent"


def test_a_local_agent_runs_a_registered_flow_to_success(
    server: LocalServer, processes: Processes, flow_script: Path
) -> None:
    flow_id = register(processes, flow_script, "plain")
    with Client(server.url, backend="server") as client:
        run_id = client.create_flow_run(flow_id=flow_id)
        agent = start_agent(processes)
        wait_for("finished flow run", lambda: finished_state(client, run_id), agent)
        assert_ran_the_flow(client, run_id)


def test_a_scheduled_flow_gets_its_runs_and_an_agent_runs_one(
    server: LocalServer, processes: Processes, flow_script: Path
) -> None:
    flow_id = register(processes, flow_script, "scheduled")
    with Client(server.url, backend="server") as client:
        scheduled = client.graphql(
            "query($id: uuid!) { flow_run(where: {flow_id: {_eq: $id}}) "
            "{ id auto_scheduled idempotency_key scheduled_start_time labels } }",
            variables={"id": flow_id},
        )["data"]["flow_run"]
        assert len(scheduled) == 1
        (run,) = scheduled
        assert run["auto_scheduled"] is True
        assert run["idempotency_key"].startswith("auto-scheduled:")
        assert run["labels"] == [LABEL]
        start = datetime.fromisoformat(run["scheduled_start_time"])
        assert start - datetime.now(UTC) < timedelta(minutes=5)
        agent = start_agent(processes)
        wait_for("finished scheduled run", lambda: finished_state(client, run["id"]), agent)
        assert_ran_the_flow(client, run["id"])


def test_a_run_whose_heartbeat_stopped_is_rescheduled_by_lazarus_and_run_by_an_agent(
    server: LocalServer, processes: Processes, flow_script: Path
) -> None:
    flow_id = register(processes, flow_script, "plain")
    with Client(server.url, backend="server") as client:
        run_id = client.create_flow_run(flow_id=flow_id)
        client.set_flow_run_state(run_id, Running(message="a flow runner that then died"))
        later = datetime.now(UTC) + HEARTBEAT_TIMEOUT + timedelta(minutes=1)
        assert server.services.lazarus.run_once(later) == 1
        rescheduled = client.graphql(
            "query($id: uuid!) { flow_run_by_pk(id: $id) { state times_resurrected } }",
            variables={"id": run_id},
        )["data"]["flow_run_by_pk"]
        assert rescheduled == {"state": "Scheduled", "times_resurrected": 1}
        agent = start_agent(processes)
        wait_for("finished resurrected run", lambda: finished_state(client, run_id), agent)
        assert_ran_the_flow(client, run_id)


def test_prefect_run_watch_follows_a_run_an_agent_takes_to_success(
    server: LocalServer, processes: Processes, flow_script: Path
) -> None:
    flow_id = register(processes, flow_script, "plain")
    start_agent(processes)
    output = processes.run(
        "-m", "prefect", "run", "--id", flow_id, "--watch", timeout=FINAL_STATE_DEADLINE
    )
    assert "the total is 12" in output
    assert output.rstrip().endswith("Flow run succeeded!"), output


def test_prefect_gql_run_watch_and_wait_for_flow_run_reach_success_when_an_agent_runs(
    server: LocalServer, processes: Processes, flow_script: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Client, "_sleep", staticmethod(time.sleep))  # polls wait for real here
    flow_id = register(processes, flow_script, "plain")
    start_agent(processes)
    output = processes.run(
        "-c", PREFECT_GQL, "run", flow_id, "--watch", timeout=FINAL_STATE_DEADLINE
    )
    run_id = output.splitlines()[0]
    assert output.rstrip().endswith(f"flow run {run_id} finished: Success"), output
    with Client(server.url, backend="server") as client:
        second = client.create_flow_run(flow_id=flow_id)
        view = client.wait_for_flow_run(second, timeout=FINAL_STATE_DEADLINE)
        assert view.state.type == "Success"
        assert_ran_the_flow(client, second)
