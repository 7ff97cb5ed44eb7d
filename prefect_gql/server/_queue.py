# ruff: noqa: S608  (SQL text is built only from constant names; values are bound)
"""What agents ask for: the queue of runs ready to start, and who the agents are.

Follows Prefect Server's ``api/runs.py`` (``get_runs_in_queue``) and
``api/agents.py``. A run is ready when it is in a Scheduled-like state (Prefect's
``Scheduled`` and ``Queued`` and their subclasses: Paused, Resume, Retrying) whose
start time has come, or when it is Running with a task run in such a state (a task
waiting to retry). Ready runs come oldest start time first, at most
``QUEUED_RUNS_RETURNED_LIMIT`` of them, and only those the agent's labels allow: a
run's labels must all be among the agent's, and a run without labels goes only to
an agent without labels.

One deliberate difference: Prefect Server reads the first 75 ready runs and applies
the labels afterwards, so an agent is handed nothing while matching runs wait behind
75 others; here the labels are applied to the first ``MAX_RUNS_SCANNED`` ready runs of
each state, so it takes 1,000 due runs no agent matches to hide one.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from ._errors import APIError, require
from ._store import Row, Store, normalize_timestamp, now_iso

__all__ = [
    "MAX_RUNS_SCANNED",
    "QUEUED_RUNS_RETURNED_LIMIT",
    "SCHEDULED_STATES",
    "SUBMITTED_STATES",
    "AgentQueue",
    "submitted_by_agent",
]

QUEUED_RUNS_RETURNED_LIMIT = 25
"""Prefect Server's ``queued_runs_returned_limit``."""
MAX_RUNS_SCANNED = 1000
"""Due runs of one state whose labels are checked per poll (Prefect Server checks 75
in all): what one poll costs is bounded however many due runs no agent takes."""
SCHEDULED_STATES = ("Scheduled", "Paused", "Resume", "Retrying", "Queued")
"""Prefect 1.x's subclasses of ``Scheduled`` and ``Queued``: the states of a run that
waits for its start time."""
SUBMITTED_STATES = frozenset({"Submitted"})
"""The state whose ``is_submitted()`` is true: an agent setting it has taken the run."""

_SCHEDULED_STATES_SQL = ", ".join(f"'{state}'" for state in SCHEDULED_STATES)
_LABELS_ALLOWED = """
    NOT EXISTS (SELECT 1 FROM json_each(coalesce(fr.labels, '[]'))
                WHERE json_each.value NOT IN (SELECT value FROM json_each(:labels)))
    AND (:unlabeled_agent OR json_array_length(coalesce(fr.labels, '[]')) > 0)
"""
_READY_IN_STATE = f"""
    SELECT fr.id, fr.state_start_time FROM (
        SELECT id, state_start_time, labels FROM flow_run
        WHERE tenant_id = :tenant_id AND state = :state AND state_start_time <= :before
        ORDER BY state_start_time LIMIT :scanned
    ) AS fr
    WHERE {_LABELS_ALLOWED} LIMIT :limit
"""
"""The oldest due runs of one state an agent may take. The inner query reads them in
start-time order from the index and the outer one keeps that order as it filters, so it
stops at the first ``:limit`` allowed rather than sorting all it scanned."""
_RUNNING_WITH_READY_TASK_RUN = f"""
    SELECT fr.id, fr.state_start_time FROM (
        SELECT id, state_start_time, labels FROM flow_run AS run
        WHERE tenant_id = :tenant_id AND state = 'Running' AND EXISTS (
            SELECT 1 FROM task_run AS tr
            WHERE tr.flow_run_id = run.id AND tr.state IN ({_SCHEDULED_STATES_SQL})
            AND tr.state_start_time <= :before)
        LIMIT :scanned
    ) AS fr
    WHERE {_LABELS_ALLOWED}
    ORDER BY fr.state_start_time IS NULL, fr.state_start_time LIMIT :limit
"""


def _start_order(found: tuple[str, str | None]) -> tuple[bool, str]:
    """Oldest start time first; runs without one last (Postgres' ``asc`` puts nulls last)."""
    return (found[1] is None, found[1] or "")


class AgentQueue:
    """The runs agents of one tenant may start, and the agents themselves."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def runs_in_queue(
        self,
        tenant_id: str,
        before: object = None,
        labels: Iterable[str] | None = None,
        agent_id: str | None = None,
    ) -> list[str]:
        """Ids of the flow runs ready by ``before`` (default now) that an agent with
        ``labels`` may start, oldest start time first; notes that agent ``agent_id``
        asked (its ``last_queried``)."""
        try:
            cutoff = now_iso() if before is None else normalize_timestamp(before)
        except ValueError as err:
            raise APIError(f"before must be an ISO-8601 timestamp: {err}") from err
        if self.store.tenant_id is not None and tenant_id != self.store.tenant_id:
            found: list[tuple[str, str | None]] = []
        else:
            found = self._ready_runs(tenant_id, cutoff, sorted(set(labels or ())))
        if agent_id:
            self.touch_agent(agent_id)
        return [run_id for run_id, _ in sorted(found, key=_start_order)][
            :QUEUED_RUNS_RETURNED_LIMIT
        ]

    def _ready_runs(
        self, tenant_id: str, before: str, labels: list[str]
    ) -> list[tuple[str, str | None]]:
        """Per state, the oldest ready runs (an index range each); a run found twice
        (Running with several ready task runs) is listed once."""
        parameters: dict[str, Any] = {
            "tenant_id": tenant_id,
            "before": before,
            "labels": json.dumps(labels),
            "unlabeled_agent": not labels,
            "limit": QUEUED_RUNS_RETURNED_LIMIT,
            "scanned": MAX_RUNS_SCANNED,
        }
        found: dict[str, str | None] = {}
        for state in SCHEDULED_STATES:
            for run_id, start in self.store.read_sql(
                _READY_IN_STATE, {**parameters, "state": state}
            ):
                found[run_id] = start
        for run_id, start in self.store.read_sql(_RUNNING_WITH_READY_TASK_RUN, parameters):
            found[run_id] = start
        return list(found.items())

    def touch_agent(self, agent_id: str) -> bool:
        """Records that the agent polled now; False for an agent this caller cannot see."""
        if self.store.get("agent", agent_id) is None:
            return False
        self.store.update("agent", agent_id, {"last_queried": now_iso()})
        return True

    def assign_agent(self, flow_run_id: str, agent_id: str) -> bool:
        """The run was submitted by this agent (when the agent exists)."""
        if self.store.get("agent", agent_id) is None:
            return False
        self.store.update("flow_run", flow_run_id, {"agent_id": agent_id})
        return True

    def register_agent(
        self,
        tenant_id: str,
        type: str | None,
        name: str | None = None,
        labels: Iterable[str] | None = None,
        agent_config_id: str | None = None,
        core_version: str | None = None,
    ) -> str:
        """The agent with this tenant, name, type, core version and labels: the one
        registered before if there is one, else a new one."""
        require(self.store.get("tenant", tenant_id), "tenant", tenant_id)
        if agent_config_id is not None:
            require(
                self.store.get("agent_config", agent_config_id), "agent config", agent_config_id
            )
        sorted_labels = sorted(labels or [])
        for agent in self.store.rows(
            "agent", tenant_id=tenant_id, name=name, type=type, core_version=core_version
        ):
            if sorted(agent["labels"] or []) == sorted_labels:
                self.store.update("agent", agent["id"], {"last_queried": now_iso()})
                return str(agent["id"])
        row: Row = self.store.insert(
            "agent",
            {
                "tenant_id": tenant_id,
                "type": type,
                "name": name,
                "labels": sorted_labels,
                "agent_config_id": agent_config_id,
                "core_version": core_version,
                "last_queried": now_iso(),
            },
        )
        return str(row["id"])


def submitted_by_agent(state: Mapping[str, Any]) -> bool:
    """Whether an agent setting ``state`` on a run has taken it (Prefect's ``is_submitted``)."""
    return state.get("type") in SUBMITTED_STATES
