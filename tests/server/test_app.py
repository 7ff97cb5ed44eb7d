"""The HTTP surface, the schema file, scalars, persistence and running the server."""

from __future__ import annotations

import json
import logging
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from prefect_gql.server import (
    DEFAULT_TENANT_ID,
    LocalServer,
    _runner,
    _schema,
    create_app,
    load_sdl,
    serve,
)
from prefect_gql.server._records import Records

from .conftest import GraphQL, World, create_flow_run, create_project, mutation

REPOSITORY_SCHEMA = Path(__file__).resolve().parents[2] / "schema" / "prefect.graphql"


def test_graphql_answers_on_every_path_the_gateway_serves(
    gql: GraphQL, server: LocalServer
) -> None:
    for path in ("", "/", "/graphql", "/graphql/", "/graphql/alpha"):
        answer = gql.data(f'{{ tenant_by_pk(id: "{DEFAULT_TENANT_ID}") {{ slug }} }}', path=path)
        assert answer == {"tenant_by_pk": {"slug": "default"}}
    assert httpx.get(f"{server.url}/health").json() == {"status": "ok"}
    assert server.graphql_url == f"{server.url}/graphql"
    assert "html" in httpx.get(server.graphql_url).headers["content-type"]


def test_requests_that_cannot_be_executed_are_400(gql: GraphQL, server: LocalServer) -> None:
    not_json = httpx.post(server.url, content=b"{", headers={"content-type": "application/json"})
    bad_variables = httpx.post(server.url, json={"query": "{ hello }", "variables": "{"})
    unknown_field = gql.post("{ tenant { id password } }")
    assert [r.status_code for r in (not_json, bad_variables, unknown_field)] == [400, 400, 400]
    assert unknown_field.json() == {
        "errors": [
            {
                "message": "Cannot query field 'password' on type 'tenant'.",
                "locations": [{"line": 1, "column": 15}],
            }
        ]
    }


@pytest.mark.parametrize(
    ("document", "variables", "message"),
    [
        ("query($id: uuid!) { flow_run_by_pk(id: $id) { id } }", {"id": "nope"}, "invalid UUID"),
        ('{ flow_run_by_pk(id: "nope") { id } }', None, "invalid UUID"),
        (
            "query($t: timestamptz!) { log(where: {timestamp: {_gte: $t}}) { id } }",
            {"t": "yesterday"},
            "invalid ISO-8601 timestamp",
        ),
    ],
)
def test_scalars_refuse_bad_values(
    gql: GraphQL, document: str, variables: Any, message: str
) -> None:
    response = gql.post(document, variables)
    assert response.status_code == 400
    assert message in response.json()["errors"][0]["message"]


def test_timestamps_go_out_timezone_aware(gql: GraphQL, world: World) -> None:
    run_id = create_flow_run(gql, world.flow_id, scheduled_start_time="2026-11-24T10:30:00.25")
    run = gql.data(f'{{ flow_run_by_pk(id: "{run_id}") {{ scheduled_start_time created }} }}')
    assert run["flow_run_by_pk"]["scheduled_start_time"] == "2026-11-24T10:30:00.250000+00:00"
    assert run["flow_run_by_pk"]["created"].endswith("+00:00")
    shifted = create_flow_run(gql, world.flow_id, scheduled_start_time="2026-11-24T12:31:00+02:00")
    earlier = create_flow_run(gql, world.flow_id, scheduled_start_time="2026-11-24T12:29:00+02:00")
    later = gql.data(
        "query($t: timestamptz!, $f: uuid!) { flow_run(where: {flow_id: {_eq: $f},"
        " scheduled_start_time: {_gte: $t}}) { id } }",
        {"t": "2026-11-24T10:30:00.25Z", "f": world.flow_id},
    )
    found = {r["id"] for r in later["flow_run"]}
    assert {run_id, shifted} <= found
    assert earlier not in found


def test_a_server_fault_is_logged_and_answered_as_internal(
    gql: GraphQL, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> bool:
        raise RuntimeError("the disk is on fire")

    monkeypatch.setattr(Records, "set_secret", broken)
    caplog.set_level(logging.ERROR, logger="prefect_gql.server")
    fault = gql.error(mutation("set_secret", "success"), {"i": {"name": "n", "value": "v"}})
    assert fault["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}
    assert "the disk is on fire" in caplog.text
    caplog.clear()
    gql.error(
        mutation("set_flow_run_name", "success"),
        {"i": {"flow_run_id": DEFAULT_TENANT_ID, "name": "n"}},
    )
    assert caplog.text == ""


def test_the_schema_comes_from_package_data_else_the_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert load_sdl() == REPOSITORY_SCHEMA.read_text()
    (tmp_path / "schema.graphql").write_text("type Query { hello: String }")
    monkeypatch.setattr(resources, "files", lambda package: tmp_path)
    assert load_sdl() == "type Query { hello: String }"
    monkeypatch.setattr(_schema, "PACKAGED_SCHEMA", "missing.graphql")
    monkeypatch.setattr(_schema, "REPOSITORY_SCHEMA", tmp_path / "nowhere.graphql")
    with pytest.raises(FileNotFoundError, match=r"missing\.graphql.*nowhere\.graphql"):
        load_sdl()


def test_a_database_file_keeps_the_state(tmp_path: Path) -> None:
    db = str(tmp_path / "prefect.sqlite")
    with LocalServer(db=db) as first:
        gql = GraphQL(first.url)
        project_id = create_project(gql, "kept")
        gql.close()
    with LocalServer(db=db) as second:
        gql = GraphQL(second.url)
        kept = gql.data("{ project { id } tenant { slug } }")
        gql.close()
    assert kept == {"project": [{"id": project_id}], "tenant": [{"slug": "default"}]}


async def test_create_app_is_a_plain_asgi_app() -> None:
    transport = httpx.ASGITransport(app=create_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://local") as client:
        answer = await client.post(
            "/graphql", json={"query": "{ tenant { slug } }", "variables": "null"}
        )
    assert answer.json() == {"data": {"tenant": [{"slug": "default"}]}}


def test_concurrent_writers_each_get_their_own_run(gql: GraphQL, world: World) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        run_ids = list(pool.map(lambda _: create_flow_run(gql, world.flow_id), range(24)))
    assert len(set(run_ids)) == 24
    count = gql.data(
        "query($f: uuid!) { flow_run_aggregate(where: {flow_id: {_eq: $f}})"
        " { aggregate { count } } }",
        {"f": world.flow_id},
    )
    assert count["flow_run_aggregate"]["aggregate"]["count"] == 25


def test_serve_runs_uvicorn_in_the_foreground(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []

    def run(app: object, **options: Any) -> None:
        calls.append({"app": app, **options})

    monkeypatch.setattr(uvicorn, "run", run)
    frozen: list[bool] = []
    monkeypatch.setattr(_runner, "freeze_startup_objects", lambda: frozen.append(True))
    serve(host="0.0.0.0", port=4321)  # noqa: S104 - nothing listens
    assert frozen == [True], "startup objects are frozen before serving"
    assert calls[0]["host"] == "0.0.0.0"  # noqa: S104
    assert calls[0]["port"] == 4321
    assert callable(calls[0]["app"])


def test_a_local_server_on_a_taken_port_fails_at_once(server: LocalServer) -> None:
    with pytest.raises(OSError, match="in use"):
        LocalServer(port=server.port)
    assert json.loads(httpx.get(f"{server.url}/health").text) == {"status": "ok"}
