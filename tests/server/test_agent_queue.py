"""The agents' queue: get_runs_in_queue, register_agent, last_queried and agent_id."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from prefect_gql.server import DEFAULT_TENANT_ID, AuthConfig, LocalServer, ServiceIntervals, _queue

from .conftest import (
    SERIALIZED_FLOW,
    GraphQL,
    create_flow,
    create_flow_run,
    create_project,
    mutation,
)

QUEUE = mutation("get_runs_in_queue", "flow_run_ids")
REGISTER = mutation("register_agent", "id")
PAST = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer() as running:
        yield running


@pytest.fixture
def tenant_id(gql: GraphQL) -> str:
    slug = f"queue-{uuid.uuid4().hex[:8]}"
    created = gql.data(mutation("create_tenant", "id"), {"i": {"name": slug, "slug": slug}})
    return str(created["create_tenant"]["id"])


@pytest.fixture
def flow_id(gql: GraphQL, tenant_id: str) -> str:
    project_id = create_project(gql, "queue", tenant_id)
    return create_flow(gql, project_id, {**SERIALIZED_FLOW, "run_config": None})


def at(minutes: float) -> str:
    return (PAST + timedelta(minutes=minutes)).isoformat()


def queue(gql: GraphQL, tenant_id: str, **fields: Any) -> list[str]:
    headers = fields.pop("headers", None)
    data = gql.data(QUEUE, {"i": {"tenant_id": tenant_id, **fields}}, headers=headers)
    ids: list[str] = data["get_runs_in_queue"]["flow_run_ids"]
    return ids


def run_at(gql: GraphQL, flow_id: str, minutes: float, labels: list[str] | None = None) -> str:
    return create_flow_run(gql, flow_id, scheduled_start_time=at(minutes), labels=labels or [])


def move(gql: GraphQL, table: str, run_id: str, state: dict[str, Any], **options: Any) -> None:
    answer = gql(
        f"mutation($i: set_{table}_states_input!)"
        f" {{ set_{table}_states(input: $i) {{ states {{ status }} }} }}",
        {"i": {"states": [{f"{table}_id": run_id, "state": state}]}},
        **options,
    )
    assert "errors" not in answer, answer


def test_ready_runs_come_oldest_first_in_every_scheduled_like_state(
    gql: GraphQL, tenant_id: str, flow_id: str
) -> None:
    later = run_at(gql, flow_id, 30)
    first = run_at(gql, flow_id, 10)
    paused, resume, retrying, queued = (run_at(gql, flow_id, m) for m in (20, 21, 22, 23))
    for run_id, kind, minutes in (
        (paused, "Paused", 12), (resume, "Resume", 13), (retrying, "Retrying", 14),
        (queued, "Queued", 15),
    ):  # fmt: skip
        move(gql, "flow_run", run_id, {"type": kind, "start_time": at(minutes)})
    submitted = run_at(gql, flow_id, 1)
    move(gql, "flow_run", submitted, {"type": "Submitted"})
    future = run_at(gql, flow_id, 60 * 24 * 365 * 100)

    assert queue(gql, tenant_id) == [first, paused, resume, retrying, queued, later]
    assert queue(gql, tenant_id, before=at(14)) == [first, paused, resume, retrying]
    assert future not in queue(gql, tenant_id)


def test_at_most_25_runs_by_state_start_time(gql: GraphQL, tenant_id: str, flow_id: str) -> None:
    runs = [run_at(gql, flow_id, minutes) for minutes in range(30, 0, -1)]
    assert queue(gql, tenant_id) == list(reversed(runs))[:25]


def test_a_run_goes_only_to_agents_whose_labels_cover_its_own(
    gql: GraphQL, tenant_id: str, flow_id: str
) -> None:
    unlabeled = run_at(gql, flow_id, 1)
    gpu = run_at(gql, flow_id, 2, ["gpu"])
    gpu_eu = run_at(gql, flow_id, 3, ["eu", "gpu"])

    assert queue(gql, tenant_id) == [unlabeled]
    assert queue(gql, tenant_id, labels=[]) == [unlabeled]
    assert queue(gql, tenant_id, labels=["gpu"]) == [gpu]
    assert queue(gql, tenant_id, labels=["gpu", "eu", "x"]) == [gpu, gpu_eu]
    assert queue(gql, tenant_id, labels=["eu"]) == []


def test_matching_runs_are_found_behind_many_that_do_not_match(
    gql: GraphQL, tenant_id: str, flow_id: str
) -> None:
    for minutes in range(80):
        run_at(gql, flow_id, minutes, ["elsewhere"])
    mine = run_at(gql, flow_id, 100, ["here"])
    assert queue(gql, tenant_id, labels=["here"]) == [mine]


def test_each_poll_checks_the_labels_of_a_bounded_number_of_due_runs(
    gql: GraphQL, tenant_id: str, flow_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_queue, "MAX_RUNS_SCANNED", 5)
    for minutes in range(4):
        run_at(gql, flow_id, minutes, ["elsewhere"])
    first = run_at(gql, flow_id, 10, ["here"])
    assert queue(gql, tenant_id, labels=["here"]) == [first]
    for minutes in range(4, 6):
        run_at(gql, flow_id, minutes, ["elsewhere"])
    assert queue(gql, tenant_id, labels=["here"]) == []
    assert len(queue(gql, tenant_id, labels=["elsewhere"])) == 5


def test_a_running_run_with_a_task_run_to_retry_is_ready(
    gql: GraphQL, tenant_id: str, flow_id: str
) -> None:
    run_id = run_at(gql, flow_id, 1)
    move(gql, "flow_run", run_id, {"type": "Running"})
    assert queue(gql, tenant_id) == []
    task_runs = gql.data(
        "query($id: uuid!) { flow_run_by_pk(id: $id) { task_runs { id } } }", {"id": run_id}
    )["flow_run_by_pk"]["task_runs"]
    move(gql, "task_run", task_runs[0]["id"], {"type": "Retrying", "start_time": at(5)})
    move(gql, "task_run", task_runs[1]["id"], {"type": "Retrying", "start_time": at(6)})
    assert queue(gql, tenant_id, before=at(4)) == []
    assert queue(gql, tenant_id) == [run_id]


def test_other_tenants_runs_are_not_in_the_queue(
    gql: GraphQL, tenant_id: str, flow_id: str
) -> None:
    run_at(gql, flow_id, 1)
    other = gql.data(
        mutation("create_tenant", "id"), {"i": {"name": "o", "slug": f"o-{tenant_id}"}}
    )
    assert queue(gql, other["create_tenant"]["id"]) == []


def test_a_bad_before_is_refused_naming_it(gql: GraphQL, tenant_id: str) -> None:
    body = {"i": {"tenant_id": tenant_id, "before": "yesterday-ish"}}
    response = gql.post(QUEUE, body)
    assert response.status_code == 400
    assert "i.before" in response.json()["errors"][0]["message"]


def agent(gql: GraphQL, agent_id: str) -> dict[str, Any]:
    found: dict[str, Any] = gql.data(
        "query($id: uuid!) { agent_by_pk(id: $id) { last_queried labels core_version"
        " flow_runs { id } } }",
        {"id": agent_id},
    )["agent_by_pk"]
    return found


def register(
    gql: GraphQL, tenant_id: str, headers: dict[str, str] | None = None, **fields: Any
) -> str:
    data = gql.data(
        REGISTER,
        {"i": {"tenant_id": tenant_id, "type": "LocalAgent", "name": "a", **fields}},
        headers=headers,
    )
    return str(data["register_agent"]["id"])


def test_register_agent_returns_the_agent_registered_with_the_same_identity(
    gql: GraphQL, tenant_id: str
) -> None:
    core = {"X-PREFECT-CORE-VERSION": "1.4.1"}
    first = register(gql, tenant_id, core, labels=["b", "a"])
    assert register(gql, tenant_id, core, labels=["a", "b"]) == first
    assert agent(gql, first)["labels"] == ["a", "b"]
    assert agent(gql, first)["core_version"] == "1.4.1"
    different = {
        register(gql, tenant_id, core, labels=["a"]),
        register(gql, tenant_id, core, labels=["a", "b"], name="other"),
        register(gql, tenant_id, core, labels=["a", "b"], type="DockerAgent"),
        register(gql, tenant_id, {"X-PREFECT-CORE-VERSION": "1.4.0"}, labels=["a", "b"]),
        register(gql, tenant_id, labels=["a", "b"]),
    }
    assert first not in different
    assert len(different) == 5


def test_each_poll_updates_the_agents_last_queried(gql: GraphQL, tenant_id: str) -> None:
    agent_id = register(gql, tenant_id)
    before = agent(gql, agent_id)["last_queried"]
    queue(gql, tenant_id, headers={"X-PREFECT-AGENT-ID": agent_id})
    polled = agent(gql, agent_id)["last_queried"]
    assert polled > before
    queue(gql, tenant_id)
    assert agent(gql, agent_id)["last_queried"] == polled


def test_a_submitted_state_from_an_agent_records_the_agent_on_the_run(
    gql: GraphQL, tenant_id: str, flow_id: str
) -> None:
    agent_id = register(gql, tenant_id)
    from_agent = {"X-PREFECT-AGENT-ID": agent_id}
    submitted, running, anonymous = (run_at(gql, flow_id, m) for m in (1, 2, 3))
    move(gql, "flow_run", submitted, {"type": "Submitted"}, headers=from_agent)
    move(gql, "flow_run", running, {"type": "Running"}, headers=from_agent)
    move(gql, "flow_run", anonymous, {"type": "Submitted"})
    move(
        gql,
        "flow_run",
        anonymous,
        {"type": "Submitted"},
        headers={"X-PREFECT-AGENT-ID": str(uuid.uuid4())},
    )
    assert agent(gql, agent_id)["flow_runs"] == [{"id": submitted}]


def test_in_token_mode_an_agent_sees_and_touches_only_its_own_tenant() -> None:
    with LocalServer(auth=AuthConfig(), services=ServiceIntervals.off()) as token_server:
        other_tenant = "00000000-0000-4000-8000-00000000000b"
        mine = GraphQL(
            token_server.url, {"Authorization": f"Bearer {token_server.issue_api_key()}"}
        )
        theirs = GraphQL(
            token_server.url,
            {"Authorization": f"Bearer {token_server.issue_api_key(other_tenant)}"},
        )
        try:
            project_id = create_project(theirs, "theirs", other_tenant)
            their_flow = create_flow(theirs, project_id, {**SERIALIZED_FLOW, "run_config": None})
            their_run = run_at(theirs, their_flow, 1)
            their_agent = register(theirs, other_tenant)
            assert queue(theirs, other_tenant) == [their_run]
            assert queue(mine, other_tenant) == []
            assert queue(mine, DEFAULT_TENANT_ID) == []
            before = agent(theirs, their_agent)["last_queried"]
            queue(mine, DEFAULT_TENANT_ID, headers={"X-PREFECT-AGENT-ID": their_agent})
            assert agent(theirs, their_agent)["last_queried"] == before
            my_flow = create_flow(mine, create_project(mine, "mine"), SERIALIZED_FLOW)
            my_run = run_at(mine, my_flow, 1, ["local"])
            from_their_agent = {"X-PREFECT-AGENT-ID": their_agent}
            move(mine, "flow_run", my_run, {"type": "Submitted"}, headers=from_their_agent)
            assert mine.data(f'{{ flow_run_by_pk(id: "{my_run}") {{ agent_id }} }}') == {
                "flow_run_by_pk": {"agent_id": None}
            }
        finally:
            mine.close()
            theirs.close()
