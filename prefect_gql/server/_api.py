"""What the API does: Prefect Server's action mutations and reads, on the ``Store``.

Each public method implements one root field of the schema's Python layer (or a
Cloud field the client uses) with Prefect Server's semantics: flow versioning by
version group, idempotency keys, run states with version locking, task runs created
with their flow run, and so on. Errors are ``APIError`` with the code the real API
puts in ``extensions.code``.
"""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Mapping
from typing import Any

from ._store import Row, Store, new_id, now_iso

__all__ = ["DEFAULT_TENANT_ID", "APIError", "PrefectAPI"]

DEFAULT_TENANT_ID = "00000000-0000-4000-8000-000000000001"
"""The seeded tenant's id: fixed, so a fresh local server is predictable."""
CREATED_TASK_RUN_STATE = {"type": "Pending", "message": "Task run created"}
FINISHED_STATES = frozenset(
    {"Success", "Failed", "Cancelled", "Cached", "Skipped", "TimedOut", "TriggerFailed",
     "ValidationFailed", "Mapped", "Looped", "Finished"}
)  # fmt: skip
RUNNING_STATES = frozenset({"Running", "Cancelling"})
MAX_STATE_BYTES = 1_000_000


class APIError(Exception):
    def __init__(self, message: str, code: str = "API_ERROR") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def _require(row: Row | None, what: str, row_id: object) -> Row:
    if row is None:
        raise APIError(f"{what} {row_id} not found", "NOT_FOUND")
    return row


class PrefectAPI:
    def __init__(self, store: Store) -> None:
        self.store = store
        if not store.rows("tenant"):
            self.create_tenant("default", "default", tenant_id=DEFAULT_TENANT_ID)

    # -- tenants, projects ------------------------------------------------------------

    def create_tenant(self, name: str, slug: str, *, tenant_id: str | None = None) -> str:
        if self.store.find("tenant", slug=slug):
            raise APIError("Uniqueness violation.")
        row = {"name": name, "slug": slug, "settings": {}}
        if tenant_id is not None:
            row["id"] = tenant_id
        return str(self.store.insert("tenant", row)["id"])

    def ensure_tenant(self, tenant_id: str) -> None:
        """The tenant an issued API key acts for exists (slug ``tenant-<first 8 of id>``)."""
        if self.store.get("tenant", tenant_id) is None:
            slug = f"tenant-{tenant_id[:8]}"
            self.create_tenant(slug, slug, tenant_id=tenant_id)

    def default_tenant_id(self) -> str:
        return str(self.store.rows("tenant")[0]["id"])

    def create_project(self, tenant_id: str, name: str, description: str | None) -> str:
        _require(self.store.get("tenant", tenant_id), "tenant", tenant_id)
        if self.store.find("project", tenant_id=tenant_id, name=name):
            raise APIError("Uniqueness violation.")
        row = self.store.insert(
            "project", {"tenant_id": tenant_id, "name": name, "description": description}
        )
        return str(row["id"])

    def delete_project(self, project_id: str) -> bool:
        _require(self.store.get("project", project_id), "project", project_id)
        with self.store.transaction():
            for flow in self.store.rows("flow", lambda f: f["project_id"] == project_id):
                self.store.delete("flow", flow["id"])
            self.store.delete("project", project_id)
        return True

    # -- flows -------------------------------------------------------------------------

    def create_flow(
        self,
        serialized_flow: Mapping[str, Any],
        project_id: str,
        version_group_id: str | None = None,
        set_schedule_active: bool | None = True,
        description: str | None = None,
        idempotency_key: str | None = None,
    ) -> str:
        project = _require(self.store.get("project", project_id), "project", project_id)
        name = serialized_flow.get("name")
        if not isinstance(name, str):
            raise APIError("serialized_flow has no name")
        group = version_group_id or f"{project_id}:{name}"
        versions = self.store.rows(
            "flow",
            lambda f: f["version_group_id"] == group and f["tenant_id"] == project["tenant_id"],
        )
        if idempotency_key:
            for flow in versions:
                if flow.get("idempotency_key") == idempotency_key:
                    return str(flow["id"])
        flow_group = self.store.find("flow_group", tenant_id=project["tenant_id"], name=group)
        with self.store.transaction():
            if flow_group is None:
                flow_group = self.store.insert(
                    "flow_group", {"tenant_id": project["tenant_id"], "name": group, "labels": []}
                )
            for older in versions:
                self.store.update("flow", older["id"], {"archived": True})
            flow = self.store.insert(
                "flow",
                {
                    "tenant_id": project["tenant_id"],
                    "project_id": project_id,
                    "flow_group_id": flow_group["id"],
                    "name": name,
                    "version": len(versions) + 1,
                    "version_group_id": group,
                    "serialized_flow": dict(serialized_flow),
                    "schedule": serialized_flow.get("schedule"),
                    "environment": serialized_flow.get("environment"),
                    "storage": serialized_flow.get("storage"),
                    "run_config": serialized_flow.get("run_config"),
                    "parameters": serialized_flow.get("parameters") or [],
                    "is_schedule_active": bool(set_schedule_active),
                    "archived": False,
                    "description": description,
                    "idempotency_key": idempotency_key,
                    "core_version": serialized_flow.get("__version__"),
                    "settings": {},
                },
            )
            self._add_tasks(flow, serialized_flow.get("tasks") or [])
            self._add_edges(flow, serialized_flow.get("edges") or [])
        return str(flow["id"])

    def create_flow_from_compressed_string(self, serialized_flow: str, **fields: Any) -> str:
        try:
            flow = json.loads(zlib.decompress(base64.b64decode(serialized_flow)))
        except (ValueError, zlib.error) as err:
            raise APIError(f"Unable to load the compressed flow: {err}") from err
        if not isinstance(flow, dict):
            raise APIError("the compressed flow is not a JSON object")
        return self.create_flow(flow, **fields)

    def _add_tasks(self, flow: Row, tasks: list[Any]) -> None:
        known = {
            task["slug"] for task in self.store.rows("task", lambda t: t["flow_id"] == flow["id"])
        }
        for task in tasks:
            if not isinstance(task, Mapping) or not isinstance(task.get("slug"), str):
                raise APIError("every serialized task needs a slug")
            if task["slug"] in known:
                continue
            known.add(task["slug"])
            self.store.insert(
                "task",
                {
                    "tenant_id": flow["tenant_id"],
                    "flow_id": flow["id"],
                    "slug": task["slug"],
                    "name": task.get("name"),
                    "type": task.get("type"),
                    "description": task.get("description"),
                    "tags": task.get("tags") or [],
                    "max_retries": task.get("max_retries") or 0,
                    "retry_delay": task.get("retry_delay"),
                    "mapped": bool(task.get("mapped")),
                    "auto_generated": bool(task.get("auto_generated")),
                    "cache_key": task.get("cache_key"),
                    "trigger": task.get("trigger"),
                    "is_reference_task": True,
                    "is_root_task": True,
                    "is_terminal_task": True,
                },
            )

    def _task_id(self, flow_id: str, end: Any) -> str:
        slug = end.get("slug") if isinstance(end, Mapping) else end
        task = self.store.find("task", flow_id=flow_id, slug=slug)
        if task is None:
            raise APIError(f"edge refers to an unknown task slug {slug!r}")
        return str(task["id"])

    def _add_edges(self, flow: Row, edges: list[Any]) -> None:
        for edge in edges:
            if not isinstance(edge, Mapping):
                raise APIError("every serialized edge must be an object")
            self.store.insert(
                "edge",
                {
                    "tenant_id": flow["tenant_id"],
                    "flow_id": flow["id"],
                    "upstream_task_id": self._task_id(flow["id"], edge.get("upstream_task")),
                    "downstream_task_id": self._task_id(flow["id"], edge.get("downstream_task")),
                    "key": edge.get("key"),
                    "mapped": bool(edge.get("mapped")),
                },
            )

    def register_tasks(self, flow_id: str, serialized_tasks: list[Any]) -> bool:
        flow = _require(self.store.get("flow", flow_id), "flow", flow_id)
        with self.store.transaction():
            self._add_tasks(flow, serialized_tasks)
        return True

    def register_edges(self, flow_id: str, serialized_edges: list[Any]) -> bool:
        flow = _require(self.store.get("flow", flow_id), "flow", flow_id)
        with self.store.transaction():
            self._add_edges(flow, serialized_edges)
        return True

    def set_schedule_active(self, flow_id: str, active: bool) -> bool:
        _require(self.store.get("flow", flow_id), "flow", flow_id)
        self.store.update("flow", flow_id, {"is_schedule_active": active})
        return True

    # -- flow runs ---------------------------------------------------------------------

    def _flow_for_run(self, flow_id: str | None, version_group_id: str | None) -> Row:
        if flow_id is not None:
            flow = _require(self.store.get("flow", flow_id), "flow", flow_id)
            if flow.get("archived"):
                raise APIError(f"flow {flow_id} is archived and cannot be run")
            return flow
        if version_group_id is None:
            raise APIError("a flow_id or a version_group_id is required")
        active = self.store.rows(
            "flow", lambda f: f["version_group_id"] == version_group_id and not f["archived"]
        )
        if len(active) != 1:
            raise APIError(f"no unarchived flow in version group {version_group_id!r}")
        return active[0]

    def create_flow_run(
        self,
        flow_id: str | None = None,
        version_group_id: str | None = None,
        parameters: Mapping[str, Any] | None = None,
        context: Mapping[str, Any] | None = None,
        labels: list[str] | None = None,
        run_config: Any = None,
        scheduled_start_time: str | None = None,
        flow_run_name: str | None = None,
        idempotency_key: str | None = None,
    ) -> str:
        flow = self._flow_for_run(flow_id, version_group_id)
        if idempotency_key:
            existing = self.store.find(
                "flow_run", flow_id=flow["id"], idempotency_key=idempotency_key
            )
            if existing is not None:
                return str(existing["id"])
        defaults = {
            p["name"]: p.get("default") for p in flow.get("parameters") or [] if "name" in p
        }
        start = scheduled_start_time or now_iso()
        scheduled = {"type": "Scheduled", "message": "Flow run scheduled.", "start_time": start}
        with self.store.transaction():
            run = self.store.insert(
                "flow_run",
                {
                    "tenant_id": flow["tenant_id"],
                    "flow_id": flow["id"],
                    "name": flow_run_name or f"{flow['name']}-run-{new_id()[:8]}",
                    "parameters": {**defaults, **(parameters or {})},
                    "context": dict(context or {}),
                    "labels": list(labels or []),
                    "run_config": run_config if run_config is not None else flow.get("run_config"),
                    "scheduled_start_time": start,
                    "idempotency_key": idempotency_key,
                    "auto_scheduled": False,
                    "times_resurrected": 0,
                    "version": 1,
                    "heartbeat": None,
                    "start_time": None,
                    "end_time": None,
                    **self._state_columns(scheduled),
                },
            )
            for task in self.store.rows("task", lambda t: t["flow_id"] == flow["id"]):
                self._create_task_run(run, task["id"], -1)
        return str(run["id"])

    def _create_task_run(self, run: Row, task_id: str, map_index: int) -> Row:
        task = _require(self.store.get("task", task_id), "task", task_id)
        return self.store.insert(
            "task_run",
            {
                "tenant_id": run["tenant_id"],
                "flow_run_id": run["id"],
                "task_id": task_id,
                "map_index": map_index,
                "cache_key": task.get("cache_key"),
                "name": None,
                "version": 0,
                "heartbeat": None,
                "start_time": None,
                "end_time": None,
                **self._state_columns(CREATED_TASK_RUN_STATE),
            },
        )

    @staticmethod
    def _state_columns(state: Mapping[str, Any]) -> Row:
        return {
            "serialized_state": dict(state),
            "state": state.get("type"),
            "state_message": state.get("message"),
            "state_timestamp": now_iso(),
            "state_start_time": state.get("start_time"),
            "state_result": state.get("_result"),
        }

    def set_run_state(
        self, table: str, run_id: str, version: int | None, state: Any
    ) -> Mapping[str, Any]:
        """Flow and task runs alike: version-locked state change, history kept."""
        if not isinstance(state, Mapping) or not isinstance(state.get("type"), str):
            raise APIError("state must be a serialized State object with a type")
        if len(json.dumps(state)) > MAX_STATE_BYTES:
            raise APIError("State payload is too large.")
        with self.store.transaction():
            run = _require(self.store.get(table, run_id), table.replace("_", " "), run_id)
            if version is not None and version != run["version"]:
                raise APIError(
                    f"State update failed for {table.replace('_', ' ')} {run_id}: "
                    f"version {version} is not the current version {run['version']}",
                    "VERSION_LOCKING_ERROR",
                )
            changes = {**self._state_columns(state), "version": run["version"] + 1}
            if state["type"] in RUNNING_STATES and run.get("start_time") is None:
                changes["start_time"] = now_iso()
            if state["type"] in FINISHED_STATES:
                changes["end_time"] = now_iso()
            self.store.update(table, run_id, changes)
            self.store.insert(
                f"{table}_state",
                {
                    f"{table}_id": run_id,
                    "tenant_id": run["tenant_id"],
                    "version": run["version"] + 1,
                    **self._state_columns(state),
                },
            )
        return {"id": run_id, "status": "SUCCESS", "message": None}

    def set_run_name(self, table: str, run_id: str, name: str) -> bool:
        _require(self.store.get(table, run_id), table.replace("_", " "), run_id)
        self.store.update(table, run_id, {"name": name})
        return True

    def heartbeat(self, table: str, run_id: str) -> bool:
        _require(self.store.get(table, run_id), table.replace("_", " "), run_id)
        self.store.update(table, run_id, {"heartbeat": now_iso()})
        return True

    def cancel_flow_run(self, flow_run_id: str) -> str:
        run = _require(self.store.get("flow_run", flow_run_id), "flow run", flow_run_id)
        if run["state"] in FINISHED_STATES:
            return str(run["state"])
        target = "Cancelling" if run["state"] in RUNNING_STATES else "Cancelled"
        self.set_run_state(
            "flow_run", flow_run_id, None, {"type": target, "message": "Flow run cancelled"}
        )
        return target

    # -- task runs ---------------------------------------------------------------------

    def get_or_create_task_run(self, flow_run_id: str, task_id: str, map_index: int | None) -> Row:
        index = -1 if map_index is None else map_index
        run = _require(self.store.get("flow_run", flow_run_id), "flow run", flow_run_id)
        existing = self.store.find(
            "task_run", flow_run_id=flow_run_id, task_id=task_id, map_index=index
        )
        if existing is not None:
            return existing
        return self._create_task_run(run, task_id, index)

    # -- logs, secrets, limits, agents, artifacts -----------------------------------------

    def write_run_logs(self, tenant_id: str | None, logs: list[Mapping[str, Any]]) -> bool:
        with self.store.transaction():
            for log in logs:
                run = _require(
                    self.store.get("flow_run", log["flow_run_id"]), "flow run", log["flow_run_id"]
                )
                self.store.insert(
                    "log",
                    {
                        "tenant_id": tenant_id or run["tenant_id"],
                        "flow_run_id": log["flow_run_id"],
                        "task_run_id": log.get("task_run_id"),
                        "timestamp": log.get("timestamp") or now_iso(),
                        "name": log.get("name"),
                        "message": log.get("message"),
                        "level": log.get("level") or "INFO",
                        "info": log.get("info"),
                        "is_loaded_from_archive": False,
                    },
                )
        return True

    def set_secret(self, tenant_id: str, name: str, value: Any) -> bool:
        existing = self.store.find("secret", tenant_id=tenant_id, name=name)
        if existing is None:
            self.store.insert("secret", {"tenant_id": tenant_id, "name": name, "value": value})
        else:
            self.store.update("secret", existing["id"], {"value": value})
        return True

    def update_task_tag_limit(self, tenant_id: str, tag: str, limit: int) -> str:
        if limit < 0:
            raise APIError("limit must be >= 0")
        existing = self.store.find("task_tag_limit", tenant_id=tenant_id, tag=tag)
        if existing is None:
            return str(
                self.store.insert(
                    "task_tag_limit", {"tenant_id": tenant_id, "tag": tag, "limit": limit}
                )["id"]
            )
        self.store.update("task_tag_limit", existing["id"], {"limit": limit})
        return str(existing["id"])

    def delete_by_id(self, table: str, row_id: str) -> bool:
        if not self.store.delete(table, row_id):
            raise APIError(f"{table.replace('_', ' ')} {row_id} not found", "NOT_FOUND")
        return True

    def register_agent(self, tenant_id: str, **fields: Any) -> str:
        if fields.get("agent_config_id"):
            _require(
                self.store.get("agent_config", fields["agent_config_id"]),
                "agent config",
                fields["agent_config_id"],
            )
        row = self.store.insert(
            "agent",
            {"tenant_id": tenant_id, "last_queried": now_iso(), "core_version": None, **fields},
        )
        return str(row["id"])

    def create_task_run_artifact(
        self, task_run_id: str, kind: str, data: Any, tenant_id: str | None
    ) -> str:
        run = _require(self.store.get("task_run", task_run_id), "task run", task_run_id)
        row = self.store.insert(
            "task_run_artifact",
            {
                "tenant_id": tenant_id or run["tenant_id"],
                "task_run_id": task_run_id,
                "kind": kind,
                "data": data,
            },
        )
        return str(row["id"])

    def update_task_run_artifact(self, artifact_id: str, data: Any) -> bool:
        _require(self.store.get("task_run_artifact", artifact_id), "task run artifact", artifact_id)
        self.store.update("task_run_artifact", artifact_id, {"data": data})
        return True
