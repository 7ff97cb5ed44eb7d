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
from datetime import UTC, datetime

from ._runs import Runs
from ._schedules import ClockEvent, ScheduleError, parse_schedule
from ._store import Store, normalize_timestamp

__all__ = ["MAX_SCHEDULED_RUNS", "Scheduler", "idempotency_key"]

MAX_SCHEDULED_RUNS = 10
"""Runs scheduled ahead per flow (Prefect Server's ``max_runs`` default)."""
_ACTIVE_FLOWS = "SELECT id FROM flow WHERE is_schedule_active = 1 AND archived = 0 ORDER BY seq"
_LATEST_AUTO_SCHEDULED = (
    "SELECT max(scheduled_start_time) FROM flow_run WHERE flow_id = :flow_id AND auto_scheduled = 1"
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


class Scheduler:
    """Schedules the runs of the flows this store sees."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.stopping = threading.Event()
        """Set, a pass in progress ends after the flow it is scheduling."""

    def run_once(self, now: datetime | None = None) -> int:
        """One pass over every active schedule: the number of runs it scheduled. Each
        flow is scheduled in a transaction of its own, so requests wait for one flow
        at most."""
        scheduled = 0
        for (flow_id,) in self.store.read_sql(_ACTIVE_FLOWS, {}):
            if self.stopping.is_set():
                break
            scheduled += len(self.schedule_flow_runs(flow_id, now=now))
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
            runs = Runs(self.store)
            run_ids = []
            for event in schedule.next(max_runs, now=current):
                start = normalize_timestamp(event.start_time)
                plain = not event.parameter_defaults and event.labels is None
                if plain and start <= last_scheduled:
                    continue
                run_id = runs.create_flow_run(
                    flow_id=flow_id,
                    scheduled_start_time=start,
                    parameters=dict(event.parameter_defaults),
                    labels=event.labels,
                    idempotency_key=idempotency_key(event),
                )
                self.store.update("flow_run", run_id, {"auto_scheduled": True})
                run_ids.append(run_id)
        return run_ids

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
