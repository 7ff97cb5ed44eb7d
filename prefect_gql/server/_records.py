"""What runs and agents leave behind: logs, secrets, task tag limits, agents, artifacts.

Secrets are kept (``set_secret`` overwrites by name within a tenant) but no
operation returns them, and nothing here logs a value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._errors import NOT_FOUND, APIError, require
from ._store import Row, Store, now_iso

__all__ = ["Records"]


class Records:
    def __init__(self, store: Store) -> None:
        self.store = store

    def write_run_logs(self, logs: list[Mapping[str, Any]]) -> bool:
        """All the entries or none: each names a flow run this caller can see."""
        with self.store.transaction():
            for log in logs:
                run_id = log["flow_run_id"]
                run = require(self.store.get("flow_run", run_id), "flow run", run_id)
                self.store.insert(
                    "log",
                    {
                        "tenant_id": run["tenant_id"],
                        "flow_run_id": run_id,
                        "task_run_id": log.get("task_run_id"),
                        "timestamp": log.get("timestamp") or now_iso(),
                        "name": log.get("name"),
                        "message": log.get("message"),
                        "level": log.get("level") or "INFO",
                        "info": log.get("info"),
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
        """Sets the tag's limit (creating it if needed); returns the limit's id."""
        if limit < 0:
            raise APIError("a task tag limit must not be negative")
        existing = self.store.find("task_tag_limit", tenant_id=tenant_id, tag=tag)
        if existing is None:
            row = self.store.insert(
                "task_tag_limit", {"tenant_id": tenant_id, "tag": tag, "limit": limit}
            )
            return str(row["id"])
        self.store.update("task_tag_limit", existing["id"], {"limit": limit})
        return str(existing["id"])

    def delete(self, table: str, row_id: str) -> bool:
        if not self.store.delete(table, row_id):
            raise APIError(f"{table.replace('_', ' ')} {row_id} not found", NOT_FOUND)
        return True

    def create_agent_config(self, tenant_id: str, name: str | None, settings: Any) -> str:
        require(self.store.get("tenant", tenant_id), "tenant", tenant_id)
        row = self.store.insert(
            "agent_config", {"tenant_id": tenant_id, "name": name, "settings": settings or {}}
        )
        return str(row["id"])

    def create_task_run_artifact(self, task_run_id: str, kind: str, data: Any) -> str:
        run: Row = require(self.store.get("task_run", task_run_id), "task run", task_run_id)
        row = self.store.insert(
            "task_run_artifact",
            {"tenant_id": run["tenant_id"], "task_run_id": task_run_id, "kind": kind, "data": data},
        )
        return str(row["id"])

    def update_task_run_artifact(self, artifact_id: str, data: Any) -> bool:
        require(self.store.get("task_run_artifact", artifact_id), "task run artifact", artifact_id)
        self.store.update("task_run_artifact", artifact_id, {"data": data})
        return True
