"""The schema workflow: pull a live schema, diff two schemas, validate the queries.

When the API changes: ``pull`` writes its SDL (sorted, so diffs stay small),
``diff`` says what broke and which files in ``queries/`` no longer validate, then
the queries are fixed and ``generate`` / ``check`` run (see ``_codegen``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    build_client_schema,
    build_schema,
    find_breaking_changes,
    find_dangerous_changes,
    get_introspection_query,
    lexicographic_sort_schema,
    parse,
    print_schema,
    validate,
)

__all__ = [
    "QueryProblem",
    "SchemaDiff",
    "SchemaToolError",
    "diff_schemas",
    "load_schema",
    "pull_schema",
    "validate_queries",
]

PULL_TIMEOUT = 30.0


class SchemaToolError(Exception):
    """A schema could not be fetched, read or parsed; the message says which and why."""


def load_schema(path: Path) -> GraphQLSchema:
    try:
        return build_schema(path.read_text())
    except OSError as err:
        raise SchemaToolError(f"cannot read {path}: {err.strerror}") from err
    except GraphQLError as err:
        raise SchemaToolError(f"{path} is not a valid schema: {err.message}") from err


def pull_schema(url: str, headers: Mapping[str, str] | None = None) -> str:
    """Introspect the API at ``url``; its schema as SDL, types and fields sorted."""
    try:
        response = httpx.post(
            url,
            json={"query": get_introspection_query(descriptions=True)},
            headers=dict(headers or {}),
            timeout=PULL_TIMEOUT,
        )
    except httpx.HTTPError as err:
        raise SchemaToolError(f"cannot reach {url}: {type(err).__name__}") from err
    if not response.is_success:
        raise SchemaToolError(f"{url} answered HTTP {response.status_code}")
    try:
        body: Any = response.json()
    except ValueError as err:
        raise SchemaToolError(f"{url} did not answer JSON") from err
    if not isinstance(body, dict) or body.get("errors") or not isinstance(body.get("data"), dict):
        raise SchemaToolError(f"{url} refused the introspection query: {body!r:.200}")
    try:
        schema = build_client_schema(body["data"])
    except (TypeError, GraphQLError) as err:
        raise SchemaToolError(f"{url} returned an unusable introspection result: {err}") from err
    return print_schema(lexicographic_sort_schema(schema)) + "\n"


@dataclass(frozen=True)
class QueryProblem:
    file: Path
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message}"


def _documents(queries_dir: Path) -> dict[Path, DocumentNode]:
    documents = {}
    for path in sorted(queries_dir.glob("*.graphql")):
        try:
            documents[path] = parse(path.read_text())
        except GraphQLError as err:
            line, column = (
                (err.locations[0].line, err.locations[0].column) if err.locations else (0, 0)
            )
            raise SchemaToolError(f"{path}:{line}:{column}: {err.message}") from err
    return documents


def validate_queries(schema: GraphQLSchema, queries_dir: Path) -> list[QueryProblem]:
    """Every operation in ``queries_dir``, each with the fragments of the whole folder."""
    documents = _documents(queries_dir)
    fragments = [
        definition
        for document in documents.values()
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    ]
    problems = []
    for path, document in documents.items():
        for operation in document.definitions:
            if not isinstance(operation, OperationDefinitionNode):
                continue
            used = DocumentNode(definitions=(operation, *fragments))
            for error in validate(schema, used):
                if "is never used" in error.message:
                    continue
                location = error.locations[0] if error.locations else None
                owner = _location_owner(error, operation, documents)
                problems.append(
                    QueryProblem(
                        file=owner or path,
                        line=location.line if location else 0,
                        column=location.column if location else 0,
                        message=error.message,
                    )
                )
    return sorted(set(problems), key=lambda p: (str(p.file), p.line, p.column, p.message))


def _location_owner(
    error: GraphQLError, operation: OperationDefinitionNode, documents: dict[Path, DocumentNode]
) -> Path | None:
    """The file an error's first node comes from (a fragment may live in another file)."""
    node = error.nodes[0] if error.nodes else None
    if node is None or node.loc is None:
        return None
    for path, document in documents.items():
        if document.loc is not None and node.loc.source is document.loc.source:
            return path
    return None


@dataclass(frozen=True)
class SchemaDiff:
    breaking: list[str]
    dangerous: list[str]
    broken_queries: list[QueryProblem]

    @property
    def breaks_queries(self) -> bool:
        return bool(self.broken_queries)


def diff_schemas(old: GraphQLSchema, new: GraphQLSchema, queries_dir: Path | None) -> SchemaDiff:
    broken = validate_queries(new, queries_dir) if queries_dir is not None else []
    return SchemaDiff(
        breaking=[f"{c.type.name}: {c.description}" for c in find_breaking_changes(old, new)],
        dangerous=[f"{c.type.name}: {c.description}" for c in find_dangerous_changes(old, new)],
        broken_queries=broken,
    )
