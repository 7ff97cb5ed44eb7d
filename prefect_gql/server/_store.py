"""Rows in SQLite: one JSON document per row, one logical table per API table.

The API's reads filter in Python (``_filters``), so a document store is all the
server needs; SQLite gives it durability (``--db PATH``) or speed (``:memory:``).
One lock serializes access: uvicorn may run handlers on more than one thread.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

__all__ = ["Row", "Store", "new_id", "now_iso"]

Row = dict[str, Any]


def new_id() -> str:
    return str(uuid.uuid4())


def now_iso() -> str:
    """Timestamps are stored in one ISO-8601 form, so they also compare as strings."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


class Store:
    def __init__(self, path: str = ":memory:") -> None:
        self._connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._lock = threading.RLock()
        self._connection.execute(
            "CREATE TABLE IF NOT EXISTS rows ("
            " tbl TEXT NOT NULL, id TEXT NOT NULL, seq INTEGER NOT NULL, data TEXT NOT NULL,"
            " PRIMARY KEY (tbl, id))"
        )
        self._connection.execute("CREATE INDEX IF NOT EXISTS rows_by_table ON rows (tbl, seq)")

    def close(self) -> None:
        self._connection.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Several writes as one: all applied, or none."""
        with self._lock:
            self._connection.execute("BEGIN")
            try:
                yield
            except BaseException:
                self._connection.execute("ROLLBACK")
                raise
            self._connection.execute("COMMIT")

    def insert(self, table: str, row: Row) -> Row:
        row = {"id": new_id(), "created": now_iso(), **row}
        row.setdefault("updated", row["created"])
        with self._lock:
            self._connection.execute(
                "INSERT INTO rows (tbl, id, seq, data) VALUES "
                "(?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM rows WHERE tbl = ?), ?)",
                (table, row["id"], table, json.dumps(row)),
            )
        return row

    def get(self, table: str, row_id: object) -> Row | None:
        with self._lock:
            found = self._connection.execute(
                "SELECT data FROM rows WHERE tbl = ? AND id = ?", (table, str(row_id))
            ).fetchone()
        return json.loads(found[0]) if found else None

    def update(self, table: str, row_id: str, changes: Row) -> Row:
        with self._lock:
            row = self.get(table, row_id)
            if row is None:
                raise KeyError(f"{table} {row_id}")
            row.update(changes, updated=now_iso())
            self._connection.execute(
                "UPDATE rows SET data = ? WHERE tbl = ? AND id = ?",
                (json.dumps(row), table, row_id),
            )
        return row

    def delete(self, table: str, row_id: str) -> bool:
        with self._lock:
            cursor = self._connection.execute(
                "DELETE FROM rows WHERE tbl = ? AND id = ?", (table, row_id)
            )
        return cursor.rowcount > 0

    def rows(self, table: str, keep: Callable[[Row], bool] | None = None) -> list[Row]:
        """Every row of ``table`` in insertion order, those ``keep`` accepts if given."""
        with self._lock:
            found = self._connection.execute(
                "SELECT data FROM rows WHERE tbl = ? ORDER BY seq", (table,)
            ).fetchall()
        rows = [json.loads(data) for (data,) in found]
        return [row for row in rows if keep is None or keep(row)]

    def find(self, table: str, **equal: object) -> Row | None:
        """The first row whose columns equal ``equal``."""
        for row in self.rows(table, lambda row: all(row.get(k) == v for k, v in equal.items())):
            return row
        return None
