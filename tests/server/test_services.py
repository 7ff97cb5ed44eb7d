"""The scheduler, Lazarus and the zombie killer, one pass at a time (clocks injected)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pendulum
import pytest
from prefect.schedules import Schedule
from prefect.schedules.clocks import CronClock, IntervalClock
from prefect.serialization.schedule import ScheduleSchema

from prefect_gql.server import LocalServer, ServiceIntervals, _scheduler

from .conftest import (
    SERIALIZED_FLOW,
    GraphQL,
    create_flow,
    create_flow_run,
    create_project,
    mutation,
    until_a_writer_waits,
)
from .prefect_clocks import prefect_cron_clocks_on_pendulum_3

__all__ = ["prefect_cron_clocks_on_pendulum_3"]
RUNS = """query($id: uuid!) {
  flow_run(where: {flow_id: {_eq: $id}}, order_by: {scheduled_start_time: asc}) {
    id state scheduled_start_time auto_scheduled idempotency_key parameters labels times_resurrected
    state_message logs { message level } } }"""
LATER = timedelta(minutes=11)


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with LocalServer(services=ServiceIntervals.off()) as running:
        yield running


@pytest.fixture
def project_id(gql: GraphQL) -> str:
    return create_project(gql, "services")


def serialized(schedule: Schedule) -> dict[str, Any]:
    dumped: dict[str, Any] = ScheduleSchema().dump(schedule)
    return dumped


def register(
    gql: GraphQL, project_id: str, schedule: Schedule | dict[str, Any] | None, **flow: Any
) -> str:
    given = serialized(schedule) if isinstance(schedule, Schedule) else schedule
    return create_flow(gql, project_id, {**SERIALIZED_FLOW, "schedule": given, **flow})


def runs(gql: GraphQL, flow_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = gql.data(RUNS, {"id": flow_id})["flow_run"]
    return found


def starts(found: list[dict[str, Any]]) -> list[datetime]:
    return [datetime.fromisoformat(run["scheduled_start_time"]) for run in found]


HOURLY = Schedule(
    clocks=[IntervalClock(timedelta(hours=1), start_date=pendulum.datetime(2026, 1, 1, 0, 20))]
)


def test_a_registered_flow_with_an_active_schedule_gets_its_next_10_runs(
    gql: GraphQL, project_id: str
) -> None:
    before = pendulum.now("UTC")
    flow_id = register(gql, project_id, HOURLY)
    after = pendulum.now("UTC")
    scheduled = runs(gql, flow_id)
    assert starts(scheduled) in (HOURLY.next(10, after=before), HOURLY.next(10, after=after))
    assert {run["state"] for run in scheduled} == {"Scheduled"}
    assert all(run["auto_scheduled"] for run in scheduled)
    assert [run["idempotency_key"] for run in scheduled] == [
        f"auto-scheduled:{start.astimezone(UTC).isoformat()}" for start in starts(scheduled)
    ]
    assert scheduled[0]["labels"] == ["local"]


def test_a_later_pass_schedules_only_events_after_the_latest_run(
    server: LocalServer, gql: GraphQL, project_id: str
) -> None:
    flow_id = register(gql, project_id, HOURLY)
    first = starts(runs(gql, flow_id))
    assert server.services.scheduler.run_once() == 0
    five_hours_on = first[0] + timedelta(hours=4, minutes=30)
    assert server.services.scheduler.run_once(now=five_hours_on) == 5
    assert starts(runs(gql, flow_id)) == [first[0] + timedelta(hours=h) for h in range(15)]


def test_clock_parameters_and_labels_reach_the_runs(
    server: LocalServer, gql: GraphQL, project_id: str
) -> None:
    clock = CronClock("0 6 * * *", parameter_defaults={"day": "sunday"}, labels=["eu"])
    flow_id = register(gql, project_id, Schedule(clocks=[clock]))
    scheduled = runs(gql, flow_id)
    assert len(scheduled) == 10
    assert {(str(r["parameters"]), tuple(r["labels"])) for r in scheduled} == {
        (str({"day": "sunday"}), ("eu",))
    }
    key = scheduled[0]["idempotency_key"]
    assert key.startswith(f"auto-scheduled:{starts(scheduled)[0].isoformat()}:")
    assert len(key.rsplit(":", 1)[1]) == 32
    assert server.services.scheduler.run_once() == 10
    assert len(runs(gql, flow_id)) == 10


def test_a_new_version_replaces_the_runs_its_predecessor_scheduled(
    gql: GraphQL, project_id: str
) -> None:
    first = register(gql, project_id, HOURLY, name="versioned")
    manual = create_flow_run(gql, first)
    second = register(gql, project_id, HOURLY, name="versioned")
    assert [run["id"] for run in runs(gql, first)] == [manual]
    assert len(runs(gql, second)) == 10


SET_ACTIVE = mutation("set_schedule_active", "success")
SET_INACTIVE = mutation("set_schedule_inactive", "success")


def test_turning_a_schedule_off_and_on(gql: GraphQL, project_id: str) -> None:
    flow_id = register(gql, project_id, HOURLY)
    manual = create_flow_run(gql, flow_id)
    assert gql.data(SET_INACTIVE, {"i": {"flow_id": flow_id}})
    assert [run["id"] for run in runs(gql, flow_id)] == [manual]
    assert gql.data(SET_ACTIVE, {"i": {"flow_id": flow_id}})
    assert len(runs(gql, flow_id)) == 11


def test_a_flow_groups_schedule_wins_over_the_flows(
    server: LocalServer, gql: GraphQL, project_id: str
) -> None:
    flow_id = register(gql, project_id, None)
    assert runs(gql, flow_id) == []
    group_id = gql.data(f'{{ flow_by_pk(id: "{flow_id}") {{ flow_group_id }} }}')["flow_by_pk"][
        "flow_group_id"
    ]
    daily = Schedule(clocks=[CronClock("0 0 * * *")])
    store = server._api.store
    store.update("flow_group", group_id, {"schedule": serialized(daily)})
    store.update("flow", flow_id, {"is_schedule_active": True})
    now = datetime(2030, 1, 1, 12, tzinfo=UTC)
    assert server.services.scheduler.run_once(now=now) == 10
    assert starts(runs(gql, flow_id)) == daily.next(10, after=now)


@pytest.mark.parametrize(
    ("schedule", "named"),
    [
        ({"clocks": [{"type": "SolarClock"}]}, "SolarClock"),
        ({"clocks": [], "filters": [{"fn": "my.holidays", "kwargs": {}}]}, "my.holidays"),
    ],
)
def test_a_schedule_the_server_cannot_run_is_refused_at_registration(
    gql: GraphQL, project_id: str, schedule: dict[str, Any], named: str
) -> None:
    flow = {**SERIALIZED_FLOW, "name": f"refused-{named}", "schedule": schedule}
    error = gql.error(
        mutation("create_flow", "id"), {"i": {"project_id": project_id, "serialized_flow": flow}}
    )
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert named in error["message"]
    assert gql.data(f'{{ flow(where: {{name: {{_eq: "refused-{named}"}}}}) {{ id }} }}') == {
        "flow": []
    }


def test_a_stored_schedule_that_cannot_run_is_skipped(
    server: LocalServer, gql: GraphQL, project_id: str, caplog: pytest.LogCaptureFixture
) -> None:
    flow_id = register(gql, project_id, None)
    server._api.store.update(
        "flow", flow_id, {"is_schedule_active": True, "schedule": {"clocks": 3}}
    )
    assert server.services.scheduler.run_once() == 0
    assert "cannot be run" in caplog.text


RUNNING = {"type": "Running", "message": "go"}


def move(gql: GraphQL, table: str, run_id: str, state: dict[str, Any]) -> None:
    answer = gql(
        f"mutation($i: set_{table}_states_input!)"
        f" {{ set_{table}_states(input: $i) {{ states {{ status }} }} }}",
        {"i": {"states": [{f"{table}_id": run_id, "state": state}]}},
    )
    assert "errors" not in answer, answer


def running_run(gql: GraphQL, project_id: str, **flow: Any) -> tuple[str, str, list[str]]:
    flow_id = register(gql, project_id, None, **flow)
    run_id = create_flow_run(gql, flow_id)
    move(gql, "flow_run", run_id, RUNNING)
    task_runs = gql.data(f'{{ task_run(where: {{flow_run_id: {{_eq: "{run_id}"}}}}) {{ id }} }}')[
        "task_run"
    ]
    return flow_id, run_id, [tr["id"] for tr in task_runs]


def test_lazarus_reschedules_a_run_whose_heartbeat_stopped(
    server: LocalServer, gql: GraphQL, project_id: str
) -> None:
    lazarus = server.services.lazarus
    flow_id, run_id, _ = running_run(gql, project_id)
    assert lazarus.run_once() == 0
    assert lazarus.run_once(datetime.now(UTC) + LATER) == 1
    (run,) = runs(gql, flow_id)
    assert (run["state"], run["state_message"], run["times_resurrected"]) == (
        "Scheduled", "Rescheduled by a Lazarus process.", 1
    )  # fmt: skip
    assert {
        "message": "Rescheduled by a Lazarus process. This is attempt 1.",
        "level": "INFO",
    } in run["logs"]
    for _ in range(2):
        move(gql, "flow_run", run_id, RUNNING)
        assert lazarus.run_once(datetime.now(UTC) + LATER) == 1
    move(gql, "flow_run", run_id, RUNNING)
    assert lazarus.run_once(datetime.now(UTC) + LATER) == 0
    (run,) = runs(gql, flow_id)
    assert run["state"] == "Failed"
    assert "attempted to reschedule this run 3 times" in run["state_message"]


def test_lazarus_leaves_runs_with_working_task_runs_and_flows_that_opt_out(
    server: LocalServer, gql: GraphQL, project_id: str
) -> None:
    _, _, task_runs = running_run(gql, project_id)
    move(gql, "task_run", task_runs[0], RUNNING)
    assert server.services.lazarus.run_once(datetime.now(UTC) + LATER) == 0
    flow_id, _, _ = running_run(gql, project_id, name="opted-out")
    group_id = gql.data(f'{{ flow_by_pk(id: "{flow_id}") {{ flow_group_id }} }}')["flow_by_pk"][
        "flow_group_id"
    ]
    server._api.store.update("flow_group", group_id, {"settings": {"lazarus_enabled": False}})
    assert server.services.lazarus.run_once(datetime.now(UTC) + LATER) == 0


def test_the_zombie_killer_retries_then_fails_task_runs_and_fails_cancelling_flow_runs(
    server: LocalServer, gql: GraphQL, project_id: str
) -> None:
    flow = {
        **SERIALIZED_FLOW,
        "tasks": [
            {**SERIALIZED_FLOW["tasks"][0], "max_retries": 1, "retry_delay": 60},
            SERIALIZED_FLOW["tasks"][1],
        ],
    }
    flow_id, run_id, task_runs = running_run(gql, project_id, name="zombies", tasks=flow["tasks"])
    extract = next(
        tr["id"]
        for tr in gql.data(
            f'{{ task_run(where: {{flow_run_id: {{_eq: "{run_id}"}}}}) {{ id task {{ slug }} }} }}'
        )["task_run"]
        if tr["task"]["slug"] == "extract-1"
    )
    killer = server.services.zombie_killer
    move(gql, "task_run", extract, RUNNING)
    assert killer.run_once() == 0
    assert killer.run_once(datetime.now(UTC) + LATER) == 1
    state = gql.data(f'{{ task_run_by_pk(id: "{extract}") {{ state serialized_state }} }}')[
        "task_run_by_pk"
    ]
    assert state["state"] == "Retrying"
    assert state["serialized_state"]["run_count"] == 1
    move(gql, "task_run", extract, RUNNING)
    assert killer.run_once(datetime.now(UTC) + LATER) == 1
    failed = gql.data(f'{{ task_run_by_pk(id: "{extract}") {{ state state_message }} }}')[
        "task_run_by_pk"
    ]
    assert failed == {
        "state": "Failed",
        "state_message": "No heartbeat detected from the remote task; marking the run as failed.",
    }
    assert gql.data(mutation("cancel_flow_run", "state"), {"i": {"flow_run_id": run_id}})[
        "cancel_flow_run"
    ] == {"state": "Cancelling"}
    assert killer.run_once(datetime.now(UTC) + LATER) == 1
    (run,) = runs(gql, flow_id)
    assert run["state"] == "Failed"
    assert task_runs


def test_the_services_run_in_the_background_on_their_intervals(
    gql: GraphQL, project_id: str
) -> None:
    with LocalServer(
        services=ServiceIntervals(scheduler=0.05, lazarus=None, zombie_killer=None)
    ) as server:
        local = GraphQL(server.url)
        try:
            flow_id = register(local, create_project(local, "background"), HOURLY)
            server._api.store.update("flow", flow_id, {"is_schedule_active": True})
            for run in runs(local, flow_id):
                server._api.store.delete("flow_run", run["id"])
            deadline = time.monotonic() + 60
            while not runs(local, flow_id) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert len(runs(local, flow_id)) == 10
        finally:
            local.close()


def test_a_service_that_is_stopping_ends_its_pass(
    server: LocalServer, gql: GraphQL, project_id: str
) -> None:
    flow_id = register(gql, project_id, None)
    server._api.store.update(
        "flow", flow_id, {"is_schedule_active": True, "schedule": serialized(HOURLY)}
    )
    scheduler = server.services.scheduler
    scheduler.stopping.set()
    assert scheduler.run_once() == 0
    scheduler.stopping.clear()
    assert scheduler.run_once() == 10


RUN_COLUMNS = """query($id: uuid!) { flow_run_by_pk(id: $id) {
    tenant_id flow_id parameters context labels run_config scheduled_start_time version
    state state_message state_start_time state_result serialized_state heartbeat
    start_time end_time agent_id times_resurrected
    states { version state message start_time result serialized_state tenant_id }
    task_runs(order_by: {task: {slug: asc}}) { tenant_id task_id map_index version state
        state_message state_start_time serialized_state cache_key heartbeat }
} }"""


def test_a_scheduled_run_is_made_as_create_flow_run_makes_one(
    server: LocalServer, gql: GraphQL, project_id: str
) -> None:
    clock = CronClock("0 6 * * *", parameter_defaults={"day": "sunday"}, labels=["eu"])
    flow_id = register(gql, project_id, Schedule(clocks=[clock]))
    scheduled = runs(gql, flow_id)[0]
    created = create_flow_run(
        gql,
        flow_id,
        parameters={"day": "sunday"},
        labels=["eu"],
        scheduled_start_time=scheduled["scheduled_start_time"],
    )
    by_scheduler = gql.data(RUN_COLUMNS, {"id": scheduled["id"]})["flow_run_by_pk"]
    by_mutation = gql.data(RUN_COLUMNS, {"id": created})["flow_run_by_pk"]
    assert by_scheduler == by_mutation
    unlabeled = register(gql, project_id, HOURLY, name="unlabeled")
    create_flow_run(gql, unlabeled)
    assert {tuple(run["labels"]) for run in runs(gql, unlabeled)} == {("local",)}
    assert len(runs(gql, unlabeled)) == 11


def test_a_pass_lets_a_waiting_writer_in_between_its_transactions(
    server: LocalServer, gql: GraphQL, project_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_scheduler, "MAX_TRANSACTION_SECONDS", 0.0)
    store = server._api.store
    for number in range(3):
        flow_id = register(gql, project_id, None, name=f"waits-{number}")
        store.update("flow", flow_id, {"is_schedule_active": True, "schedule": serialized(HOURLY)})
    scheduler = server.services.scheduler
    order: list[str] = []

    def write() -> None:
        with store.transaction():
            order.append("writer")

    writer = threading.Thread(target=write)
    schedule_flow_runs = scheduler.schedule_flow_runs

    def schedule_then_let_a_writer_wait(flow_id: str, **options: Any) -> list[str]:
        scheduled = schedule_flow_runs(flow_id, **options)
        order.append("flow")
        if not writer.is_alive() and len(order) == 1:
            writer.start()
            until_a_writer_waits(store)
        return scheduled

    monkeypatch.setattr(scheduler, "schedule_flow_runs", schedule_then_let_a_writer_wait)
    assert scheduler.run_once() == 30
    writer.join()
    assert order == ["flow", "writer", "flow", "flow"]
