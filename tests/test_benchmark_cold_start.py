"""The cold-start benchmark keeps working: a smoke run (tiny counts, never judged on speed)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).parents[1] / "benchmarks" / "cold_start.py"


def test_cold_start_smoke_run_prints_every_measure() -> None:
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
    prefect_rows = [measure for measure in measures if "Prefect 1.4.1" in measure]
    assert [measure for measure in measures if measure not in prefect_rows] == [
        "cold start floor: import httpx + pydantic, one POST, json.loads",
        "cold start floor without loading the trust store (plain http needs none)",
        "cold start typed floor: the above + one pydantic model defined and validated",
        "cold start prefect_gql Client: import + construct + get_flow_run_info",
        "cold start prefect_gql AsyncClient: import + construct + get_flow_run_info",
        "cold start as installed without extras (click, rich, pygments not importable): "
        "prefect_gql Client",
        "per call Client.get_flow_run_info (warm, median)",
        "per call AsyncClient.get_flow_run_info (warm, median)",
    ]
    assert len(prefect_rows) in (0, 2)
    assert "Task was destroyed" not in result.stderr
    assert "CancelledError" not in result.stderr
