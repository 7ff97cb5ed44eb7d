"""The server's background services: the scheduler, Lazarus and the zombie killer.

They follow Prefect Server's ``services/towel``: each runs one pass at start and
then one every interval (Prefect Server's defaults: the scheduler every 300 s,
Lazarus every 600 s, the zombie killer every 120 s), in a daemon thread of its own.
A pass works in short transactions (one flow or one run at a time), so requests are
answered meanwhile. Tests call a pass directly (``Services.scheduler.run_once(now)``,
``lazarus.run_once(heartbeat_cutoff)``...) or set the intervals.

- **Lazarus** reschedules flow runs that are Submitted or Running but whose heartbeat
  stopped ``HEARTBEAT_TIMEOUT`` ago and that have no task run scheduled or running;
  after ``RESURRECTION_ATTEMPT_LIMIT`` attempts the run is marked Failed.
- **The zombie killer** fails Cancelling flow runs whose heartbeat stopped, and
  retries (if the task has retries left and the flow run is Running) or fails Running
  task runs whose heartbeat stopped.

A flow group whose ``settings`` hold ``heartbeat_enabled: false`` is left alone by
both, and one with ``lazarus_enabled: false`` by Lazarus, as on Prefect Server. One
deliberate difference: Prefect 1.x flow runners send heartbeats for the flow run
only, so a task run counts as a zombie here only when its flow run's heartbeat
stopped too (a healthy flow run's long task is never killed).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ._records import Records
from ._runs import Runs
from ._scheduler import Scheduler
from ._store import Store, normalize_timestamp, now_iso

__all__ = [
    "HEARTBEAT_TIMEOUT",
    "RESURRECTION_ATTEMPT_LIMIT",
    "Lazarus",
    "ServiceIntervals",
    "Services",
    "ZombieKiller",
]

HEARTBEAT_TIMEOUT = timedelta(minutes=10)
RESURRECTION_ATTEMPT_LIMIT = 3
MAX_RUNS_PER_PASS = 5000
LAZARUS_EXCLUDED_TASK_STATES = (
    "Scheduled",
    "Paused",
    "Resume",
    "Retrying",
    "Running",
    "Cancelling",
)
"""Task run states that mean the flow run is still making progress (Prefect's
subclasses of ``Scheduled`` and ``Running``)."""
_NO_RESULT = {"type": "NoResultType"}
_log = logging.getLogger("prefect_gql.server.services")

_HEARTBEATS_ON = "coalesce(json_type(g.settings, '$.heartbeat_enabled'), '') != 'false'"
_LAZARUS_ON = "coalesce(json_type(g.settings, '$.lazarus_enabled'), '') != 'false'"
_EXCLUDED = ", ".join(f"'{state}'" for state in LAZARUS_EXCLUDED_TASK_STATES)
_STALLED_FLOW_RUNS = f"""
    SELECT fr.id, fr.times_resurrected FROM flow_run AS fr
    JOIN flow AS f ON f.id = fr.flow_id LEFT JOIN flow_group AS g ON g.id = f.flow_group_id
    WHERE fr.state IN ('Running', 'Submitted') AND fr.heartbeat <= :cutoff
      AND NOT EXISTS (SELECT 1 FROM task_run AS tr
                      WHERE tr.flow_run_id = fr.id AND tr.state IN ({_EXCLUDED}))
      AND {_HEARTBEATS_ON} AND {_LAZARUS_ON}
    ORDER BY fr.updated LIMIT {MAX_RUNS_PER_PASS}
"""  # noqa: S608 - constant SQL
_ZOMBIE_CANCELLING_FLOW_RUNS = f"""
    SELECT fr.id FROM flow_run AS fr
    JOIN flow AS f ON f.id = fr.flow_id LEFT JOIN flow_group AS g ON g.id = f.flow_group_id
    WHERE fr.state = 'Cancelling' AND fr.heartbeat <= :cutoff AND {_HEARTBEATS_ON}
    ORDER BY fr.updated DESC LIMIT {MAX_RUNS_PER_PASS}
"""  # noqa: S608 - constant SQL
_ZOMBIE_TASK_RUNS = f"""
    SELECT tr.id, tr.flow_run_id, fr.state, t.max_retries, t.retry_delay,
           (SELECT count(*) FROM task_run_state AS s
            WHERE s.task_run_id = tr.id AND s.state = 'Retrying')
    FROM task_run AS tr
    JOIN flow_run AS fr ON fr.id = tr.flow_run_id
    JOIN task AS t ON t.id = tr.task_id
    JOIN flow AS f ON f.id = t.flow_id LEFT JOIN flow_group AS g ON g.id = f.flow_group_id
    WHERE tr.state = 'Running' AND tr.heartbeat <= :cutoff
      AND (fr.heartbeat IS NULL OR fr.heartbeat <= :cutoff) AND {_HEARTBEATS_ON}
    ORDER BY tr.updated DESC LIMIT {MAX_RUNS_PER_PASS}
"""  # noqa: S608 - constant SQL


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _cutoff(heartbeat_cutoff: datetime | None) -> str:
    return normalize_timestamp(heartbeat_cutoff or _utc_now() - HEARTBEAT_TIMEOUT)


def _state(kind: str, message: str, **fields: Any) -> dict[str, Any]:
    return {"type": kind, "message": message, "context": {}, "_result": _NO_RESULT, **fields}


def _retry_delay(value: Any) -> timedelta:
    """A task's ``retry_delay`` as registered: seconds (Prefect's ``TimeDelta`` field)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=value)
    return timedelta(0)


class Lazarus:
    """Reschedules flow runs whose process died (see the module's docstring)."""

    logger_name = "prefect-server.Lazarus.FlowRun"

    def __init__(self, store: Store) -> None:
        self.store = store
        self.stopping = threading.Event()
        """Set, a pass in progress ends after the run it is handling."""

    def run_once(self, heartbeat_cutoff: datetime | None = None) -> int:
        """One pass; ``heartbeat_cutoff`` (default ``HEARTBEAT_TIMEOUT`` ago) is the
        latest heartbeat that counts as stopped. Returns the runs rescheduled."""
        rescheduled = 0
        stalled = self.store.read_sql(_STALLED_FLOW_RUNS, {"cutoff": _cutoff(heartbeat_cutoff)})
        for run_id, times_resurrected in stalled:
            if self.stopping.is_set():
                break
            with self.store.transaction():
                if times_resurrected < RESURRECTION_ATTEMPT_LIMIT:
                    self._reschedule(run_id, times_resurrected)
                    rescheduled += 1
                else:
                    self._give_up(run_id)
        if rescheduled:
            _log.info("Lazarus rescheduled %d flow runs", rescheduled)
        return rescheduled

    def _reschedule(self, run_id: str, times_resurrected: int) -> None:
        message = "Rescheduled by a Lazarus process."
        state = _state("Scheduled", message, start_time=now_iso(), cached_inputs={})
        Runs(self.store).set_state("flow_run", run_id, state, version=None)
        self.store.update("flow_run", run_id, {"times_resurrected": times_resurrected + 1})
        attempt = f"{message} This is attempt {times_resurrected + 1}."
        _write_log(self.store, run_id, None, self.logger_name, attempt, "INFO")

    def _give_up(self, run_id: str) -> None:
        message = (
            f"A Lazarus process attempted to reschedule this run {RESURRECTION_ATTEMPT_LIMIT}"
            " times without success. Marking as failed."
        )
        Runs(self.store).set_state("flow_run", run_id, _state("Failed", message), version=None)
        _write_log(self.store, run_id, None, self.logger_name, message, "ERROR")


class ZombieKiller:
    """Fails (or retries) runs that claim to be working but stopped beating."""

    logger_name = "prefect-server.ZombieKiller"

    def __init__(self, store: Store) -> None:
        self.store = store
        self.stopping = threading.Event()
        """Set, a pass in progress ends after the run it is handling."""

    def run_once(self, heartbeat_cutoff: datetime | None = None) -> int:
        """One pass: zombie task runs, then Cancelling flow runs. Returns how many runs
        it moved."""
        cutoff = _cutoff(heartbeat_cutoff)
        return self._reap_task_runs(cutoff) + self._reap_cancelling_flow_runs(cutoff)

    def _reap_task_runs(self, cutoff: str) -> int:
        zombies = self.store.read_sql(_ZOMBIE_TASK_RUNS, {"cutoff": cutoff})
        runs = Runs(self.store)
        handled = 0
        for task_run_id, flow_run_id, flow_run_state, max_retries, retry_delay, retries in zombies:
            if self.stopping.is_set():
                break
            handled += 1
            with self.store.transaction():
                if flow_run_state == "Running" and retries < (max_retries or 0):
                    message = (
                        "No heartbeat detected from the remote task; retrying the run."
                        f"This will be retry {retries + 1} of {max_retries}."
                    )
                    start = datetime.now(UTC) + _retry_delay(_json_value(retry_delay))
                    state = _state(
                        "Retrying",
                        message,
                        run_count=retries + 1,
                        start_time=normalize_timestamp(start),
                        cached_inputs={},
                    )
                else:
                    message = (
                        "No heartbeat detected from the remote task; marking the run as failed."
                    )
                    state = _state("Failed", message)
                runs.set_state("task_run", task_run_id, state, version=None)
                _write_log(
                    self.store, flow_run_id, task_run_id, f"{self.logger_name}.TaskRun", message
                )
        return handled

    def _reap_cancelling_flow_runs(self, cutoff: str) -> int:
        zombies = self.store.read_sql(_ZOMBIE_CANCELLING_FLOW_RUNS, {"cutoff": cutoff})
        message = "No heartbeat detected from the flow run; marking the run as failed."
        handled = 0
        for (flow_run_id,) in zombies:
            if self.stopping.is_set():
                break
            with self.store.transaction():
                Runs(self.store).set_state(
                    "flow_run", flow_run_id, _state("Failed", message), version=None
                )
                _write_log(self.store, flow_run_id, None, f"{self.logger_name}.FlowRun", message)
            handled += 1
        return handled


def _json_value(text: Any) -> Any:
    return json.loads(text) if isinstance(text, str) else text


def _write_log(
    store: Store,
    flow_run_id: str,
    task_run_id: str | None,
    name: str,
    message: str,
    level: str = "ERROR",
) -> None:
    Records(store).write_run_logs(
        [
            {
                "flow_run_id": flow_run_id,
                "task_run_id": task_run_id,
                "name": name,
                "message": message,
                "level": level,
            }
        ]
    )


@dataclass(frozen=True)
class ServiceIntervals:
    """Seconds between passes of each service; ``None`` turns a service off."""

    scheduler: float | None = 300.0
    lazarus: float | None = 600.0
    zombie_killer: float | None = 120.0

    @classmethod
    def off(cls) -> ServiceIntervals:
        """No background passes (tests then call ``run_once`` themselves)."""
        return cls(scheduler=None, lazarus=None, zombie_killer=None)


class Services:
    """The three services of one server, and the threads that run them."""

    def __init__(
        self,
        store: Store,
        intervals: ServiceIntervals | None = None,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.intervals = intervals or ServiceIntervals()
        self.clock = clock
        self.scheduler = Scheduler(store)
        self.lazarus = Lazarus(store)
        self.zombie_killer = ZombieKiller(store)
        self._stopping = threading.Event()
        for service in (self.scheduler, self.lazarus, self.zombie_killer):
            service.stopping = self._stopping
        self._threads: list[threading.Thread] = []

    def passes(self) -> dict[str, Callable[[], int]]:
        """Each service's pass at the clock's current time."""
        return {
            "scheduler": lambda: self.scheduler.run_once(now=self.clock()),
            "lazarus": lambda: self.lazarus.run_once(self.clock() - HEARTBEAT_TIMEOUT),
            "zombie_killer": lambda: self.zombie_killer.run_once(self.clock() - HEARTBEAT_TIMEOUT),
        }

    def start(self) -> None:
        """Starts a thread per service that has an interval."""
        for name, run_pass in self.passes().items():
            interval: float | None = getattr(self.intervals, name)
            if interval is None:
                continue
            thread = threading.Thread(
                target=self._loop,
                args=(name, run_pass, interval),
                name=f"prefect-gql-{name}",
                daemon=True,
            )
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 10.0) -> None:
        """Stops the threads (a pass in progress finishes first)."""
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()

    def _loop(self, name: str, run_pass: Callable[[], int], interval: float) -> None:
        while not self._stopping.is_set():
            try:
                run_pass()
            except Exception:  # noqa: BLE001 - a failed pass must not end the service
                _log.exception("the %s pass failed; it runs again in %s s", name, interval)
            if self._stopping.wait(interval):
                return
