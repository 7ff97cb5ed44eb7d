"""The ASGI app: the executable schema over HTTP, with ariadne's ASGI handler.

``POST /``, ``/graphql`` and ``/graphql/alpha`` (Prefect's Apollo gateway is mounted
at ``/``, so all three reach it) take ``{"query", "variables", "operationName"}``;
``variables`` may also be a JSON-encoded string, as the Prefect clients send it.
A document that was executed is answered with HTTP 200, errors or not, as Apollo
does; one that could not be (bad JSON, unknown fields) with 400. ``GET /health``
answers ``{"status": "ok"}``.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import cache
from typing import Any

from ariadne.asgi import GraphQL
from ariadne.asgi.handlers import GraphQLHTTPHandler
from ariadne.exceptions import HttpBadRequestError
from ariadne.format_error import format_error
from graphql import GraphQLError, GraphQLResolveInfo, GraphQLSchema
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ._auth import INTROSPECTION_FIELDS, AuthConfig, Credentials, bearer_token
from ._context import RequestContext, context_of
from ._errors import APIError, UnauthenticatedError
from ._registry import DEFAULT_TENANT_ID, Registry
from ._schema import build_schema
from ._store import Store

__all__ = ["GRAPHQL_PATHS", "LocalAPI", "create_app"]

GRAPHQL_PATHS = ("/", "/graphql", "/graphql/", "/graphql/alpha")
LOGGER = "prefect_gql.server"
INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"


def _fault(error: BaseException | None) -> BaseException | None:
    """The exception behind an error that the server did not mean to answer with
    (None for API errors and for documents refused by validation)."""
    while isinstance(error, GraphQLError):
        error = error.original_error
    return None if isinstance(error, APIError) else error


class _OnlyFaults(logging.Filter):
    """ariadne logs every GraphQL error; only the server's own faults are worth it."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.exc_info is not None and _fault(record.exc_info[1]) is not None


logging.getLogger(LOGGER).addFilter(_OnlyFaults())


def _format_error(error: GraphQLError, debug: bool = False) -> dict[str, Any]:
    formatted: dict[str, Any] = format_error(error, debug)
    if _fault(error) is not None and error.path is not None:
        formatted.setdefault("extensions", {}).setdefault("code", INTERNAL_SERVER_ERROR)
    return formatted


class _PrefectHTTPHandler(GraphQLHTTPHandler):
    async def extract_data_from_json_request(self, request: Request) -> Any:
        data = await super().extract_data_from_json_request(request)
        if isinstance(data, dict) and isinstance(data.get("variables"), str):
            try:
                data["variables"] = json.loads(data["variables"])
            except ValueError as err:
                raise HttpBadRequestError("variables is a string but not JSON") from err
        return data

    async def create_json_response(
        self, request: Request, result: dict[str, Any], success: bool
    ) -> Response:
        executed = result.get("data") is not None or any(
            "path" in error for error in result.get("errors", [])
        )
        return JSONResponse(result, status_code=200 if executed else 400)


def _require_credentials(resolve: Any, obj: Any, info: GraphQLResolveInfo, **arguments: Any) -> Any:
    """Token mode: each root field needs a caller, one allowed to ask for that field."""
    if info.path.prev is None and info.field_name not in INTROSPECTION_FIELDS:
        ctx = context_of(info)
        if ctx.principal is None:
            if ctx.credentials.required:
                raise UnauthenticatedError
        elif not ctx.principal.may_call(info.field_name):
            raise UnauthenticatedError
    return resolve(obj, info, **arguments)


@cache
def _schema() -> GraphQLSchema:
    """Built once per process: resolvers keep no state, the request context does."""
    return build_schema()


class LocalAPI:
    """One server: its store, the credentials it accepts, and its ASGI ``app``."""

    def __init__(self, *, db: str = ":memory:", auth: AuthConfig | None = None) -> None:
        self.store = Store(db)
        self.credentials = Credentials(auth)
        registry = Registry(self.store)
        registry.seed()
        for tenant_id in sorted(self.credentials.api_key_tenants):
            registry.ensure_tenant(tenant_id)
        graphql = GraphQL(
            _schema(),
            context_value=self._context,
            http_handler=_PrefectHTTPHandler(middleware=[_require_credentials]),
            logger=LOGGER,
            error_formatter=_format_error,
        )
        routes = [Route(path, graphql, methods=["GET", "POST"]) for path in GRAPHQL_PATHS]
        routes.append(Route("/health", self._health, methods=["GET"]))
        self.app = Starlette(routes=routes, lifespan=self._lifespan)

    async def _context(self, request: Request, data: Any) -> RequestContext:
        principal = self.credentials.authenticate(
            request.headers.get("authorization"), request.headers.get("x-prefect-tenant-id")
        )
        return RequestContext(
            store=self.store.for_tenant(principal.scope if principal is not None else None),
            credentials=self.credentials,
            principal=principal,
            bearer=bearer_token(request.headers.get("authorization")),
        )

    async def _health(self, request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    @asynccontextmanager
    async def _lifespan(self, app: Starlette) -> AsyncIterator[None]:
        yield
        self.store.close()

    def _token_mode(self) -> Credentials:
        if not self.credentials.required:
            raise RuntimeError(
                "the server is in open mode: issue credentials with auth=AuthConfig()"
            )
        return self.credentials

    def issue_api_key(self, tenant_id: str = DEFAULT_TENANT_ID) -> str:
        """A new API key acting for ``tenant_id`` (created if it does not exist)."""
        tenant_id = str(uuid.UUID(tenant_id))
        key = self._token_mode().issue_api_key(tenant_id)
        Registry(self.store).ensure_tenant(tenant_id)
        return key

    def issue_api_token(self) -> str:
        """A new USER-scoped API token."""
        return self._token_mode().issue_api_token()


def create_app(*, db: str = ":memory:", auth: AuthConfig | None = None) -> Starlette:
    """The server as an ASGI app: ``db`` is an SQLite path or ``":memory:"``; ``auth``
    switches on token mode."""
    return LocalAPI(db=db, auth=auth).app
