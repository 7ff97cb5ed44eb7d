"""The action fields: Prefect Server's Python-layer mutations and Cloud's auth fields.

Each resolver takes the field's ``input``, calls the domain object that implements
it (``Registry``, ``Runs``, ``Records``) on the caller's tables, and shapes the
payload type. Reads of stored tables are generic and live in ``_reads``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from ariadne import MutationType, ObjectType, QueryType
from graphql import GraphQLResolveInfo

from .._version import __version__
from ._actions import ACTIONS
from ._context import RequestContext, context_of
from ._errors import APIError, UnauthenticatedError, require
from ._filters import apply_read_arguments
from ._queue import submitted_by_agent
from ._scheduler import Scheduler
from ._store import Row

__all__ = ["bindables"]

Input = dict[str, Any]
Action = Callable[[RequestContext, Input], Any]
LOCAL_USER_ID = "00000000-0000-4000-8000-0000000000a1"


def _id(value: str) -> Row:
    return {"id": value}


def _success(value: bool) -> Row:
    return {"success": value}


def _set_states(table: str) -> Action:
    def action(ctx: RequestContext, input: Input) -> Row:
        states = []
        for s in input["states"]:
            states.append(ctx.runs.set_state(table, s[f"{table}_id"], s["state"], s.get("version")))
            if table == "flow_run" and ctx.agent_id and submitted_by_agent(s["state"]):
                ctx.queue.assign_agent(s["flow_run_id"], ctx.agent_id)
        return {"states": states}

    return action


def _create_flow(ctx: RequestContext, input: Input, *, compressed: bool) -> Row:
    create = (
        ctx.registry.create_flow_from_compressed_string if compressed else ctx.registry.create_flow
    )
    flow_id = create(
        input["serialized_flow"],
        project_id=input["project_id"],
        version_group_id=input.get("version_group_id"),
        set_schedule_active=input.get("set_schedule_active"),
        description=input.get("description"),
        idempotency_key=input.get("idempotency_key"),
    )
    scheduler = Scheduler(ctx.store)
    scheduler.replace_older_versions(flow_id)
    scheduler.schedule_flow_runs(flow_id)
    return _id(flow_id)


def _set_schedule_active(ctx: RequestContext, input: Input, active: bool) -> Row:
    ctx.registry.set_schedule_active(input["flow_id"], active)
    scheduler = Scheduler(ctx.store)
    if active:
        scheduler.schedule_flow_runs(input["flow_id"])
    else:
        scheduler.unschedule(input["flow_id"])
    return _success(True)


def _create_flow_run(ctx: RequestContext, input: Input) -> Row:
    return _id(ctx.runs.create_flow_run(**input))


def _task_run_info(ctx: RequestContext, input: Input) -> Row:
    return ctx.runs.get_or_create_task_run(
        input["flow_run_id"], input["task_id"], input.get("map_index")
    )


def _switch_tenant(ctx: RequestContext, input: Input) -> Row:
    """Cloud's tenant login: a USER API token (or a tenant access token) gets tokens
    for a tenant; an API key is already bound to one and may not."""
    if ctx.principal is None or ctx.principal.kind not in ("open", "api_token", "access_token"):
        raise UnauthenticatedError
    tenant_id = input["tenant_id"]
    require(ctx.store.for_tenant(None).get("tenant", tenant_id), "tenant", tenant_id)
    return ctx.credentials.issue(tenant_id).payload()


MUTATIONS: dict[str, Action] = {
    "create_tenant": lambda ctx, i: _id(ctx.registry.create_tenant(i["name"], i["slug"])),
    "create_project": lambda ctx, i: _id(
        ctx.registry.create_project(
            ctx.tenant_id(i.get("tenant_id")), i["name"], i.get("description")
        )
    ),
    "create_flow": lambda ctx, i: _create_flow(ctx, i, compressed=False),
    "create_flow_from_compressed_string": lambda ctx, i: _create_flow(ctx, i, compressed=True),
    "register_tasks": lambda ctx, i: _success(
        ctx.registry.register_tasks(i["flow_id"], i["serialized_tasks"])
    ),
    "register_edges": lambda ctx, i: _success(
        ctx.registry.register_edges(i["flow_id"], i["serialized_edges"])
    ),
    "set_schedule_active": lambda ctx, i: _set_schedule_active(ctx, i, True),
    "set_schedule_inactive": lambda ctx, i: _set_schedule_active(ctx, i, False),
    "create_flow_run": _create_flow_run,
    "set_flow_run_states": _set_states("flow_run"),
    "set_task_run_states": _set_states("task_run"),
    "set_flow_run_name": lambda ctx, i: _success(
        ctx.runs.set_name("flow_run", i["flow_run_id"], i["name"])
    ),
    "set_task_run_name": lambda ctx, i: _success(
        ctx.runs.set_name("task_run", i["task_run_id"], i["name"])
    ),
    "update_flow_run_heartbeat": lambda ctx, i: _success(
        ctx.runs.heartbeat("flow_run", i["flow_run_id"])
    ),
    "update_task_run_heartbeat": lambda ctx, i: _success(
        ctx.runs.heartbeat("task_run", i["task_run_id"])
    ),
    "cancel_flow_run": lambda ctx, i: {"state": ctx.runs.cancel_flow_run(i["flow_run_id"])},
    "get_or_create_task_run": lambda ctx, i: _id(_task_run_info(ctx, i)["id"]),
    "get_or_create_task_run_info": _task_run_info,
    "write_run_logs": lambda ctx, i: _success(ctx.records.write_run_logs(i["logs"])),
    "set_secret": lambda ctx, i: _success(
        ctx.records.set_secret(ctx.tenant_id(), i["name"], i["value"])
    ),
    "update_task_tag_limit": lambda ctx, i: _id(
        ctx.records.update_task_tag_limit(ctx.tenant_id(), i["tag"], i["limit"])
    ),
    "delete_task_tag_limit": lambda ctx, i: _success(
        ctx.records.delete("task_tag_limit", i["limit_id"])
    ),
    "register_agent": lambda ctx, i: _id(
        ctx.queue.register_agent(
            ctx.tenant_id(i.get("tenant_id")),
            type=i.get("type"),
            name=i.get("name"),
            labels=i.get("labels"),
            agent_config_id=i.get("agent_config_id"),
            core_version=ctx.core_version,
        )
    ),
    "get_runs_in_queue": lambda ctx, i: {
        "flow_run_ids": ctx.queue.runs_in_queue(
            i["tenant_id"], i.get("before"), i.get("labels"), ctx.agent_id
        )
    },
    "create_agent_config": lambda ctx, i: _id(
        ctx.records.create_agent_config(
            ctx.tenant_id(i.get("tenant_id")), i.get("name"), i.get("settings")
        )
    ),
    "create_task_run_artifact": lambda ctx, i: _id(
        ctx.records.create_task_run_artifact(i["task_run_id"], i["kind"], i["data"])
    ),
    "update_task_run_artifact": lambda ctx, i: _success(
        ctx.records.update_task_run_artifact(i["task_run_artifact_id"], i["data"])
    ),
    "delete_task_run_artifact": lambda ctx, i: _success(
        ctx.records.delete("task_run_artifact", i["task_run_artifact_id"])
    ),
    "switch_tenant": _switch_tenant,
    "refresh_token": lambda ctx, i: ctx.credentials.refresh(
        ctx.bearer, i["access_token"]
    ).payload(),
}
"""Mutation name -> what it does with the request's context and its ``input``."""


def _mutation(action: Action) -> Callable[..., Any]:
    """Each mutation field is one transaction: its checks and writes happen together,
    and an error leaves nothing half done (``set_flow_run_states`` with one stale
    version among several changes no run)."""

    def resolve(_: Any, info: GraphQLResolveInfo, input: Input) -> Any:
        ctx = context_of(info)
        with ctx.store.transaction():
            return action(ctx, input)

    return resolve


def _auth_info(ctx: RequestContext) -> Row:
    """The caller's tenant. A USER API token has none: the 1.x client reads that as
    "an API token was given where an API key belongs"."""
    principal = ctx.principal
    if principal is not None and principal.kind == "api_token":
        return {"tenant_id": None}
    return {"tenant_id": ctx.tenant_id()}


def _users(ctx: RequestContext, arguments: dict[str, Any]) -> list[Row]:
    """One local user, a member of every tenant the caller sees."""
    memberships = [
        {"id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"membership:{t['id']}")), "tenant_id": t["id"]}
        for t in ctx.member_tenants.rows("tenant")
    ]
    default_tenant = ctx.tenant_id() if memberships else None
    default = next((m for m in memberships if m["tenant_id"] == default_tenant), None)
    user = {
        "id": LOCAL_USER_ID,
        "username": "local",
        "email": None,
        "default_membership_id": default["id"] if default else None,
        "default_membership": default,
        "memberships": memberships,
    }
    try:
        return apply_read_arguments([user], **arguments)
    except ValueError as err:
        raise APIError(str(err)) from err


def _api_info(ctx: RequestContext) -> Row:
    return {
        "backend": "CLOUD" if ctx.credentials.required else "SERVER",
        "mode": "normal",
        "version": f"prefect_gql-local-{__version__}",
        "core_version": None,
        "release_timestamp": None,
    }


def bindables() -> list[ObjectType]:
    mutation = MutationType()
    for name, action in {**MUTATIONS, **ACTIONS}.items():
        mutation.set_field(name, _mutation(action))
    query = QueryType()
    query.set_field(
        "get_task_run_info",
        lambda _, info, task_run_id: context_of(info).runs.task_run(task_run_id),
    )
    query.set_field("auth_info", lambda _, info: _auth_info(context_of(info)))
    query.set_field("user", lambda _, info, **arguments: _users(context_of(info), arguments))
    query.set_field("api", lambda _, info: _api_info(context_of(info)))
    query.set_field("hello", lambda _, info: "👋")
    membership = ObjectType("membership")
    membership.set_field(
        "tenant", lambda row, info: context_of(info).member_tenants.get("tenant", row["tenant_id"])
    )
    return [mutation, query, membership]
