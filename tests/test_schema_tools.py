"""schema pull / diff: introspection to sorted SDL, breaking changes mapped to query files."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from graphql import build_schema, introspection_from_schema, print_schema
from pytest_httpx import HTTPXMock

from prefect_gql._cli import app
from prefect_gql._schema_tools import (
    SchemaToolError,
    diff_schemas,
    load_schema,
    pull_schema,
    validate_queries,
)

ROOT = Path(__file__).parents[1]
SCHEMA = ROOT / "schema" / "prefect.graphql"
QUERIES = ROOT / "queries"
URL = "http://prefect.test:4200/graphql"


def without_flow_run_serialized_state(sdl: str) -> str:
    start = sdl.index("type flow_run {")
    end = sdl.index("\n}", start)
    block = sdl[start:end]
    lines = block.split("\n")
    kept, skipping = [], False
    for line in lines:
        if line.startswith("  serialized_state("):
            skipping = True
        if not skipping:
            kept.append(line)
        if skipping and line.strip().startswith("): jsonb"):
            skipping = False
    return sdl[:start] + "\n".join(kept) + sdl[end:]


def test_pull_writes_sorted_sdl_equal_to_the_served_schema(
    httpx_mock: HTTPXMock, tmp_path: Path
) -> None:
    served = load_schema(SCHEMA)
    httpx_mock.add_response(url=URL, json={"data": introspection_from_schema(served)})

    sdl = pull_schema(URL, {"Authorization": "Bearer secret-token"})

    pulled = build_schema(sdl)
    assert print_schema(pulled) == sdl.rstrip("\n")
    assert set(pulled.type_map) == set(served.type_map)
    assert httpx_mock.get_requests()[0].headers["Authorization"] == "Bearer secret-token"
    assert "__schema" in httpx_mock.get_requests()[0].content.decode()


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ({"status_code": 500}, "HTTP 500"),
        ({"text": "<html>"}, "did not answer JSON"),
        ({"json": {"errors": [{"message": "introspection disabled"}]}}, "refused"),
    ],
)
def test_pull_errors_are_clear(
    httpx_mock: HTTPXMock, answer: dict[str, object], message: str
) -> None:
    httpx_mock.add_response(url=URL, **answer)  # type: ignore[arg-type]
    with pytest.raises(SchemaToolError, match=message):
        pull_schema(URL)


def test_pull_connection_failure(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_exception(httpx.ConnectError("refused"))
    with pytest.raises(SchemaToolError, match=r"cannot reach .* ConnectError"):
        pull_schema(URL)


def test_diff_reports_a_removed_field_with_the_query_file_and_line(tmp_path: Path) -> None:
    new = tmp_path / "new.graphql"
    new.write_text(without_flow_run_serialized_state(SCHEMA.read_text()))

    result = diff_schemas(load_schema(SCHEMA), load_schema(new), QUERIES)

    assert "FIELD_REMOVED: flow_run.serialized_state was removed." in result.breaking
    assert result.breaks_queries
    files = {(problem.file.name, problem.line) for problem in result.broken_queries}
    flow_runs = (QUERIES / "flow_runs.graphql").read_text().splitlines()
    expected_lines = {
        number
        for number, line in enumerate(flow_runs, start=1)
        if line.strip() == "serialized_state" and number < 60
    }
    assert {line for name, line in files if name == "flow_runs.graphql"} >= expected_lines
    assert all("serialized_state" in p.message for p in result.broken_queries)


def test_cli_diff_exit_codes(tmp_path: Path) -> None:
    runner = CliRunner()
    breaking = tmp_path / "breaking.graphql"
    breaking.write_text(without_flow_run_serialized_state(SCHEMA.read_text()))
    dangerous = tmp_path / "dangerous.graphql"
    dangerous.write_text(
        SCHEMA.read_text().replace("enum log_level {\n", "enum log_level {\n  TRACE\n", 1)
    )

    broken = runner.invoke(
        app, ["schema", "diff", str(SCHEMA), str(breaking), "--queries", str(QUERIES)]
    )
    harmless = runner.invoke(
        app, ["schema", "diff", str(SCHEMA), str(dangerous), "--queries", str(QUERIES)]
    )

    assert broken.exit_code == 1
    assert "flow_runs.graphql:" in broken.output
    assert harmless.exit_code == 0, harmless.output
    assert "Dangerous changes: 1" in harmless.output
    assert "TRACE" in harmless.output


def test_queries_with_a_syntax_error_name_the_file(tmp_path: Path) -> None:
    (tmp_path / "bad.graphql").write_text("query Broken {\n  tenant {\n")
    with pytest.raises(SchemaToolError, match=r"bad\.graphql:3:1"):
        validate_queries(load_schema(SCHEMA), tmp_path)


def test_fragments_from_other_files_are_resolved(tmp_path: Path) -> None:
    (tmp_path / "fragments.graphql").write_text("fragment T on tenant { id nope }\n")
    (tmp_path / "ops.graphql").write_text("query Q { tenant { ...T } }\n")
    problems = validate_queries(load_schema(SCHEMA), tmp_path)
    assert [(p.file.name, p.line) for p in problems] == [("fragments.graphql", 1)]


def test_pull_from_the_local_server_round_trips_the_schema(tmp_path: Path) -> None:
    from prefect_gql.server import LocalServer  # noqa: PLC0415 - starts only for this test

    output = tmp_path / "pulled.graphql"
    with LocalServer() as server:
        result = CliRunner().invoke(
            app, ["schema", "pull", "--url", server.graphql_url, "-o", str(output)]
        )
    assert result.exit_code == 0, result.output
    pulled = load_schema(output)
    served = load_schema(SCHEMA)
    assert set(pulled.type_map) == set(served.type_map)
    assert diff_schemas(served, pulled, QUERIES).breaking == []
    assert output.read_text() == pull_sdl_again(output)


def pull_sdl_again(path: Path) -> str:
    """Pulling is stable: printing the pulled schema sorted gives the same text."""
    from graphql import lexicographic_sort_schema  # noqa: PLC0415

    return print_schema(lexicographic_sort_schema(load_schema(path))) + "\n"
