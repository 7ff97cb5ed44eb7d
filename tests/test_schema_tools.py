"""schema pull / diff: introspection to sorted SDL, breaking changes mapped to query files."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from graphql import (
    GraphQLSchema,
    ObjectTypeDefinitionNode,
    build_schema,
    introspection_from_schema,
    lexicographic_sort_schema,
    parse,
    print_ast,
    print_schema,
)
from pytest_httpx import HTTPXMock

from prefect_gql._schema_tools import (
    SchemaToolError,
    diff_schemas,
    load_schema,
    parse_headers,
    pull_schema,
    validate_queries,
    write_schema,
)
from prefect_gql.cli._commands import app

ROOT = Path(__file__).parents[1]
SCHEMA = ROOT / "schema" / "prefect.graphql"
QUERIES = ROOT / "queries"
URL = "http://prefect.test:4200/graphql"
TINY_SCHEMA = """
type Query {
  tenant(id: ID!): Tenant
  tenants: [Tenant!]!
}

type Tenant {
  id: ID!
  name: String!
}
"""


def schema_without_field(sdl: str, type_name: str, field_name: str) -> str:
    document = parse(sdl)
    for definition in document.definitions:
        if isinstance(definition, ObjectTypeDefinitionNode) and definition.name.value == type_name:
            definition.fields = tuple(f for f in definition.fields if f.name.value != field_name)
    return print_ast(document)


@pytest.fixture(scope="module")
def served() -> GraphQLSchema:
    return load_schema(SCHEMA)


@pytest.fixture(scope="module")
def without_serialized_state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """schema/prefect.graphql without ``flow_run.serialized_state`` (used by queries)."""
    path = tmp_path_factory.mktemp("schemas") / "breaking.graphql"
    path.write_text(schema_without_field(SCHEMA.read_text(), "flow_run", "serialized_state"))
    return path


@pytest.fixture
def tiny() -> GraphQLSchema:
    return build_schema(TINY_SCHEMA)


def write_queries(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return folder


# --- pull ---------------------------------------------------------------------


def test_pull_writes_sorted_sdl_equal_to_the_served_schema(
    httpx_mock: HTTPXMock, tmp_path: Path, served: GraphQLSchema
) -> None:
    httpx_mock.add_response(url=URL, json={"data": introspection_from_schema(served)})
    output = tmp_path / "schema" / "pulled.graphql"

    write_schema(pull_schema(URL, {"Authorization": "Bearer secret-token"}), output)

    written = output.read_text()
    assert print_schema(build_schema(written)) + "\n" == written
    assert written == print_schema(lexicographic_sort_schema(served)) + "\n"
    request = httpx_mock.get_request()
    assert request is not None
    assert request.headers["Authorization"] == "Bearer secret-token"
    assert "__schema" in request.content.decode()

    httpx_mock.add_response(url=URL, json={"data": introspection_from_schema(load_schema(output))})
    assert pull_schema(URL) == written, "pulling a pulled schema again changes nothing"


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ({"status_code": 500}, r"answered HTTP 500 Internal Server Error$"),
        ({"status_code": 401}, r"HTTP 401 Unauthorized \(check the --header credentials\)"),
        ({"text": "<html>"}, "did not answer JSON"),
        ({"json": ["not", "an", "object"]}, "did not answer a GraphQL response object"),
        (
            {"json": {"errors": [{"message": "introspection disabled"}]}},
            "refused the introspection query: introspection disabled",
        ),
        ({"json": {"data": {"tenant": None}}}, r"no data\.__schema"),
    ],
)
def test_pull_errors_are_clear(
    httpx_mock: HTTPXMock, answer: dict[str, object], message: str
) -> None:
    httpx_mock.add_response(url=URL, **answer)  # type: ignore[arg-type]
    with pytest.raises(SchemaToolError, match=message):
        pull_schema(URL)


def test_pull_connection_failure_hides_url_credentials(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_exception(httpx.ConnectError("Connection refused"))
    with pytest.raises(SchemaToolError) as raised:
        pull_schema("http://user:pa55@prefect.test:4200/graphql?token=t0k3n")
    assert str(raised.value) == (
        "cannot connect to http://prefect.test:4200/graphql: Connection refused"
    )


def test_pull_timeout(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_exception(httpx.ReadTimeout("timed out"))
    with pytest.raises(SchemaToolError, match=r"did not answer within 2s"):
        pull_schema(URL, timeout=2)


def test_pull_protocol_errors_do_not_quote_the_request(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_exception(httpx.LocalProtocolError("Illegal header value b's3cr3t\\n'"))
    with pytest.raises(SchemaToolError) as raised:
        pull_schema(URL, {"Authorization": "s3cr3t"})
    assert str(raised.value) == f"cannot reach {URL}: LocalProtocolError"


def test_pull_with_a_non_ascii_header_value() -> None:
    with pytest.raises(SchemaToolError) as raised:
        pull_schema(URL, {"Authorization": "Bearer s\u00e9cret"})
    assert str(raised.value) == "header names and values must be ASCII"


def test_parse_headers() -> None:
    assert parse_headers(["Authorization: Bearer a:b", "X-Tenant:t"]) == {
        "Authorization": "Bearer a:b",
        "X-Tenant": "t",
    }
    for bad in ("no-colon-s3cr3t", ":s3cr3t"):
        with pytest.raises(SchemaToolError, match="NAME:VALUE") as raised:
            parse_headers([bad])
        assert "s3cr3t" not in str(raised.value)


def test_write_schema_failure_is_clear(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(SchemaToolError, match=r"cannot write .*file/s\.graphql"):
        write_schema("type Query { a: Int }\n", tmp_path / "file" / "s.graphql")


def test_load_schema_errors(tmp_path: Path) -> None:
    with pytest.raises(SchemaToolError, match=r"cannot read .*missing\.graphql"):
        load_schema(tmp_path / "missing.graphql")
    (tmp_path / "bad.graphql").write_text("type Query {")
    with pytest.raises(SchemaToolError, match=r"bad\.graphql is not a valid schema: Syntax Error"):
        load_schema(tmp_path / "bad.graphql")


def test_pull_from_the_local_server_round_trips_the_schema(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server_module = pytest.importorskip("prefect_gql.server")
    # The introspection query is not what is tested: no time limit for it on a busy machine.
    monkeypatch.setattr("prefect_gql.server._limits.MAX_EXECUTION_SECONDS", float("inf"))
    output = tmp_path / "pulled.graphql"
    with server_module.LocalServer() as server:
        result = CliRunner().invoke(
            app, ["schema", "pull", "--url", server.graphql_url, "-o", str(output)]
        )
    assert result.exit_code == 0, result.output
    pulled, schema = load_schema(output), load_schema(SCHEMA)
    assert print_schema(lexicographic_sort_schema(schema)) + "\n" == output.read_text()
    assert diff_schemas(schema, pulled, [QUERIES]).breaking == []
    # The committed schema is byte for byte what a pull writes: a first pull of a
    # real API shows only real differences.
    assert output.read_text() == SCHEMA.read_text()


def test_the_committed_schema_is_in_pull_form() -> None:
    sdl = SCHEMA.read_text(encoding="utf-8")
    assert sdl == print_schema(lexicographic_sort_schema(build_schema(sdl))) + "\n"
    assert not any(line.startswith("#") for line in sdl.splitlines())


# --- validation ---------------------------------------------------------------


def test_every_query_of_this_repository_validates(served: GraphQLSchema) -> None:
    assert validate_queries(served, QUERIES) == []


def test_fragments_from_other_files_are_resolved(tmp_path: Path, tiny: GraphQLSchema) -> None:
    write_queries(
        tmp_path,
        {
            "fragments.graphql": "fragment T on Tenant {\n  id\n  nope\n}\n",
            "ops.graphql": "query Q {\n  tenants {\n    ...T\n  }\n}\n",
            "more.graphql": "query R {\n  tenants {\n    ...T\n  }\n}\n",
        },
    )
    problems = validate_queries(tiny, tmp_path)
    assert [(p.file.name, p.line, p.column) for p in problems] == [("fragments.graphql", 3, 3)]
    assert problems[0].message == "Cannot query field 'nope' on type 'Tenant'. Did you mean 'name'?"


def test_the_folder_is_read_like_ariadne_codegen_reads_it(
    tmp_path: Path, tiny: GraphQLSchema
) -> None:
    write_queries(
        tmp_path,
        {
            "nested/a.gql": "query A {\n  tenants { nope }\n}\n",
            "b.graphqls": "query B {\n  tenants { alsoNope }\n}\n",
            "unused.graphql": "fragment Unused on Tenant { id }\n",
            "notes.txt": "query C { nope }",
        },
    )
    problems = validate_queries(tiny, tmp_path)
    assert [str(p.file.relative_to(tmp_path)) for p in problems] == ["b.graphqls", "nested/a.gql"]


def test_an_unused_fragment_is_still_validated(tmp_path: Path, tiny: GraphQLSchema) -> None:
    write_queries(tmp_path, {"f.graphql": "fragment F on Tenant { nope }\n"})
    assert [p.message for p in validate_queries(tiny, tmp_path)] == [
        "Cannot query field 'nope' on type 'Tenant'. Did you mean 'name'?"
    ]


def test_operation_names_are_unique_across_files(tmp_path: Path, tiny: GraphQLSchema) -> None:
    write_queries(
        tmp_path,
        {
            "a.graphql": "query Q { tenants { id } }\n",
            "b.graphql": "\nquery Q { tenants { id } }\n",
        },
    )
    problems = validate_queries(tiny, tmp_path)
    assert [(p.file.name, p.line, p.column) for p in problems] == [("b.graphql", 2, 7)]
    assert "only one operation named 'Q'" in problems[0].message


def test_a_syntax_error_names_the_file(tmp_path: Path, tiny: GraphQLSchema) -> None:
    write_queries(tmp_path, {"bad.graphql": "query Broken {\n  tenant {\n"})
    with pytest.raises(SchemaToolError, match=r"bad\.graphql:3:1: Syntax Error"):
        validate_queries(tiny, tmp_path)


def test_a_missing_queries_folder_is_an_error(tmp_path: Path, tiny: GraphQLSchema) -> None:
    with pytest.raises(SchemaToolError, match=r"queries folder .* does not exist"):
        validate_queries(tiny, tmp_path / "missing")


# --- diff ---------------------------------------------------------------------


def test_diff_reports_a_removed_field_with_the_query_file_and_line(
    served: GraphQLSchema, without_serialized_state: Path
) -> None:
    result = diff_schemas(served, load_schema(without_serialized_state), [QUERIES])

    assert result.breaking == ["FIELD_REMOVED: flow_run.serialized_state was removed."]
    assert result.breaks_queries
    positions = [(p.file.name, p.line, p.column) for p in result.broken_queries]
    assert [position for position in positions if position[0] == "flow_runs.graphql"] == [
        ("flow_runs.graphql", 18, 5),
        ("flow_runs.graphql", 33, 5),
    ]
    assert {p.message for p in result.broken_queries} == {
        "Cannot query field 'serialized_state' on type 'flow_run'."
    }
    assert result.already_invalid == []


@pytest.mark.parametrize("uses_the_removed_field", [True, False])
def test_cli_diff_separates_queries_that_were_already_invalid(
    tmp_path: Path, uses_the_removed_field: bool
) -> None:
    old, new = tmp_path / "old.graphql", tmp_path / "new.graphql"
    old.write_text(TINY_SCHEMA)
    new.write_text(schema_without_field(TINY_SCHEMA, "Tenant", "name"))
    field = "name" if uses_the_removed_field else "id"
    queries = write_queries(
        tmp_path / "q",
        {
            "old_bug.graphql": "query OldBug {\n  tenants { nope }\n}\n",
            "names.graphql": f"query Names {{\n  tenants {{ {field} }}\n}}\n",
        },
    )

    result = CliRunner().invoke(
        app, ["schema", "diff", str(old), str(new), "--queries", str(queries), "--no-library"]
    )

    assert result.exit_code == (1 if uses_the_removed_field else 0), result.output
    broken = "Cannot query field 'name' on type 'Tenant'."
    expected_broken = [f"  {queries / 'names.graphql'}:2:13: {broken}"]
    assert result.output.endswith(
        "\n".join(
            [
                f"Queries broken by NEW: {1 if uses_the_removed_field else 0}",
                *(expected_broken if uses_the_removed_field else []),
                "Queries already invalid against OLD: 1",
                f"  {queries / 'old_bug.graphql'}:2:13:"
                " Cannot query field 'nope' on type 'Tenant'.",
                "",
            ]
        )
    )


def test_cli_diff_exits_1_when_a_breaking_change_breaks_a_query(
    without_serialized_state: Path,
) -> None:
    result = CliRunner().invoke(
        app,
        ["schema", "diff", str(SCHEMA), str(without_serialized_state), "--queries", str(QUERIES)],
    )
    assert result.exit_code == 1
    assert "Breaking changes: 1\n  - FIELD_REMOVED: flow_run.serialized_state was removed." in (
        result.output
    )
    assert "Queries broken by NEW: 0" not in result.output
    assert (
        f"  {QUERIES / 'flow_runs.graphql'}:18:5:"
        " Cannot query field 'serialized_state' on type 'flow_run'." in result.output
    )


def test_cli_diff_exits_0_for_dangerous_changes(tmp_path: Path) -> None:
    sdl = SCHEMA.read_text()
    edits = [
        ("enum log_level {\n", "enum log_level {\n  TRACE\n"),
        (
            "  flow_run_by_pk(id: uuid!): flow_run\n",
            "  flow_run_by_pk(id: uuid!, at: Int): flow_run\n",
        ),
    ]
    for old, new_text in edits:
        assert old in sdl
        sdl = sdl.replace(old, new_text)
    new = tmp_path / "dangerous.graphql"
    new.write_text(sdl)

    result = CliRunner().invoke(
        app, ["schema", "diff", str(SCHEMA), str(new), "--queries", str(QUERIES)]
    )

    assert result.exit_code == 0, result.output
    assert "Breaking changes: 0" in result.output
    assert "VALUE_ADDED_TO_ENUM: TRACE was added to enum type log_level." in result.output
    assert "OPTIONAL_ARG_ADDED: An optional arg at on Query.flow_run_by_pk was added." in (
        result.output
    )
    assert "Queries broken by NEW: 0" in result.output


def test_diff_lists_added_types_and_fields_as_safe(tiny: GraphQLSchema) -> None:
    added = build_schema(
        TINY_SCHEMA.replace("  name: String!\n", "  name: String!\n  slug: String\n")
        + "type Agent { id: ID! }\ninput AgentFilter { id: ID }\n"
    )
    result = diff_schemas(tiny, added)
    assert result.added == [
        "TYPE_ADDED: Agent was added.",
        "TYPE_ADDED: AgentFilter was added.",
        "FIELD_ADDED: Tenant.slug was added.",
    ]
    assert result.breaking == []
    assert result.dangerous == []
    assert diff_schemas(added, tiny).added == []


def test_cli_diff_without_queries_that_break_exits_0(tmp_path: Path) -> None:
    old, new = tmp_path / "old.graphql", tmp_path / "new.graphql"
    old.write_text(TINY_SCHEMA)
    new.write_text(schema_without_field(TINY_SCHEMA, "Tenant", "name"))
    queries = write_queries(tmp_path / "q", {"q.graphql": "query Q { tenants { id } }\n"})

    result = CliRunner().invoke(
        app, ["schema", "diff", str(old), str(new), "--queries", str(queries), "--no-library"]
    )

    assert result.exit_code == 0, result.output
    assert "FIELD_REMOVED: Tenant.name was removed." in result.output
