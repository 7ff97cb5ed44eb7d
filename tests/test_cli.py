"""The prefect-gql command line: help everywhere, clear errors, no secrets echoed."""

from __future__ import annotations

import importlib.abc
import sys
import tomllib
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType

import httpx
import pytest
from click.testing import CliRunner, Result
from graphql import build_schema, introspection_from_schema
from pytest_httpx import HTTPXMock

from prefect_gql import schema_path
from prefect_gql._bundled import library_queries_path
from prefect_gql._codegen import CodegenError, FreshnessReport, compare_packages, package_dir
from prefect_gql.cli import _app as _cli, _console
from prefect_gql.cli._commands import app

from .conftest import copy_project

ROOT = Path(__file__).parents[1]
CONFIG = ROOT / "codegen.toml"
URL = "http://prefect.test/graphql"
SECRET = "s3cr3t-t0k3n"
runner = CliRunner()


def assert_clean_failure(result: Result, message: str) -> None:
    """Exit 1 with one ``Error:`` message: no traceback, no secret."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert result.output.startswith(f"Error: {message}"), result.output
    assert "Traceback" not in result.output
    assert SECRET not in result.output


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["server"],
        ["schema"],
        ["schema", "pull"],
        ["schema", "diff"],
        ["schema", "path"],
        ["init"],
        ["generate"],
        ["projects", "list"],
        ["projects", "create"],
        ["projects", "delete"],
        ["flows", "list"],
        ["flow", "describe"],
        ["flow-runs", "list"],
        ["flow-run", "describe"],
        ["flow-run", "set-state"],
        ["flow-run", "cancel"],
        ["flow-run", "delete"],
        ["task-runs", "list"],
        ["agents", "list"],
        ["logs"],
        ["run"],
        ["query"],
        ["auth", "login"],
        ["auth", "status"],
        ["auth", "logout"],
        ["auth", "switch-tenant"],
        ["check"],
    ],
)
def test_every_command_has_help(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert result.output.startswith("Usage: ")
    assert "Options:" in result.output
    assert "``" not in result.output  # docstrings' reST markup never reaches the help


def test_main_is_the_prefect_gql_entry_point(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pyproject = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    assert pyproject["project"]["scripts"] == {"prefect-gql": "prefect_gql.cli:main"}
    monkeypatch.setattr(sys, "argv", ["prefect-gql", "-h"])
    with pytest.raises(SystemExit) as exited:
        _console.main()
    assert exited.value.code == 0
    assert capsys.readouterr().out.startswith("Usage: prefect-gql [OPTIONS] COMMAND")


def test_the_command_without_click_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "click", None)
    monkeypatch.setattr(sys, "argv", ["prefect-gql", "-h"])
    with pytest.raises(SystemExit) as exited:
        _console.main()
    assert exited.value.code == 1
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", _console.MISSING_CLICK + "\n")
    assert "pip install 'prefect-gql[cli]'" in _console.MISSING_CLICK


# --- schema pull --------------------------------------------------------------


def pull(*options: str) -> Result:
    return runner.invoke(
        app,
        ["schema", "pull", "--url", URL, "--header", f"Authorization: Bearer {SECRET}", *options],
    )


def test_pull_writes_the_schema(httpx_mock: HTTPXMock, tmp_path: Path) -> None:
    schema = build_schema("type Query { b: Int a: String }")
    httpx_mock.add_response(url=URL, json={"data": introspection_from_schema(schema)})
    output = tmp_path / "schema" / "pulled.graphql"

    result = pull("-o", str(output))

    assert result.exit_code == 0, result.output
    assert result.output == f"wrote {output} (4 lines)\n"
    assert output.read_text() == "type Query {\n  a: String\n  b: Int\n}\n"
    request = httpx_mock.get_request()
    assert request is not None
    assert request.headers["Authorization"] == f"Bearer {SECRET}"


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ({"status_code": 401}, f"{URL} answered HTTP 401 Unauthorized (check the --header"),
        ({"text": "<html>"}, f"{URL} did not answer JSON"),
        (
            {"json": {"errors": [{"message": "introspection is disabled"}]}},
            f"{URL} refused the introspection query: introspection is disabled",
        ),
    ],
)
def test_pull_failures_are_one_clear_line(
    httpx_mock: HTTPXMock, tmp_path: Path, answer: dict[str, object], message: str
) -> None:
    httpx_mock.add_response(url=URL, **answer)  # type: ignore[arg-type]
    result = pull("-o", str(tmp_path / "s.graphql"))
    assert_clean_failure(result, message)
    assert not (tmp_path / "s.graphql").exists()


def test_pull_connection_failure(httpx_mock: HTTPXMock, tmp_path: Path) -> None:
    httpx_mock.add_exception(httpx.ConnectError("Connection refused"))
    result = pull("-o", str(tmp_path / "s.graphql"))
    assert result.output == f"Error: cannot connect to {URL}: Connection refused\n"
    assert_clean_failure(result, "cannot connect")


def test_pull_with_a_malformed_header_does_not_echo_it() -> None:
    result = runner.invoke(app, ["schema", "pull", "--url", URL, "--header", f"no-colon-{SECRET}"])
    assert_clean_failure(result, "--header takes NAME:VALUE")


def test_pull_with_a_non_ascii_header_does_not_echo_it() -> None:
    result = runner.invoke(
        app, ["schema", "pull", "--url", URL, "--header", f"Authorization: {SECRET}\u00e9"]
    )
    assert_clean_failure(result, "header names and values must be ASCII")


def test_pull_to_an_unwritable_place(httpx_mock: HTTPXMock, tmp_path: Path) -> None:
    schema = build_schema("type Query { a: Int }")
    httpx_mock.add_response(url=URL, json={"data": introspection_from_schema(schema)})
    (tmp_path / "file").write_text("")
    result = pull("-o", str(tmp_path / "file" / "s.graphql"))
    assert_clean_failure(result, "cannot write")


# --- schema diff --------------------------------------------------------------


def test_diff_of_a_missing_file(tmp_path: Path) -> None:
    result = runner.invoke(app, ["schema", "diff", str(tmp_path / "a"), str(tmp_path / "b")])
    assert_clean_failure(result, f"cannot read {tmp_path / 'a'}")


def test_diff_without_a_queries_folder(tmp_path: Path) -> None:
    schema = tmp_path / "s.graphql"
    schema.write_text("type Query { a: Int }\n")
    result = runner.invoke(
        app, ["schema", "diff", str(schema), str(schema), "--queries", str(tmp_path / "none")]
    )
    assert_clean_failure(result, "queries folder")


def test_schema_path_prints_the_bundled_schema() -> None:
    result = runner.invoke(app, ["schema", "path"])
    assert result.exit_code == 0, result.output
    assert result.output == f"{schema_path()}\n"
    assert (
        Path(result.output.strip()).read_text() == (ROOT / "schema" / "prefect.graphql").read_text()
    )


def test_diff_checks_the_library_queries_and_the_local_queries_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "queries").mkdir()
    (tmp_path / "queries" / "mine.graphql").write_text("query Mine { api { version } }\n")
    monkeypatch.chdir(tmp_path)
    schema = str(schema_path())

    result = runner.invoke(app, ["schema", "diff", schema, schema])

    assert result.exit_code == 0, result.output
    assert f"Query folders checked: {library_queries_path()}, queries\n" in result.output
    alone = runner.invoke(app, ["schema", "diff", schema, schema, "--no-library"])
    assert "Query folders checked: queries\n" in alone.output


# --- init, generate and check ---------------------------------------------------


def test_init_prints_what_it_wrote_and_what_to_do_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["init", "app", "--package", "my_queries"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"wrote {tmp_path / 'app' / 'codegen.toml'}",
        f"wrote {tmp_path / 'app' / 'queries' / 'recent_failed_flow_runs.graphql'}",
        f"wrote {tmp_path / 'app' / '.graphqlrc.yml'}",
        "next: cd app && prefect-gql generate, then `from my_queries import Operations`"
        " and `Operations(client).<operation>(...)`",
    ]
    again = runner.invoke(app, ["init", "app", "--package", "my_queries"])
    assert_clean_failure(again, f"{tmp_path / 'app' / 'codegen.toml'} already exists")


def test_init_with_a_bad_package_name_is_a_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["init", str(tmp_path), "--package", "my-queries"])
    assert_clean_failure(result, "--package 'my-queries' is not a Python identifier")


def test_check_passes_on_this_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT / "prefect_gql")
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 0, result.output
    assert result.output == "queries valid; prefect_gql_generated is fresh\n"


def test_generate_writes_the_configured_package_from_anywhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = copy_project(tmp_path / "p", "codegen.toml", "schema", "queries", "codegen")
    monkeypatch.chdir(tmp_path)

    result = runner.invoke(app, ["generate", "--config", "p/codegen.toml"])

    assert result.exit_code == 0, result.output
    package = project / "generated" / "prefect_gql_generated"
    assert result.output == f"generated {package}\n"
    report = compare_packages(package_dir(CONFIG), package)
    assert report.fresh, report.describe()


def test_check_reports_a_stale_package(monkeypatch: pytest.MonkeyPatch) -> None:
    stale = FreshnessReport(
        missing=[], extra=["stray.py"], changed={"client.py": "--- committed/client.py"}
    )
    monkeypatch.setattr(_cli, "check_fresh", lambda config: stale)

    result = runner.invoke(app, ["check", "--config", str(CONFIG)])

    assert result.exit_code == 1
    assert "stale (a regeneration no longer writes it): stray.py" in result.output
    assert "differs: client.py\n--- committed/client.py" in result.output
    assert "prefect_gql_generated is stale: run `prefect-gql generate` and commit it" in (
        result.output
    )


def test_check_reports_an_invalid_query(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "p", "codegen.toml", "schema", "queries")
    (project / "queries" / "broken.graphql").write_text("query Broken {\n  tenant { nope }\n}\n")

    result = runner.invoke(app, ["check", "--config", str(project / "codegen.toml")])

    assert result.exit_code == 1
    assert (
        f"{project / 'queries' / 'broken.graphql'}:2:12:"
        " Cannot query field 'nope' on type 'tenant'." in result.output
    )
    assert "1 query problem(s)" in result.output


def test_check_outside_a_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert_clean_failure(runner.invoke(app, ["check"]), "no codegen.toml or pyproject.toml with")


def test_generate_failure_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(config_path: Path) -> Path:
        raise CodegenError("ariadne-codegen failed: boom")

    monkeypatch.setattr(_cli, "generate", fail)
    result = runner.invoke(app, ["generate", "--config", str(CONFIG)])
    assert_clean_failure(result, "ariadne-codegen failed: boom")


# --- server -------------------------------------------------------------------


def test_server_runs_serve_with_the_options(monkeypatch: pytest.MonkeyPatch) -> None:
    server_module = pytest.importorskip(
        "prefect_gql.server", reason="prefect_gql.server (or its 'server' extra) is not installed"
    )
    calls: list[dict[str, object]] = []

    def serve(*, host: str, port: int, db: str, auth: object) -> None:
        calls.append({"host": host, "port": port, "db": db, "auth": auth})

    monkeypatch.setattr(server_module, "serve", serve)
    result = runner.invoke(app, ["server", "--host", "127.0.0.2", "--port", "4300", "--db", "x.db"])
    assert result.exit_code == 0, result.output
    assert calls == [{"host": "127.0.0.2", "port": 4300, "db": "x.db", "auth": None}]
    assert result.output == (
        f"prefect-gql server: open mode (no credentials asked), database SQLite"
        f" {Path('x.db').resolve()}, API http://127.0.0.2:4300\n"
    )


def test_server_api_keys_start_token_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    server_module = pytest.importorskip(
        "prefect_gql.server", reason="prefect_gql.server (or its 'server' extra) is not installed"
    )
    calls: list[object] = []
    monkeypatch.setattr(server_module, "serve", lambda **options: calls.append(options["auth"]))
    tenant = "6a1b1c49-4b1b-4a4b-9a4a-7e1f3f3c2d10"
    result = runner.invoke(
        app,
        ["server", "--api-key", SECRET, "--api-key", f"other-key={tenant}", "--api-key", "pad=="],
    )
    assert result.exit_code == 0, result.output
    assert result.output == (
        "prefect-gql server: token mode (3 API keys), database in memory (gone when the"
        " server stops), API http://127.0.0.1:4200\n"
    )
    assert SECRET not in result.output
    (auth,) = calls
    assert isinstance(auth, server_module.AuthConfig)
    assert dict(auth.api_keys) == {
        SECRET: server_module.DEFAULT_TENANT_ID,
        "other-key": tenant,
        "pad==": server_module.DEFAULT_TENANT_ID,
    }
    empty = runner.invoke(app, ["server", "--api-key", " "])
    assert empty.exit_code == 2
    assert "an API key cannot be empty" in empty.output


class _ServerExtraMissing(importlib.abc.MetaPathFinder):
    """Importing prefect_gql.server fails as it does without uvicorn installed."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname == "prefect_gql.server":
            raise ModuleNotFoundError("No module named 'uvicorn'", name="uvicorn")
        return None


def test_server_without_its_extra_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "prefect_gql.server", raising=False)
    monkeypatch.setattr(sys, "meta_path", [_ServerExtraMissing(), *sys.meta_path])
    result = runner.invoke(app, ["server"])
    assert_clean_failure(
        result,
        "the server needs the 'server' extra (uvicorn is missing):"
        " pip install 'prefect-gql[server]'",
    )


def test_server_missing_from_the_installation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "prefect_gql.server", None)
    result = runner.invoke(app, ["server"])
    assert_clean_failure(result, "the local server is not part of this installation")


def test_shell_completion_is_clicks_own() -> None:
    """The README's `eval "$(_PREFECT_GQL_COMPLETE=bash_source prefect-gql)"` line."""
    script = runner.invoke(
        app, [], prog_name="prefect-gql", env={"_PREFECT_GQL_COMPLETE": "bash_source"}
    )
    assert script.exit_code == 0
    assert "complete -o nosort -F _prefect_gql_completion prefect-gql" in script.output
    completed = runner.invoke(
        app,
        [],
        prog_name="prefect-gql",
        env={
            "_PREFECT_GQL_COMPLETE": "bash_complete",
            "COMP_WORDS": "prefect-gql flo",
            "COMP_CWORD": "1",
        },
    )
    assert completed.output.split() == [
        "plain,flow", "plain,flow-run", "plain,flow-runs", "plain,flows",
    ]  # fmt: skip
    readme = (ROOT / "README.md").read_text()
    assert 'eval "$(_PREFECT_GQL_COMPLETE=bash_source prefect-gql)"' in readme
