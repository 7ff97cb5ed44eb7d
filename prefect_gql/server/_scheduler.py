"""The scheduler: flow runs for flows whose schedule is active, as Prefect Server's.

Follows Prefect Server's ``api/flows.py`` (``schedule_flow_runs``) and its
``Scheduler`` service. For each unarchived flow with an active schedule (its flow
group's schedule if the group has one, else its own), the next ``MAX_SCHEDULED_RUNS``
events after now become flow runs, marked ``auto_scheduled``, with the clock's
parameters and labels and an idempotency key ``auto-scheduled:<UTC start time>``
(with a digest of the parameters and labels when the clock gives any), so a pass
never schedules the same event twice. Events no later than the flow's latest
auto-scheduled run are skipped. A registered flow and ``set_schedule_active`` are
scheduled at once, and a new version's archived predecessors lose their waiting
auto-scheduled runs; the service repeats the pass for every flow.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime

from ._runs import (
    CREATED_TASK_RUN_STATE,
    SCHEDULED_STATE,
    default_labels,
    run_name,
    state_columns,
)
from ._schedules import ClockEvent, ScheduleError, parse_schedule
from ._store import Row, Store, new_id, normalize_timestamp, now_iso

__all__ = ["MAX_SCHEDULED_RUNS", "Scheduler", "idempotency_key"]

MAX_SCHEDULED_RUNS = 10
"""Runs scheduled ahead per flow (Prefect Server's ``max_runs`` default)."""
MAX_TRANSACTION_SECONDS = 0.02
"""A pass commits at least this often (a commit per flow would cost more than the flow)."""
LONGEST_GIVE_WAY = 0.01
"""After each commit the pass lets requests waiting to write go first, waiting for
them at most this long."""
_ACTIVE_FLOWS = "SELECT id FROM flow WHERE is_schedule_active = 1 AND archived = 0 ORDER BY seq"
_LATEST_AUTO_SCHEDULED = (
    "SELECT max(scheduled_start_time) FROM flow_run WHERE flow_id = :flow_id AND auto_scheduled = 1"
)
_EXISTING_KEYS = (
    "SELECT idempotency_key, id FROM flow_run"
    " WHERE flow_id = :flow_id AND idempotency_key IN ({marks})"
)
_log = logging.getLogger("prefect_gql.server.scheduler")


def idempotency_key(event: ClockEvent) -> str:
    """Prefect Server's key for a scheduled event: the start time in UTC, and for a
    clock with parameters or labels a digest of them (events of several clocks may
    then share a time)."""
    start = event.start_time.astimezone(UTC).isoformat()
    if not event.parameter_defaults and event.labels is None:
        return f"auto-scheduled:{start}"
    digest = hashlib.md5(usedforsecurity=False)
    parameters = str(sorted(json.dumps(dict(event.parameter_defaults))))
    labels = str(sorted(json.dumps(event.labels)))
    digest.update((parameters + labels).encode("utf-8"))
    return f"auto-scheduled:{start}:{digest.hexdigest()}"


class _ScheduledRuns:
    """The runs of one flow's events, made as ``Runs.create_flow_run`` makes a run
    (parameters, labels, run config, task runs, the Scheduled state) but written in
    one statement per table: a pass over many new schedules stays short."""

    def __init__(self, store: Store, flow: Row, group: Row) -> None:
        self.store = store
        self.flow = flow
        self.group = group

    def create(self, events: list[ClockEvent]) -> list[str]:
        keyed = [(event, idempotency_key(event)) for event in events]
        existing = self._existing({key for _, key in keyed})
        run_ids: list[str] = []
        runs: list[Row] = []
        for event, key in keyed:
            if key in existing:
                run_ids.append(existing[key])
                continue
            run = self._run(event, key)
            if run is not None:
                runs.append(run)
                run_ids.append(run["id"])
        if runs:
            self._insert(runs)
        return run_ids

    def _existing(self, keys: set[str]) -> dict[str, str]:
        if not keys:
            return {}
        names = {f"k{index}": key for index, key in enumerate(sorted(keys))}
        marks = ", ".join(f":{name}" for name in names)
        found = self.store.read_sql(
            _EXISTING_KEYS.format(marks=marks), {"flow_id": self.flow["id"], **names}
        )
        return dict(found)

    def _run(self, event: ClockEvent, key: str) -> Row | None:
        flow, group = self.flow, self.group
        declared = [p for p in flow["parameters"] if isinstance(p, Mapping) and "name" in p]
        parameters = {
            **{p["name"]: p.get("default") for p in declared if not p.get("required")},
            **(group.get("default_parameters") or {}),
            **event.parameter_defaults,
        }
        missing = sorted(
            p["name"] for p in declared if p.get("required") and p["name"] not in parameters
        )
        if missing:
            _log.error("flow %s: a scheduled run lacks the parameters %s", flow["id"], missing)
            return None
        run_config = group.get("run_config") or flow["run_config"]
        labels = event.labels
        if labels is None:
            labels = default_labels(group, flow, run_config)
        start = normalize_timestamp(event.start_time)
        state = {**SCHEDULED_STATE, "start_time": start}
        return {
            "id": new_id(),
            "tenant_id": flow["tenant_id"],
            "flow_id": flow["id"],
            "name": run_name(flow),
            "parameters": parameters,
            "context": {},
            "labels": sorted(labels),
            "run_config": run_config,
            "scheduled_start_time": start,
            "idempotency_key": key,
            "auto_scheduled": True,
            "version": 1,
            **state_columns(state, now_iso()),
        }

    def _insert(self, runs: list[Row]) -> None:
        tasks = self.store.rows("task", flow_id=self.flow["id"])
        pending = state_columns(CREATED_TASK_RUN_STATE, now_iso())
        self.store.insert_many("flow_run", runs)
        self.store.insert_many(
            "task_run",
            [
                {"tenant_id": run["tenant_id"], "flow_run_id": run["id"], "task_id": task["id"],
                 "map_index": -1, "cache_key": task["cache_key"], **pending}
                for run in runs
                for task in tasks
            ],
        )  # fmt: skip
        self.store.insert_many(
            "flow_run_state",
            [
                {"flow_run_id": run["id"], "tenant_id": run["tenant_id"], "version": 1,
                 "timestamp": run["state_timestamp"], "state": run["state"],
                 "message": run["state_message"], "result": run["state_result"],
                 "start_time": run["state_start_time"],
                 "serialized_state": run["serialized_state"]}
                for run in runs
            ],
        )  # fmt: skip


class Scheduler:
    """Schedules the runs of the flows this store sees."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.stopping = threading.Event()
        """Set, a pass in progress ends after the flow it is scheduling."""

    def run_once(self, now: datetime | None = None) -> int:
        """One pass over every active schedule: the number of runs it scheduled. Flows
        are scheduled in transactions of about ``MAX_TRANSACTION_SECONDS`` each, and
        requests waiting to write go between them, so one waits about that long at most."""
        flow_ids = [flow_id for (flow_id,) in self.store.read_sql(_ACTIVE_FLOWS, {})]
        scheduled = 0
        position = 0
        while position < len(flow_ids) and not self.stopping.is_set():
            began = time.monotonic()
            with self.store.transaction():
                while True:
                    scheduled += len(self.schedule_flow_runs(flow_ids[position], now=now))
                    position += 1
                    if (
                        position == len(flow_ids)
                        or time.monotonic() - began >= MAX_TRANSACTION_SECONDS
                        or self.stopping.is_set()
                    ):
                        break
            self.store.give_way(LONGEST_GIVE_WAY)
        return scheduled

    def schedule_flow_runs(
        self, flow_id: str, *, now: datetime | None = None, max_runs: int = MAX_SCHEDULED_RUNS
    ) -> list[str]:
        """The runs of the next ``max_runs`` events of the flow's active schedule (new
        ones, or those scheduled before for the same event)."""
        current = now or datetime.now(UTC)
        with self.store.transaction():
            flow = self.store.get("flow", flow_id)
            if flow is None or flow["archived"] or not flow["is_schedule_active"]:
                return []
            group = self.store.get("flow_group", flow["flow_group_id"]) or {}
            serialized = group.get("schedule") or flow["schedule"]
            if serialized is None:
                return []
            try:
                schedule = parse_schedule(serialized)
            except ScheduleError as err:
                _log.error("the schedule of flow %s cannot be run: %s", flow_id, err.message)
                return []
            ((latest,),) = self.store.read_sql(_LATEST_AUTO_SCHEDULED, {"flow_id": flow_id})
            last_scheduled = latest or normalize_timestamp(current)
            due = [
                event
                for event in schedule.next(max_runs, now=current)
                if event.parameter_defaults
                or event.labels is not None
                or normalize_timestamp(event.start_time) > last_scheduled
            ]
            return _ScheduledRuns(self.store, flow, group).create(due)

    def replace_older_versions(self, flow_id: str) -> int:
        """A new version took over its version group: the archived versions' waiting
        auto-scheduled runs are deleted (the new version schedules its own)."""
        flow = self.store.get("flow", flow_id)
        if flow is None:
            return 0
        older = self.store.rows("flow", version_group_id=flow["version_group_id"], archived=True)
        return sum(self.unschedule(version["id"]) for version in older)

    def unschedule(self, flow_id: str) -> int:
        """Deletes the flow's auto-scheduled runs that are still Scheduled (a schedule
        turned off); returns how many."""
        with self.store.transaction():
            waiting = self.store.rows(
                "flow_run", flow_id=flow_id, state="Scheduled", auto_scheduled=True
            )
            for run in waiting:
                self.store.delete("flow_run", run["id"])
        return len(waiting)
