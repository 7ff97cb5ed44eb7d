"""Results stay typed for users: mypy --strict on an example app names the model classes."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).parent / "typing_check" / "example_app.py"
ROOT = Path(__file__).parents[1]
STATE_UNION = re.compile(r"prefect_gql\._model\.states\.\w+( \| prefect_gql\._model\.states\.\w+)+")


@pytest.fixture(scope="module")
def revealed() -> list[str]:
    result = subprocess.run(  # noqa: S603 - our own interpreter and files
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(EXAMPLE)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    notes = [line for line in result.stdout.splitlines() if "Revealed type is" in line]
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    assert errors == [], result.stdout
    return [line.split("Revealed type is ", 1)[1].strip('"') for line in notes]


def test_no_result_degrades_to_any(revealed: list[str]) -> None:
    assert len(revealed) == 10
    json_field = revealed[6]
    for revealed_type in revealed:
        assert "Any" not in revealed_type
    for revealed_type in revealed[:6] + revealed[7:]:
        assert "dict" not in revealed_type
    assert "Any" not in json_field


def test_results_are_the_named_models(revealed: list[str]) -> None:
    assert revealed[0] == "prefect_gql._model.results.FlowRunInfo"
    assert STATE_UNION.fullmatch(revealed[1])
    assert revealed[2] == "prefect_gql._model.results.TaskRunInfo"
    assert STATE_UNION.fullmatch(revealed[3])
    assert revealed[4] == "prefect_gql._generated.list_tenants_by_slug.ListTenantsBySlugTenant"
    assert revealed[5] == "prefect_gql._generated.get_flow_run_logs.GetFlowRunLogsLog"
    assert revealed[6] == (
        "dict[str, dict[str, ...] | list[...] | str | int | float | bool | None]"
    )
    assert revealed[7] == "prefect_gql._model.results.FlowRunInfo"
    assert STATE_UNION.fullmatch(revealed[8])
    assert STATE_UNION.fullmatch(revealed[9])
