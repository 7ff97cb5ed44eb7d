"""Tenants, projects and flows: what gets registered before anything runs.

Flow registration follows Prefect Server: a flow joins the version group of the
latest flow of the same name in its project (or the group it names), gets the next
version, and archives the versions before it; its schedule starts active only if
it has one. Tasks and edges come inside the
serialized flow (0.12) or through ``register_tasks``/``register_edges`` afterwards
(1.x); either way a task's root/terminal/reference/mapped flags follow its edges.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import zlib
from collections.abc import Mapping
from typing import Any

from ._errors import NOT_FOUND, APIError, require
from ._schedules import check_schedule
from ._shapes import checked_edge, checked_flow, checked_task
from ._store import Row, Store, new_id

__all__ = ["DEFAULT_TENANT_ID", "Registry"]

DEFAULT_TENANT_ID = "00000000-0000-4000-8000-000000000001"
"""The seeded tenant's id: fixed, so a fresh local server is predictable."""
UNIQUENESS_VIOLATION = "Uniqueness violation."
"""The message the Prefect 1.x client looks for to find an existing project instead."""
_ZLIB_OR_GZIP = zlib.MAX_WBITS | 32


class Registry:
    def __init__(self, store: Store) -> None:
        self.store = store

    # -- tenants -----------------------------------------------------------------------

    def seed(self) -> None:
        """A fresh database gets the default tenant, as ``prefect server create-tenant`` does."""
        if not self.store.rows("tenant"):
            self.create_tenant("default", "default", tenant_id=DEFAULT_TENANT_ID)

    def create_tenant(self, name: str, slug: str, *, tenant_id: str | None = None) -> str:
        if self.store.for_tenant(None).find("tenant", slug=slug):
            raise APIError(UNIQUENESS_VIOLATION)
        row: Row = {"name": name, "slug": slug}
        if tenant_id is not None:
            row["id"] = tenant_id
        return str(self.store.insert("tenant", row)["id"])

    def ensure_tenant(self, tenant_id: str) -> None:
        """The tenant exists (created with slug ``tenant-<id>`` if not: ids made in the same
        minute share their first digits)."""
        if self.store.for_tenant(None).get("tenant", tenant_id) is None:
            slug = f"tenant-{tenant_id}"
            self.create_tenant(slug, slug, tenant_id=tenant_id)

    def default_tenant_id(self) -> str:
        """The first tenant this store sees: what a write without a tenant acts for."""
        tenants = self.store.rows("tenant")
        if not tenants:
            raise APIError("no tenant exists: create one with create_tenant", NOT_FOUND)
        return str(tenants[0]["id"])

    # -- projects ----------------------------------------------------------------------

    def create_project(self, tenant_id: str, name: str, description: str | None) -> str:
        require(self.store.get("tenant", tenant_id), "tenant", tenant_id)
        if self.store.find("project", tenant_id=tenant_id, name=name):
            raise APIError(UNIQUENESS_VIOLATION)
        row = self.store.insert(
            "project", {"tenant_id": tenant_id, "name": name, "description": description}
        )
        return str(row["id"])

    # -- flows -------------------------------------------------------------------------

    def create_flow(
        self,
        serialized_flow: Any,
        project_id: str,
        version_group_id: str | None = None,
        set_schedule_active: bool | None = True,
        description: str | None = None,
        idempotency_key: str | None = None,
    ) -> str:
        project = require(self.store.get("project", project_id), "project", project_id)
        checked_flow(serialized_flow)
        name: str = serialized_flow["name"]
        check_schedule(serialized_flow.get("schedule"))
        with self.store.transaction():
            group = version_group_id or self._version_group_of(project_id, name)
            versions = self.store.rows("flow", version_group_id=group)
            latest = versions[-1] if versions else None
            if idempotency_key and latest and latest["idempotency_key"] == idempotency_key:
                return str(latest["id"])
            for older in versions:
                if not older["archived"]:
                    self.store.update("flow", older["id"], {"archived": True})
            flow = self.store.insert(
                "flow",
                {
                    "tenant_id": project["tenant_id"],
                    "project_id": project_id,
                    "flow_group_id": self._flow_group_id(project["tenant_id"], group),
                    "name": name,
                    "version": max((f["version"] for f in versions), default=0) + 1,
                    "version_group_id": group,
                    "serialized_flow": dict(serialized_flow),
                    "schedule": serialized_flow.get("schedule"),
                    "environment": serialized_flow.get("environment"),
                    "storage": serialized_flow.get("storage"),
                    "run_config": serialized_flow.get("run_config"),
                    "parameters": serialized_flow.get("parameters") or [],
                    "description": description,
                    "idempotency_key": idempotency_key,
                    "core_version": serialized_flow.get("__version__"),
                },
            )
            self._add_tasks(flow, _json_list(serialized_flow.get("tasks") or [], "tasks"))
            self._add_edges(flow, _json_list(serialized_flow.get("edges") or [], "edges"))
            if set_schedule_active is not False and serialized_flow.get("schedule") is not None:
                # As on Prefect Server, a schedule that cannot be active leaves it off.
                with contextlib.suppress(APIError):
                    self.set_schedule_active(flow["id"], True)
        return str(flow["id"])

    def create_flow_from_compressed_string(self, serialized_flow: str, **fields: Any) -> str:
        """``serialized_flow`` is base64 of the zlib- or gzip-compressed flow JSON."""
        try:
            flow = json.loads(zlib.decompress(base64.b64decode(serialized_flow), _ZLIB_OR_GZIP))
        except (ValueError, binascii.Error, zlib.error) as err:
            raise APIError(f"the compressed flow could not be read: {err}") from err
        return self.create_flow(flow, **fields)

    def _version_group_of(self, project_id: str, name: str) -> str:
        same_name = self.store.rows("flow", project_id=project_id, name=name)
        return str(same_name[-1]["version_group_id"]) if same_name else new_id()

    def _flow_group_id(self, tenant_id: str, group: str) -> str:
        existing = self.store.find("flow_group", tenant_id=tenant_id, name=group)
        if existing is None:
            existing = self.store.insert("flow_group", {"tenant_id": tenant_id, "name": group})
        return str(existing["id"])

    def register_tasks(self, flow_id: str, serialized_tasks: Any) -> bool:
        flow = require(self.store.get("flow", flow_id), "flow", flow_id)
        with self.store.transaction():
            self._add_tasks(flow, _json_list(serialized_tasks, "serialized_tasks"))
        return True

    def register_edges(self, flow_id: str, serialized_edges: Any) -> bool:
        flow = require(self.store.get("flow", flow_id), "flow", flow_id)
        with self.store.transaction():
            self._add_edges(flow, _json_list(serialized_edges, "serialized_edges"))
        return True

    def set_schedule_active(self, flow_id: str, active: bool) -> bool:
        """A schedule can be active only if its clocks or the flow group's defaults
        give every required parameter."""
        flow = require(self.store.get("flow", flow_id), "flow", flow_id)
        if active and flow["schedule"] is not None:
            group = self.store.get("flow_group", flow["flow_group_id"]) or {}
            required = {
                p.get("name")
                for p in flow["parameters"]
                if isinstance(p, Mapping) and p.get("required")
            } - set(group.get("default_parameters") or {})
            clocks = flow["schedule"].get("clocks") or []
            if required and not all(
                required <= set(c.get("parameter_defaults") or {}) for c in clocks
            ):
                raise APIError("Can not schedule a flow that has required parameters.")
        self.store.update("flow", flow_id, {"is_schedule_active": active})
        return True

    def _add_tasks(self, flow: Row, tasks: list[Any]) -> None:
        """Tasks new to the flow (by slug) are added; known ones are left as they are."""
        known = {task["slug"] for task in self.store.rows("task", flow_id=flow["id"])}
        for task in tasks:
            checked_task(task)
            if task["slug"] in known:
                continue
            known.add(task["slug"])
            trigger = task.get("trigger")
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
                    "auto_generated": bool(task.get("auto_generated")),
                    "cache_key": task.get("cache_key"),
                    "trigger": trigger.get("fn") if isinstance(trigger, Mapping) else trigger,
                },
            )
        self._update_task_roles(flow)

    def _add_edges(self, flow: Row, edges: list[Any]) -> None:
        """Edges new to the flow are added; an edge repeated with the same key is ignored."""
        slugs = {task["slug"]: task["id"] for task in self.store.rows("task", flow_id=flow["id"])}
        known = {
            (edge["upstream_task_id"], edge["downstream_task_id"], edge["key"])
            for edge in self.store.rows("edge", flow_id=flow["id"])
        }
        for edge in edges:
            checked_edge(edge)
            ends = (
                _task_id(slugs, edge.get("upstream_task")),
                _task_id(slugs, edge.get("downstream_task")),
            )
            if (*ends, edge.get("key")) in known:
                continue
            known.add((*ends, edge.get("key")))
            self.store.insert(
                "edge",
                {
                    "tenant_id": flow["tenant_id"],
                    "flow_id": flow["id"],
                    "upstream_task_id": ends[0],
                    "downstream_task_id": ends[1],
                    "key": edge.get("key"),
                    "mapped": bool(edge.get("mapped")),
                },
            )
        self._update_task_roles(flow)

    def _update_task_roles(self, flow: Row) -> None:
        """Root: no upstream edge; terminal: no downstream edge; reference: named by the
        flow's ``reference_tasks``, else terminal; mapped: an upstream edge is mapped."""
        edges = self.store.rows("edge", flow_id=flow["id"])
        serialized = flow.get("serialized_flow") or {}
        references = {
            ref.get("slug")
            for ref in serialized.get("reference_tasks") or []
            if isinstance(ref, Mapping)
        }
        for task in self.store.rows("task", flow_id=flow["id"]):
            upstream = [edge for edge in edges if edge["downstream_task_id"] == task["id"]]
            terminal = not any(edge["upstream_task_id"] == task["id"] for edge in edges)
            roles = {
                "is_root_task": not upstream,
                "is_terminal_task": terminal,
                "is_reference_task": task["slug"] in references if references else terminal,
                "mapped": any(edge["mapped"] for edge in upstream),
            }
            if any(task[column] != value for column, value in roles.items()):
                self.store.update("task", task["id"], roles)


def _json_list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise APIError(f"{what} must be a JSON list")
    return value


def _task_id(slugs: Mapping[str, str], end: Any) -> str:
    slug = end.get("slug") if isinstance(end, Mapping) else end
    if not isinstance(slug, str) or slug not in slugs:
        raise APIError(f"an edge refers to an unknown task slug {slug!r}")
    return slugs[slug]
