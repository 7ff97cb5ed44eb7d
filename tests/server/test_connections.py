"""Every SQLite connection the server opens is closed: when the server stops, when it
never starts, when it cannot, and when an app nobody shut down is collected.

Python 3.13 reports a connection collected while open (``ResourceWarning: unclosed
database``); here each connection is tracked and checked on every Python.
"""

from __future__ import annotations

import gc
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from prefect_gql.server import LocalServer, create_app
from prefect_gql.server._store import StorageError, Store

from .conftest import GraphQL, build_world


def is_open(connection: sqlite3.Connection) -> bool:
    try:
        connection.total_changes  # noqa: B018 - raises on a closed connection
    except sqlite3.ProgrammingError:
        return False
    return True


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[sqlite3.Connection]]:
    """Each connection the store opens during the test."""
    connections: list[sqlite3.Connection] = []
    connect = sqlite3.connect

    def tracked(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        connection: sqlite3.Connection = connect(*args, **kwargs)
        connections.append(connection)
        return connection

    monkeypatch.setattr(sqlite3, "connect", tracked)
    yield connections
    for connection in connections:
        connection.close()


def test_a_stopped_server_closes_its_writer_and_every_reader(
    tmp_path: Path, opened: list[sqlite3.Connection]
) -> None:
    """A file database: each worker thread reads through a connection of its own."""
    with LocalServer(db=str(tmp_path / "db.sqlite")) as server:
        gql = GraphQL(server.url)
        world = build_world(gql)
        for _ in range(5):
            gql.data(f'{{ flow_run_by_pk(id: "{world.flow_run_id}") {{ id }} }}')
        gql.close()
        assert len(opened) >= 2, "no reader connection was opened"
        assert all(is_open(connection) for connection in opened)
    assert not any(is_open(connection) for connection in opened)


def test_a_server_that_never_started_or_could_not_closes_its_database(
    opened: list[sqlite3.Connection],
) -> None:
    LocalServer().stop()
    with LocalServer() as running, pytest.raises(OSError, match="in use"):
        LocalServer(port=running.port)
    assert opened
    assert not any(is_open(connection) for connection in opened)


def test_an_app_nobody_shut_down_closes_its_database_when_collected(
    opened: list[sqlite3.Connection],
) -> None:
    app = create_app()
    assert opened
    assert all(is_open(connection) for connection in opened)
    del app
    gc.collect()
    assert not any(is_open(connection) for connection in opened)


def test_a_database_the_server_cannot_use_is_closed_at_once(
    tmp_path: Path, opened: list[sqlite3.Connection]
) -> None:
    foreign = tmp_path / "foreign.sqlite"
    with sqlite3.connect(foreign) as other:
        other.execute("CREATE TABLE stranger (x)")
    other.close()
    with pytest.raises(StorageError, match="not a prefect_gql server database"):
        Store(str(foreign))
    assert opened
    assert not any(is_open(connection) for connection in opened)
