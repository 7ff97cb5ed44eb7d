"""The benchmark script keeps working: a smoke run with tiny sizes (never judged on speed)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).parents[1] / "benchmarks" / "run.py"


def test_benchmark_smoke_run_prints_every_measure() -> None:
    result = subprocess.run(  # noqa: S603 - our interpreter and our script
        [sys.executable, str(SCRIPT), "--smoke"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    rows = [
        line for line in result.stdout.splitlines() if line.startswith("| ") and "---" not in line
    ]
    measures = [row.split(" | ")[0].removeprefix("| ") for row in rows[1:]]
    assert measures == [
        "Client.get_flow_run_info: median per call",
        "Client.set_flow_run_state: median per call",
        "AsyncClient.get_flow_run_info: median per call",
        "AsyncClient.set_flow_run_state: median per call",
        "50 sequential calls",
        "50 concurrent update_flow_run_heartbeat (AsyncClient)",
        "write_run_logs of 2,000 entries (batches of 1,000)",
        "write_run_logs peak extra memory",
        "python -X importtime -c 'import prefect_gql' (cumulative)",
        "from prefect_gql import Client (wall time)",
    ]
    assert "| 50 sequential calls | 1 connection(s) opened |" in result.stdout
    assert "Task was destroyed" not in result.stderr
