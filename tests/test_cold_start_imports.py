"""What a fresh process imports to build a client and make one call (issue 16: cold start).

Each test runs a program in a fresh interpreter with an empty Prefect home and prints
which of the modules a short-lived process should not need ended up in ``sys.modules``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from .conftest import FLOW_RUN_ID

DEFERRED = ("tomllib", "tomli_w")

PROGRAM = """
import json, sys
import httpx
from prefect_gql import Client

ANSWER = json.loads(sys.argv[1])
DEFERRED = json.loads(sys.argv[2])

def answer(request):
    return httpx.Response(200, json=ANSWER)

http = httpx.Client(transport=httpx.MockTransport(answer))
with Client("http://prefect.test:4200", backend="server", http_client=http) as client:
    info = client.get_flow_run_info(ANSWER["data"]["flow_run_by_pk"]["id"])
assert info.state.is_running()
print(json.dumps(sorted(name for name in DEFERRED if sys.modules.get(name) is not None)))
"""

FLOW_RUN_INFO_ANSWER = {
    "data": {
        "flow_run_by_pk": {
            "id": FLOW_RUN_ID,
            "name": "run",
            "flow_id": "22222222-2222-2222-2222-222222222222",
            "parameters": {},
            "context": {},
            "version": 1,
            "scheduled_start_time": "2024-01-01T00:00:00+00:00",
            "serialized_state": {"type": "Running", "message": None},
            "task_runs": [],
            "flow": {"project": {"id": "66666666-6666-6666-6666-666666666666", "name": "p"}},
        }
    }
}


WITHOUT_CLI_EXTRA = (
    "import sys\nfor name in ('click', 'rich', 'pygments'):\n    sys.modules[name] = None\n"
)
"""A preamble that makes the ``cli`` extra's packages unimportable, as when not installed."""


def loaded_in_fresh_process(
    deferred: tuple[str, ...], home: Path, *, preamble: str = ""
) -> list[str]:
    """Which of ``deferred`` a fresh ``Client(...).get_flow_run_info(...)`` imported."""
    environment = {
        name: value for name, value in os.environ.items() if not name.startswith("PREFECT__")
    }
    environment["PREFECT__HOME_DIR"] = str(home)
    done = subprocess.run(  # noqa: S603 - this interpreter, a fixed program
        [
            sys.executable,
            "-c",
            preamble + PROGRAM,
            json.dumps(FLOW_RUN_INFO_ANSWER),
            json.dumps(list(deferred)),
        ],
        env=environment,
        cwd=home,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    loaded: list[str] = json.loads(done.stdout)
    return loaded


def test_a_process_without_config_files_never_imports_toml(isolated_prefect_home: Path) -> None:
    isolated_prefect_home.mkdir(parents=True, exist_ok=True)
    assert loaded_in_fresh_process(DEFERRED, isolated_prefect_home) == []


def test_the_client_needs_nothing_from_the_cli_extra(isolated_prefect_home: Path) -> None:
    isolated_prefect_home.mkdir(parents=True, exist_ok=True)
    loaded = loaded_in_fresh_process(
        ("click", "rich"), isolated_prefect_home, preamble=WITHOUT_CLI_EXTRA
    )
    assert loaded == []
