"""Cloud hooks on flow run state changes, as Prefect Server calls them.

Every flow run state change is a ``FlowRunStateChange`` event; the tenant's active
hooks that watch the new state (upper-cased) and the run's version group, or every
version group, are called. A ``PREFECT_MESSAGE`` hook writes the event as a
``CLOUD_HOOK`` message; the local server sends no request anywhere, so the hooks
that would (webhooks, Slack, Twilio, PagerDuty) are matched and left uncalled.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._store import Row, Store, new_id, now_iso

__all__ = ["call_hooks", "flow_run_state_event", "write_hook_message"]


def flow_run_state_event(
    flow_run: Mapping[str, Any],
    state: Mapping[str, Any],
    flow: Mapping[str, Any],
    tenant: Mapping[str, Any],
    *,
    is_test_event: bool = False,
) -> Row:
    """The event Server builds for a state change, as JSON."""
    return {
        "id": new_id(),
        "timestamp": now_iso(),
        "type": "FlowRunStateChange",
        "flow_run": dict(flow_run),
        "state": dict(state),
        "flow": dict(flow),
        "tenant": dict(tenant),
        "is_test_event": is_test_event,
    }


def write_hook_message(store: Store, tenant_id: str, event: Row) -> None:
    store.insert(
        "message",
        {
            "tenant_id": tenant_id,
            "type": "CLOUD_HOOK",
            "content": {"event": event, "type": "CLOUD_HOOK"},
        },
    )


def call_hooks(store: Store, flow_run: Row, state: Row) -> None:
    """Calls the hooks that match a flow run's new ``state`` (a ``flow_run_state`` row)."""
    hooks = [
        hook
        for hook in store.rows("cloud_hook", tenant_id=flow_run["tenant_id"], active=True)
        if str(state["state"]).upper() in (hook["states"] or [])
    ]
    if not hooks:
        return
    flow = store.get("flow", flow_run["flow_id"]) or {}
    matching = [
        hook
        for hook in hooks
        if hook["version_group_id"] in (None, flow.get("version_group_id"))
        and hook["type"] == "PREFECT_MESSAGE"
    ]
    if not matching:
        return
    tenant = store.get("tenant", flow_run["tenant_id"]) or {}
    event = flow_run_state_event(
        {key: flow_run.get(key) for key in ("id", "name", "version", "state", "labels")},
        {key: state.get(key) for key in ("id", "version", "state", "message", "serialized_state")},
        {key: flow.get(key) for key in ("id", "name", "flow_group_id", "version_group_id")},
        {"id": tenant.get("id"), "slug": tenant.get("slug")},
    )
    for _ in matching:
        write_hook_message(store, flow_run["tenant_id"], event)
