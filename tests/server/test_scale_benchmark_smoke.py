"""The server scale benchmark keeps working: a smoke run with tiny sizes (never judged on speed)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).parents[2] / "benchmarks" / "server_scale.py"


def test_server_scale_smoke_run_prints_every_measure() -> None:
    result = subprocess.run(  # noqa: S603 - our interpreter and our script
        [sys.executable, str(SCRIPT), "--smoke"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    rows = [
        line.split(" | ")
        for line in result.stdout.splitlines()
        if line.startswith("| ") and "---" not in line
    ]
    measures = [row[0].removeprefix("| ") for row in rows[1:]]
    assert measures == [
        "database",
        "get_flow_run_info p50, one-run database",
        "get_flow_run_info p50, 60 flow runs",
        "one page of 1,000 logs p50 (1,000 rows)",
        "create_flow_run p50",
        "set_flow_run_states p50 (one run)",
        "sequential throughput, 1 client",
        "throughput, 20 concurrent clients",
        "throughput, 20 concurrent httpx clients",
        "nested page p50 (60 runs, 1,201 fields)",
        "nested page over the field budget p50",
        "server peak memory (VmHWM)",
        "of a request: validating the get_flow_run_info document",
        "of a request: executing get_flow_run_info",
        "of a request: executing log page",
        "of a request: executing create_flow_run",
        "of a request: executing set_flow_run_states",
        "get_runs_in_queue p50",
        "get_runs_in_queue p50, labels no run has",
        "scheduler pass, 20 active schedules",
        "slowest call from another client during that pass",
        "first scheduler pass, 20 active schedules",
        "slowest call from another client during the first pass",
    ]
    assert rows[1][1] == "60 flow runs, 180 task runs, 10,000 logs"
    assert ", 0 failed;" in rows[8][2]
    assert "answers 20 ids" in rows[16][2]
    assert "creates 200 runs" in rows[20][2]
