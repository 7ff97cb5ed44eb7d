"""Writing queries: ``prefect-gql init`` writes graphql-config's ``.graphqlrc.yml``, which a
real editor language server (npm's graphql-language-service-cli, the server behind the
VS Code GraphQL extension) reads to validate and complete queries as they are typed; and
``prefect-gql generate --watch`` regenerates on each change, counted in change events."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest

from prefect_gql import schema_path

from .cli_helpers import CLI, COMMAND_TIMEOUT, cli, cli_env

NPM_INSTALL_TIMEOUT = 300.0
LANGUAGE_SERVER = "graphql-language-service-cli@3"
PACKAGE = "my_queries"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    done = cli(cli_env(None), "init", "app", "--package", PACKAGE, cwd=str(tmp_path))
    assert done.returncode == 0, done.stderr
    return tmp_path / "app"


def test_init_writes_a_graphql_config_naming_the_schema_and_the_queries(project: Path) -> None:
    text = (project / ".graphqlrc.yml").read_text()
    settings = dict(
        line.split(": ", 1) for line in text.splitlines() if line and not line.startswith("#")
    )
    assert {key: json.loads(value) for key, value in settings.items()} == {
        "schema": str(schema_path()),
        "documents": "queries/**/*.graphql",
    }


def test_init_keeps_an_existing_graphql_config(tmp_path: Path) -> None:
    (tmp_path / ".graphqlrc.yml").write_text("schema: mine.graphql\n")
    done = cli(cli_env(None), "init", ".", "--package", PACKAGE, cwd=str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert f"kept {tmp_path.resolve() / '.graphqlrc.yml'}" in done.stdout
    assert (tmp_path / ".graphqlrc.yml").read_text() == "schema: mine.graphql\n"


@pytest.fixture(scope="module")
def language_server(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """graphql-lsp, installed with npm into a temporary folder (skipped without npm)."""
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed: the editor language server cannot be fetched")
    folder = tmp_path_factory.mktemp("lsp")
    installed = subprocess.run(  # noqa: S603 - npm from PATH, fixed arguments
        [npm, "install", "--no-audit", "--no-fund", "--silent", LANGUAGE_SERVER, "graphql@16"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=NPM_INSTALL_TIMEOUT,
        check=False,
    )
    if installed.returncode != 0:
        pytest.skip(f"npm could not install {LANGUAGE_SERVER}: {installed.stderr[-500:]}")
    return folder / "node_modules" / ".bin" / "graphql-lsp"


class LanguageServerSession:
    """A Language Server Protocol client over the server's stdin and stdout."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        assert process.stdin is not None
        assert process.stdout is not None
        self._input: IO[bytes] = process.stdin
        self._output: IO[bytes] = process.stdout

    def send(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        self._input.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self._input.flush()

    def receive(self) -> dict[str, Any]:
        length = None
        while (line := self._output.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        assert length is not None, "the language server stopped"
        message: dict[str, Any] = json.loads(self._output.read(length))
        return message


@pytest.fixture
def lsp(language_server: Path, project: Path) -> Iterator[LanguageServerSession]:
    with subprocess.Popen(  # noqa: S603 - the installed language server
        [str(language_server), "server", "--method", "stream", "--configDir", str(project)],
        cwd=project,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    ) as process:
        deadline = threading.Timer(COMMAND_TIMEOUT, process.kill)  # a hung server ends the test
        deadline.start()
        try:
            yield LanguageServerSession(process)
        finally:
            deadline.cancel()
            process.kill()


MESSAGES_BOUND = 100
"""Messages read from the language server before the test gives up."""


def test_an_editor_language_server_reads_the_config_to_check_and_complete_queries(
    lsp: LanguageServerSession, project: Path
) -> None:
    query = project / "queries" / "typed.graphql"
    query.write_text("query Typed {\n  flow_run {\n    id\n    nope\n  }\n}\n")
    uri = query.as_uri()
    start: dict[str, Any] = {"rootUri": project.as_uri(), "processId": None, "capabilities": {}}
    lsp.send({"id": 1, "method": "initialize", "params": start})
    diagnostics: list[dict[str, Any]] | None = None
    completions: list[str] | None = None
    for _ in range(MESSAGES_BOUND):
        message = lsp.receive()
        if "method" in message and "id" in message:  # the server asks for editor settings
            items = message.get("params", {}).get("items", [None])
            lsp.send({"id": message["id"], "result": [None] * len(items)})
        elif message.get("id") == 1:
            lsp.send({"method": "initialized", "params": {}})
            document = {
                "uri": uri,
                "languageId": "graphql",
                "version": 1,
                "text": query.read_text(),
            }
            lsp.send({"method": "textDocument/didOpen", "params": {"textDocument": document}})
        elif message.get("method") == "textDocument/publishDiagnostics" and diagnostics is None:
            diagnostics = message["params"]["diagnostics"]
            where = {"textDocument": {"uri": uri}, "position": {"line": 2, "character": 4}}
            lsp.send({"id": 2, "method": "textDocument/completion", "params": where})  # at `id`
        elif message.get("id") == 2:
            completions = [item["label"] for item in message["result"]["items"]]
            break
    assert diagnostics is not None, "no diagnostics: the config was not read"
    unknown_field = 'Cannot query field "nope" on type "flow_run". Did you mean "name"?'
    assert [(d["message"], d["range"]["start"]) for d in diagnostics] == [
        (unknown_field, {"line": 3, "character": 4})
    ]
    assert completions is not None
    assert {"id", "state", "scheduled_start_time", "task_runs"} <= set(completions)


def _lines(stream: IO[str]) -> Iterator[str]:
    yield from stream


def test_generate_watch_regenerates_when_a_query_or_the_config_changes(project: Path) -> None:
    """Two change events (a new query, then the config), counted, not timed: the command
    stops by itself after the second (``--max-changes 2``)."""
    package = project / PACKAGE
    process = subprocess.Popen(  # noqa: S603 - our own command line
        [*CLI, "generate", "--watch", "--max-changes", "2"],
        cwd=project,
        env=cli_env(None),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = threading.Timer(COMMAND_TIMEOUT * 3, process.kill)
    deadline.start()
    seen: list[str] = []
    try:
        assert process.stdout is not None
        lines = _lines(process.stdout)
        for line in lines:
            seen.append(line)
            if line.startswith("watching"):
                break
        assert (package / "client.py").is_file()
        (project / "queries" / "latest_runs.graphql").write_text(
            "query LatestRuns {\n  flow_run(limit: 3) { id state }\n}\n"
        )
        for line in lines:
            seen.append(line)
            if line.startswith("generated"):
                break
        assert "def latest_runs(" in (package / "client.py").read_text()
        config = project / "codegen.toml"
        config.write_text(config.read_text() + "\n# edited\n")
        rest, stderr = process.communicate(timeout=COMMAND_TIMEOUT * 3)
        seen.append(rest)
    finally:
        deadline.cancel()
        process.kill()
        process.wait()
    output = "".join(seen)
    assert process.returncode == 0, stderr + output
    assert output.count("generated ") == 3, output  # at start, and after each change
    assert "changed: latest_runs.graphql" in output
    assert "changed: codegen.toml" in output


def test_generate_watch_keeps_going_after_a_failure_and_rewatches_a_changed_config(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The loop around the watcher, with scripted change batches: an empty batch (the
    watcher's timeout) announces it; a failed generation is one Error: line, not the end; a
    config change starts a new watcher (it may name another queries folder)."""
    import watchfiles  # noqa: PLC0415

    from prefect_gql._codegen import CodegenError  # noqa: PLC0415
    from prefect_gql.cli import _app  # noqa: PLC0415

    config = (project / "codegen.toml").resolve()
    query = str(project / "queries" / "a.graphql")
    scripts = [
        [set(), {(watchfiles.Change.added, query)}, {(watchfiles.Change.modified, query)}],
        [set(), {(watchfiles.Change.modified, str(config))}],
        [set(), {(watchfiles.Change.deleted, query)}],
    ]
    watchers: list[tuple[object, ...]] = []

    def scripted_watch(*paths: object, **_options: object) -> Iterator[set[tuple[Any, str]]]:
        watchers.append(paths)
        yield from scripts[len(watchers) - 1]

    outcomes: Iterator[Path | CodegenError] = iter(
        [project / PACKAGE, CodegenError("broken query"), project / PACKAGE] * 3
    )

    def scripted_generate(_config: Path) -> Path:
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    monkeypatch.setattr(watchfiles, "watch", scripted_watch)
    monkeypatch.setattr(_app, "generate", scripted_generate)
    from click.testing import CliRunner  # noqa: PLC0415

    result = CliRunner().invoke(
        _app.app, ["generate", "--config", str(config), "--watch", "--max-changes", "4"]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"generated {project / PACKAGE}",
        f"watching {project / 'queries'} and {config} (Ctrl-C to stop)",
        "changed: a.graphql",
        "changed: a.graphql",
        f"generated {project / PACKAGE}",
        f"watching {project / 'queries'} and {config} (Ctrl-C to stop)",
        "changed: codegen.toml",
        f"generated {project / PACKAGE}",
        f"watching {project / 'queries'} and {config} (Ctrl-C to stop)",
        "changed: a.graphql",
    ]
    assert result.stderr == "Error: broken query\n" * 2  # the 2nd and 5th generations
    assert len(watchers) == 3
