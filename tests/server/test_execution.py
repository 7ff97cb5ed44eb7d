"""Lists of plain rows are completed in one loop (``_execution``), to exactly the answer
graphql-core's field-by-field completion gives, errors included."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import (
    ExecutionResult,
    GraphQLObjectType,
    GraphQLSchema,
    build_schema,
    execute_sync,
    parse,
)

from prefect_gql.server import _limits
from prefect_gql.server._execution import ServerExecutionContext
from prefect_gql.server._limits import MAX_RESOLVED_FIELDS, BudgetedExecutionContext
from prefect_gql.server._schema import read_or_empty

SDL = """
enum Kind { A B }
type Row { id: ID! n: Int kind: Kind name(upper: Boolean): String child: Row }
type Query { rows: [Row] strict_rows: [Row!]! many: [Row!]! one: Row }
"""
GOOD = [{"id": "1", "n": 1, "kind": "A", "name": "x"}, None, {"id": 2, "n": None}]


def schema(rows: dict[str, Any]) -> GraphQLSchema:
    built = build_schema(SDL)
    row_type, query_type = built.type_map["Row"], built.query_type
    assert isinstance(row_type, GraphQLObjectType)
    assert query_type is not None
    for field in row_type.fields.values():
        field.resolve = read_or_empty
    for name, field in query_type.fields.items():
        field.resolve = lambda _, info, name=name: rows[name]
    return built


def both(rows: dict[str, Any], document: str) -> tuple[ExecutionResult, ExecutionResult]:
    built = schema(rows)
    parsed = parse(document)
    return (
        execute_sync(built, parsed, execution_context_class=BudgetedExecutionContext),
        execute_sync(built, parsed, execution_context_class=ServerExecutionContext),
    )


@pytest.mark.parametrize(
    ("rows", "document"),
    [
        ({"rows": GOOD}, "{ rows { id n kind name __typename alias: id } }"),
        ({"rows": GOOD}, "{ rows { ... on Row { id } ...F } } fragment F on Row { n kind }"),
        ({"rows": GOOD}, "{ rows { id name(upper: true) } }"),
        ({"rows": [{"id": None}, {"id": "2"}]}, "{ rows { id n } }"),
        ({"strict_rows": [{"id": "1"}, None]}, "{ strict_rows { id } }"),
        ({"rows": [{"id": "1", "n": "many"}]}, "{ rows { id n } }"),
        ({"rows": [{"id": "1", "kind": "C"}]}, "{ rows { kind } }"),
        ({"rows": [{"id": "1"}, "not a row"]}, "{ rows { id } }"),
        ({"rows": []}, "{ rows { id } }"),
        ({"one": {"id": "1", "n": 2, "child": {"id": "2", "kind": "B"}}},
         "{ one { id n child { id kind __typename } } }"),
        ({"one": {"id": None, "n": "x", "child": {"id": "2", "kind": "C"}}},
         "{ one { n child { kind } id } }"),
        ({"rows": [{"id": "1", "child": {"id": None}}, {"id": "2", "child": {"n": "x", "id": 3}}]},
         "{ rows { id child { id n } } }"),
    ],
    ids=[
        "columns", "fragments", "arguments", "null-in-non-null", "null-row-in-non-null",
        "bad-int", "bad-enum", "not-a-mapping", "empty", "object", "object-errors",
        "rows-with-objects",
    ],
)  # fmt: skip
def test_plain_rows_complete_as_graphql_core_does(
    rows: dict[str, list[Any]], document: str
) -> None:
    expected, quick = both(rows, document)
    assert quick.data == expected.data
    assert [error.formatted for error in quick.errors or ()] == [
        error.formatted for error in expected.errors or ()
    ]


def test_the_field_budget_counts_every_column_of_every_row(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Counted in fields: the clock stands still, so no machine is slow enough for the
    time limit to come first."""
    monkeypatch.setattr(_limits, "clock", lambda: 0.0)
    rows = [{"id": str(n)} for n in range(MAX_RESOLVED_FIELDS // 2)]
    expected, quick = both({"many": rows}, "{ many { id alias: id } }")
    assert expected.data is None
    assert quick.data is None
    assert [error.formatted for error in quick.errors or ()] == [
        error.formatted for error in expected.errors or ()
    ]
    assert "more than" in str(quick.errors)


def test_plain_rows_take_the_quick_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    executed: list[str] = []
    original = ServerExecutionContext.execute_field

    def counting(self: ServerExecutionContext, *args: Any) -> Any:
        executed.append(args[3].key)
        return original(self, *args)

    monkeypatch.setattr(ServerExecutionContext, "execute_field", counting)
    _, quick = both({"rows": GOOD}, "{ rows { id n kind } }")
    assert quick.errors is None
    assert executed == ["rows"]
