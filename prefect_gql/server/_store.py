"""Rows in SQLite: one JSON document per row, one logical table per API table.

The API's reads filter in Python (``_filters``), so a document store is all the
server needs; SQLite gives it durability (a file path) or speed (``":memory:"``).
One re-entrant lock serializes access, since the connection is shared by every
thread uvicorn or a test may call from. A ``Store`` can be narrowed to one tenant
(``for_tenant``): it then sees, changes and deletes only that tenant's rows, which
is how token mode keeps tenants apart without every operation checking.
"""

from __future__ import annotations

import copy
import json
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from ._tables import CASCADES, DEFAULTS

__all__ = ["Row", "Store", "new_id", "normalize_timestamp", "now_iso"]

Row = dict[str, Any]


def new_id() -> str:
    return str(uuid.uuid4())


def _stored_form(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def now_iso() -> str:
    """Now, in the one timestamp form the store keeps (so timestamps compare as strings)."""
    return _stored_form(datetime.now(UTC))


def normalize_timestamp(value: object) -> str:
    """An ISO-8601 timestamp in the store's form (UTC, microseconds); naive means UTC.

    Raises ``ValueError`` for anything else.
    """
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    else:
        raise ValueError(f"a timestamp must be an ISO-8601 string, not {type(value).__name__}")
    return _stored_form(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


class _Database:
    def __init__(self, path: str) -> None:
        self.connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.lock = threading.RLock()
        self.depth = 0
        self.connection.execute(
            "CREATE TABLE IF NOT EXISTS rows ("
            " tbl TEXT NOT NULL, id TEXT NOT NULL, seq INTEGER NOT NULL, data TEXT NOT NULL,"
            " PRIMARY KEY (tbl, id))"
        )
        self.connection.execute("CREATE INDEX IF NOT EXISTS rows_by_table ON rows (tbl, seq)")


class Store:
    """The server's tables, all of them or (``for_tenant``) one tenant's."""

    def __init__(self, path: str = ":memory:") -> None:
        self._db = _Database(path)
        self.tenant_id: str | None = None

    def for_tenant(self, tenant_id: str | None) -> Store:
        """The same tables seen by one tenant (``None``: every tenant)."""
        view = copy.copy(self)
        view.tenant_id = tenant_id
        return view

    def close(self) -> None:
        with self._db.lock:
            self._db.connection.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Several writes as one: all applied, or none. Nested calls join the outer one."""
        with self._db.lock:
            if self._db.depth:
                self._db.depth += 1
                try:
                    yield
                finally:
                    self._db.depth -= 1
                return
            self._db.connection.execute("BEGIN")
            self._db.depth = 1
            try:
                yield
            except BaseException:
                self._db.connection.execute("ROLLBACK")
                raise
            else:
                self._db.connection.execute("COMMIT")
            finally:
                self._db.depth = 0

    def _visible(self, table: str, row: Row) -> bool:
        if self.tenant_id is None:
            return True
        owner = row["id"] if table == "tenant" else row.get("tenant_id")
        return owner is None or owner == self.tenant_id

    def insert(self, table: str, row: Row) -> Row:
        """Store a new row: unset columns take their defaults; returns the stored row."""
        created = now_iso()
        stored = {"id": new_id(), **DEFAULTS[table], "created": created, "updated": created, **row}
        with self._db.lock:
            self._db.connection.execute(
                "INSERT INTO rows (tbl, id, seq, data) VALUES "
                "(?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM rows WHERE tbl = ?), ?)",
                (table, stored["id"], table, json.dumps(stored)),
            )
        return stored

    def get(self, table: str, row_id: object) -> Row | None:
        if row_id is None:
            return None
        with self._db.lock:
            found = self._db.connection.execute(
                "SELECT data FROM rows WHERE tbl = ? AND id = ?", (table, str(row_id))
            ).fetchone()
        row: Row | None = json.loads(found[0]) if found else None
        return row if row is not None and self._visible(table, row) else None

    def rows(self, table: str, /, **equal: object) -> list[Row]:
        """The rows of ``table``, in insertion order, whose columns equal ``equal``."""
        sql = "SELECT data FROM rows WHERE tbl = ?"
        parameters: list[object] = [table]
        for column, value in equal.items():
            sql += " AND json_extract(data, ?) IS ?"
            parameters += [f"$.{column}", int(value) if isinstance(value, bool) else value]
        with self._db.lock:
            found = self._db.connection.execute(sql + " ORDER BY seq", parameters).fetchall()
        rows = [json.loads(data) for (data,) in found]
        return [row for row in rows if self._visible(table, row)]

    def find(self, table: str, /, **equal: object) -> Row | None:
        """The first row whose columns equal ``equal``."""
        found = self.rows(table, **equal)
        return found[0] if found else None

    def update(self, table: str, row_id: str, changes: Row) -> Row:
        with self._db.lock:
            row = self.get(table, row_id)
            if row is None:
                raise KeyError(f"{table} {row_id}")
            row.update(changes, updated=now_iso())
            self._db.connection.execute(
                "UPDATE rows SET data = ? WHERE tbl = ? AND id = ?",
                (json.dumps(row), table, row_id),
            )
        return row

    def delete(self, table: str, row_id: str) -> bool:
        """Delete a row and, along ``CASCADES``, the rows that belong to it."""
        with self.transaction():
            if self.get(table, row_id) is None:
                return False
            for child_table, column in CASCADES.get(table, ()):
                for child in self.rows(child_table, **{column: row_id}):
                    self.delete(child_table, child["id"])
            self._db.connection.execute(
                "DELETE FROM rows WHERE tbl = ? AND id = ?", (table, row_id)
            )
        return True
