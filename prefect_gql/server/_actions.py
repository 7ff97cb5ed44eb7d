"""Prefect Server's Python-layer mutations beyond running flows: deleting flows and
runs, labels, names, descriptions, flow group settings, tenants, messages and cloud
hooks.

Each follows its resolver in Prefect Server (``graphql/*.py``) and the function of
``api/`` it calls: what it checks, what it writes, and what it answers. Where Server
answers ``success: false`` for an id that changes nothing (one the caller cannot
see, in token mode), so does this; where it raises, this answers an error.

Cloud hooks are stored, listed, switched and deleted, but the local server sends no
request anywhere: a hook of type ``PREFECT_MESSAGE`` writes its message (that is
all Server does for one; ``_hooks`` calls them on flow run state changes), and
testing a hook of another type answers ``success: false`` saying so.
"""

from __future__ import annotations

import re
import uuid
import zoneinfo
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from ._context import RequestContext
from ._errors import NOT_FOUND, APIError, require
from ._hooks import flow_run_state_event, write_hook_message
from ._registry import UNIQUENESS_VIOLATION
from ._runs import STATE_TYPES
from ._scheduler import Scheduler
from ._schedules import check_schedule
from ._shapes import checked_run_config
from ._store import Row, Store
from ._writes import delete_row

__all__ = ["ACTIONS", "CLOUD_HOOK_TYPES", "HOOK_STATES"]

Input = dict[str, Any]
Action = Callable[[RequestContext, Input], Any]

CLOUD_HOOK_TYPES = frozenset({"WEBHOOK", "SLACK_WEBHOOK", "PREFECT_MESSAGE", "TWILIO", "PAGERDUTY"})
HOOK_STATES = frozenset(state.upper() for state in STATE_TYPES)
"""The states a cloud hook may watch: Prefect's state classes, upper-cased."""
_HOOK_CONFIG_KEYS: dict[str, frozenset[str]] = {
    "WEBHOOK": frozenset({"url"}),
    "SLACK_WEBHOOK": frozenset({"url"}),
    "TWILIO": frozenset({"account_sid", "auth_token", "messaging_service_sid", "to"}),
    "PAGERDUTY": frozenset({"api_token", "routing_key", "severity"}),
}
_PAGERDUTY_SEVERITIES = frozenset({"info", "warning", "error", "critical"})
_TEST_STATES = {
    "SCHEDULED": ("Scheduled", "Test scheduled state"),
    "SUBMITTED": ("Submitted", "Test submitted state"),
    "RUNNING": ("Running", "Test running state"),
    "SUCCESS": ("Success", "Test success state"),
    "FAILED": ("Failed", "Test failed state"),
}
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
"""What python-slugify leaves unchanged: Prefect Server accepts only such slugs."""
_CRON_FIELD = re.compile(r"[0-9A-Za-z*?/,#\-]+")


def _success(value: bool) -> Row:
    return {"success": value}


def _updated(store: Store, table: str, row_id: str, changes: Row) -> bool:
    """Whether a visible row was updated (Hasura's ``affected_rows`` of one id)."""
    if store.get(table, row_id) is None:
        return False
    store.update(table, row_id, changes)
    return True


# -- flows and runs ------------------------------------------------------------------


def _delete_flow_run(ctx: RequestContext, input: Input) -> Row:
    """The run with its task runs, states and logs; ``success: false`` for a run the
    caller cannot see, as Server answers an id that deletes nothing."""
    return _success(ctx.store.delete("flow_run", input["flow_run_id"]))


def _delete_flow(ctx: RequestContext, input: Input) -> Row:
    """The flow with its tasks, edges and runs (and theirs); the flow group and the
    other versions stay."""
    return _success(ctx.store.delete("flow", input["flow_id"]))


def _archive_flow(ctx: RequestContext, input: Input) -> Row:
    """No new runs: its auto-scheduled runs are deleted, and the runs scheduled by hand
    are cancelled."""
    flow_id = input["flow_id"]
    if not _updated(ctx.store, "flow", flow_id, {"archived": True}):
        return _success(False)
    Scheduler(ctx.store).unschedule(flow_id)
    cancelled = {"type": "Cancelled", "message": f"Flow {flow_id} was archived."}
    for run in ctx.store.rows("flow_run", flow_id=flow_id, state="Scheduled"):
        ctx.runs.set_state("flow_run", run["id"], cancelled, version=None)
    return _success(True)


def _update_flow_project(ctx: RequestContext, input: Input) -> Row:
    """Moves one flow version to another project of the same tenant."""
    flow = ctx.store.get("flow", input["flow_id"])
    project = ctx.store.get("project", input["project_id"])
    if flow is None or project is None or project["tenant_id"] != flow["tenant_id"]:
        raise APIError("Invalid flow or project ID.")
    ctx.store.update("flow", flow["id"], {"project_id": project["id"]})
    return {"id": flow["id"]}


def _set_flow_run_labels(ctx: RequestContext, input: Input) -> Row:
    labels = sorted(input["labels"])
    return _success(_updated(ctx.store, "flow_run", input["flow_run_id"], {"labels": labels}))


# -- flow groups ----------------------------------------------------------------------


def _flow_group_setting(key: str, value: bool, *more: tuple[str, bool]) -> Action:
    """``enable/disable_flow_heartbeat`` and ``..._lazarus_process``: keys of the flow's
    flow group ``settings`` (the other keys kept), which Server reads for every version."""

    def action(ctx: RequestContext, input: Input) -> Row:
        flow = ctx.store.get("flow", input["flow_id"])
        group = ctx.store.get("flow_group", flow["flow_group_id"]) if flow else None
        if group is None:
            raise APIError("Invalid flow ID.", NOT_FOUND)
        settings = {**(group["settings"] or {}), key: value, **dict(more)}
        ctx.store.update("flow_group", group["id"], {"settings": settings})
        return _success(True)

    return action


def _set_flow_group_column(column: str, argument: str) -> Action:
    def action(ctx: RequestContext, input: Input) -> Row:
        value = input.get(argument)
        return _success(_updated(ctx.store, "flow_group", input["flow_group_id"], {column: value}))

    return action


def _set_flow_group_default_parameters(ctx: RequestContext, input: Input) -> Row:
    """The values a new run of any version gets for parameters it is not given."""
    parameters = input["parameters"]
    if not isinstance(parameters, Mapping):
        raise APIError("parameters must be a JSON object of parameter names and values")
    group_id = input["flow_group_id"]
    return _success(_updated(ctx.store, "flow_group", group_id, {"default_parameters": parameters}))


def _set_flow_group_run_config(ctx: RequestContext, input: Input) -> Row:
    """The run config new runs of any version get (null: their flow's)."""
    run_config = input.get("run_config")
    checked_run_config(run_config)
    group_id = input["flow_group_id"]
    return _success(_updated(ctx.store, "flow_group", group_id, {"run_config": run_config}))


def _set_flow_group_labels(ctx: RequestContext, input: Input) -> Row:
    """``null`` clears the labels (runs then take their run config's); a list is deduplicated."""
    labels = input.get("labels")
    value = sorted(set(labels)) if labels else labels
    return _success(_updated(ctx.store, "flow_group", input["flow_group_id"], {"labels": value}))


def _start_date(timezone: str | None) -> dict[str, str] | None:
    if not timezone:
        return None
    try:
        zone = zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as err:
        raise APIError(f"Invalid timezone provided for schedule: {timezone}") from err
    local = datetime.now(UTC).astimezone(zone).replace(tzinfo=None)
    return {"dt": local.isoformat(), "tz": timezone}


def _clocks(input: Input) -> list[Row]:
    """Server's clocks from the input: cron clocks as given, intervals in seconds
    stored as microseconds (Prefect's serialized ``IntervalClock``)."""
    clocks: list[Row] = []
    for cron_clock in input.get("cron_clocks") or []:
        fields = str(cron_clock["cron"]).split()
        if len(fields) not in (5, 6) or not all(_CRON_FIELD.fullmatch(f) for f in fields):
            raise APIError(f"Invalid clock provided for schedule: {dict(cron_clock)}")
        clocks.append({"type": "CronClock", **cron_clock})
    for interval_clock in input.get("interval_clocks") or []:
        if interval_clock["interval"] <= 0:
            raise APIError(f"Invalid clock provided for schedule: {dict(interval_clock)}")
        clock: Row = {"type": "IntervalClock", "interval": interval_clock["interval"] * 1_000_000}
        if interval_clock.get("parameter_defaults"):
            clock["parameter_defaults"] = interval_clock["parameter_defaults"]
        clocks.append(clock)
    start_date = _start_date(input.get("timezone"))
    return [{**clock, "start_date": start_date} for clock in clocks]


def _replace_flow_group_schedule(ctx: RequestContext, group_id: str, schedule: Any) -> Row:
    """The group's schedule changes: its flows' auto-scheduled runs are replaced at once
    by those of the new schedule (for the flows whose schedule is active)."""
    if not _updated(ctx.store, "flow_group", group_id, {"schedule": schedule}):
        return _success(False)
    flow_ids = [flow["id"] for flow in ctx.store.rows("flow", flow_group_id=group_id)]
    scheduler = Scheduler(ctx.store)
    for flow_id in flow_ids:
        scheduler.unschedule(flow_id)
        scheduler.schedule_flow_runs(flow_id)
    return _success(True)


def _set_flow_group_schedule(ctx: RequestContext, input: Input) -> Row:
    """Refused when the scheduler could not run it (``_schedules``)."""
    schedule = {"type": "Schedule", "clocks": _clocks(input)}
    check_schedule(schedule)
    return _replace_flow_group_schedule(ctx, input["flow_group_id"], schedule)


def _delete_flow_group_schedule(ctx: RequestContext, input: Input) -> Row:
    return _replace_flow_group_schedule(ctx, input["flow_group_id"], None)


def _delete_flow_group(ctx: RequestContext, input: Input) -> Row:
    """Prefect Cloud's: the group with every flow version in it, and their runs."""
    return _success(ctx.store.delete("flow_group", input["flow_group_id"]))


# -- projects -------------------------------------------------------------------------


def _set_project_column(column: str) -> Action:
    def action(ctx: RequestContext, input: Input) -> Row:
        project_id = input["project_id"]
        value = input.get(column)
        project = ctx.store.get("project", project_id)
        if project is None:
            raise APIError("Update failed", NOT_FOUND)
        if column == "name":
            same = ctx.store.find("project", tenant_id=project["tenant_id"], name=value)
            if same is not None and same["id"] != project_id:
                raise APIError(UNIQUENESS_VIOLATION)
        ctx.store.update("project", project_id, {column: value})
        return {"id": project_id}

    return action


def _delete_project(ctx: RequestContext, input: Input) -> Row:
    """The project with its flows and their runs."""
    return _success(ctx.store.delete("project", input["project_id"]))


# -- tenants --------------------------------------------------------------------------


def _tenant(ctx: RequestContext, tenant_id: str) -> Row:
    tenant = ctx.store.get("tenant", tenant_id)
    if tenant is None:
        raise APIError("Update failed.", NOT_FOUND)
    return tenant


def _update_tenant_name(ctx: RequestContext, input: Input) -> Row:
    tenant = _tenant(ctx, input["tenant_id"])
    ctx.store.update("tenant", tenant["id"], {"name": input["name"]})
    return {"id": tenant["id"]}


def _update_tenant_slug(ctx: RequestContext, input: Input) -> Row:
    slug = input["slug"]
    if not _SLUG.fullmatch(slug):
        raise APIError('Slug must be "slugified" (lowercase; no spaces)')
    tenant = _tenant(ctx, input["tenant_id"])
    same = ctx.store.for_tenant(None).find("tenant", slug=slug)
    if same is not None and same["id"] != tenant["id"]:
        raise APIError(UNIQUENESS_VIOLATION)
    ctx.store.update("tenant", tenant["id"], {"slug": slug})
    return {"id": tenant["id"]}


def _update_tenant_settings(ctx: RequestContext, input: Input) -> Row:
    """The given keys replace the tenant's; the others stay."""
    settings = input.get("settings") or {}
    if not isinstance(settings, Mapping):
        raise APIError("settings must be a JSON object")
    tenant = _tenant(ctx, input["tenant_id"])
    ctx.store.update("tenant", tenant["id"], {"settings": {**tenant["settings"], **settings}})
    return {"id": tenant["id"]}


def _delete_tenant(ctx: RequestContext, input: Input) -> Row:
    """The tenant and everything in it; only with ``confirm: true``."""
    if not input.get("confirm"):
        raise APIError("Must pass `confirm=True` to proceed.")
    return _success(ctx.store.delete("tenant", input["tenant_id"]))


# -- agents ---------------------------------------------------------------------------


def _delete_agent(ctx: RequestContext, input: Input) -> Row:
    """The runs it submitted keep their history and lose their agent (``agent_id``
    becomes null, as the foreign key's ``ON DELETE SET NULL`` does)."""
    return _success(delete_row(ctx.store, "agent", input["agent_id"]))


def _delete_agent_config(ctx: RequestContext, input: Input) -> Row:
    """Its agents stay, with no config."""
    return _success(delete_row(ctx.store, "agent_config", input["agent_config_id"]))


def _update_agent_config(ctx: RequestContext, input: Input) -> Row:
    """The name and settings given (a null one is left as it is)."""
    changes = {key: input[key] for key in ("name", "settings") if input.get(key) is not None}
    if not isinstance(changes.get("settings", {}), Mapping):
        raise APIError("settings must be a JSON object")
    return _success(_updated(ctx.store, "agent_config", input["agent_config_id"], changes))


# -- messages -------------------------------------------------------------------------


def _mark_message(read: bool) -> Action:
    def action(ctx: RequestContext, input: Input) -> Row:
        return _success(_updated(ctx.store, "message", input["message_id"], {"read": read}))

    return action


def _delete_message(ctx: RequestContext, input: Input) -> Row:
    return _success(ctx.store.delete("message", input["message_id"]))


# -- cloud hooks ----------------------------------------------------------------------


def _checked_hook_config(hook_type: str, config: Any) -> Any:
    expected = _HOOK_CONFIG_KEYS.get(hook_type)
    if expected is None:
        return {} if config is None else config
    given = set(config) if isinstance(config, Mapping) else set()
    if given != expected:
        raise APIError(f"Invalid config; expected {', '.join(f'`{k}`' for k in sorted(expected))}")
    if hook_type == "TWILIO" and not config.get("to"):
        raise APIError("Invalid config; `to` must name at least one number")
    severity = config.get("severity")
    if hook_type == "PAGERDUTY" and not (
        isinstance(severity, str) and severity in _PAGERDUTY_SEVERITIES
    ):
        raise APIError("Invalid config; severity must be one of {info, warning, error, critical}")
    return config


def _create_cloud_hook(ctx: RequestContext, input: Input) -> Row:
    tenant_id = ctx.tenant_id(input.get("tenant_id"))
    require(ctx.store.get("tenant", tenant_id), "tenant", tenant_id)
    states = sorted({state.upper() for state in input["states"]})
    if not states or not set(states) <= HOOK_STATES:
        raise APIError("Invalid states")
    hook_type = input["type"]
    if hook_type not in CLOUD_HOOK_TYPES:
        raise APIError("Invalid cloud hook type")
    row = ctx.store.insert(
        "cloud_hook",
        {
            "tenant_id": tenant_id,
            "type": hook_type,
            "name": input.get("name"),
            "config": _checked_hook_config(hook_type, input.get("config")),
            "states": states,
            "active": True,
            "version_group_id": input.get("version_group_id"),
        },
    )
    return {"id": row["id"]}


def _set_cloud_hook_active(active: bool) -> Action:
    def action(ctx: RequestContext, input: Input) -> Row:
        return _success(
            _updated(ctx.store, "cloud_hook", input["cloud_hook_id"], {"active": active})
        )

    return action


def _delete_cloud_hook(ctx: RequestContext, input: Input) -> Row:
    return _success(ctx.store.delete("cloud_hook", input["cloud_hook_id"]))


def _test_event(ctx: RequestContext, hook: Row, input: Input) -> Row:
    """The event Server would send: from the named flow run, else made up."""
    state_type, message = _TEST_STATES.get(input.get("state_type") or "", _TEST_STATES["SUCCESS"])
    serialized_state = {"type": state_type, "message": message}
    state = {"version": 1, "state": state_type, "serialized_state": serialized_state}
    run = ctx.store.get("flow_run", input.get("flow_run_id"))
    if run is None:
        return flow_run_state_event(
            {"id": str(uuid.uuid4()), "name": "test-run"},
            state,
            {"id": str(uuid.uuid4()), "name": "Cloud Hook Test Flow"},
            {"id": hook["tenant_id"], "slug": "test-slug"},
            is_test_event=True,
        )
    flow = ctx.store.get("flow", run["flow_id"]) or {}
    tenant = ctx.store.get("tenant", run["tenant_id"]) or {}
    return flow_run_state_event(
        {
            "id": run["id"],
            "is_test_event": True,
            "name": run["name"],
            "version": run["version"] + 1,
            "state": state_type,
            "serialized_state": serialized_state,
        },
        state,
        {key: flow.get(key) for key in ("id", "name", "flow_group_id", "version_group_id")},
        {"id": tenant.get("id"), "slug": tenant.get("slug")},
    )


def _test_cloud_hook(ctx: RequestContext, input: Input) -> Row:
    """A ``PREFECT_MESSAGE`` hook writes its message; the local server calls no URL,
    so testing any other kind answers ``success: false`` with the reason."""
    hook = ctx.store.get("cloud_hook", input["cloud_hook_id"])
    if hook is None:
        return {"success": False, "error": "Invalid ID"}
    if hook["type"] != "PREFECT_MESSAGE":
        return {
            "success": False,
            "error": f"the local server sends no requests: a {hook['type']} hook is stored"
            " but never called",
        }
    write_hook_message(ctx.store, hook["tenant_id"], _test_event(ctx, hook, input))
    return {"success": True, "error": None}


def _log_out(ctx: RequestContext, input: Input) -> Row:
    return _success(ctx.credentials.revoke(input["access_token"]))


ACTIONS: dict[str, Action] = {
    "delete_flow_run": _delete_flow_run,
    "delete_flow": _delete_flow,
    "archive_flow": _archive_flow,
    "update_flow_project": _update_flow_project,
    "set_flow_run_labels": _set_flow_run_labels,
    "enable_flow_heartbeat": _flow_group_setting(
        "heartbeat_enabled", True, ("disable_heartbeat", False)
    ),
    "disable_flow_heartbeat": _flow_group_setting(
        "heartbeat_enabled", False, ("disable_heartbeat", True)
    ),
    "enable_flow_lazarus_process": _flow_group_setting("lazarus_enabled", True),
    "disable_flow_lazarus_process": _flow_group_setting("lazarus_enabled", False),
    "set_flow_group_default_parameters": _set_flow_group_default_parameters,
    "set_flow_group_description": _set_flow_group_column("description", "description"),
    "set_flow_group_run_config": _set_flow_group_run_config,
    "set_flow_group_labels": _set_flow_group_labels,
    "set_flow_group_schedule": _set_flow_group_schedule,
    "delete_flow_group_schedule": _delete_flow_group_schedule,
    "delete_flow_group": _delete_flow_group,
    "set_project_name": _set_project_column("name"),
    "set_project_description": _set_project_column("description"),
    "delete_project": _delete_project,
    "update_tenant_name": _update_tenant_name,
    "update_tenant_slug": _update_tenant_slug,
    "update_tenant_settings": _update_tenant_settings,
    "delete_tenant": _delete_tenant,
    "delete_agent": _delete_agent,
    "delete_agent_config": _delete_agent_config,
    "update_agent_config": _update_agent_config,
    "mark_message_as_read": _mark_message(True),
    "mark_message_as_unread": _mark_message(False),
    "delete_message": _delete_message,
    "create_cloud_hook": _create_cloud_hook,
    "delete_cloud_hook": _delete_cloud_hook,
    "set_cloud_hook_active": _set_cloud_hook_active(True),
    "set_cloud_hook_inactive": _set_cloud_hook_active(False),
    "test_cloud_hook": _test_cloud_hook,
    "log_out": _log_out,
}
"""Mutation name -> what it does with the request's context and its ``input``."""
