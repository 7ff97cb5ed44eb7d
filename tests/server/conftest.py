"""Fixtures for the embedded server's own tests: raw GraphQL over HTTP, no client."""

from __future__ import annotations

import base64
import json
import time
import uuid
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from prefect_gql.server import DEFAULT_TENANT_ID, LocalServer
from prefect_gql.server._store import Store

SERIALIZED_FLOW: dict[str, Any] = {
    "name": "etl",
    "type": "prefect.core.flow.Flow",
    "schedule": None,
    "parameters": [{"name": "day", "slug": "day", "required": False, "default": "monday"}],
    "tasks": [
        {"slug": "extract-1", "name": "extract", "tags": ["db"], "cache_key": "extract-key",
         "trigger": {"fn": "prefect.triggers.all_successful", "kwargs": {}}},
        {"slug": "load-1", "name": "load", "tags": []},
    ],
    "edges": [{"upstream_task": {"slug": "extract-1"}, "downstream_task": {"slug": "load-1"},
               "key": "x", "mapped": False}],
    "reference_tasks": [],
    "environment": None,
    "run_config": {"type": "UniversalRun", "labels": ["local"]},
    "storage": None,
    "__version__": "1.4.1",
}  # fmt: skip
"""A two-task flow (extract -> load) as Prefect 1.4's ``flow.serialize()`` sends it."""


def mutation(field: str, selection: str) -> str:
    """``mutation($i: <field>_input!) { <field>(input: $i) { <selection> } }``."""
    return f"mutation($i: {field}_input!) {{ {field}(input: $i) {{ {selection} }} }}"


def compress(value: Any) -> str:
    """What ``create_flow_from_compressed_string`` takes: base64 of zlib'd JSON."""
    return base64.b64encode(zlib.compress(json.dumps(value).encode())).decode()


class GraphQL:
    """POSTs GraphQL documents to one server, the way the Prefect clients do."""

    def __init__(self, url: str, headers: Mapping[str, str] | None = None) -> None:
        self.url = url
        self._http = httpx.Client(headers=dict(headers or {}), timeout=10.0)

    def close(self) -> None:
        self._http.close()

    def post(
        self,
        query: str,
        variables: Any = None,
        *,
        headers: Mapping[str, str] | None = None,
        path: str = "",
        as_string: bool = False,
    ) -> httpx.Response:
        """``as_string``: send ``variables`` JSON-encoded, as the 0.12/1.4 clients do."""
        body = {"query": query, "variables": json.dumps(variables) if as_string else variables}
        return self._http.post(self.url + path, json=body, headers=dict(headers or {}))

    def __call__(self, query: str, variables: Any = None, **options: Any) -> dict[str, Any]:
        """The whole answer of an executed document (HTTP 200, errors or not)."""
        response = self.post(query, variables, **options)
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer

    def data(self, query: str, variables: Any = None, **options: Any) -> dict[str, Any]:
        """The ``data`` of an answer that must have no errors."""
        answer = self(query, variables, **options)
        assert "errors" not in answer, answer["errors"]
        data: dict[str, Any] = answer["data"]
        return data

    def error(self, query: str, variables: Any = None, **options: Any) -> dict[str, Any]:
        """The first error of an answer that must have one."""
        answer = self(query, variables, **options)
        assert answer.get("errors"), answer
        error: dict[str, Any] = answer["errors"][0]
        return error


@dataclass(frozen=True)
class World:
    """A tenant's registered flow with one flow run, and what hangs off them."""

    tenant_id: str
    project_id: str
    project_name: str
    flow_id: str
    task_ids: dict[str, str]
    flow_run_id: str
    task_run_ids: dict[str, str]
    agent_config_id: str
    artifact_id: str
    limit_id: str


def create_project(gql: GraphQL, name: str, tenant_id: str = DEFAULT_TENANT_ID) -> str:
    data = gql.data(
        mutation("create_project", "id"),
        {"i": {"name": name, "tenant_id": tenant_id}},
    )
    return str(data["create_project"]["id"])


def create_flow(gql: GraphQL, project_id: str, flow: Mapping[str, Any] = SERIALIZED_FLOW) -> str:
    data = gql.data(
        mutation("create_flow", "id"),
        {"i": {"project_id": project_id, "serialized_flow": dict(flow)}},
    )
    return str(data["create_flow"]["id"])


def create_flow_run(gql: GraphQL, flow_id: str, **fields: Any) -> str:
    data = gql.data(
        mutation("create_flow_run", "id"),
        {"i": {"flow_id": flow_id, **fields}},
    )
    return str(data["create_flow_run"]["id"])


def set_state(
    gql: GraphQL, table: str, run_id: str, state: Any, version: int | None = None
) -> dict[str, Any]:
    """``set_flow_run_states``/``set_task_run_states`` for one run: the whole answer."""
    return gql(
        f"mutation($i: set_{table}_states_input!) "
        f"{{ set_{table}_states(input: $i) {{ states {{ id status message }} }} }}",
        {"i": {"states": [{f"{table}_id": run_id, "state": state, "version": version}]}},
    )


def build_world(gql: GraphQL, tenant_id: str = DEFAULT_TENANT_ID) -> World:
    project_name = f"project-{uuid.uuid4().hex[:8]}"
    project_id = create_project(gql, project_name, tenant_id)
    flow_id = create_flow(gql, project_id)
    flow_run_id = create_flow_run(gql, flow_id)
    run = gql.data(
        "query($id: uuid!) { flow_run_by_pk(id: $id) { task_runs { id task { id slug } } } }",
        {"id": flow_run_id},
    )["flow_run_by_pk"]
    task_ids = {tr["task"]["slug"]: tr["task"]["id"] for tr in run["task_runs"]}
    task_run_ids = {tr["task"]["slug"]: tr["id"] for tr in run["task_runs"]}
    agent_config_id = gql.data(
        mutation("create_agent_config", "id"),
        {"i": {"tenant_id": tenant_id, "name": "k8s", "settings": {"labels": ["gpu"]}}},
    )["create_agent_config"]["id"]
    artifact_id = gql.data(
        mutation("create_task_run_artifact", "id"),
        {"i": {"task_run_id": task_run_ids["extract-1"], "kind": "markdown", "data": {"m": 1}}},
    )["create_task_run_artifact"]["id"]
    limit_id = gql.data(
        mutation("update_task_tag_limit", "id"),
        {"i": {"tag": f"tag-{uuid.uuid4().hex[:6]}", "limit": 5}},
    )["update_task_tag_limit"]["id"]
    return World(
        tenant_id=tenant_id,
        project_id=project_id,
        project_name=project_name,
        flow_id=flow_id,
        task_ids=task_ids,
        flow_run_id=flow_run_id,
        task_run_ids=task_run_ids,
        agent_config_id=agent_config_id,
        artifact_id=artifact_id,
        limit_id=limit_id,
    )


@pytest.fixture(scope="session")
def server() -> Iterator[LocalServer]:
    """One open-mode server for the tests that only add to it."""
    with LocalServer() as running:
        yield running


@pytest.fixture
def gql(server: LocalServer) -> Iterator[GraphQL]:
    client = GraphQL(server.url)
    yield client
    client.close()


@pytest.fixture
def world(gql: GraphQL) -> World:
    return build_world(gql)


def until_a_writer_waits(store: Store) -> None:
    """Returns once a thread waits for the store's write lock (a guard of 60 s against
    hanging, never the verdict)."""
    deadline = time.monotonic() + 60
    while store._db.waiting == 0 and time.monotonic() < deadline:
        time.sleep(0.001)
