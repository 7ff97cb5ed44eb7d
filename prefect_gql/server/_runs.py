"""Flow runs and task runs: creation, states with version locking, names, heartbeats.

Follows Prefect Server's ``api/runs.py`` and ``api/states.py``. A new flow run gets
a task run per task of its flow (map index -1, version 0, state ``{"type":
"Pending", "message": "Task run created"}`` as Server's insert trigger writes it)
and then its first state, Scheduled (version 1). Every state change of either kind
of run goes through ``Runs.set_state``, where the version-locking rule
(``check_version``) is applied, as Prefect Cloud does for every flow.

One deliberate difference: a run's ``parameters`` also hold the flow's parameter
defaults (Server stores only the flow group's defaults and the given values); the
flow runner would apply the same defaults anyway.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from typing import Any

from ._errors import NOT_FOUND, VERSION_LOCKING_ERROR, APIError, not_found, require
from ._hooks import call_hooks
from ._shapes import checked_run_config, checked_state
from ._store import Row, Store, normalize_timestamp, now_iso

__all__ = [
    "CREATED_TASK_RUN_STATE",
    "SCHEDULED_STATE",
    "STATE_TYPES",
    "Runs",
    "check_version",
    "default_labels",
    "follow_inserted_state",
    "run_name",
    "state_columns",
]

CREATED_TASK_RUN_STATE: dict[str, Any] = {"type": "Pending", "message": "Task run created"}
SCHEDULED_STATE: dict[str, Any] = {
    "type": "Scheduled",
    "message": "Flow run scheduled.",
    "context": {},
    "cached_inputs": {},
    "_result": {"type": "NoResultType"},
}
"""A new flow run's first state, with its ``start_time`` added."""
STATE_TYPES = frozenset(
    {"Cached", "Cancelled", "Cancelling", "ClientFailed", "Failed", "Finished", "Looped",
     "Mapped", "Paused", "Pending", "Queued", "Resume", "Retrying", "Running", "Scheduled",
     "Skipped", "Submitted", "Success", "TimedOut", "TriggerFailed", "ValidationFailed"}
)  # fmt: skip
"""The serialized ``type``s Prefect 0.12 and 1.x know (1.x added Cancelling)."""
FINISHED_STATES = frozenset(
    {"Cached", "Cancelled", "Failed", "Finished", "Looped", "Mapped", "Skipped", "Success",
     "TimedOut", "TriggerFailed", "ValidationFailed"}
)  # fmt: skip
RUNNING_STATES = frozenset({"Running", "Cancelling"})
HEARTBEAT_STATES = RUNNING_STATES | {"Submitted"}
TRIGGER_END_STATES = frozenset({"Success", "Failed", "Cached", "TimedOut", "Looped", "Cancelled"})
"""The states whose insert sets a run's ``end_time`` in Server's state-insert trigger."""
MAX_STATE_BYTES = 1_000_000
_NAMES = {"flow_run": "flow run", "task_run": "task run"}


def check_version(table: str, run: Row, version: int | None) -> None:
    """Version locking: a state change that names a version applies only to the run
    at that version (one that names none always applies)."""
    if version is not None and version != run["version"]:
        raise APIError(
            f"State update failed for {_NAMES[table]} {run['id']}: version {version} was given,"
            f" but the run is at version {run['version']}",
            VERSION_LOCKING_ERROR,
        )


def _checked_state(state: Any) -> Mapping[str, Any]:
    checked = checked_state(state, STATE_TYPES)
    if len(json.dumps(checked)) > MAX_STATE_BYTES:
        raise APIError("State payload is too large.")
    return checked


def state_columns(state: Mapping[str, Any], timestamp: str) -> Row:
    try:
        start_time: str | None = normalize_timestamp(state.get("start_time"))
    except ValueError:
        start_time = None
    return {
        "serialized_state": dict(state),
        "state": state["type"],
        "state_message": state.get("message"),
        "state_timestamp": timestamp,
        "state_start_time": start_time,
        "state_result": state.get("_result"),
    }


class Runs:
    def __init__(self, store: Store) -> None:
        self.store = store

    # -- flow runs ---------------------------------------------------------------------

    def create_flow_run(
        self,
        flow_id: str | None = None,
        version_group_id: str | None = None,
        parameters: Any = None,
        context: Any = None,
        labels: list[str] | None = None,
        run_config: Any = None,
        scheduled_start_time: str | None = None,
        flow_run_name: str | None = None,
        idempotency_key: str | None = None,
    ) -> str:
        """A new run of the flow; with an ``idempotency_key`` already used for the
        flow, that run instead."""
        flow = self._flow_to_run(flow_id, version_group_id)
        if idempotency_key:
            existing = self.store.find(
                "flow_run", flow_id=flow["id"], idempotency_key=idempotency_key
            )
            if existing is not None:
                return str(existing["id"])
        if parameters is not None and not isinstance(parameters, Mapping):
            raise APIError("parameters must be a JSON object")
        if context is not None and not isinstance(context, Mapping):
            raise APIError("context must be a JSON object")
        checked_run_config(run_config)
        group = self.store.get("flow_group", flow["flow_group_id"]) or {}
        declared = [p for p in flow["parameters"] if isinstance(p, Mapping) and "name" in p]
        run_parameters = {
            **{p["name"]: p.get("default") for p in declared if not p.get("required")},
            **(group.get("default_parameters") or {}),
            **(parameters or {}),
        }
        missing = sorted(
            p["name"] for p in declared if p.get("required") and p["name"] not in run_parameters
        )
        if missing:
            raise APIError(f"Required parameters were not supplied: {missing}")
        if run_config is None:
            run_config = group.get("run_config") or flow["run_config"]
        start = scheduled_start_time or now_iso()
        with self.store.transaction():
            run = self.store.insert(
                "flow_run",
                {
                    "tenant_id": flow["tenant_id"],
                    "flow_id": flow["id"],
                    "name": flow_run_name or run_name(flow),
                    "parameters": run_parameters,
                    "context": dict(context or {}),
                    "labels": sorted(
                        labels if labels is not None else default_labels(group, flow, run_config)
                    ),
                    "run_config": run_config,
                    "scheduled_start_time": start,
                    "idempotency_key": idempotency_key,
                },
            )
            for task in self.store.rows("task", flow_id=flow["id"]):
                self._create_task_run(run, task, -1)
            scheduled = {**SCHEDULED_STATE, "start_time": start}
            self.set_state("flow_run", run["id"], scheduled, version=None)
        return str(run["id"])

    def _flow_to_run(self, flow_id: str | None, version_group_id: str | None) -> Row:
        if flow_id is not None:
            flow = require(self.store.get("flow", flow_id), "flow", flow_id)
            if flow["archived"]:
                raise APIError(f"Flow {flow_id} is archived.")
            return flow
        if version_group_id is None:
            raise APIError("One of flow_id or version_group_id must be provided.")
        unarchived = self.store.rows("flow", version_group_id=version_group_id, archived=False)
        if not unarchived:
            raise APIError(f"Version group {version_group_id} has no unarchived flows.", NOT_FOUND)
        return max(unarchived, key=lambda flow: flow["version"])

    def cancel_flow_run(self, flow_run_id: str) -> str:
        """A running run becomes Cancelling (its agent finishes the job), any other
        unfinished one Cancelled; a finished run keeps its state. Returns the state."""
        run = require(self.store.get("flow_run", flow_run_id), "flow run", flow_run_id)
        if run["state"] in FINISHED_STATES:
            return str(run["state"])
        if run["state"] in RUNNING_STATES:
            state = {"type": "Cancelling", "message": "Flow run is cancelling"}
        else:
            state = {"type": "Cancelled", "message": "Flow run is cancelled"}
        self.set_state("flow_run", flow_run_id, state, version=None)
        return state["type"]

    # -- task runs ---------------------------------------------------------------------

    def get_or_create_task_run(self, flow_run_id: str, task_id: str, map_index: int | None) -> Row:
        """The task run of ``task_id`` at ``map_index`` (-1: unmapped) in the flow run."""
        index = -1 if map_index is None else map_index
        run = require(self.store.get("flow_run", flow_run_id), "flow run", flow_run_id)
        task = self.store.get("task", task_id)
        if task is None or task["flow_id"] != run["flow_id"]:
            raise APIError(f"task {task_id} is not a task of flow run {flow_run_id}", NOT_FOUND)
        existing = self.store.find(
            "task_run", flow_run_id=flow_run_id, task_id=task_id, map_index=index
        )
        return existing if existing is not None else self._create_task_run(run, task, index)

    def _create_task_run(self, run: Row, task: Row, map_index: int) -> Row:
        return self.store.insert(
            "task_run",
            {
                "tenant_id": run["tenant_id"],
                "flow_run_id": run["id"],
                "task_id": task["id"],
                "map_index": map_index,
                "cache_key": task["cache_key"],
                **state_columns(CREATED_TASK_RUN_STATE, now_iso()),
            },
        )

    def task_run(self, task_run_id: str) -> Row:
        return require(self.store.get("task_run", task_run_id), "task run", task_run_id)

    # -- either kind of run ------------------------------------------------------------

    def set_state(self, table: str, run_id: str, state: Any, version: int | None) -> Row:
        """Moves a flow or task run to ``state``, recorded in its ``states`` history.

        Returns the ``set_*_run_state_payload``: status ``SUCCESS``, or ``QUEUED``
        (state not applied) when a task run would exceed a task tag concurrency limit.
        A Cancelled flow run cancels its unfinished task runs.
        """
        checked = _checked_state(state)
        with self.store.transaction():
            run = require(self.store.get(table, run_id), _NAMES[table], run_id)
            check_version(table, run, version)
            if table == "task_run":
                full_tag = self._admit_task_run(run, checked)
                if full_tag is not None:
                    message = f"Queued: the concurrency limit of tag {full_tag!r} is reached."
                    return {"id": run_id, "status": "QUEUED", "message": message}
                carried = (run["serialized_state"] or {}).get("cached_inputs")
                if carried and not checked.get("cached_inputs"):
                    checked = {**checked, "cached_inputs": carried}
            self._apply(table, run, checked)
            if table == "flow_run" and checked["type"] == "Cancelled":
                for task_run in self.store.rows("task_run", flow_run_id=run_id):
                    if task_run["state"] not in FINISHED_STATES:
                        self._apply("task_run", task_run, checked)
        return {"id": run_id, "status": "SUCCESS", "message": None}

    def _apply(self, table: str, run: Row, state: Mapping[str, Any]) -> None:
        now = now_iso()
        columns = state_columns(state, now)
        changes = {**columns, "version": run["version"] + 1}
        if state["type"] in RUNNING_STATES and run["start_time"] is None:
            changes["start_time"] = now
        if state["type"] in FINISHED_STATES:
            changes["end_time"] = now
        if state["type"] in HEARTBEAT_STATES:
            changes["heartbeat"] = now
        self.store.update(table, run["id"], changes)
        state_row = self.store.insert(
            f"{table}_state",
            {
                f"{table}_id": run["id"],
                "tenant_id": run["tenant_id"],
                "version": changes["version"],
                "timestamp": now,
                "state": columns["state"],
                "message": columns["state_message"],
                "result": columns["state_result"],
                "start_time": columns["state_start_time"],
                "serialized_state": columns["serialized_state"],
            },
        )
        if table == "flow_run":
            call_hooks(self.store, run, state_row)

    def _admit_task_run(self, task_run: Row, state: Mapping[str, Any]) -> str | None:
        """A task run may run only in a running flow run, and only while its task's
        tags have room: returns the first tag whose limit is reached."""
        if state["type"] not in RUNNING_STATES:
            return None
        flow_run = self.store.get("flow_run", task_run["flow_run_id"]) or {}
        if flow_run.get("state") != "Running":
            raise APIError(
                f"State update failed for task run {task_run['id']}: provided a running state"
                f" but flow run {task_run['flow_run_id']} is not in a running state."
            )
        task = self.store.get("task", task_run["task_id"]) or {}
        for tag in task.get("tags") or []:
            limit = self.store.find("task_tag_limit", tag=tag)
            if limit is None:
                continue
            tagged = {t["id"] for t in self.store.rows("task") if tag in (t["tags"] or [])}
            running = [
                other
                for running_state in RUNNING_STATES
                for other in self.store.rows("task_run", state=running_state)
                if other["task_id"] in tagged and other["id"] != task_run["id"]
            ]
            if len(running) >= limit["limit"]:
                return str(tag)
        return None

    def set_name(self, table: str, run_id: str, name: str) -> bool:
        if not name:
            raise APIError("Invalid name")
        require(self.store.get(table, run_id), _NAMES[table], run_id)
        self.store.update(table, run_id, {"name": name})
        return True

    def heartbeat(self, table: str, run_id: str) -> bool:
        if not self.store.set_columns(table, run_id, {"heartbeat": now_iso()}):
            raise not_found(_NAMES[table], run_id)
        return True


def follow_inserted_state(store: Store, state_table: str, state: Row) -> None:
    """What Prefect Server's ``update_*_run_details_on_state_insert`` trigger does when a
    ``flow_run_state`` or ``task_run_state`` row is inserted directly (through Hasura):
    a state whose version is at least the run's becomes the run's state, with its
    version, and moves ``start_time`` back (Running) or ``end_time`` on (finished)."""
    table = state_table.removesuffix("_state")
    every_tenant = store.for_tenant(None)
    run = every_tenant.get(table, state[f"{table}_id"])
    version = state["version"]
    if run is None or version is None or version < (run["version"] or 0):
        return
    timestamp = state["timestamp"]
    changes: Row = {
        "version": version,
        "state": state["state"],
        "serialized_state": state["serialized_state"],
        "state_start_time": state["start_time"],
        "state_timestamp": timestamp,
        "state_message": state["message"],
        "state_result": state["result"],
    }
    if state["state"] == "Running":
        changes["start_time"] = min(filter(None, (run["start_time"], timestamp)))
    if state["state"] in TRIGGER_END_STATES:
        changes["end_time"] = max(filter(None, (run["end_time"], timestamp)))
    every_tenant.set_columns(table, run["id"], changes)


def run_name(flow: Row) -> str:
    """A new run's name when none is given: the flow's, with a random suffix."""
    return f"{flow['name']}-{secrets.token_hex(4)}"


def default_labels(group: Mapping[str, Any], flow: Row, run_config: Any) -> list[str]:
    """A run's labels when none are given: its flow group's, else its run config's,
    else its flow environment's."""
    if group.get("labels") is not None:
        return list(group["labels"])
    for source in (run_config, flow["environment"]):
        if isinstance(source, Mapping):
            return list(source.get("labels") or [])
    return []
