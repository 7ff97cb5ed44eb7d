"""The reads Prefect Server computes instead of storing: ``mapped_children``, the task
graph traversals ``utility_downstream_tasks`` / ``utility_upstream_tasks``, and
``reference_data`` (Prefect's state classes).

The traversals follow Server's SQL functions: from the start tasks, edge by edge, at
most ``depth_limit`` (and never more than 50) steps; each task reached once, with
the greatest depth it was reached at, ordered by depth then id; Hasura's ``where``,
``order_by``, ``distinct_on``, ``limit`` and ``offset`` then apply to those rows.
``utility_traversal`` itself is the functions' row type, an empty table in Server,
and reads empty here.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any

from graphql import GraphQLObjectType, GraphQLResolveInfo, GraphQLSchema

from ._context import context_of
from ._errors import APIError
from ._filters import apply_read_arguments
from ._reads import aggregate_of
from ._store import Row, Store
from ._tables import RELATIONSHIPS, Relationship

__all__ = ["MAX_TRAVERSAL_DEPTH", "REFERENCE_DATA", "install_computed_reads"]

Resolver = Callable[..., Any]
MAX_TRAVERSAL_DEPTH = 50
"""Server's traversal functions stop after 50 steps whatever ``depth_limit`` says."""
_TRAVERSAL_RELATIONSHIPS = {"task": Relationship("task", "task_id", to_one=True)}

_STATE_PARENTS: dict[str, tuple[str, ...]] = {
    "State": (),
    "Pending": ("State",),
    "Scheduled": ("Pending", "State"),
    "Paused": ("Scheduled", "Pending", "State"),
    "_MetaState": ("State",),
    "ClientFailed": ("_MetaState", "State"),
    "Submitted": ("_MetaState", "State"),
    "Queued": ("_MetaState", "State"),
    "Resume": ("Scheduled", "Pending", "State"),
    "Retrying": ("Scheduled", "Pending", "State"),
    "Running": ("State",),
    "Cancelling": ("Running", "State"),
    "Finished": ("State",),
    "Looped": ("Finished", "State"),
    "Success": ("Finished", "State"),
    "Cached": ("Success", "Finished", "State"),
    "Mapped": ("Success", "Finished", "State"),
    "Cancelled": ("Finished", "State"),
    "Failed": ("Finished", "State"),
    "TimedOut": ("Failed", "Finished", "State"),
    "TriggerFailed": ("Failed", "Finished", "State"),
    "ValidationFailed": ("Failed", "Finished", "State"),
    "Skipped": ("Success", "Finished", "State"),
}
"""Prefect 1.4's state classes, in the order its module defines them, and their
state ancestors."""
_STATE_COLORS = {
    "State": "#696969", "Pending": "#7ebdff", "Scheduled": "#ffab00", "Paused": "#99a8e8",
    "_MetaState": "#696969", "ClientFailed": "#eb0000", "Submitted": "#ffdf5d",
    "Queued": "#ffea7f", "Resume": "#f58c0c", "Retrying": "#f66a0a", "Running": "#3d67ff",
    "Cancelling": "#E8E8E8", "Finished": "#003ccb", "Looped": "#003ccb", "Success": "#28a745",
    "Cached": "#34d058", "Mapped": "#003ccb", "Cancelled": "#bdbdbd", "Failed": "#eb0000",
    "TimedOut": "#ff4e33", "TriggerFailed": "#ff5131", "ValidationFailed": "#ff5131",
    "Skipped": "#62757f",
}  # fmt: skip


def _reference_data() -> dict[str, Any]:
    """Server's ``reference_data``: each state class -> itself and every subclass (in
    Prefect's module order), and each class's UI color."""
    hierarchy: dict[str, list[str]] = {}
    for state, parents in _STATE_PARENTS.items():
        for ancestor in (state, *parents):
            hierarchy.setdefault(ancestor, []).append(state)
    info = {state: {"color": color} for state, color in _STATE_COLORS.items()}
    return {"state_hierarchy": hierarchy, "state_info": info}


REFERENCE_DATA = _reference_data()


class _StoredRelations:
    """How rows reach related rows in the store, for filters over computed rows."""

    def __init__(self, store: Store, relationships: Mapping[str, Relationship]) -> None:
        self.store = store
        self.relationships = relationships

    def __contains__(self, name: object) -> bool:
        return name in self.relationships

    def follow(self, row: Row, name: str) -> tuple[list[Row], _StoredRelations]:
        relationship = self.relationships[name]
        onward = _StoredRelations(self.store, RELATIONSHIPS.get(relationship.table, {}))
        if relationship.to_one:
            found = self.store.get(relationship.table, row.get(relationship.column))
            return ([found] if found is not None else []), onward
        return self.store.rows(relationship.table, **{relationship.column: row["id"]}), onward


def _task_ids(value: Any) -> list[str]:
    """A Postgres ``_uuid`` array: ``"{id,id}"`` as Hasura takes it, or a JSON list."""
    if isinstance(value, str):
        text = value.strip()
        if not (text.startswith("{") and text.endswith("}")):
            raise APIError(f'start_task_ids must be a uuid array such as "{{...}}", not {value!r}')
        items: list[Any] = [item.strip().strip('"') for item in text[1:-1].split(",")]
        items = [item for item in items if item]
    elif isinstance(value, list):
        items = value
    else:
        raise APIError("start_task_ids must be a uuid array")
    try:
        return [str(uuid.UUID(str(item))) for item in items]
    except ValueError as err:
        raise APIError(f"start_task_ids holds an invalid UUID: {err}") from err


def traverse(
    store: Store, start_task_ids: list[str], depth_limit: int, *, downstream: bool
) -> list[Row]:
    """The ``utility_traversal`` rows of Server's ``downstream_tasks``/``upstream_tasks``."""
    near, far = ("upstream_task_id", "downstream_task_id")[:: 1 if downstream else -1]
    limit = min(depth_limit, MAX_TRAVERSAL_DEPTH)
    depth_of: dict[str, int] = {}
    tenant_of: dict[str, Any] = {}
    frontier: dict[str, Any] = {}
    for task_id in start_task_ids:
        task = store.get("task", task_id)
        if task is not None:
            frontier[task["id"]] = task["tenant_id"]
    depth = 0
    while frontier:
        for task_id, tenant_id in frontier.items():
            depth_of[task_id] = depth
            tenant_of[task_id] = tenant_id
        if depth >= limit:
            break
        reached: dict[str, Any] = {}
        for task_id in frontier:
            for edge in store.rows("edge", **{near: task_id}):
                reached[edge[far]] = edge["tenant_id"]
        frontier, depth = reached, depth + 1
    ordered = sorted(depth_of, key=lambda task_id: (depth_of[task_id], task_id))
    return [
        {"tenant_id": tenant_of[task_id], "task_id": task_id, "depth": depth_of[task_id]}
        for task_id in ordered
    ]


def _distinct(rows: list[Row], columns: Any) -> list[Row]:
    """Hasura's ``distinct_on``: the first row (in order) of each combination of values."""
    if not columns:
        return rows
    names = [columns] if isinstance(columns, str) else list(columns)
    seen: set[tuple[Any, ...]] = set()
    kept = []
    for row in rows:
        key = tuple(row.get(name) for name in names)
        if key not in seen:
            seen.add(key)
            kept.append(row)
    return kept


def _traversal_reader(*, downstream: bool, aggregate: bool) -> Resolver:
    def read(_: Any, info: GraphQLResolveInfo, args: Mapping[str, Any], **arguments: Any) -> Any:
        store = context_of(info).store
        depth_limit = args.get("depth_limit")
        rows = traverse(
            store,
            _task_ids(args.get("start_task_ids") or "{}"),
            MAX_TRAVERSAL_DEPTH if depth_limit is None else depth_limit,
            downstream=downstream,
        )
        distinct_on = arguments.pop("distinct_on", None)
        limit, offset = arguments.pop("limit", None), arguments.pop("offset", None)
        try:
            selected = apply_read_arguments(
                rows, relations=_StoredRelations(store, _TRAVERSAL_RELATIONSHIPS), **arguments
            )
            selected = apply_read_arguments(
                _distinct(selected, distinct_on), limit=limit, offset=offset
            )
        except ValueError as err:
            raise APIError(str(err)) from err
        return aggregate_of(selected) if aggregate else selected

    return read


def _mapped_children(_: Any, info: GraphQLResolveInfo, task_run_id: str) -> Row:
    """Over the mapped children of a parent task run (map index -1): the earliest
    start, the latest end, and how many are in each state."""
    store = context_of(info).store
    parent = store.get("task_run", task_run_id)
    children: list[Row] = []
    if parent is not None and parent["map_index"] < 0:
        children = store.select(
            "task_run",
            {"where": {"map_index": {"_gte": 0}}},
            flow_run_id=parent["flow_run_id"],
            task_id=parent["task_id"],
        )
    counts: dict[str, int] = {}
    for child in children:
        counts[child["state"]] = counts.get(child["state"], 0) + 1
    starts = [child["start_time"] for child in children if child["start_time"] is not None]
    ends = [child["end_time"] for child in children if child["end_time"] is not None]
    return {
        "min_start_time": min(starts, default=None),
        "max_end_time": max(ends, default=None),
        "state_counts": counts,
    }


def _traversal_task(row: Row, info: GraphQLResolveInfo) -> Row | None:
    return context_of(info).store.get("task", row.get("task_id"))


def install_computed_reads(schema: GraphQLSchema) -> None:
    root = schema.query_type
    assert root is not None
    readers: dict[str, Resolver] = {
        "mapped_children": _mapped_children,
        "reference_data": lambda _, info: REFERENCE_DATA,
        "utility_traversal": lambda _, info, **arguments: [],
        "utility_traversal_aggregate": lambda _, info, **arguments: aggregate_of([]),
    }
    for direction, downstream in (("downstream", True), ("upstream", False)):
        name = f"utility_{direction}_tasks"
        readers[name] = _traversal_reader(downstream=downstream, aggregate=False)
        readers[f"{name}_aggregate"] = _traversal_reader(downstream=downstream, aggregate=True)
    for name, reader in readers.items():
        if name in root.fields:
            root.fields[name].resolve = reader
    traversal = schema.type_map.get("utility_traversal")
    if isinstance(traversal, GraphQLObjectType):
        traversal.fields["task"].resolve = _traversal_task
