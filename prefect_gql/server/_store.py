# ruff: noqa: S608  (SQL text is built only from the names in _tables; values are bound)
"""Rows in SQLite: one table per API table, with the columns and indexes of ``_tables``.

Reads compile Hasura's arguments to SQL (``_query``), so what a read costs depends
on the rows it returns, not on the size of the database. A file database runs in
WAL mode: one writer connection behind a lock takes every write and every read
made inside a transaction, and each thread reads through a connection of its own
without waiting for writers, so the store is safe to use from several threads at
once. A ``":memory:"`` database has the one connection, behind the lock.

Commits are durable against the process being killed (WAL with
``synchronous=NORMAL``; a power loss may lose the last commits). A database file
records its storage version (``PRAGMA user_version``); a file of the first
storage, one JSON document per row, is upgraded when opened.

A ``Store`` can be narrowed to one tenant (``for_tenant``): it then sees, changes
and deletes only that tenant's rows (and rows of no tenant), which is how token
mode keeps tenants apart without every operation checking.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from ._errors import APIError
from ._filters import text_matches
from ._query import (
    SELECTED,
    TEXT_MATCH_FUNCTION,
    ReadArguments,
    compile_count,
    compile_related,
    compile_related_count,
    compile_select,
    quote,
    scope_condition,
)
from ._tables import CASCADES, COLUMNS, DEFAULTS, INDEXES, ColumnKind, Relationship, Row

__all__ = [
    "STORAGE_VERSION",
    "Row",
    "StorageError",
    "Store",
    "new_id",
    "normalize_timestamp",
    "now_iso",
]

STORAGE_VERSION = 2
"""1: every row a JSON document in one ``rows`` table (``user_version`` 0); 2: a
table per API table."""
_DELETE_CHUNK = 500
WRITER_CACHE_KIB = -65536
"""The writer's page cache (64 MiB): inserts touch many index pages of a large database."""
_GIVE_WAY_POLL = 0.0005
_log = logging.getLogger("prefect_gql.server")
CHECKPOINT_DELAY = 0.2
"""Seconds from a commit to the background checkpoint that copies it into the file."""
CHECKPOINT_PAGES = 50_000
"""WAL pages (about 200 MB) after which a commit checkpoints itself: only when the
background checkpoints cannot keep up (a long read holds old pages)."""


_clock_ns = time.time_ns
"""The clock of ``new_id`` (replaced in tests)."""
_UUID7_FLAGS = 0x7 << 76 | 0b10 << 62
"""The version (7) and variant (RFC 9562) bits of a UUID."""
_UUID7_RANDOM = (1 << 80) - 1 & ~(0xF << 76 | 0b11 << 62)
"""The bits of a UUID's lower 80 that are random in version 7."""


def new_id() -> str:
    """A new row id: a version 7 UUID (RFC 9562), the time in milliseconds then 74
    random bits. Ids made one after another sort together, so a table's id index
    grows at its end instead of on random pages: a commit rewrites a few pages, not one
    page per new row (a scheduler pass creating 10,000 runs takes a third less time)."""
    value = (
        _clock_ns() // 1_000_000 << 80
        | _UUID7_FLAGS
        | (int.from_bytes(os.urandom(10)) & _UUID7_RANDOM)
    )
    text = f"{value:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


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
    try:
        return _stored_form(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
    except OverflowError as err:
        raise ValueError(f"the timestamp {value!r} is out of range in UTC") from err


class StorageError(RuntimeError):
    """A database file this version of the server cannot use."""


_INTEGERS = range(-(2**63), 2**63)
"""The integers an SQLite column holds."""


def _encode(kind: ColumnKind, value: Any) -> Any:
    if value is None:
        return value
    if kind == "value":
        if isinstance(value, str | float) or (isinstance(value, int) and value in _INTEGERS):
            return value
        raise APIError(f"a value of this kind cannot be stored here: {_described(value)}")
    if kind == "json":
        return json.dumps(value)
    return bool(value)


_PLAIN_VALUES = frozenset({str, float, type(None)})
"""Types a ``value`` column stores as given (an ``int`` is checked for its range)."""


def _encoded_column(kind: ColumnKind, values: list[Any]) -> list[Any]:
    """``_encode`` over one column of many rows; a JSON value shared by several rows
    (the same object) is serialized once."""
    if kind == "value":
        if _PLAIN_VALUES.issuperset(map(type, values)):
            return values
        return [_encode(kind, value) for value in values]
    if kind == "bool":
        return [None if value is None else bool(value) for value in values]
    serialized: dict[int, str] = {}
    encoded: list[Any] = []
    for value in values:
        if value is None:
            encoded.append(None)
            continue
        text = serialized.get(id(value))
        if text is None:
            text = serialized[id(value)] = json.dumps(value)
        encoded.append(text)
    return encoded


def _described(value: object) -> str:
    if isinstance(value, int):
        return "an integer out of the 64-bit range"
    if isinstance(value, dict):
        return "a JSON object"
    return "a JSON list" if isinstance(value, list) else type(value).__name__


_KINDS: dict[str, tuple[tuple[str, ColumnKind], ...]] = {
    table: tuple(columns.items()) for table, columns in COLUMNS.items()
}


_DECODED: dict[str, tuple[tuple[int, ColumnKind], ...]] = {
    table: tuple((index, kind) for index, (_, kind) in enumerate(kinds) if kind != "value")
    for table, kinds in _KINDS.items()
}
"""``table -> (position, kind)`` of its columns kept as JSON text or 0/1."""
_NAMES = {table: tuple(name for name, _ in kinds) for table, kinds in _KINDS.items()}


def _row(table: str, values: Sequence[Any]) -> Row:
    decoded = list(values)
    for index, kind in _DECODED[table]:
        value = decoded[index]
        if value is not None:
            decoded[index] = json.loads(value) if kind == "json" else bool(value)
    return dict(zip(_NAMES[table], decoded, strict=True))


def _schema_statements() -> Iterator[str]:
    for table, columns in COLUMNS.items():
        listed = ", ".join(quote(name) for name in columns if name != "id")
        yield (
            f"CREATE TABLE IF NOT EXISTS {quote(table)} "
            f"(seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, {listed})"
        )
        for indexed in INDEXES.get(table, ()):
            name = quote(f"{table}_by_{'_'.join(indexed)}")
            listed_index = ", ".join(quote(column) for column in indexed)
            yield f"CREATE INDEX IF NOT EXISTS {name} ON {quote(table)} ({listed_index})"


def _text_match(operator: str, value: object, pattern: str) -> int:
    return int(text_matches(operator, value, pattern))


class _Reader:
    """A thread's read connection; closed when its thread ends or the store closes."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    def __del__(self) -> None:
        self.connection.close()


class _Checkpointer:
    """Copies committed pages from the WAL into the database file in a thread of its
    own, so that no commit pays for it: a checkpoint after a large write takes tens of
    milliseconds, which a request would otherwise wait for. The checkpoint is PASSIVE:
    it neither waits for nor blocks readers and the writer. The thread starts at the
    first commit and ends with ``stop``."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._dirty = threading.Event()
        self._stopped = threading.Event()
        self._starting = threading.Lock()
        self._thread: threading.Thread | None = None

    def committed(self) -> None:
        if self._dirty.is_set() or self._stopped.is_set():
            return
        with self._starting:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="prefect_gql store checkpoints", daemon=True
                )
                self._thread.start()
        self._dirty.set()

    def _run(self) -> None:
        connection = sqlite3.connect(
            self._path,
            check_same_thread=False,
            isolation_level=None,
            uri=self._path.startswith("file:"),
        )
        try:
            while True:
                self._dirty.wait()
                if self._stopped.wait(CHECKPOINT_DELAY):
                    return
                self._dirty.clear()
                try:
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except sqlite3.Error as err:
                    _log.warning("a background checkpoint of %s failed: %s", self._path, err)
        finally:
            connection.close()

    def stop(self) -> None:
        self._stopped.set()
        self._dirty.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()


class _Database:
    def __init__(self, path: str) -> None:
        self.path = path
        self.in_memory = path == ":memory:" or "mode=memory" in path
        self.lock = threading.RLock()
        self.waiting = 0
        """Threads waiting for ``lock`` (counted by ``held``)."""
        self._counting = threading.Lock()
        self.depth = 0
        self.writer_thread: int | None = None
        self._local = threading.local()
        self._readers: weakref.WeakSet[_Reader] = weakref.WeakSet()
        self.writer = self._connect()
        self.checkpointer = None if self.in_memory else _Checkpointer(path)
        self._closer = weakref.finalize(
            self, _close_connections, self.writer, self._readers, self.checkpointer
        )
        try:
            if not self.in_memory:
                self.writer.execute("PRAGMA journal_mode = WAL")
            self.writer.execute("PRAGMA synchronous = NORMAL")
            self.writer.execute(f"PRAGMA cache_size = {WRITER_CACHE_KIB}")
            self.writer.execute(f"PRAGMA wal_autocheckpoint = {CHECKPOINT_PAGES}")
            _prepare(self.writer, path)
        except BaseException:
            self._closer()
            raise

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(
            self.path,
            check_same_thread=False,
            isolation_level=None,
            timeout=30.0,
            cached_statements=512,
            uri=self.path.startswith("file:"),
        )
        connection.execute("PRAGMA cache_size = -16000")
        connection.create_function(TEXT_MATCH_FUNCTION, 3, _text_match, deterministic=True)
        return connection

    @contextmanager
    def held(self) -> Iterator[None]:
        """``lock``, counting the threads that wait for it."""
        if not self.lock.acquire(blocking=False):
            with self._counting:
                self.waiting += 1
            try:
                self.lock.acquire()
            finally:
                with self._counting:
                    self.waiting -= 1
        try:
            yield
        finally:
            self.lock.release()

    def read(self, sql: str, parameters: Mapping[str, Any] | Sequence[Any]) -> list[Any]:
        """Rows of a query: through the writer inside a transaction of this thread
        (to see its writes) or for ``:memory:``; otherwise through this thread's reader."""
        if self.in_memory or self.writer_thread == threading.get_ident():
            with self.held():
                return self.writer.execute(sql, parameters).fetchall()
        reader: _Reader | None = getattr(self._local, "reader", None)
        if reader is None:
            reader = _Reader(self._connect())
            self._local.reader = reader
            self._readers.add(reader)
        return reader.connection.execute(sql, parameters).fetchall()

    def close(self) -> None:
        """Closes every connection (the writer and each thread's reader); also done when
        the database is garbage collected without being closed. Closing again is a no-op."""
        with self.lock:
            self._closer()


def _close_connections(
    writer: sqlite3.Connection,
    readers: weakref.WeakSet[_Reader],
    checkpointer: _Checkpointer | None,
) -> None:
    if checkpointer is not None:
        checkpointer.stop()
    for reader in list(readers):
        reader.connection.close()
    writer.close()


def _prepare(connection: sqlite3.Connection, path: str) -> None:
    """Creates the tables of a new database, upgrades an older storage, or refuses
    a file this server cannot read."""
    (version,) = connection.execute("PRAGMA user_version").fetchone()
    tables = {
        name
        for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    }
    if version > STORAGE_VERSION:
        raise StorageError(
            f"{path} has storage version {version}, but this prefect_gql reads versions up to"
            f" {STORAGE_VERSION}: open it with the newer prefect_gql that wrote it"
        )
    if version == 0 and tables - {"rows"}:
        raise StorageError(
            f"{path} is not a prefect_gql server database (it holds the tables"
            f" {', '.join(sorted(tables))})"
        )
    connection.execute("BEGIN IMMEDIATE")
    try:
        for statement in _schema_statements():
            connection.execute(statement)
        if "rows" in tables and version == 0:
            _upgrade_from_documents(connection, path)
        connection.execute(f"PRAGMA user_version = {STORAGE_VERSION}")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


def _upgrade_from_documents(connection: sqlite3.Connection, path: str) -> None:
    """Storage 1 -> 2: each JSON document becomes a row of its table, in the same order."""
    documents = connection.execute("SELECT tbl, seq, data FROM rows ORDER BY tbl, seq")
    for table, seq, data in documents.fetchall():
        if table not in COLUMNS:
            raise StorageError(f"{path} holds rows of an unknown table {table!r}")
        row = json.loads(data)
        unknown = set(row) - set(COLUMNS[table])
        if unknown:
            raise StorageError(
                f"{path}: a {table} row has columns this server does not know: {sorted(unknown)}"
            )
        _insert(connection, table, row, seq=seq)
    connection.execute("DROP TABLE rows")


def _insert(
    connection: sqlite3.Connection, table: str, row: Mapping[str, Any], *, seq: int | None = None
) -> None:
    kinds = COLUMNS[table]
    names = list(row)
    values = [_encode(kinds[name], row[name]) for name in names]
    if seq is not None:
        names.append("seq")
        values.append(seq)
    listed = ", ".join(quote(name) for name in names)
    placeholders = ", ".join("?" for _ in names)
    connection.execute(f"INSERT INTO {quote(table)} ({listed}) VALUES ({placeholders})", values)


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
        self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Several writes as one: all applied, or none. Nested calls join the outer one."""
        db = self._db
        with db.held():
            if db.depth:
                db.depth += 1
                try:
                    yield
                finally:
                    db.depth -= 1
                return
            db.writer.execute("BEGIN IMMEDIATE")
            db.depth = 1
            db.writer_thread = threading.get_ident()
            try:
                yield
            except BaseException:
                db.writer.execute("ROLLBACK")
                raise
            else:
                db.writer.execute("COMMIT")
                if db.checkpointer is not None:
                    db.checkpointer.committed()
            finally:
                db.depth = 0
                db.writer_thread = None

    def give_way(self, longest: float) -> None:
        """Waits, at most ``longest`` seconds, until the threads waiting to write have
        begun: a long job that commits in steps calls it between steps (a lock is not
        fair, and the job would otherwise take the writer back at once)."""
        deadline = time.monotonic() + longest
        while self._db.waiting and time.monotonic() < deadline:
            time.sleep(_GIVE_WAY_POLL)

    def _check_columns(self, table: str, row: Mapping[str, Any]) -> None:
        unknown = set(row) - set(COLUMNS[table])
        if unknown:
            raise KeyError(f"{table} has no columns {sorted(unknown)}")

    def insert(self, table: str, row: Row) -> Row:
        """Store a new row: unset columns take their defaults; returns the stored row."""
        created = now_iso()
        stored = {"id": new_id(), **DEFAULTS[table], "created": created, "updated": created, **row}
        self._check_columns(table, stored)
        with self.transaction():
            _insert(self._db.writer, table, stored)
        return {**dict.fromkeys(COLUMNS[table]), **stored}

    def insert_many(self, table: str, rows: Sequence[Row]) -> list[Row]:
        """``insert`` for several rows of one table, in one statement."""
        created = now_iso()
        kinds = COLUMNS[table]
        blank = dict.fromkeys(kinds)
        stored = [
            {**blank, "id": new_id(), **DEFAULTS[table], "created": created, "updated": created,
             **row}
            for row in rows
        ]  # fmt: skip
        for row in rows:
            if not kinds.keys() >= row.keys():
                self._check_columns(table, row)
        listed = ", ".join(quote(name) for name in kinds)
        marks = ", ".join("?" for _ in kinds)
        columns = [
            _encoded_column(kind, [row[name] for row in stored]) for name, kind in kinds.items()
        ]
        with self.transaction():
            self._db.writer.executemany(
                f"INSERT INTO {quote(table)} ({listed}) VALUES ({marks})",
                zip(*columns, strict=True),
            )
        return stored

    def get(self, table: str, row_id: object) -> Row | None:
        if row_id is None:
            return None
        visible, parameters = scope_condition(table, "t0", self.tenant_id)
        found = self._db.read(
            f"SELECT {SELECTED[table]} FROM {quote(table)} AS t0 WHERE t0.id = :id AND {visible}",
            {**parameters, "id": str(row_id)},
        )
        return _row(table, found[0]) if found else None

    def select(
        self, table: str, arguments: ReadArguments | None = None, /, **equal: object
    ) -> list[Row]:
        """The rows a Hasura read with ``arguments`` (``where``, ``order_by``, ``limit``,
        ``offset``) returns, among those whose columns equal ``equal``; in insertion
        order where the ordering leaves them equal.

        Raises ``ValueError`` for an operator, column or ordering it cannot apply.
        """
        sql, parameters = compile_select(table, self.tenant_id, arguments or {}, equal)
        return [_row(table, values) for values in self._db.read(sql, parameters)]

    def select_related(
        self,
        relationship: Relationship,
        arguments: ReadArguments,
        keys: Sequence[object],
        max_rows: int,
    ) -> list[tuple[Any, Row]] | None:
        """What a relationship field reads for many rows in one statement: ``(key, row)``
        pairs, ``key`` being the id (to one) or ``relationship.column`` (to many) the
        row was found by; None, without reading, when ``max_rows`` is not positive, and
        when there are more than ``max_rows`` rows.

        Raises ``ValueError`` as ``select`` does.
        """
        if max_rows < 1:
            return None
        sql, parameters = compile_related(
            relationship, self.tenant_id, arguments, keys, max_rows + 1
        )
        found = self._db.read(sql, parameters)
        if len(found) > max_rows:
            return None
        table = relationship.table
        return [(values[-1], _row(table, values[:-1])) for values in found]

    def count_related(
        self,
        relationship: Relationship,
        arguments: ReadArguments,
        keys: Sequence[object],
        *,
        columns: Sequence[str] | None = None,
        distinct: bool = False,
    ) -> dict[Any, int]:
        """An array relationship's aggregate ``count`` for many rows in one statement:
        ``relationship.column`` value -> count (absent: none).

        Raises ``ValueError`` as ``select`` does.
        """
        sql, parameters = compile_related_count(
            relationship, self.tenant_id, arguments, keys, columns, distinct
        )
        return {key: int(counted) for key, counted in self._db.read(sql, parameters)}

    def count(
        self,
        table: str,
        arguments: ReadArguments | None = None,
        /,
        *,
        columns: Sequence[str] | None = None,
        distinct: bool = False,
        equal: Mapping[str, object] | None = None,
    ) -> int:
        """An aggregate's ``count(columns, distinct)`` over what ``select`` returns."""
        sql, parameters = compile_count(
            table, self.tenant_id, arguments or {}, equal or {}, columns, distinct
        )
        (found,) = self._db.read(sql, parameters)
        return int(found[0])

    def read_sql(self, sql: str, parameters: Mapping[str, Any]) -> list[Any]:
        """Rows of a query Hasura's arguments cannot express. It sees every tenant:
        the caller keeps it to one."""
        return self._db.read(sql, parameters)

    def rows(self, table: str, /, **equal: object) -> list[Row]:
        """The rows of ``table``, in insertion order, whose columns equal ``equal``."""
        return self.select(table, **equal)

    def find(self, table: str, /, **equal: object) -> Row | None:
        """The first row whose columns equal ``equal``."""
        found = self.select(table, {"limit": 1}, **equal)
        return found[0] if found else None

    def update(self, table: str, row_id: str, changes: Row) -> Row:
        self._check_columns(table, changes)
        with self.transaction():
            row = self.get(table, row_id)
            if row is None:
                raise KeyError(f"{table} {row_id}")
            row.update(changes, updated=now_iso())
            self._assign(table, row_id, {name: row[name] for name in [*changes, "updated"]})
        return row

    def set_columns(self, table: str, row_id: str, changes: Row) -> bool:
        """Set columns of a row this store sees without reading it first (a heartbeat's
        write, many a second); False when there is no such row."""
        self._check_columns(table, changes)
        with self.transaction():
            return self._assign(table, row_id, {**changes, "updated": now_iso()}) > 0

    def _assign(self, table: str, row_id: str, values: Row) -> int:
        """``UPDATE`` one row this store sees with ``values`` (encoded here), inside a
        transaction; the number of rows changed (0 or 1)."""
        kinds = COLUMNS[table]
        encoded = {
            f"v{index}": _encode(kinds[name], value)
            for index, (name, value) in enumerate(values.items())
        }
        assignments = ", ".join(f"{quote(name)} = :v{index}" for index, name in enumerate(values))
        visible, parameters = scope_condition(table, "t0", self.tenant_id)
        changed: int = self._db.writer.execute(
            f"UPDATE {quote(table)} AS t0 SET {assignments} WHERE t0.id = :id AND {visible}",
            {**encoded, **parameters, "id": str(row_id)},
        ).rowcount
        return changed

    def delete(self, table: str, row_id: str) -> bool:
        """Delete a row and, along ``CASCADES``, the rows that belong to it."""
        with self.transaction():
            if self.get(table, row_id) is None:
                return False
            self._delete_with_children(table, [row_id])
        return True

    def delete_many(self, table: str, row_ids: Sequence[str]) -> None:
        """Delete rows this store sees (found by a read of it) and, along ``CASCADES``,
        the rows that belong to them: a few statements per 500 rows."""
        with self.transaction():
            self._delete_with_children(table, row_ids)

    def _delete_with_children(self, table: str, row_ids: Sequence[str]) -> None:
        for chunk in _chunks(row_ids):
            marks = ", ".join("?" for _ in chunk)
            for child_table, column in CASCADES.get(table, ()):
                visible, parameters = scope_condition(child_table, "t0", self.tenant_id)
                owners = {f"c{index}": owner for index, owner in enumerate(chunk)}
                children = self._db.read(
                    f"SELECT t0.id FROM {quote(child_table)} AS t0 WHERE t0.{quote(column)}"
                    f" IN ({', '.join(f':{name}' for name in owners)}) AND {visible}",
                    {**parameters, **owners},
                )
                if children:
                    self._delete_with_children(child_table, [child for (child,) in children])
            self._db.writer.execute(f"DELETE FROM {quote(table)} WHERE id IN ({marks})", chunk)


def _chunks(items: Sequence[str]) -> Iterable[list[str]]:
    for start in range(0, len(items), _DELETE_CHUNK):
        yield list(items[start : start + _DELETE_CHUNK])
