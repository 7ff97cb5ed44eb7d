"""Hasura's where/order_by/limit/offset: the engine on its own, then over HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from prefect_gql.server._filters import Relations, apply_read_arguments, matches
from prefect_gql.server._store import Row

from .conftest import GraphQL, World, create_flow_run, set_state

ROWS: list[Row] = [
    {"id": "a", "n": 3, "tag": "x", "at": "2026-01-01T00:00:00.000000+00:00"},
    {"id": "b", "n": 1, "tag": None, "at": "2026-01-03T00:00:00.000000+00:00"},
    {"id": "c", "n": 2, "tag": "y", "at": None},
    {"id": "d", "n": 2, "tag": "x", "at": "2026-01-02T00:00:00.000000+00:00"},
]


def ids(rows: list[Row]) -> list[str]:
    return [row["id"] for row in rows]


def select(**arguments: Any) -> list[str]:
    return ids(apply_read_arguments(ROWS, **arguments))


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ({"n": {"_eq": 2}}, ["c", "d"]),
        ({"n": {"_neq": 2}}, ["a", "b"]),
        ({"n": {"_gt": 2}}, ["a"]),
        ({"n": {"_gte": 2}}, ["a", "c", "d"]),
        ({"n": {"_lt": 2}}, ["b"]),
        ({"n": {"_lte": 2}}, ["b", "c", "d"]),
        ({"tag": {"_in": ["x", "y"]}}, ["a", "c", "d"]),
        ({"tag": {"_nin": ["x"]}}, ["b", "c"]),
        ({"tag": {"_is_null": True}}, ["b"]),
        ({"tag": {"_is_null": False}, "n": {"_gte": 2, "_lt": 3}}, ["c", "d"]),
        ({"at": {"_gte": "2026-01-02T00:00:00.000000+00:00"}}, ["b", "d"]),
        ({"tag": {"_eq": None}}, ["a", "b", "c", "d"]),
        ({"_and": [{"n": {"_gt": 1}}, {"tag": {"_eq": "x"}}]}, ["a", "d"]),
        ({"_or": [{"n": {"_eq": 1}}, {"tag": {"_eq": "y"}}]}, ["b", "c"]),
        ({"_or": []}, ["a", "b", "c", "d"]),
        ({"_not": {"tag": {"_eq": "x"}}}, ["b", "c"]),
        ({"_not": {"_or": [{"n": {"_eq": 3}}, {"n": {"_eq": 1}}]}}, ["c", "d"]),
        ({"n": {"_gt": "text"}}, []),
    ],
)
def test_where(where: dict[str, Any], expected: list[str]) -> None:
    assert select(where=where) == expected


@pytest.mark.parametrize(
    ("order_by", "expected"),
    [
        ({"n": "asc"}, ["b", "c", "d", "a"]),
        ({"n": "desc"}, ["a", "c", "d", "b"]),
        ([{"n": "desc"}, {"id": "desc"}], ["a", "d", "c", "b"]),
        ({"n": "asc", "id": "desc"}, ["b", "d", "c", "a"]),
        ({"at": "asc"}, ["a", "d", "b", "c"]),
        ({"at": "desc"}, ["c", "b", "d", "a"]),
        ({"at": "asc_nulls_first"}, ["c", "a", "d", "b"]),
        ({"at": "desc_nulls_last"}, ["b", "d", "a", "c"]),
        ({"tag": "asc_nulls_last", "n": "asc"}, ["d", "a", "c", "b"]),
    ],
)
def test_order_by(order_by: Any, expected: list[str]) -> None:
    assert select(order_by=order_by) == expected


def test_limit_and_offset() -> None:
    assert select(order_by={"id": "asc"}, limit=2, offset=1) == ["b", "c"]
    assert select(limit=0) == []
    assert select(offset=10) == []
    with pytest.raises(ValueError, match="must not be negative"):
        select(limit=-1)


OWNERS: dict[str, Row] = {"x": {"id": "x", "name": "Xavier"}, "y": {"id": "y", "name": "Yan"}}


class Owners:
    """A row's ``owner`` is the owner its tag names; an owner's ``rows`` are those tagged so."""

    def __contains__(self, name: object) -> bool:
        return name in ("owner", "rows")

    def follow(self, row: Row, name: str) -> tuple[list[Row], Relations]:
        if name == "owner":
            owner = OWNERS.get(row.get("tag") or "")
            return ([owner] if owner else []), self
        return [r for r in ROWS if r["tag"] == row["id"]], self


def test_relationships_filter_and_order() -> None:
    def read(rows: list[Row], **arguments: Any) -> list[str]:
        return ids(apply_read_arguments(rows, relations=Owners(), **arguments))

    assert read(ROWS, where={"owner": {"name": {"_eq": "Yan"}}}) == ["c"]
    assert read(ROWS, order_by=[{"owner": {"name": "desc"}}, {"id": "asc"}]) == ["b", "c", "a", "d"]
    owners = list(OWNERS.values())
    assert read(owners, order_by={"rows_aggregate": {"count": "desc"}}) == ["x", "y"]
    assert read(owners, where={"rows": {"n": {"_eq": 2}}}) == ["x", "y"]
    assert read(owners, where={"rows": {"n": {"_eq": 3}}}) == ["x"]


def test_what_cannot_be_applied_is_an_error() -> None:
    with pytest.raises(ValueError, match="unsupported filter operator _contains"):
        matches(ROWS[0], {"tag": {"_contains": "x%"}})
    with pytest.raises(ValueError, match="cannot filter on 'owner'"):
        matches(ROWS[0], {"owner": {"name": {"_eq": "x"}}})
    with pytest.raises(ValueError, match="cannot order by"):
        select(order_by={"owner": {"name": "asc"}})
    with pytest.raises(ValueError, match="unsupported order_by direction"):
        select(order_by={"n": "sideways"})


def test_reads_filter_through_relationships(gql: GraphQL, world: World) -> None:
    second_run = create_flow_run(gql, world.flow_id)
    set_state(gql, "flow_run", second_run, {"type": "Running"})
    runs = gql.data(
        """query($project: String!) {
            flow_run(where: {flow: {project: {name: {_eq: $project}}}},
                     order_by: [{state: asc}, {created: desc}]) { id state } }""",
        {"project": world.project_name},
    )["flow_run"]
    assert runs == [
        {"id": second_run, "state": "Running"},
        {"id": world.flow_run_id, "state": "Scheduled"},
    ]
    paged = gql.data(
        """query($flow: uuid!) { flow_run(where: {flow_id: {_eq: $flow}},
               order_by: {created: asc}, limit: 1, offset: 1) { id } }""",
        {"flow": world.flow_id},
    )
    assert paged == {"flow_run": [{"id": second_run}]}
    with_state = gql.data(
        """query($flow: uuid!) { task_run(where: {flow_run: {flow_id: {_eq: $flow}},
               task: {slug: {_eq: "load-1"}}}, order_by: {flow_run: {created: desc}}) { id } }""",
        {"flow": world.flow_id},
    )["task_run"]
    assert with_state[-1] == {"id": world.task_run_ids["load-1"]}


def test_aggregates_count_rows(gql: GraphQL, world: World) -> None:
    create_flow_run(gql, world.flow_id)
    counts = gql.data(
        """query($flow: uuid!) {
            flow_run_aggregate(where: {flow_id: {_eq: $flow}}) {
                aggregate { count states: count(columns: [state], distinct: true) max { version } }
                nodes { id } }
            flow_by_pk(id: $flow) { flow_runs_aggregate { aggregate { count } } } }""",
        {"flow": world.flow_id},
    )
    aggregate = counts["flow_run_aggregate"]
    assert aggregate["aggregate"] == {"count": 2, "states": 1, "max": None}
    assert len(aggregate["nodes"]) == 2
    assert counts["flow_by_pk"]["flow_runs_aggregate"]["aggregate"]["count"] == 2


def test_fields_the_server_does_not_keep_read_empty(gql: GraphQL, world: World) -> None:
    empty = gql.data(
        """query($run: uuid!) { cloud_hook { id } message_aggregate { aggregate { count } }
            flow_run_by_pk(id: $run) { agent { id } agent_id } }""",
        {"run": world.flow_run_id},
    )
    assert empty == {
        "cloud_hook": [],
        "message_aggregate": {"aggregate": {"count": 0}},
        "flow_run_by_pk": {"agent": None, "agent_id": None},
    }


def test_a_filter_the_server_cannot_apply_is_a_bad_input(gql: GraphQL) -> None:
    error = gql.error('{ tenant(where: {settings: {_has_key: "d"}}) { id } }')
    assert error["message"] == "unsupported filter operator _has_key"
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
