"""The schema workflow: pull a live schema, diff two schemas, validate the queries.

When the API changes: ``pull`` writes its SDL (sorted, so diffs stay small),
``diff`` says what broke and which files in ``queries/`` no longer validate, then
the queries are fixed and ``generate`` / ``check`` run (see ``_codegen``).

Queries are read and validated the way ariadne-codegen reads them, so that a
folder passing here also compiles: every ``.graphql``/``.graphqls``/``.gql`` file
below the folder, fragments shared across files, unused fragments allowed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from graphql import (
    DefinitionNode,
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    NoUnusedFragmentsRule,
    OperationDefinitionNode,
    build_client_schema,
    build_schema,
    find_breaking_changes,
    find_dangerous_changes,
    get_introspection_query,
    lexicographic_sort_schema,
    parse,
    print_schema,
    specified_rules,
    validate,
)

__all__ = [
    "PULL_TIMEOUT",
    "QUERY_FILE_SUFFIXES",
    "QueryProblem",
    "SchemaDiff",
    "SchemaToolError",
    "diff_schemas",
    "find_added",
    "load_schema",
    "parse_headers",
    "pull_schema",
    "query_files",
    "validate_queries",
    "write_schema",
]

PULL_TIMEOUT = 30.0
QUERY_FILE_SUFFIXES = (".graphql", ".graphqls", ".gql")
_ERRORS_SHOWN = 3
_RULES = tuple(rule for rule in specified_rules if rule is not NoUnusedFragmentsRule)


class SchemaToolError(Exception):
    """A schema or query could not be fetched, read or parsed; the message says which and why.

    Messages never contain request header values (they may hold API keys).
    """


def parse_headers(values: Iterable[str]) -> dict[str, str]:
    """``NAME:VALUE`` strings (the CLI's ``--header``) as a header mapping."""
    headers = {}
    for value in values:
        name, separator, content = value.partition(":")
        if not separator or not name.strip():
            raise SchemaToolError(
                "--header takes NAME:VALUE; one value has no name or colon"
                " (not shown: it may be secret)"
            )
        headers[name.strip()] = content.strip()
    return headers


def load_schema(path: Path) -> GraphQLSchema:
    """A schema from an SDL file."""
    try:
        return build_schema(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as err:
        raise SchemaToolError(f"cannot read {path}: {_reason(err)}") from err
    except (GraphQLError, TypeError) as err:
        raise SchemaToolError(f"{path} is not a valid schema: {_graphql_message(err)}") from err


def _public_url(url: str) -> str:
    """``url`` without credentials or query string, to name it in messages."""
    try:
        return str(httpx.URL(url).copy_with(username=None, password=None, query=None))
    except (httpx.InvalidURL, TypeError, ValueError):
        return "the given URL"


def _graphql_message(err: Exception) -> str:
    return err.message if isinstance(err, GraphQLError) else str(err)


def _reason(err: Exception) -> str:
    return err.strerror if isinstance(err, OSError) and err.strerror else str(err)


def pull_schema(
    url: str, headers: Mapping[str, str] | None = None, *, timeout: float = PULL_TIMEOUT
) -> str:
    """Introspect the API at ``url``; its schema as SDL, types and fields sorted."""
    where = _public_url(url)
    try:
        response = httpx.post(
            url,
            json={"query": get_introspection_query(descriptions=True)},
            headers=dict(headers or {}),
            timeout=timeout,
        )
    except UnicodeEncodeError as err:
        raise SchemaToolError("header names and values must be ASCII") from err
    except httpx.ConnectError as err:
        raise SchemaToolError(f"cannot connect to {where}: {err}") from err
    except httpx.TimeoutException as err:
        raise SchemaToolError(f"{where} did not answer within {timeout:g}s") from err
    except (httpx.HTTPError, httpx.InvalidURL) as err:
        # Other transport errors may quote the request (and so a header): name only.
        raise SchemaToolError(f"cannot reach {where}: {type(err).__name__}") from err
    if not response.is_success:
        hint = " (check the --header credentials)" if response.status_code in (401, 403) else ""
        raise SchemaToolError(
            f"{where} answered HTTP {response.status_code} {response.reason_phrase}{hint}"
        )
    try:
        body: Any = response.json()
    except ValueError as err:
        raise SchemaToolError(f"{where} did not answer JSON; is it a GraphQL endpoint?") from err
    if not isinstance(body, dict):
        raise SchemaToolError(f"{where} did not answer a GraphQL response object")
    if body.get("errors"):
        raise SchemaToolError(
            f"{where} refused the introspection query: {_error_messages(body['errors'])}"
        )
    try:
        schema = build_client_schema(body["data"])
    except (KeyError, TypeError, GraphQLError) as err:
        raise SchemaToolError(
            f"{where} answered without a usable introspection result (no data.__schema)"
        ) from err
    return print_schema(lexicographic_sort_schema(schema)) + "\n"


def _error_messages(errors: object) -> str:
    if not isinstance(errors, list):
        return repr(errors)[:200]
    messages = [
        str(error.get("message")) if isinstance(error, dict) else repr(error)
        for error in errors[:_ERRORS_SHOWN]
    ]
    more = len(errors) - _ERRORS_SHOWN
    return "; ".join(messages) + (f" (and {more} more)" if more > 0 else "")


def write_schema(sdl: str, path: Path) -> None:
    """Write pulled SDL, creating the folder; a clear error if it cannot be written."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(sdl, encoding="utf-8")
    except OSError as err:
        raise SchemaToolError(f"cannot write {path}: {_reason(err)}") from err


@dataclass(frozen=True, order=True)
class QueryProblem:
    """One validation error, at the file and position of the offending node."""

    file: Path
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message}"


def query_files(queries_dir: Path) -> list[Path]:
    """The operation files ariadne-codegen reads from ``queries_dir``, sorted."""
    if not queries_dir.is_dir():
        raise SchemaToolError(f"queries folder {queries_dir} does not exist")
    return sorted(
        path
        for path in queries_dir.rglob("*")
        if path.suffix in QUERY_FILE_SUFFIXES and path.is_file()
    )


def _documents(queries_dir: Path) -> dict[Path, DocumentNode]:
    documents = {}
    for path in query_files(queries_dir):
        try:
            documents[path] = parse(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as err:
            raise SchemaToolError(f"cannot read {path}: {_reason(err)}") from err
        except GraphQLError as err:
            line, column = (
                (err.locations[0].line, err.locations[0].column) if err.locations else (0, 0)
            )
            raise SchemaToolError(f"{path}:{line}:{column}: {err.message}") from err
    return documents


def _file_of(node_source: object, documents: Mapping[Path, DocumentNode]) -> Path | None:
    for path, document in documents.items():
        if document.loc is not None and document.loc.source is node_source:
            return path
    return None


def _problem(
    error: GraphQLError, default: Path, documents: Mapping[Path, DocumentNode]
) -> QueryProblem:
    """Place ``error`` at its first node; a fragment's node may live in another file."""
    node = error.nodes[0] if error.nodes else None
    file = _file_of(node.loc.source, documents) if node and node.loc else None
    location = error.locations[0] if error.locations else None
    return QueryProblem(
        file=file or default,
        line=location.line if location else 0,
        column=location.column if location else 0,
        message=error.message,
    )


def _duplicate_operations(
    operations: list[tuple[Path, OperationDefinitionNode]],
) -> list[QueryProblem]:
    """Operation names must be unique across the folder (one generated method each)."""
    first: dict[str, Path] = {}
    problems = []
    for path, operation in operations:
        if operation.name is None:
            continue
        name = operation.name.value
        if name not in first:
            first[name] = path
            continue
        loc = operation.name.loc
        position = loc.source.get_location(loc.start) if loc else None
        problems.append(
            QueryProblem(
                file=path,
                line=position.line if position else 0,
                column=position.column if position else 0,
                message=f"There can be only one operation named '{name}'"
                f" (another is in {first[name]}).",
            )
        )
    return problems


def validate_queries(schema: GraphQLSchema, queries_dir: Path) -> list[QueryProblem]:
    """Problems of the operations in ``queries_dir`` against ``schema``, sorted.

    Each operation is validated with the fragments of the whole folder, so a
    fragment defined in one file and used in another resolves; each problem is
    reported once, in the file that holds the offending node.
    """
    documents = _documents(queries_dir)
    operations: list[tuple[Path, OperationDefinitionNode]] = []
    fragments: list[DefinitionNode] = []
    units: list[tuple[Path, tuple[DefinitionNode, ...]]] = []
    for path, document in documents.items():
        for definition in document.definitions:
            if isinstance(definition, OperationDefinitionNode):
                operations.append((path, definition))
            elif isinstance(definition, FragmentDefinitionNode):
                fragments.append(definition)
            else:
                units.append((path, (definition,)))
    units += [(path, (operation, *fragments)) for path, operation in operations]
    if not operations and fragments:
        units.append((queries_dir, tuple(fragments)))
    problems = set(_duplicate_operations(operations))
    for path, definitions in units:
        for error in validate(schema, DocumentNode(definitions=definitions), _RULES):
            problems.add(_problem(error, path, documents))
    return sorted(problems)


@dataclass(frozen=True)
class SchemaDiff:
    """What changed from an old schema to a new one, and what that does to the queries."""

    breaking: list[str]
    dangerous: list[str]
    added: list[str]
    """Types and output fields the new schema adds: safe for existing queries."""
    broken_queries: list[QueryProblem]
    """Problems against the new schema that the old schema did not have."""
    already_invalid: list[QueryProblem]
    """Problems against the new schema where the old one had a problem too."""

    @property
    def breaks_queries(self) -> bool:
        return bool(self.broken_queries)


def find_added(old: GraphQLSchema, new: GraphQLSchema) -> list[str]:
    """Types, and fields of object and interface types, that ``new`` adds to ``old``.

    The safe changes graphql-core does not list; added input fields, arguments and
    enum values are among its breaking or dangerous changes already.
    """
    added = []
    for name, new_type in sorted(new.type_map.items()):
        if name.startswith("__"):
            continue
        old_type = old.type_map.get(name)
        if old_type is None:
            added.append(f"TYPE_ADDED: {name} was added.")
        elif isinstance(new_type, GraphQLObjectType | GraphQLInterfaceType) and isinstance(
            old_type, GraphQLObjectType | GraphQLInterfaceType
        ):
            added += [
                f"FIELD_ADDED: {name}.{field} was added."
                for field in sorted(new_type.fields.keys() - old_type.fields.keys())
            ]
    return added


def _changes_to_queries(
    old: GraphQLSchema, new: GraphQLSchema, queries_dir: Path
) -> tuple[list[QueryProblem], list[QueryProblem]]:
    """The folder's problems against ``new``: (new ones, ones ``old`` had too)."""
    new_problems = validate_queries(new, queries_dir)
    if not new_problems:
        return [], []
    # By position: messages differ between schemas ("Did you mean ...?").
    old_positions = {(p.file, p.line, p.column) for p in validate_queries(old, queries_dir)}
    broken: list[QueryProblem] = []
    already_invalid: list[QueryProblem] = []
    for problem in new_problems:
        was_invalid = (problem.file, problem.line, problem.column) in old_positions
        (already_invalid if was_invalid else broken).append(problem)
    return broken, already_invalid


def diff_schemas(
    old: GraphQLSchema, new: GraphQLSchema, queries_dirs: Sequence[Path] = ()
) -> SchemaDiff:
    """Breaking, dangerous and added changes, and the queries in ``queries_dirs`` NEW breaks.

    Each folder is validated on its own (its fragments are shared within it), as
    ariadne-codegen compiles one folder per package; a folder given twice is read once.
    """
    broken: list[QueryProblem] = []
    already_invalid: list[QueryProblem] = []
    seen: set[Path] = set()
    for queries_dir in queries_dirs:
        if queries_dir.resolve() in seen:
            continue
        seen.add(queries_dir.resolve())
        folder_broken, folder_already_invalid = _changes_to_queries(old, new, queries_dir)
        broken += folder_broken
        already_invalid += folder_already_invalid
    return SchemaDiff(
        breaking=[f"{c.type.name}: {c.description}" for c in find_breaking_changes(old, new)],
        dangerous=[f"{c.type.name}: {c.description}" for c in find_dangerous_changes(old, new)],
        added=find_added(old, new),
        broken_queries=broken,
        already_invalid=already_invalid,
    )
