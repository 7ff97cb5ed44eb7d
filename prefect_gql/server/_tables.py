"""The tables the store keeps: column defaults, relationships and cascades.

This is the local server's stand-in for Prefect Server's database schema. Each
table's ``COLUMNS`` say how a value is kept in SQLite; ``INDEXES`` serve the
lookups the store, the clients and Prefect's own queries make. Inserts fill unset
columns from ``DEFAULTS`` (as Postgres column defaults would), so every non-null
column of the GraphQL type has a value; reads follow ``RELATIONSHIPS``; deletes
follow ``CASCADES`` (the foreign keys declared ``ON DELETE CASCADE``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "CASCADES",
    "COLUMNS",
    "DEFAULTS",
    "INDEXES",
    "NOT_NULL",
    "RELATIONSHIPS",
    "TABLES",
    "ColumnKind",
    "Relationship",
    "Row",
]

Row = dict[str, Any]
"""One stored row: column name -> value."""

ColumnKind = Literal["value", "json", "bool"]
"""How a column keeps its values: ``value`` as SQLite stores the Python scalar
(text, integer, real, null), ``json`` as JSON text, ``bool`` as 0 or 1."""


@dataclass(frozen=True)
class Relationship:
    """A Hasura relationship: ``to_one`` rows hold ``column`` = the other row's id;
    otherwise the other table's rows hold ``column`` = this row's id."""

    table: str
    column: str
    to_one: bool


def _one(table: str, column: str) -> Relationship:
    return Relationship(table, column, to_one=True)


def _many(table: str, column: str) -> Relationship:
    return Relationship(table, column, to_one=False)


_STATE_COLUMNS: dict[str, Any] = {
    "state": None,
    "state_message": None,
    "state_timestamp": None,
    "state_start_time": None,
    "state_result": None,
    "serialized_state": None,
}
_RUN_COLUMNS: dict[str, Any] = {
    **_STATE_COLUMNS,
    "name": None,
    "version": 0,
    "heartbeat": None,
    "start_time": None,
    "end_time": None,
}

DEFAULTS: dict[str, dict[str, Any]] = {
    "tenant": {"settings": {}, "info": None},
    "project": {"description": None},
    "flow_group": {
        "name": None,
        "description": None,
        "default_parameters": {},
        "settings": {},
        "labels": None,
        "schedule": None,
        "run_config": None,
    },
    "flow": {
        "archived": False,
        "is_schedule_active": False,
        "settings": {},
        "description": None,
        "idempotency_key": None,
        "core_version": None,
        "schedule": None,
        "environment": None,
        "storage": None,
        "run_config": None,
        "parameters": [],
        "serialized_flow": None,
    },
    "task": {
        "name": None,
        "slug": None,
        "type": None,
        "description": None,
        "tags": [],
        "max_retries": 0,
        "retry_delay": None,
        "mapped": False,
        "auto_generated": False,
        "cache_key": None,
        "trigger": None,
        "is_reference_task": False,
        "is_root_task": False,
        "is_terminal_task": False,
    },
    "edge": {"key": None, "mapped": False},
    "flow_run": {
        **_RUN_COLUMNS,
        "agent_id": None,
        "auto_scheduled": False,
        "labels": [],
        "parameters": {},
        "context": {},
        "run_config": None,
        "idempotency_key": None,
        "times_resurrected": 0,
    },
    "task_run": {**_RUN_COLUMNS, "map_index": -1, "cache_key": None},
    "flow_run_state": {"message": None, "result": None, "start_time": None, "version": None},
    "task_run_state": {"message": None, "result": None, "start_time": None, "version": None},
    "log": {
        "task_run_id": None,
        "name": None,
        "message": None,
        "level": "INFO",
        "info": None,
        "is_loaded_from_archive": False,
    },
    "agent": {
        "name": None,
        "type": None,
        "labels": [],
        "core_version": None,
        "agent_config_id": None,
        "last_queried": None,
    },
    "agent_config": {"name": None, "settings": {}},
    "task_run_artifact": {"kind": None, "data": None},
    "task_tag_limit": {},
    "secret": {},
    "cloud_hook": {
        "name": None,
        "type": None,
        "config": {},
        "states": [],
        "active": True,
        "version_group_id": None,
    },
    "message": {"type": None, "text": None, "content": {}, "read": False},
}
"""Every table the store keeps, with the defaults of its columns (``id``,
``created`` and ``updated`` are set by the store)."""

TABLES = tuple(DEFAULTS)

RELATIONSHIPS: dict[str, dict[str, Relationship]] = {
    "tenant": {
        "projects": _many("project", "tenant_id"),
        "flows": _many("flow", "tenant_id"),
        "flow_groups": _many("flow_group", "tenant_id"),
    },
    "project": {"tenant": _one("tenant", "tenant_id"), "flows": _many("flow", "project_id")},
    "flow_group": {"tenant": _one("tenant", "tenant_id"), "flows": _many("flow", "flow_group_id")},
    "flow": {
        "tenant": _one("tenant", "tenant_id"),
        "project": _one("project", "project_id"),
        "flow_group": _one("flow_group", "flow_group_id"),
        "tasks": _many("task", "flow_id"),
        "edges": _many("edge", "flow_id"),
        "flow_runs": _many("flow_run", "flow_id"),
    },
    "task": {
        "flow": _one("flow", "flow_id"),
        "task_runs": _many("task_run", "task_id"),
        "upstream_edges": _many("edge", "downstream_task_id"),
        "downstream_edges": _many("edge", "upstream_task_id"),
    },
    "edge": {
        "flow": _one("flow", "flow_id"),
        "upstream_task": _one("task", "upstream_task_id"),
        "downstream_task": _one("task", "downstream_task_id"),
    },
    "flow_run": {
        "tenant": _one("tenant", "tenant_id"),
        "flow": _one("flow", "flow_id"),
        "agent": _one("agent", "agent_id"),
        "task_runs": _many("task_run", "flow_run_id"),
        "logs": _many("log", "flow_run_id"),
        "states": _many("flow_run_state", "flow_run_id"),
    },
    "task_run": {
        "tenant": _one("tenant", "tenant_id"),
        "flow_run": _one("flow_run", "flow_run_id"),
        "task": _one("task", "task_id"),
        "logs": _many("log", "task_run_id"),
        "states": _many("task_run_state", "task_run_id"),
    },
    "flow_run_state": {"flow_run": _one("flow_run", "flow_run_id")},
    "task_run_state": {"task_run": _one("task_run", "task_run_id")},
    "agent": {
        "agent_config": _one("agent_config", "agent_config_id"),
        "flow_runs": _many("flow_run", "agent_id"),
    },
    "agent_config": {"agents": _many("agent", "agent_config_id")},
    "task_run_artifact": {"task_run": _one("task_run", "task_run_id")},
}
"""``table -> relationship field -> Relationship``, as the schema's types name them."""

CASCADES: dict[str, tuple[tuple[str, str], ...]] = {
    "tenant": tuple((table, "tenant_id") for table in TABLES if table != "tenant"),
    "project": (("flow", "project_id"),),
    "flow_group": (("flow", "flow_group_id"),),
    "flow": (("task", "flow_id"), ("edge", "flow_id"), ("flow_run", "flow_id")),
    "task": (
        ("task_run", "task_id"),
        ("edge", "upstream_task_id"),
        ("edge", "downstream_task_id"),
    ),
    "flow_run": (
        ("task_run", "flow_run_id"),
        ("flow_run_state", "flow_run_id"),
        ("log", "flow_run_id"),
    ),
    "task_run": (("task_run_state", "task_run_id"), ("task_run_artifact", "task_run_id")),
}
"""``table -> (table, column)`` rows deleted with a row of ``table``."""


_COMMON: dict[str, ColumnKind] = {"id": "value", "created": "value", "updated": "value"}
_STATE_KINDS: dict[str, ColumnKind] = {
    "state": "value",
    "state_message": "value",
    "state_timestamp": "value",
    "state_start_time": "value",
    "state_result": "json",
    "serialized_state": "json",
}
_RUN_KINDS: dict[str, ColumnKind] = {
    **_STATE_KINDS,
    "tenant_id": "value",
    "name": "value",
    "version": "value",
    "heartbeat": "value",
    "start_time": "value",
    "end_time": "value",
}
_HISTORY_KINDS: dict[str, ColumnKind] = {
    "tenant_id": "value",
    "version": "value",
    "timestamp": "value",
    "state": "value",
    "message": "value",
    "result": "json",
    "start_time": "value",
    "serialized_state": "json",
}

_OWN_COLUMNS: dict[str, dict[str, ColumnKind]] = {
    "tenant": {"name": "value", "slug": "value", "settings": "json", "info": "json"},
    "project": {"tenant_id": "value", "name": "value", "description": "value"},
    "flow_group": {
        "tenant_id": "value",
        "name": "value",
        "description": "value",
        "default_parameters": "json",
        "settings": "json",
        "labels": "json",
        "schedule": "json",
        "run_config": "json",
    },
    "flow": {
        "tenant_id": "value",
        "project_id": "value",
        "flow_group_id": "value",
        "name": "value",
        "version": "value",
        "version_group_id": "value",
        "archived": "bool",
        "is_schedule_active": "bool",
        "settings": "json",
        "description": "value",
        "idempotency_key": "value",
        "core_version": "value",
        "schedule": "json",
        "environment": "json",
        "storage": "json",
        "run_config": "json",
        "parameters": "json",
        "serialized_flow": "json",
    },
    "task": {
        "tenant_id": "value",
        "flow_id": "value",
        "name": "value",
        "slug": "value",
        "type": "value",
        "description": "value",
        "tags": "json",
        "max_retries": "value",
        "retry_delay": "json",
        "mapped": "bool",
        "auto_generated": "bool",
        "cache_key": "value",
        "trigger": "json",
        "is_reference_task": "bool",
        "is_root_task": "bool",
        "is_terminal_task": "bool",
    },
    "edge": {
        "tenant_id": "value",
        "flow_id": "value",
        "upstream_task_id": "value",
        "downstream_task_id": "value",
        "key": "value",
        "mapped": "bool",
    },
    "flow_run": {
        **_RUN_KINDS,
        "flow_id": "value",
        "agent_id": "value",
        "auto_scheduled": "bool",
        "labels": "json",
        "parameters": "json",
        "context": "json",
        "run_config": "json",
        "scheduled_start_time": "value",
        "idempotency_key": "value",
        "times_resurrected": "value",
    },
    "task_run": {
        **_RUN_KINDS,
        "flow_run_id": "value",
        "task_id": "value",
        "map_index": "value",
        "cache_key": "value",
    },
    "flow_run_state": {**_HISTORY_KINDS, "flow_run_id": "value"},
    "task_run_state": {**_HISTORY_KINDS, "task_run_id": "value"},
    "log": {
        "tenant_id": "value",
        "flow_run_id": "value",
        "task_run_id": "value",
        "timestamp": "value",
        "name": "value",
        "message": "value",
        "level": "value",
        "info": "json",
        "is_loaded_from_archive": "bool",
    },
    "agent": {
        "tenant_id": "value",
        "name": "value",
        "type": "value",
        "labels": "json",
        "core_version": "value",
        "agent_config_id": "value",
        "last_queried": "value",
    },
    "agent_config": {"tenant_id": "value", "name": "value", "settings": "json"},
    "task_run_artifact": {
        "tenant_id": "value",
        "task_run_id": "value",
        "kind": "value",
        "data": "json",
    },
    "task_tag_limit": {"tenant_id": "value", "tag": "value", "limit": "value"},
    "secret": {"tenant_id": "value", "name": "value", "value": "json"},
    "cloud_hook": {
        "tenant_id": "value",
        "name": "value",
        "type": "value",
        "config": "json",
        "states": "json",
        "active": "bool",
        "version_group_id": "value",
    },
    "message": {
        "tenant_id": "value",
        "type": "value",
        "text": "value",
        "content": "json",
        "read": "bool",
    },
}
COLUMNS: dict[str, dict[str, ColumnKind]] = {
    table: {**_COMMON, **columns} for table, columns in _OWN_COLUMNS.items()
}
"""``table -> column -> kind``: every column a row of the table can hold."""

NOT_NULL: dict[str, frozenset[str]] = {
    table: frozenset({"id", "created", "updated"})
    | {
        "flow": frozenset({"version", "archived"}),
        "flow_run": frozenset({"version"}),
        "task_run": frozenset({"version", "map_index"}),
        "log": frozenset({"timestamp"}),
    }.get(table, frozenset())
    for table in COLUMNS
}
"""Columns every row fills: ordering on them needs no nulls rule, so an index can serve it."""

INDEXES: dict[str, tuple[tuple[str, ...], ...]] = {
    "tenant": (("slug",),),
    "project": (("tenant_id", "name"),),
    "flow_group": (("tenant_id", "name"),),
    "flow": (
        ("tenant_id",),
        ("project_id", "name"),
        ("flow_group_id",),
        ("version_group_id", "archived"),
    ),
    "task": (("flow_id",), ("tenant_id",)),
    "edge": (("flow_id",), ("upstream_task_id",), ("downstream_task_id",)),
    "flow_run": (
        ("flow_id", "idempotency_key"),
        ("tenant_id", "created"),
        ("agent_id",),
        ("state",),
        ("scheduled_start_time",),
        ("tenant_id", "state", "state_start_time"),
    ),
    "task_run": (
        ("flow_run_id", "task_id", "map_index"),
        ("task_id",),
        ("state",),
        ("flow_run_id", "state"),
        ("tenant_id",),
    ),
    "flow_run_state": (("flow_run_id", "version"),),
    "task_run_state": (("task_run_id", "version"),),
    "log": (("flow_run_id", "timestamp"), ("task_run_id",), ("tenant_id",)),
    "agent": (("tenant_id",), ("agent_config_id",)),
    "agent_config": (("tenant_id",),),
    "task_run_artifact": (("task_run_id",), ("tenant_id",)),
    "task_tag_limit": (("tenant_id", "tag"), ("tag",)),
    "secret": (("tenant_id", "name"),),
    "cloud_hook": (("tenant_id",),),
    "message": (("tenant_id",),),
}
"""``table -> indexed column tuples``: every foreign key, and the columns lookups and
the clients' reads filter or order on (each table's ``id`` is unique besides)."""
