"""Hasura's write side for every stored table, generically.

For each table the store keeps, the schema's ``insert_<table>``,
``insert_<table>_one``, ``update_<table>``, ``update_<table>_by_pk``,
``delete_<table>`` and ``delete_<table>_by_pk`` mutations write rows as Hasura over
Prefect Server's Postgres database would:

- ``where`` selects rows with the same compiler as the reads (``_query``), within
  the caller's tenant in token mode; ``returning`` lists the rows written (deleted
  rows as they were) and ``affected_rows`` counts them, nested inserts included.
- ``insert`` fills unset columns with their defaults; ``on_conflict`` names a
  unique constraint (``<table>_pkey`` and the ones Server declares) and either
  updates ``update_columns`` of the existing row (where ``on_conflict.where``
  holds) or, with none, leaves it. Relationship fields insert related rows first
  (object relationships) or after (array relationships), as Hasura's nested inserts.
- ``update`` takes ``_set``, ``_inc`` and jsonb's ``_append``, ``_prepend``,
  ``_delete_key``, ``_delete_elem``, ``_delete_at_path`` with Postgres's meaning
  (``||``, ``-``, ``#-``); a column in two of them is refused, as Hasura does.
- ``delete`` deletes along the foreign keys' ``ON DELETE CASCADE`` (``CASCADES``)
  and nulls the references declared ``ON DELETE SET NULL``.

What Postgres would refuse is a ``BAD_USER_INPUT`` answer, nothing written: a null
in a not-null column, a reference to a row that does not exist (or that the caller
cannot see), a duplicate key, an integer out of range, a jsonb operator on a value
it does not apply to. In token mode rows are written in the caller's tenant
(``tenant_id`` is filled in; naming another is ``FORBIDDEN``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from graphql import GraphQLNonNull, GraphQLObjectType, GraphQLResolveInfo, GraphQLSchema

from ._context import RequestContext, context_of
from ._errors import FORBIDDEN, APIError
from ._runs import follow_inserted_state
from ._schedules import check_schedule
from ._shapes import checked_run_config
from ._store import Row, Store, new_id, now_iso
from ._tables import COLUMNS, DEFAULTS, RELATIONSHIPS, TABLES

__all__ = [
    "JSON_SHAPES",
    "SET_NULL",
    "UNIQUE_KEYS",
    "delete_row",
    "install_writes",
    "jsonb_operator",
]

Resolver = Callable[..., Any]
INT_RANGE = range(-(2**31), 2**31)
"""Postgres ``integer``: what every ``Int`` column of Prefect Server's tables holds."""

UNIQUE_KEYS: dict[str, dict[str, tuple[str, ...]]] = {
    table: {f"{table}_pkey": ("id",)} for table in TABLES
}
"""``table -> constraint name -> columns``: the unique constraints of Server's tables
that ``on_conflict`` can name. A key with a null column never conflicts."""
UNIQUE_KEYS["tenant"]["tenant_slug_key"] = ("slug",)
UNIQUE_KEYS["project"]["project_tenant_id_name_key"] = ("tenant_id", "name")
UNIQUE_KEYS["task"]["task_flow_id_slug_key"] = ("flow_id", "slug")
UNIQUE_KEYS["edge"]["edge_flow_id_task_ids_key"] = (
    "flow_id",
    "downstream_task_id",
    "upstream_task_id",
)
UNIQUE_KEYS["flow_run"]["ix_flow_run_idempotency_key_unique"] = ("flow_id", "idempotency_key")
UNIQUE_KEYS["task_run"]["task_run_unique_identifier_key"] = ("flow_run_id", "task_id", "map_index")

NOW_DEFAULTS: dict[str, tuple[str, ...]] = {
    "flow_run": ("scheduled_start_time",),
    "flow_run_state": ("timestamp",),
    "task_run_state": ("timestamp",),
    "log": ("timestamp",),
}
"""Columns whose Postgres default is ``now()`` (besides ``created`` and ``updated``)."""

SET_NULL: dict[str, tuple[tuple[str, str], ...]] = {
    "agent": (("flow_run", "agent_id"),),
    "agent_config": (("agent", "agent_config_id"),),
}
"""``table -> (table, column)`` references set to null when a row of ``table`` goes."""

JSON_SHAPES: dict[tuple[str, str], type] = {
    ("tenant", "settings"): dict,
    ("flow_group", "default_parameters"): dict,
    ("flow_group", "settings"): dict,
    ("flow_group", "schedule"): dict,
    ("flow_group", "labels"): list,
    ("flow", "parameters"): list,
    ("flow", "schedule"): dict,
    ("flow", "settings"): dict,
    ("task", "tags"): list,
    ("flow_run", "labels"): list,
    ("flow_run", "parameters"): dict,
    ("flow_run", "context"): dict,
    ("flow_run", "serialized_state"): dict,
    ("task_run", "serialized_state"): dict,
    ("agent", "labels"): list,
    ("agent_config", "settings"): dict,
    ("cloud_hook", "states"): list,
}
"""jsonb columns the server's own operations read as an object or an array (of
strings, for labels, tags and states): a write of another shape is refused, so that
no later operation finds a value it cannot use. Postgres would take any JSON. Run
configs and environments are checked as the runs read them (``_shapes``), and
schedules as the scheduler reads them (``_schedules``)."""
_STRING_LISTS = frozenset({"labels", "tags", "states"})

_JSONB_OPERATORS = ("_append", "_prepend", "_delete_key", "_delete_elem", "_delete_at_path")
_UPDATE_OPERATORS = ("_set", "_inc", *_JSONB_OPERATORS)
_STORE_SET = frozenset({"id", "created", "updated"})


def _refuse(message: str) -> APIError:
    return APIError(message)


# -- jsonb operators -------------------------------------------------------------------


def _concatenate(left: Any, right: Any) -> Any:
    """Postgres ``jsonb || jsonb``: objects merge (right wins); anything else is
    concatenated as arrays, a non-array being a one-item array."""
    if isinstance(left, Mapping) and isinstance(right, Mapping):
        return {**left, **right}
    return _as_array(left) + _as_array(right)


def _as_array(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _delete_key(value: Any, key: str) -> Any:
    if isinstance(value, Mapping):
        return {k: v for k, v in value.items() if k != key}
    if isinstance(value, list):
        return [item for item in value if item != key]
    raise _refuse("cannot delete from scalar")


def _delete_elem(value: Any, index: int) -> Any:
    if isinstance(value, list):
        position = index + len(value) if index < 0 else index
        return [item for at, item in enumerate(value) if at != position]
    if isinstance(value, Mapping):
        raise _refuse("cannot delete from object using integer index")
    raise _refuse("cannot delete from scalar")


def _delete_at_path(value: Any, path: Sequence[str], position: int = 1) -> Any:
    """Postgres ``jsonb #- text[]``: the value without the element at ``path`` (the
    value unchanged when nothing is there); ``position`` counts path elements from 1."""
    if not isinstance(value, Mapping | list):
        raise _refuse("cannot delete path in scalar")
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(value, Mapping):
        if head not in value:
            return value
        if not rest:
            return {k: v for k, v in value.items() if k != head}
        inner = value[head]
        if not isinstance(inner, Mapping | list):
            return value
        return {**value, head: _delete_at_path(inner, rest, position + 1)}
    try:
        index = int(head)
    except ValueError as err:
        raise _refuse(f"path element at position {position} is not an integer: {head!r}") from err
    at = index + len(value) if index < 0 else index
    if not 0 <= at < len(value):
        return value
    if not rest:
        return value[:at] + value[at + 1 :]
    inner = value[at]
    if not isinstance(inner, Mapping | list):
        return value
    return [*value[:at], _delete_at_path(inner, rest, position + 1), *value[at + 1 :]]


def jsonb_operator(operator: str, value: Any, operand: Any) -> Any:
    """One of Hasura's jsonb update operators applied to a column's value. A SQL null
    column stays null, as every Postgres operator on null gives null (so does a null
    operand: the caller makes the column null without calling this)."""
    if value is None:
        return None
    if operator == "_append":
        return _concatenate(value, operand)
    if operator == "_prepend":
        return _concatenate(operand, value)
    if operator == "_delete_key":
        return _delete_key(value, operand)
    if operator == "_delete_elem":
        return _delete_elem(value, operand)
    return _delete_at_path(value, list(operand))


# -- checks ----------------------------------------------------------------------------


class _Table:
    """One table's rules: its not-null columns (from the schema) and its keys."""

    def __init__(self, name: str, schema: GraphQLSchema) -> None:
        self.name = name
        object_type = schema.type_map.get(name)
        fields = object_type.fields if isinstance(object_type, GraphQLObjectType) else {}
        self.not_null_updated = frozenset(
            column
            for column in COLUMNS[name]
            if column in fields and isinstance(fields[column].type, GraphQLNonNull)
        )
        self.not_null = self.not_null_updated - _STORE_SET
        """An insert's not-null columns: the store fills ``id``, ``created``, ``updated``."""
        self.relationships = RELATIONSHIPS.get(name, {})
        self.references = {
            rel.column: rel.table for rel in self.relationships.values() if rel.to_one
        }
        if "tenant_id" in COLUMNS[name]:
            self.references.setdefault("tenant_id", "tenant")

    def check(
        self, store: Store, row: Mapping[str, Any], changed: Sequence[str], row_id: str | None
    ) -> None:
        """What Postgres checks of a written row: not-null columns, foreign keys,
        integer ranges, the caller's tenant, unique keys (against rows other than
        ``row_id``, the row being updated; None for an insert)."""
        not_null = self.not_null if row_id is None else self.not_null_updated
        for column in changed:
            value = row.get(column)
            if value is None and column in not_null:
                raise _refuse(
                    f'Not-NULL violation. null value in column "{column}" of relation'
                    f' "{self.name}" violates not-null constraint'
                )
            integer = isinstance(value, int) and not isinstance(value, bool)
            if integer and COLUMNS[self.name][column] != "json" and value not in INT_RANGE:
                raise _refuse(f'integer out of range for column "{column}" of "{self.name}"')
            shape = JSON_SHAPES.get((self.name, column))
            if shape is not None and value is not None:
                _check_shape(self.name, column, value, shape)
            if value is not None and column in ("run_config", "environment"):
                checked_run_config(value, f"{self.name}.{column}")
            if value is not None and column == "schedule":
                check_schedule(value)
        scope = store.tenant_id
        if "tenant_id" in changed and scope is not None and row.get("tenant_id") != scope:
            raise APIError(
                f"a {self.name} row may only be written in the caller's tenant", FORBIDDEN
            )
        for column, other in self.references.items():
            value = row.get(column)
            if column in changed and value is not None and store.get(other, value) is None:
                raise _refuse(
                    f"Foreign key violation. {self.name}.{column} = {value} is not present in"
                    f' table "{other}"'
                )
        for constraint, columns in UNIQUE_KEYS[self.name].items():
            if set(columns) & set(changed):
                existing = self.conflicting(store, row, constraint)
                if existing is not None and existing["id"] != row_id:
                    raise _refuse(
                        f"Uniqueness violation. duplicate key value violates unique constraint"
                        f' "{constraint}"'
                    )

    def conflicting(self, store: Store, row: Mapping[str, Any], constraint: str) -> Row | None:
        """The row (of any tenant: keys are global) with the same values of the key."""
        columns = UNIQUE_KEYS[self.name][constraint]
        values = {column: row.get(column) for column in columns}
        if any(value is None for value in values.values()):
            return None
        return store.for_tenant(None).find(self.name, **values)


def _check_shape(table: str, column: str, value: Any, shape: type) -> None:
    if not isinstance(value, shape):
        kind = "an object" if shape is dict else "an array"
        raise _refuse(f"{table}.{column} must be {kind}, not {json.dumps(value)[:80]}")
    strings = not isinstance(value, list) or all(isinstance(item, str) for item in value)
    if column in _STRING_LISTS and not strings:
        raise _refuse(f"{table}.{column} must be an array of strings")


def _column_values(table: _Table, given: Mapping[str, Any]) -> Row:
    """The columns of an insert object (relationship fields set aside)."""
    return {key: value for key, value in given.items() if key not in table.relationships}


# -- the mutations ---------------------------------------------------------------------


class _Writer:
    """The writes of one mutation field, in the caller's store."""

    def __init__(self, ctx: RequestContext, tables: Mapping[str, _Table]) -> None:
        self.ctx = ctx
        self.store = ctx.store
        self.tables = tables
        self.affected = 0

    # insert -------------------------------------------------------------------------

    def insert(
        self, table_name: str, given: Mapping[str, Any], on_conflict: Mapping[str, Any] | None
    ) -> Row | None:
        """One object (and its nested objects); the row written, or None when a
        conflict left an existing row as it was."""
        table = self.tables[table_name]
        values = _column_values(table, given)
        for name, nested in given.items():
            relationship = table.relationships.get(name)
            if relationship is not None and relationship.to_one and nested is not None:
                parent = self.insert(relationship.table, nested["data"], nested.get("on_conflict"))
                if parent is None:
                    raise _refuse(f"the nested {name} insert wrote no row")
                values[relationship.column] = parent["id"]
        if self.store.tenant_id is not None and "tenant_id" in COLUMNS[table_name]:
            values.setdefault("tenant_id", self.store.tenant_id)
        row: Row = {**DEFAULTS[table_name], **values}
        if row.get("id") is None:
            row["id"] = new_id()
        written = self._insert_or_resolve(table, row, on_conflict)
        if written is None:
            return None
        for name, nested in given.items():
            relationship = table.relationships.get(name)
            if relationship is not None and not relationship.to_one and nested is not None:
                for child in nested["data"]:
                    child_values = {**child, relationship.column: written["id"]}
                    self.insert(relationship.table, child_values, nested.get("on_conflict"))
        return written

    def _insert_or_resolve(
        self, table: _Table, row: Row, on_conflict: Mapping[str, Any] | None
    ) -> Row | None:
        if on_conflict is not None:
            constraint = on_conflict["constraint"]
            if constraint not in UNIQUE_KEYS[table.name]:
                raise _refuse(f"{table.name} has no constraint {constraint}")
            existing = table.conflicting(self.store, row, constraint)
            if existing is not None:
                return self._resolve_conflict(table, existing, row, on_conflict)
        stored = dict(row)
        for column in ("created", "updated", *NOW_DEFAULTS.get(table.name, ())):
            if stored.get(column) is None:
                stored[column] = now_iso()
        table.check(self.store, stored, [*COLUMNS[table.name]], None)
        self.store.insert(table.name, stored)
        self.affected += 1
        written = self._read_back(table.name, str(stored["id"]))
        if table.name in ("flow_run_state", "task_run_state"):
            follow_inserted_state(self.store, table.name, written)
        return written

    def _resolve_conflict(
        self, table: _Table, existing: Row, row: Row, on_conflict: Mapping[str, Any]
    ) -> Row | None:
        """Postgres ``ON CONFLICT ... DO UPDATE SET <update_columns> WHERE <where>``,
        or ``DO NOTHING`` without update columns."""
        visible = self.store.get(table.name, existing["id"])
        if visible is None:
            raise APIError(f"a conflicting {table.name} row belongs to another tenant", FORBIDDEN)
        columns = list(on_conflict.get("update_columns") or [])
        if not columns:
            return None
        where = on_conflict.get("where")
        if where and not _selected(self.store, table.name, where, id=existing["id"]):
            return None
        changes = {column: row.get(column) for column in columns if column not in _STORE_SET}
        return self._apply_update(table, visible, changes)

    def _read_back(self, table_name: str, row_id: str) -> Row:
        """A row just written: found by id whatever the caller's tenant scope (a USER
        token inserting a tenant cannot see it through its own)."""
        found = self.store.for_tenant(None).get(table_name, row_id)
        assert found is not None, "the row was written in this transaction"
        return found

    # update -------------------------------------------------------------------------

    def update(self, table_name: str, rows: list[Row], operators: Mapping[str, Any]) -> list[Row]:
        table = self.tables[table_name]
        given = {op: dict(operators.get(op) or {}) for op in _UPDATE_OPERATORS}
        seen: dict[str, str] = {}
        for op, columns in given.items():
            for column in columns:
                if column in seen:
                    raise _refuse(f"column {column!r} is in both {seen[column]} and {op}")
                seen[column] = op
        if not seen:
            raise _refuse(
                "at least one of _set, _inc, _append, _prepend, _delete_key, _delete_elem,"
                " _delete_at_path is expected"
            )
        if "id" in seen:
            raise _refuse(f"the local server does not change the id of a {table_name} row")
        written = []
        for row in rows:
            changes: Row = dict(given["_set"])
            for column, amount in given["_inc"].items():
                value = row.get(column)
                changes[column] = None if value is None or amount is None else value + amount
            for op in _JSONB_OPERATORS:
                for column, operand in given[op].items():
                    value = row.get(column)
                    changes[column] = (
                        None if operand is None else jsonb_operator(op, value, operand)
                    )
            written.append(self._apply_update(table, row, changes))
        return written

    def _apply_update(self, table: _Table, row: Row, changes: Row) -> Row:
        """Writes ``changes`` to ``row`` (``updated`` is the time of the write, as
        Server's trigger sets it; an id stays as it is)."""
        changes = {k: v for k, v in changes.items() if k != "updated"}
        if changes.get("id", row["id"]) != row["id"]:
            raise _refuse(f"the local server does not change the id of a {table.name} row")
        changes.pop("id", None)
        table.check(self.store, {**row, **changes}, list(changes), row["id"])
        self.store.update(table.name, row["id"], changes)
        self.affected += 1
        return self._read_back(table.name, row["id"])

    # delete -------------------------------------------------------------------------

    def delete(self, table_name: str, rows: list[Row]) -> list[Row]:
        """Rows found by a read of this store, with what belongs to them."""
        ids = [str(row["id"]) for row in rows]
        for row_id in ids if table_name in SET_NULL else ():
            _set_references_null(self.store, table_name, row_id)
        self.store.delete_many(table_name, ids)
        self.affected += len(rows)
        return rows


def delete_row(store: Store, table: str, row_id: str) -> bool:
    """Deletes a row as Postgres would: the rows that belong to it along ``CASCADES``,
    and the references to it declared ``ON DELETE SET NULL`` nulled."""
    with store.transaction():
        if store.get(table, row_id) is None:
            return False
        _set_references_null(store, table, row_id)
        return store.delete(table, row_id)


def _set_references_null(store: Store, table: str, row_id: str) -> None:
    for other, column in SET_NULL.get(table, ()):
        for referring in store.rows(other, **{column: row_id}):
            store.update(other, referring["id"], {column: None})


def _selected(store: Store, table: str, where: Any, **equal: object) -> list[Row]:
    try:
        return store.select(table, {"where": where}, **equal)
    except ValueError as err:
        raise APIError(str(err)) from err


def _writes_of(table: _Table, tables: Mapping[str, _Table]) -> dict[str, tuple[Resolver, str]]:
    """Each Hasura mutation of the table, and the argument that tells it from a
    Python-layer mutation of the same name (``delete_agent_config(input: ...)``)."""
    name = table.name

    def run(info: GraphQLResolveInfo, write: Callable[[_Writer], Any]) -> Any:
        ctx = context_of(info)
        with ctx.store.transaction():
            return write(_Writer(ctx, tables))

    def response(writer: _Writer, rows: list[Row | None]) -> Row:
        return {"affected_rows": writer.affected, "returning": [r for r in rows if r is not None]}

    def insert(
        _: Any, info: GraphQLResolveInfo, objects: list[Any], on_conflict: Any = None
    ) -> Any:
        def write(writer: _Writer) -> Row:
            return response(writer, [writer.insert(name, o, on_conflict) for o in objects])

        return run(info, write)

    def insert_one(_: Any, info: GraphQLResolveInfo, object: Any, on_conflict: Any = None) -> Any:
        return run(info, lambda writer: writer.insert(name, object, on_conflict))

    def update(_: Any, info: GraphQLResolveInfo, where: Any, **operators: Any) -> Any:
        def write(writer: _Writer) -> Row:
            rows = _selected(writer.store, name, where)
            return response(writer, list(writer.update(name, rows, operators)))

        return run(info, write)

    def update_by_pk(_: Any, info: GraphQLResolveInfo, pk_columns: Any, **operators: Any) -> Any:
        def write(writer: _Writer) -> Row | None:
            row = writer.store.get(name, pk_columns["id"])
            return writer.update(name, [row], operators)[0] if row is not None else None

        return run(info, write)

    def delete(_: Any, info: GraphQLResolveInfo, where: Any) -> Any:
        def write(writer: _Writer) -> Row:
            rows = _selected(writer.store, name, where)
            return response(writer, list(writer.delete(name, rows)))

        return run(info, write)

    def delete_by_pk(_: Any, info: GraphQLResolveInfo, id: str) -> Any:
        def write(writer: _Writer) -> Row | None:
            row = writer.store.get(name, id)
            return writer.delete(name, [row])[0] if row is not None else None

        return run(info, write)

    return {
        f"insert_{name}": (insert, "objects"),
        f"insert_{name}_one": (insert_one, "object"),
        f"update_{name}": (update, "where"),
        f"update_{name}_by_pk": (update_by_pk, "pk_columns"),
        f"delete_{name}": (delete, "where"),
        f"delete_{name}_by_pk": (delete_by_pk, "id"),
    }


def install_writes(schema: GraphQLSchema) -> None:
    """Resolves the schema's Hasura mutations of every stored table."""
    root = schema.mutation_type
    assert root is not None
    tables = {name: _Table(name, schema) for name in TABLES}
    for table in tables.values():
        for field, (resolver, argument) in _writes_of(table, tables).items():
            schema_field = root.fields.get(field)
            if schema_field is not None and argument in schema_field.args:
                schema_field.resolve = resolver
