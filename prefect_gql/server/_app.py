"""The ASGI app: the project's ``schema/`` made executable with ariadne, over HTTP.

``POST /``, ``/graphql`` and ``/graphql/alpha`` take ``{"query", "variables",
"operationName"}`` (``variables`` may be a JSON-encoded string, as the Prefect clients
send it); ``GET /health`` answers ``{"status": "ok"}``. Unknown fields are refused by
schema validation; tables and relationships the store does not keep read as empty.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from ariadne import MutationType, ObjectType, QueryType, ScalarType, graphql, make_executable_schema
from graphql import GraphQLEnumType, GraphQLError, GraphQLResolveInfo, GraphQLSchema
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ._api import APIError, PrefectAPI
from ._auth import AuthConfig, Principal, TokenRegistry
from ._filters import Related, apply_read_arguments
from ._store import Row, Store

__all__ = ["create_app", "load_sdl"]

logger = logging.getLogger("prefect_gql.server")

TABLES = (
    "tenant", "project", "flow", "flow_group", "task", "edge", "flow_run", "task_run",
    "flow_run_state", "task_run_state", "log", "agent", "agent_config", "task_run_artifact",
)  # fmt: skip
"""Hasura tables the store keeps; each gets a ``<table>`` read, and ``<table>_by_pk``
unless it has no primary key in the schema (``log``)."""
WITHOUT_PRIMARY_KEY = frozenset({"log"})

RELATIONS: dict[str, dict[str, tuple[str, str | None, str | None]]] = {
    "tenant": {"projects": ("project", None, "tenant_id"), "flows": ("flow", None, "tenant_id")},
    "project": {"tenant": ("tenant", "tenant_id", None), "flows": ("flow", None, "project_id")},
    "flow": {
        "project": ("project", "project_id", None),
        "tenant": ("tenant", "tenant_id", None),
        "flow_group": ("flow_group", "flow_group_id", None),
        "tasks": ("task", None, "flow_id"),
        "edges": ("edge", None, "flow_id"),
        "flow_runs": ("flow_run", None, "flow_id"),
    },
    "flow_group": {
        "flows": ("flow", None, "flow_group_id"),
        "tenant": ("tenant", "tenant_id", None),
    },
    "task": {"flow": ("flow", "flow_id", None), "task_runs": ("task_run", None, "task_id")},
    "edge": {
        "flow": ("flow", "flow_id", None),
        "upstream_task": ("task", "upstream_task_id", None),
        "downstream_task": ("task", "downstream_task_id", None),
    },
    "flow_run": {
        "flow": ("flow", "flow_id", None),
        "tenant": ("tenant", "tenant_id", None),
        "agent": ("agent", "agent_id", None),
        "task_runs": ("task_run", None, "flow_run_id"),
        "logs": ("log", None, "flow_run_id"),
        "states": ("flow_run_state", None, "flow_run_id"),
    },
    "task_run": {
        "task": ("task", "task_id", None),
        "flow_run": ("flow_run", "flow_run_id", None),
        "tenant": ("tenant", "tenant_id", None),
        "logs": ("log", None, "task_run_id"),
        "states": ("task_run_state", None, "task_run_id"),
    },
    "flow_run_state": {"flow_run": ("flow_run", "flow_run_id", None)},
    "task_run_state": {"task_run": ("task_run", "task_run_id", None)},
    "agent": {"agent_config": ("agent_config", "agent_config_id", None)},
    "agent_config": {"agents": ("agent", None, "agent_config_id")},
    "task_run_artifact": {"task_run": ("task_run", "task_run_id", None)},
}
"""``type.field -> (table, column holding the other row's id, column of theirs holding ours)``."""

UNAUTHENTICATED = "UNAUTHENTICATED"
GRAPHQL_LOGGER = "prefect_gql.server.graphql"


class _OnlyUnexpectedErrors(logging.Filter):
    """API errors are answers, not server faults: log only errors the API did not raise."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        original = getattr(error, "original_error", None)
        return not isinstance(original, APIError | GraphQLError) and original is not None


logging.getLogger(GRAPHQL_LOGGER).addFilter(_OnlyUnexpectedErrors())


def load_sdl() -> str:
    """The schema: package data when installed from a wheel, else the repository's schema/."""
    packaged = resources.files("prefect_gql.server").joinpath("schema.graphql")
    if packaged.is_file():
        return packaged.read_text()
    in_repository = Path(__file__).resolve().parents[2] / "schema" / "prefect.graphql"
    if in_repository.is_file():
        return in_repository.read_text()
    raise FileNotFoundError(
        "prefect_gql.server found no schema: neither package data nor schema/prefect.graphql"
    )


def _parse_uuid(value: Any) -> str:
    import uuid  # noqa: PLC0415 - keeps the module namespace to what the app exports

    try:
        return str(uuid.UUID(str(value)))
    except ValueError as err:
        raise ValueError(f"invalid UUID {value!r}") from err


def _parse_datetime(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("a timestamp must be an ISO-8601 string")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as err:
        raise ValueError(f"invalid timestamp {value!r}") from err
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).isoformat(timespec="microseconds")


def _scalars() -> list[ScalarType]:
    scalars = []
    for name, parse in (
        ("UUID", _parse_uuid), ("uuid", _parse_uuid),
        ("DateTime", _parse_datetime), ("timestamptz", _parse_datetime),
    ):  # fmt: skip
        scalar = ScalarType(name, value_parser=parse)
        scalars.append(scalar)
    return scalars


def _api_error(err: APIError) -> GraphQLError:
    return GraphQLError(err.message, extensions={"code": err.code})


class _Resolvers:
    """Binds the schema's fields to ``PrefectAPI`` and the store."""

    def __init__(self, api: PrefectAPI, tokens: TokenRegistry | None) -> None:
        self.api = api
        self.store = api.store
        self.tokens = tokens

    # -- reads ---------------------------------------------------------------------------

    def related(self, table: str) -> Related:
        def follow(row: Row, name: str) -> tuple[list[Row], Related] | None:
            relation = RELATIONS.get(table, {}).get(name)
            if relation is None:
                return None
            target, local, remote = relation
            return self._related_rows(row, target, local, remote), self.related(target)

        return follow

    def _related_rows(
        self, row: Row, target: str, local: str | None, remote: str | None
    ) -> list[Row]:
        if local is not None:
            other = self.store.get(target, row.get(local)) if row.get(local) else None
            return [other] if other else []
        return self.store.rows(target, lambda other: other.get(remote or "") == row["id"])

    def visible(self, info: GraphQLResolveInfo, table: str, row: Row | None) -> bool:
        """In token mode a tenant-bound caller sees only its tenant's rows (and tenant)."""
        if row is None or self.tokens is None:
            return row is not None
        tenant_id = self.principal(info).tenant_id
        if tenant_id is None:
            return True
        owner = row["id"] if table == "tenant" else row.get("tenant_id")
        return owner is None or owner == tenant_id

    def table_reader(self, table: str) -> Callable[..., list[Row]]:
        def read(_: Any, info: GraphQLResolveInfo, **arguments: Any) -> list[Row]:
            rows = self.store.rows(table, lambda row: self.visible(info, table, row))
            return self._read(rows, table, arguments)

        return read

    def _read(self, rows: list[Row], table: str, arguments: Mapping[str, Any]) -> list[Row]:
        try:
            return apply_read_arguments(
                rows,
                where=arguments.get("where"),
                order_by=arguments.get("order_by"),
                limit=arguments.get("limit"),
                offset=arguments.get("offset"),
                related=self.related(table),
            )
        except ValueError as err:
            raise GraphQLError(str(err)) from err

    def by_pk_reader(self, table: str) -> Callable[..., Row | None]:
        def read(_: Any, info: GraphQLResolveInfo, id: str) -> Row | None:
            row = self.store.get(table, id)
            return row if self.visible(info, table, row) else None

        return read

    def relation_reader(self, table: str, name: str) -> Callable[..., Any]:
        target, local, remote = RELATIONS[table][name]

        def read(row: Row, info: GraphQLResolveInfo, **arguments: Any) -> Any:
            rows = self._related_rows(row, target, local, remote)
            if local is not None:
                return rows[0] if rows else None
            return self._read(rows, target, arguments)

        return read

    # -- who is asking ------------------------------------------------------------------

    @staticmethod
    def principal(info: GraphQLResolveInfo) -> Principal:
        principal: Principal = info.context["principal"]
        return principal

    def tenant_of(self, info: GraphQLResolveInfo, given: str | None = None) -> str:
        return given or self.principal(info).tenant_id or self.api.default_tenant_id()


def _bind(resolvers: _Resolvers) -> list[Any]:
    query, mutation = QueryType(), MutationType()
    api, store = resolvers.api, resolvers.store
    objects = {name: ObjectType(name) for name in RELATIONS}

    for table in TABLES:
        query.set_field(table, resolvers.table_reader(table))
        if table not in WITHOUT_PRIMARY_KEY:
            query.set_field(f"{table}_by_pk", resolvers.by_pk_reader(table))
    for table, relations in RELATIONS.items():
        for name in relations:
            objects[table].set_field(name, resolvers.relation_reader(table, name))

    def guard(resolve: Callable[..., Any]) -> Callable[..., Any]:
        def run(obj: Any, info: GraphQLResolveInfo, **arguments: Any) -> Any:
            try:
                return resolve(obj, info, **arguments)
            except APIError as err:
                raise _api_error(err) from err

        return run

    def payload(**values: Any) -> dict[str, Any]:
        return values

    mutations: dict[str, Callable[..., Any]] = {
        "create_tenant": lambda _, info, input: payload(
            id=api.create_tenant(input["name"], input["slug"])
        ),
        "create_project": lambda _, info, input: payload(
            id=api.create_project(
                resolvers.tenant_of(info, input.get("tenant_id")),
                input["name"],
                input.get("description"),
            )
        ),
        "delete_project": lambda _, info, input: payload(
            success=api.delete_project(input["project_id"])
        ),
        "create_flow": lambda _, info, input: payload(id=api.create_flow(**input)),
        "create_flow_from_compressed_string": lambda _, info, input: payload(
            id=api.create_flow_from_compressed_string(**input)
        ),
        "register_tasks": lambda _, info, input: payload(
            success=api.register_tasks(input["flow_id"], _list(input["serialized_tasks"]))
        ),
        "register_edges": lambda _, info, input: payload(
            success=api.register_edges(input["flow_id"], _list(input["serialized_edges"]))
        ),
        "set_schedule_active": lambda _, info, input: payload(
            success=api.set_schedule_active(input["flow_id"], True)
        ),
        "set_schedule_inactive": lambda _, info, input: payload(
            success=api.set_schedule_active(input["flow_id"], False)
        ),
        "create_flow_run": lambda _, info, input: payload(id=api.create_flow_run(**input)),
        "set_flow_run_states": lambda _, info, input: payload(
            states=[
                api.set_run_state("flow_run", s["flow_run_id"], s.get("version"), s["state"])
                for s in input["states"]
            ]
        ),
        "set_task_run_states": lambda _, info, input: payload(
            states=[
                api.set_run_state("task_run", s["task_run_id"], s.get("version"), s["state"])
                for s in input["states"]
            ]
        ),
        "set_flow_run_name": lambda _, info, input: payload(
            success=api.set_run_name("flow_run", input["flow_run_id"], input["name"])
        ),
        "set_task_run_name": lambda _, info, input: payload(
            success=api.set_run_name("task_run", input["task_run_id"], input["name"])
        ),
        "update_flow_run_heartbeat": lambda _, info, input: payload(
            success=api.heartbeat("flow_run", input["flow_run_id"])
        ),
        "update_task_run_heartbeat": lambda _, info, input: payload(
            success=api.heartbeat("task_run", input["task_run_id"])
        ),
        "cancel_flow_run": lambda _, info, input: payload(
            state=api.cancel_flow_run(input["flow_run_id"])
        ),
        "get_or_create_task_run": lambda _, info, input: payload(
            id=api.get_or_create_task_run(
                input["flow_run_id"], input["task_id"], input.get("map_index")
            )["id"]
        ),
        "get_or_create_task_run_info": lambda _, info, input: api.get_or_create_task_run(
            input["flow_run_id"], input["task_id"], input.get("map_index")
        ),
        "write_run_logs": lambda _, info, input: payload(
            success=api.write_run_logs(resolvers.principal(info).tenant_id, input["logs"])
        ),
        "set_secret": lambda _, info, input: payload(
            success=api.set_secret(resolvers.tenant_of(info), input["name"], input["value"])
        ),
        "update_task_tag_limit": lambda _, info, input: payload(
            id=api.update_task_tag_limit(resolvers.tenant_of(info), input["tag"], input["limit"])
        ),
        "delete_task_tag_limit": lambda _, info, input: payload(
            success=api.delete_by_id("task_tag_limit", input["limit_id"])
        ),
        "register_agent": lambda _, info, input: payload(
            id=api.register_agent(
                resolvers.tenant_of(info, input.get("tenant_id")),
                type=input["type"],
                name=input.get("name"),
                labels=input.get("labels") or [],
                agent_config_id=input.get("agent_config_id"),
            )
        ),
        "create_agent_config": lambda _, info, input: payload(
            id=store.insert(
                "agent_config",
                {
                    "tenant_id": input["tenant_id"],
                    "name": input.get("name"),
                    "settings": input.get("settings") or {},
                },
            )["id"]
        ),
        "create_task_run_artifact": lambda _, info, input: payload(
            id=api.create_task_run_artifact(
                input["task_run_id"], input["kind"], input["data"], input.get("tenant_id")
            )
        ),
        "update_task_run_artifact": lambda _, info, input: payload(
            success=api.update_task_run_artifact(input["task_run_artifact_id"], input["data"])
        ),
        "delete_task_run_artifact": lambda _, info, input: payload(
            success=api.delete_by_id("task_run_artifact", input["task_run_artifact_id"])
        ),
        "switch_tenant": lambda _, info, input: _switch_tenant(resolvers, info, input["tenant_id"]),
        "refresh_token": lambda _, info, input: _refresh_token(
            resolvers, info, input["access_token"]
        ),
    }
    for name, resolve in mutations.items():
        mutation.set_field(name, guard(resolve))

    query.set_field("task_tag_limit", resolvers.table_reader("task_tag_limit"))
    query.set_field(
        "get_task_run_info",
        guard(lambda _, info, task_run_id: store.get("task_run", task_run_id)),
    )
    query.set_field("auth_info", lambda _, info: {"tenant_id": resolvers.principal(info).tenant_id})
    query.set_field("user", lambda _, info, **arguments: _users(resolvers, info))
    query.set_field("hello", lambda _, info: "👋")
    membership = ObjectType("membership")
    membership.set_field("tenant", lambda row, info: store.get("tenant", row["tenant_id"]))
    return [query, mutation, membership, *objects.values()]


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise APIError("expected a JSON list")
    return value


def _switch_tenant(
    resolvers: _Resolvers, info: GraphQLResolveInfo, tenant_id: str
) -> dict[str, Any]:
    if resolvers.tokens is None:
        raise APIError("switch_tenant needs the server's token mode")
    principal = resolvers.principal(info)
    if principal.kind not in ("api_token", "access_token"):
        raise APIError("switch_tenant needs a USER-scoped API token", UNAUTHENTICATED)
    if resolvers.store.get("tenant", tenant_id) is None:
        raise APIError(f"tenant {tenant_id} not found", "NOT_FOUND")
    return _token_payload(resolvers.tokens.issue(tenant_id))


def _refresh_token(
    resolvers: _Resolvers, info: GraphQLResolveInfo, access_token: str
) -> dict[str, Any]:
    bearer = info.context["bearer"]
    issued = resolvers.tokens.refresh(bearer, access_token) if resolvers.tokens and bearer else None
    if issued is None:
        raise APIError(UNAUTHENTICATED, UNAUTHENTICATED)
    return _token_payload(issued)


def _token_payload(issued: Any) -> dict[str, Any]:
    return {
        "access_token": issued.access_token,
        "refresh_token": issued.refresh_token,
        "expires_at": datetime.fromtimestamp(issued.expires_at, UTC).isoformat(),
    }


def _users(resolvers: _Resolvers, info: GraphQLResolveInfo) -> list[dict[str, Any]]:
    tenant_id = resolvers.principal(info).tenant_id or resolvers.api.default_tenant_id()
    membership = {"id": tenant_id, "tenant_id": tenant_id}
    return [
        {
            "id": tenant_id,
            "username": "local",
            "email": None,
            "default_membership": membership,
            "memberships": [membership],
        }
    ]


def build_schema(api: PrefectAPI, tokens: TokenRegistry | None) -> GraphQLSchema:
    schema = make_executable_schema(load_sdl(), *_scalars(), *_bind(_Resolvers(api, tokens)))
    for named_type in schema.type_map.values():
        # ariadne 1.1 replaces enum parse_value with a one-argument function that
        # graphql-core 3.2 calls with two: enum variables would fail. This schema
        # binds no Python enums, so graphql-core's own parse_value is the right one.
        if isinstance(named_type, GraphQLEnumType):
            vars(named_type).pop("parse_value", None)
    return schema


def _auth_middleware(
    resolve: Callable[..., Any], obj: Any, info: GraphQLResolveInfo, **arguments: Any
) -> Any:
    if (
        info.path.prev is None
        and info.context["auth_required"]
        and not info.field_name.startswith("__")
    ):
        allowed = info.context["principal"] is not None or (
            info.field_name == "refresh_token" and info.context["presents_refresh_token"]
        )
        if not allowed:
            raise GraphQLError(UNAUTHENTICATED, extensions={"code": UNAUTHENTICATED})
    return resolve(obj, info, **arguments)


def create_app(*, db: str = ":memory:", auth: AuthConfig | None = None) -> Starlette:
    """The server as an ASGI app (``uvicorn`` serves it; tests may use it directly)."""
    api = PrefectAPI(Store(db))
    tokens = TokenRegistry(auth) if auth is not None else None
    for tenant_id in sorted(set(auth.api_keys.values()) if auth else set()):
        api.ensure_tenant(tenant_id)
    schema = build_schema(api, tokens)

    async def graphql_endpoint(request: Request) -> JSONResponse:
        try:
            data = await request.json()
        except ValueError:
            return JSONResponse({"errors": [{"message": "the body must be JSON"}]}, status_code=400)
        if isinstance(data, dict) and isinstance(data.get("variables"), str):
            try:
                data["variables"] = json.loads(data["variables"])
            except ValueError:
                return JSONResponse(
                    {"errors": [{"message": "variables is not valid JSON"}]}, status_code=400
                )
        bearer = request.headers.get("authorization", "").removeprefix("Bearer ").strip() or None
        tenant_header = request.headers.get("x-prefect-tenant-id")
        if tokens is None:
            principal: Principal | None = Principal("open", tenant_header)
        else:
            principal = tokens.principal(bearer, tenant_header)
        context = {
            "principal": principal,
            "bearer": bearer,
            "auth_required": tokens is not None,
            "presents_refresh_token": bool(tokens and bearer and tokens.is_refresh_token(bearer)),
        }
        success, result = await graphql(
            schema,
            data,
            context_value=context,
            middleware=[_auth_middleware],
            logger=GRAPHQL_LOGGER,
        )
        return JSONResponse(result, status_code=200 if success else 400)

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    routes = [
        Route(path, graphql_endpoint, methods=["POST"])
        for path in ("/", "/graphql", "/graphql/alpha", "/graphql/")
    ]
    routes.append(Route("/health", health, methods=["GET"]))
    return Starlette(routes=routes)
