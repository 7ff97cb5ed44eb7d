"""The prefect-gql command line: help everywhere, clear errors, no secrets echoed."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from pytest_httpx import HTTPXMock

from prefect_gql._cli import app

ROOT = Path(__file__).parents[1]
runner = CliRunner()


@pytest.mark.parametrize(
    "command",
    [[], ["server"], ["schema"], ["schema", "pull"], ["schema", "diff"], ["generate"], ["check"]],
)
def test_every_command_has_help(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.output


def test_check_passes_on_this_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT / "prefect_gql")
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 0, result.output
    assert "generated/ is fresh" in result.output


def test_generate_then_check_in_a_copy(tmp_path: Path) -> None:
    for name in ("codegen.toml", "schema", "queries", "codegen"):
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, tmp_path / name)
    config = tmp_path / "codegen.toml"

    stale = runner.invoke(app, ["check", "--config", str(config)])
    generated = runner.invoke(app, ["generate", "--config", str(config)])
    fresh = runner.invoke(app, ["check", "--config", str(config)])

    assert stale.exit_code == 1
    assert "generated/ is stale" in stale.output
    assert generated.exit_code == 0, generated.output
    assert (tmp_path / "generated" / "prefect_gql_generated" / "client.py").is_file()
    assert fresh.exit_code == 0, fresh.output


def test_check_reports_an_invalid_query(tmp_path: Path) -> None:
    shutil.copytree(
        ROOT,
        tmp_path / "p",
        ignore=shutil.ignore_patterns(".venv", ".git", "__pycache__", "*_cache"),
    )
    (tmp_path / "p" / "queries" / "broken.graphql").write_text(
        "query Broken {\n  tenant { nope }\n}\n"
    )

    result = runner.invoke(app, ["check", "--config", str(tmp_path / "p" / "codegen.toml")])

    assert result.exit_code == 1
    assert "broken.graphql:2:12: Cannot query field 'nope' on type 'tenant'." in result.output


def test_pull_failure_is_one_line_without_the_header_value(
    httpx_mock: HTTPXMock, tmp_path: Path
) -> None:
    httpx_mock.add_exception(httpx.ConnectError("refused"))
    result = runner.invoke(
        app,
        [
            "schema",
            "pull",
            "--url",
            "http://x.test",
            "--header",
            "Authorization: Bearer s3cr3t",
            "-o",
            str(tmp_path / "s.graphql"),
        ],
    )
    assert result.exit_code == 1
    assert result.output.strip() == "Error: cannot reach http://x.test: ConnectError"
    assert "s3cr3t" not in result.output
    assert not (tmp_path / "s.graphql").exists()


def test_bad_header_syntax(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["schema", "pull", "--url", "http://x.test", "--header", "no-colon-s3cr3t"]
    )
    assert result.exit_code == 1
    assert "NAME:VALUE" in result.output
    assert "s3cr3t" not in result.output


def test_diff_of_a_missing_file(tmp_path: Path) -> None:
    result = runner.invoke(app, ["schema", "diff", str(tmp_path / "a"), str(tmp_path / "b")])
    assert result.exit_code == 1
    assert result.output.startswith("Error: cannot read")


def test_server_without_its_extra_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "prefect_gql.server", None)
    result = runner.invoke(app, ["server", "--port", "0"])
    assert result.exit_code == 1
    assert "needs the 'server' extra" in result.output
