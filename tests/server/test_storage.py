"""The server's storage: versioned files, upgrades, durability, threads, indexed reads."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from prefect_gql.server import LocalServer, ServiceIntervals, _store
from prefect_gql.server._store import STORAGE_VERSION, StorageError, Store
from prefect_gql.server._tables import COLUMNS, TABLES

from .conftest import GraphQL, build_world, create_flow_run, mutation, until_a_writer_waits

FIXTURES = Path(__file__).parent / "fixtures"
STORAGE_V1 = FIXTURES / "storage_v1.sqlite"
"""A small database written by the storage before tables (commit a2b8f00): two
tenants, flows in two versions, runs with states, logs, a secret, an agent, an
artifact and a task tag limit."""


def _documents(path: Path) -> dict[str, list[dict[str, Any]]]:
    """Storage 1's rows, per table, in insertion order."""
    connection = sqlite3.connect(path)
    try:
        found = connection.execute("SELECT tbl, data FROM rows ORDER BY tbl, seq").fetchall()
    finally:
        connection.close()
    documents: dict[str, list[dict[str, Any]]] = {}
    for table, data in found:
        documents.setdefault(table, []).append(json.loads(data))
    return documents


def _user_version(path: Path) -> int:
    connection = sqlite3.connect(path)
    try:
        (version,) = connection.execute("PRAGMA user_version").fetchone()
    finally:
        connection.close()
    return int(version)


def test_a_storage_1_file_is_upgraded_with_every_row_kept(tmp_path: Path) -> None:
    db = tmp_path / "old.sqlite"
    shutil.copy(STORAGE_V1, db)
    documents = _documents(STORAGE_V1)
    assert set(documents) == set(TABLES) - {"cloud_hook", "message"}  # tables added later

    store = Store(str(db))
    try:
        for table, rows in documents.items():
            upgraded = store.rows(table)
            assert [row["id"] for row in upgraded] == [row["id"] for row in rows], table
            for old, new in zip(rows, upgraded, strict=True):
                assert {column: new[column] for column in old} == old
                assert all(new[column] is None for column in set(new) - set(old))
    finally:
        store.close()
    assert _user_version(db) == STORAGE_VERSION


def test_an_upgraded_file_serves_its_runs_and_logs(tmp_path: Path) -> None:
    db = tmp_path / "old.sqlite"
    shutil.copy(STORAGE_V1, db)
    documents = _documents(STORAGE_V1)
    logged = next(
        run for run in documents["flow_run"] if run["state"] == "Running" and run["version"] == 2
    )
    latest_flow = next(
        flow for flow in documents["flow"] if not flow["archived"] and flow["version"] == 2
    )
    with LocalServer(db=str(db), services=ServiceIntervals.off()) as server:
        gql = GraphQL(server.url)
        answer = gql.data(
            """query($id: uuid!) { flow_run_by_pk(id: $id) {
                   name version state logs(order_by: {timestamp: desc}, limit: 2) { message }
                   task_runs_aggregate { aggregate { count } } } }""",
            {"id": logged["id"]},
        )["flow_run_by_pk"]
        assert answer == {
            "name": logged["name"],
            "version": 2,
            "state": "Running",
            "logs": [{"message": "line 11"}, {"message": "line 10"}],
            "task_runs_aggregate": {"aggregate": {"count": 2}},
        }
        new_run = create_flow_run(gql, latest_flow["id"], idempotency_key="after-upgrade")
        assert gql.data(
            "query($id: uuid!) { flow_run_by_pk(id: $id) { state } }", {"id": new_run}
        ) == {"flow_run_by_pk": {"state": "Scheduled"}}
        gql.close()


def test_a_file_from_a_newer_storage_is_refused_clearly(tmp_path: Path) -> None:
    db = tmp_path / "newer.sqlite"
    Store(str(db)).close()
    connection = sqlite3.connect(db)
    connection.execute(f"PRAGMA user_version = {STORAGE_VERSION + 1}")
    connection.close()
    with pytest.raises(StorageError, match=f"storage version {STORAGE_VERSION + 1}.*newer"):
        Store(str(db))


def test_a_foreign_database_is_refused_and_left_alone(tmp_path: Path) -> None:
    db = tmp_path / "other.sqlite"
    connection = sqlite3.connect(db)
    connection.execute("CREATE TABLE invoices (id INTEGER)")
    connection.close()
    with pytest.raises(StorageError, match=r"not a prefect_gql server database.*invoices"):
        Store(str(db))
    connection = sqlite3.connect(db)
    tables = connection.execute("SELECT name FROM sqlite_master").fetchall()
    connection.close()
    assert tables == [("invoices",)]


def test_every_table_and_its_indexes_are_created(tmp_path: Path) -> None:
    db = tmp_path / "new.sqlite"
    Store(str(db)).close()
    connection = sqlite3.connect(db)
    (journal,) = connection.execute("PRAGMA journal_mode").fetchone()
    tables = {
        name
        for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    }
    plan = connection.execute(
        "EXPLAIN QUERY PLAN SELECT * FROM log WHERE flow_run_id = 'x' ORDER BY timestamp, seq"
    ).fetchall()
    connection.close()
    assert journal == "wal"
    assert tables == set(COLUMNS)
    assert "USING INDEX log_by_flow_run_id_timestamp" in " ".join(str(step) for step in plan)
    assert "TEMP B-TREE" not in " ".join(str(step) for step in plan)


ACKNOWLEDGED_WRITER = textwrap.dedent(
    """
    import sys
    from prefect_gql.server._store import Store

    store = Store(sys.argv[1])
    for number in range(1_000_000):
        with store.transaction():
            store.insert("project", {"tenant_id": None, "name": f"p{number}"})
        print(number, flush=True)
    """
)


def test_nothing_acknowledged_is_lost_when_the_process_is_killed(tmp_path: Path) -> None:
    db = tmp_path / "killed.sqlite"
    acknowledged = -1
    with subprocess.Popen(  # noqa: S603 - this interpreter, our own script
        [sys.executable, "-c", ACKNOWLEDGED_WRITER, str(db)], stdout=subprocess.PIPE, text=True
    ) as writer:
        assert writer.stdout is not None
        for line in writer.stdout:
            acknowledged = int(line)
            if acknowledged >= 200:
                break
        writer.kill()
    store = Store(str(db))
    try:
        names = {row["name"] for row in store.rows("project")}
    finally:
        store.close()
    assert {f"p{number}" for number in range(acknowledged + 1)} <= names


def test_threads_read_and_write_at_once(tmp_path: Path) -> None:
    store = Store(str(tmp_path / "threads.sqlite"))
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        try:
            for number in range(50):
                with store.transaction():
                    row = store.insert("project", {"tenant_id": None, "name": f"{worker}-{number}"})
                    assert store.get("project", row["id"]) == row
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    def read() -> None:
        try:
            for _ in range(200):
                names = [
                    row["name"] for row in store.select("project", {"order_by": {"seq": "asc"}})
                ]
                assert len(names) == len(set(names))
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=write, args=(worker,)) for worker in range(4)]
    threads += [threading.Thread(target=read) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        assert store.count("project") == 200
    finally:
        store.close()


def test_a_failed_transaction_leaves_nothing_seen_by_other_threads(tmp_path: Path) -> None:
    store = Store(str(tmp_path / "rollback.sqlite"))
    seen: dict[str, int] = {}

    def insert_then_fail() -> None:
        with store.transaction():
            store.insert("project", {"tenant_id": None, "name": "half"})
            reader = threading.Thread(target=lambda: seen.update(other=store.count("project")))
            reader.start()
            reader.join()
            seen["own"] = store.count("project")
            raise RuntimeError

    with pytest.raises(RuntimeError):
        insert_then_fail()
    try:
        assert seen == {"own": 1, "other": 0}
        assert store.count("project") == 0
    finally:
        store.close()


def test_deletes_cascade_through_many_rows(gql: GraphQL) -> None:
    world = build_world(gql)
    run_ids = [create_flow_run(gql, world.flow_id) for _ in range(3)]
    deleted = gql.data(
        mutation("delete_project", "success"), {"i": {"project_id": world.project_id}}
    )
    assert deleted == {"delete_project": {"success": True}}
    left = gql.data(
        """query($runs: [uuid!]) { flow_run(where: {id: {_in: $runs}}) { id }
               task_run(where: {flow_run_id: {_in: $runs}}) { id }
               flow_run_state(where: {flow_run_id: {_in: $runs}}) { id } }""",
        {"runs": [world.flow_run_id, *run_ids]},
    )
    assert left == {"flow_run": [], "task_run": [], "flow_run_state": []}


def test_ids_are_version_7_uuids_that_sort_in_creation_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    start_ms = 1_790_000_000_000
    ticks = iter(range(start_ms, start_ms + 100))
    monkeypatch.setattr(_store, "_clock_ns", lambda: next(ticks) * 1_000_000)
    ids = [_store.new_id() for _ in range(100)]
    parsed = [uuid.UUID(made) for made in ids]
    assert {made.version for made in parsed} == {7}
    assert {made.variant for made in parsed} == {uuid.RFC_4122}
    assert [made.int >> 80 for made in parsed] == list(range(start_ms, start_ms + 100))
    assert sorted(ids) == ids
    monkeypatch.setattr(_store, "_clock_ns", lambda: start_ms * 1_000_000)
    same_millisecond = {_store.new_id() for _ in range(10_000)}
    assert len(same_millisecond) == 10_000


def test_a_long_job_lets_a_waiting_writer_in_between_its_transactions(tmp_path: Path) -> None:
    store = Store(str(tmp_path / "fair.sqlite"))
    order: list[str] = []

    def write() -> None:
        with store.transaction():
            order.append("writer")

    writer = threading.Thread(target=write)
    try:
        with store.transaction():
            order.append("job, first step")
            writer.start()
            until_a_writer_waits(store)
        store.give_way(longest=60.0)
        with store.transaction():
            order.append("job, second step")
        writer.join()
        assert order == ["job, first step", "writer", "job, second step"]
    finally:
        store.close()


def test_giving_way_with_no_writer_waiting_does_not_wait(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(str(tmp_path / "alone.sqlite"))

    def no_sleep(seconds: float) -> None:
        raise AssertionError(f"slept {seconds} s with no writer waiting")

    try:
        monkeypatch.setattr(time, "sleep", no_sleep)
        store.give_way(longest=60.0)
    finally:
        monkeypatch.undo()
        store.close()


def _projects_in_the_file_alone(db: Path, scratch: Path) -> int:
    """Projects a copy of the database file holds without its WAL: those checkpointed."""
    copy = scratch / f"copy-of-{db.name}"
    shutil.copyfile(db, copy)
    connection = sqlite3.connect(copy)
    try:
        tables = connection.execute("SELECT name FROM sqlite_master WHERE name = 'project'")
        if not tables.fetchall():
            return 0
        (count,) = connection.execute("SELECT count(*) FROM project").fetchone()
        return int(count)
    finally:
        connection.close()
        copy.unlink()


def test_commits_leave_checkpoints_to_the_background(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_store, "CHECKPOINT_DELAY", 3600.0)
    db = tmp_path / "wal.sqlite"
    store = Store(str(db))
    try:
        for number in range(100):
            store.insert(
                "project", {"tenant_id": None, "name": f"p{number}", "description": "x" * 50_000}
            )
        assert (tmp_path / "wal.sqlite-wal").stat().st_size > 4096 * 1000
        assert _projects_in_the_file_alone(db, tmp_path) == 0
    finally:
        store.close()
    checkpointer = store._db.checkpointer
    assert checkpointer is not None
    assert checkpointer._thread is not None
    assert not checkpointer._thread.is_alive()
    assert _projects_in_the_file_alone(db, tmp_path) == 100


def test_the_background_checkpoints_what_was_committed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_store, "CHECKPOINT_DELAY", 0.0)
    db = tmp_path / "checkpointed.sqlite"
    store = Store(str(db))
    try:
        store.insert("project", {"tenant_id": None, "name": "kept"})
        deadline = time.monotonic() + 60
        while _projects_in_the_file_alone(db, tmp_path) == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert _projects_in_the_file_alone(db, tmp_path) == 1
    finally:
        store.close()


def test_set_columns_writes_only_a_row_its_tenant_sees() -> None:
    store = Store()
    try:
        mine = store.insert("project", {"tenant_id": "t-1", "name": "mine"})
        shared = store.insert("project", {"tenant_id": None, "name": "shared"})
        tenant = store.for_tenant("t-1")
        other = store.for_tenant("t-2")

        assert tenant.set_columns("project", mine["id"], {"description": "seen"})
        written = store.get("project", mine["id"])
        assert written is not None
        assert written["description"] == "seen"
        assert written["updated"] > mine["updated"]
        assert other.set_columns("project", shared["id"], {"description": "shared rows too"})

        assert not other.set_columns("project", mine["id"], {"description": "not mine"})
        assert not tenant.set_columns("project", str(uuid.uuid4()), {"description": "nobody"})
        unchanged = store.get("project", mine["id"])
        assert unchanged is not None
        assert unchanged["description"] == "seen"
        with pytest.raises(KeyError, match="no_such_column"):
            tenant.set_columns("project", mine["id"], {"no_such_column": 1})
    finally:
        store.close()
