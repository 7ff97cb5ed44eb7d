"""The documents the real Prefect 0.12.0 and 1.4.1 clients send, byte for byte.

tests/fixtures/captured_operations.json holds them as captured (shared/reference
operations_*.md), with dummy ids; here the ids become a real registered flow's, and
each client's sequence runs against a server in the matching mode: open for
``backend = server``, token mode with the client's credential for ``cloud``.
"""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from prefect_gql.server import DEFAULT_TENANT_ID, AuthConfig, LocalServer

from .conftest import GraphQL, World, build_world, set_state

CAPTURED: list[dict[str, Any]] = json.loads(
    (Path(__file__).resolve().parents[1] / "fixtures" / "captured_operations.json").read_text()
)
GROUPS = sorted({(op["version"], op["backend"]) for op in CAPTURED})
USER_TOKEN = "captured-user-token"
API_KEY = "captured-api-key"
HEADERS = {
    ("0.12.0", "cloud"): {"Authorization": f"Bearer {USER_TOKEN}"},
    ("1.4.1", "cloud"): {
        "Authorization": f"Bearer {API_KEY}",
        "X-PREFECT-TENANT-ID": DEFAULT_TENANT_ID,
    },
}
"""What each client sends (operations_*.md); servers get none."""
REFUSED_BY_THE_SCHEMA = {
    ("0.12.0", "cloud", "create_project"),
    ("0.12.0", "server", "create_project"),
    ("0.12.0", "server", "register(compressed=True)"),
    ("0.12.0", "server", "register(compressed=False)"),
}
"""0.12 sends create_project without ``tenant_id`` and (server mode) register with
``project_id: null``; schema/ requires both, as Prefect Server 2022 does."""


def _auth(group: tuple[str, str]) -> AuthConfig | None:
    if group == ("0.12.0", "cloud"):
        return AuthConfig(api_tokens=[USER_TOKEN])
    if group == ("1.4.1", "cloud"):
        return AuthConfig(api_keys={API_KEY: DEFAULT_TENANT_ID})
    return None


def _operations(group: tuple[str, str]) -> list[dict[str, Any]]:
    return [op for op in CAPTURED if (op["version"], op["backend"]) == group]


def _real_ids(world: World) -> dict[str, str]:
    return {
        "11111111-1111-1111-1111-111111111111": world.tenant_id,
        "22222222-2222-2222-2222-222222222222": world.flow_id,
        "33333333-3333-3333-3333-333333333333": world.flow_run_id,
        "44444444-4444-4444-4444-444444444444": world.task_ids["extract-1"],
        "55555555-5555-5555-5555-555555555555": world.task_run_ids["extract-1"],
        "66666666-6666-6666-6666-666666666666": world.project_id,
        "88888888-8888-8888-8888-888888888888": world.limit_id,
    }


def _with_real_ids(text: str, world: World) -> str:
    for dummy, real in _real_ids(world).items():
        text = text.replace(dummy, real)
    return text


def _gzipped_flow(operations: list[dict[str, Any]]) -> str:
    """The capture truncates compressed flows; the clients gzip the flow they would
    send uncompressed (``H4sI...``), so the same flow gzipped stands in."""
    uncompressed = next(op for op in operations if "create_flow_input!" in op["query"])
    flow = uncompressed["variables"]["input"]["serialized_flow"]
    return base64.b64encode(gzip.compress(json.dumps(flow).encode())).decode()


@pytest.fixture(params=GROUPS, ids=["-".join(group) for group in GROUPS])
def client_run(request: pytest.FixtureRequest) -> Iterator[tuple[tuple[str, str], GraphQL, World]]:
    group: tuple[str, str] = request.param
    with LocalServer(auth=_auth(group)) as server:
        gql = GraphQL(server.url, HEADERS.get(group))
        world = build_world(gql)
        # The captured task run update names version 1: the run has moved once.
        set_state(gql, "task_run", world.task_run_ids["extract-1"], {"type": "Pending"})
        yield group, gql, world
        gql.close()


def test_each_clients_sequence_runs(client_run: tuple[tuple[str, str], GraphQL, World]) -> None:
    group, gql, world = client_run
    operations = _operations(group)
    compressed = _gzipped_flow(operations)
    for operation in operations:
        variables = operation["variables"]
        if "create_flow_from_compressed_string" in operation["query"]:
            variables = {"input": {**variables["input"], "serialized_flow": compressed}}
        headers = {}
        if operation["method"] == "_refresh_access_token":
            tokens = gql.data(
                "mutation { switch_tenant(input: {tenant_id: "
                f'"{world.tenant_id}"}}) {{ access_token refresh_token }} }}'
            )["switch_tenant"]
            variables = {"input": {"access_token": tokens["access_token"]}}
            headers = {"Authorization": f"Bearer {tokens['refresh_token']}"}
        variables = json.loads(_with_real_ids(json.dumps(variables), world))
        response = gql.post(
            _with_real_ids(operation["query"], world), variables, headers=headers, as_string=True
        )
        key = (*group, operation["method"])
        answer = response.json()
        if key in REFUSED_BY_THE_SCHEMA:
            assert response.status_code == 400, answer
            message = answer["errors"][0]["message"]
            assert "tenant_id" in message or "project_id" in message, message
            continue
        assert response.status_code == 200, (key, answer)
        assert "errors" not in answer, (key, answer["errors"])


def _captured(version: str, method: str, root_field: str) -> str:
    return next(
        str(op["query"])
        for op in CAPTURED
        if (op["version"], op["backend"], op["method"]) == (version, "server", method)
        and root_field in op["query"]
    )


@pytest.mark.parametrize("version", ["0.12.0", "1.4.1"])
def test_literal_documents_answer_with_the_runs_data(
    version: str, gql: GraphQL, world: World
) -> None:
    """Documents that inline ids as literals (``flow_run_by_pk(id: "...")``)."""
    info = gql.data(
        _with_real_ids(_captured(version, "get_flow_run_info", "flow_run_by_pk"), world)
    )
    run = info["flow_run_by_pk"]
    assert run["id"] == world.flow_run_id
    assert run["version"] == 1
    assert run["serialized_state"]["type"] == "Scheduled"
    assert sorted(tr["task"]["slug"] for tr in run["task_runs"]) == ["extract-1", "load-1"]
    assert all(tr["serialized_state"] == {"type": "Pending", "message": "Task run created"}
               for tr in run["task_runs"])  # fmt: skip
    if version == "1.4.1":
        assert run["flow"]["project"] == {"id": world.project_id, "name": world.project_name}

    beat = gql.data(
        _with_real_ids(_captured(version, "update_flow_run_heartbeat", "update_flow"), world)
    )
    assert beat == {"update_flow_run_heartbeat": {"success": True}}
    heartbeat = gql.data(f'{{ flow_run_by_pk(id: "{world.flow_run_id}") {{ heartbeat }} }}')
    assert heartbeat["flow_run_by_pk"]["heartbeat"].endswith("+00:00")

    root = "get_or_create_task_run_info" if version == "1.4.1" else "get_or_create_task_run"
    task_run = gql.data(_with_real_ids(_captured(version, "get_task_run_info", root), world))
    assert task_run[root]["id"] == world.task_run_ids["extract-1"]
    if version == "1.4.1":
        assert task_run[root]["version"] == 0
        assert task_run[root]["serialized_state"]["type"] == "Pending"
    else:
        by_pk = gql.data(_with_real_ids(_captured(version, "get_task_run_info", "by_pk"), world))
        assert by_pk["task_run_by_pk"]["task"] == {"slug": "extract-1"}


@pytest.mark.parametrize("version", ["0.12.0", "1.4.1"])
def test_captured_create_flow_run_is_idempotent(version: str, gql: GraphQL, world: World) -> None:
    operation = next(
        op
        for op in CAPTURED
        if (op["version"], op["backend"], op["method"]) == (version, "server", "create_flow_run")
    )
    variables = json.loads(_with_real_ids(json.dumps(operation["variables"]), world))
    first = gql.data(operation["query"], variables, as_string=True)["create_flow_run"]["id"]
    again = gql.data(operation["query"], variables, as_string=True)["create_flow_run"]["id"]
    assert first == again != world.flow_run_id
    run = gql.data(
        "query($id: uuid!) { flow_run_by_pk(id: $id) "
        "{ name parameters context scheduled_start_time } }",
        {"id": first},
    )["flow_run_by_pk"]
    assert run == {
        "name": "r",
        "parameters": {"day": "monday", "p": 1},
        "context": {"c": 1},
        "scheduled_start_time": "2020-06-17T00:00:00+00:00",
    }
