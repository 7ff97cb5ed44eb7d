"""The ASGI app: the executable schema over HTTP, with ariadne's ASGI handler.

``POST /``, ``/graphql`` and ``/graphql/alpha`` (Prefect's Apollo gateway is mounted
at ``/``, so all three reach it) take ``{"query", "variables", "operationName"}``;
``variables`` may also be a JSON-encoded string, as the Prefect clients send it.
A document that was executed is answered with HTTP 200, errors or not, as Apollo
does; one that could not be (a malformed body, unknown fields, over a limit) with
400, or 413 for a body or document too large (``_limits``). GraphQL runs in at most
``MAX_CONCURRENT_EXECUTIONS`` worker threads, never on the event loop, so ``GET
/health`` (``{"status": "ok"}``) and other clients are answered while a request
executes.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import cache
from typing import Any

import anyio
import anyio.to_thread
from ariadne import graphql_sync
from ariadne.asgi import GraphQL
from ariadne.asgi.handlers import GraphQLHTTPHandler
from ariadne.format_error import format_error
from graphql import GraphQLError, GraphQLFieldResolver, GraphQLResolveInfo, GraphQLSchema
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ._auth import USER_ONLY_FIELDS, AuthConfig, Credentials, bearer_token
from ._context import RequestContext, context_of
from ._documents import Documents
from ._errors import APIError, ForbiddenError, UnauthenticatedError
from ._execution import ServerExecutionContext
from ._limits import (
    MAX_CONCURRENT_EXECUTIONS,
    RequestRefusedError,
    decode_operation,
    read_body,
)
from ._registry import DEFAULT_TENANT_ID, Registry
from ._schema import build_schema
from ._services import ServiceIntervals, Services
from ._store import Store

__all__ = ["GRAPHQL_PATHS", "LocalAPI", "create_app"]

GRAPHQL_PATHS = ("/", "/graphql", "/graphql/", "/graphql/alpha")
LOGGER = "prefect_gql.server"
INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
_log = logging.getLogger(LOGGER)


def _fault(error: BaseException | None) -> BaseException | None:
    """The exception behind an error that the server did not mean to answer with.

    None for API errors, and for errors without a path: those are the request's own
    (its body, its document, its variables), found before anything executed.
    """
    if isinstance(error, GraphQLError) and error.path is None:
        return None
    while isinstance(error, GraphQLError):
        error = error.original_error
    return None if isinstance(error, APIError) else error


class _ErrorLog(logging.LoggerAdapter[logging.Logger]):
    """Where ariadne reports each GraphQL error (with ``error(error, exc_info=error)``).

    The server's own faults are logged as errors, with their traceback; a client's
    mistake is one INFO line naming its code, never its text, which is the client's.
    """

    def error(self, msg: object, *args: object, **kwargs: Any) -> None:
        exc_info = kwargs.get("exc_info")
        error = exc_info if isinstance(exc_info, BaseException) else None
        if error is None or _fault(error) is not None:
            self.logger.error(msg, *args, **kwargs)
            return
        extensions = error.extensions if isinstance(error, GraphQLError) else None
        code = (extensions or {}).get("code", "GRAPHQL_VALIDATION_FAILED")
        self.logger.info("answered a request with an error: %s", code)


def _format_error(error: GraphQLError, debug: bool = False) -> dict[str, Any]:
    formatted: dict[str, Any] = format_error(error, debug)
    if _fault(error) is not None:
        formatted.setdefault("extensions", {}).setdefault("code", INTERNAL_SERVER_ERROR)
    return formatted


class _PrefectHTTPHandler(GraphQLHTTPHandler):
    """Reads the body within the limits on the event loop; decodes, executes and
    renders the answer in a bounded worker thread."""

    def __init__(self, api: LocalAPI) -> None:
        super().__init__()
        self._api = api
        self._workers = anyio.CapacityLimiter(MAX_CONCURRENT_EXECUTIONS)
        self._documents = Documents(_schema())

    async def graphql_http_server(self, request: Request) -> Response:
        try:
            body = await read_body(request)
        except RequestRefusedError as refused:
            return _refusal(refused)
        response: Response = await anyio.to_thread.run_sync(
            self._answer, request, body, limiter=self._workers
        )
        return response

    def _answer(self, request: Request, body: bytes) -> Response:
        try:
            data = decode_operation(body)
        except RequestRefusedError as refused:
            return _refusal(refused)
        assert self.schema is not None, "ariadne configures the handler with the schema"
        document = self._documents.for_request()
        _, result = graphql_sync(
            self.schema,
            data,
            context_value=self._api.request_context(request),
            query_parser=document.parse,
            query_validator=document.validate,
            debug=self.debug,
            logger=self.logger,
            error_formatter=self.error_formatter,
            execution_context_class=ServerExecutionContext,
        )
        executed = result.get("data") is not None or any(
            "path" in error for error in result.get("errors", [])
        )
        return JSONResponse(result, status_code=200 if executed else 400)


def _refusal(refused: RequestRefusedError) -> Response:
    _log.info("refused a request body: %s", refused.code)
    return JSONResponse(refused.body(), status_code=refused.status)


def _check_caller(info: GraphQLResolveInfo) -> None:
    """Token mode: each root field needs a caller, one allowed to ask for that field."""
    ctx = context_of(info)
    if ctx.principal is None:
        if ctx.credentials.required:
            raise UnauthenticatedError
    elif not ctx.principal.may_call(info.field_name):
        raise UnauthenticatedError
    elif info.field_name in USER_ONLY_FIELDS and not ctx.principal.is_user:
        raise ForbiddenError(f"{info.field_name} needs a USER API token")


def _guarded(resolve: GraphQLFieldResolver) -> GraphQLFieldResolver:
    def guarded(source: Any, info: GraphQLResolveInfo, **arguments: Any) -> Any:
        _check_caller(info)
        return resolve(source, info, **arguments)

    return guarded


def _require_credentials(schema: GraphQLSchema) -> None:
    """Checks the caller in each root field's resolver (introspection's ``__schema``,
    ``__type`` and ``__typename`` are not among them and need no caller); a resolver
    wrapped once, not a middleware called for every field of every row."""
    for root in (schema.query_type, schema.mutation_type):
        for field in root.fields.values() if root is not None else ():
            assert field.resolve is not None, "_schema serves every field"
            field.resolve = _guarded(field.resolve)


@cache
def _schema() -> GraphQLSchema:
    """Built once per process: resolvers keep no state, the request context does."""
    schema = build_schema()
    _require_credentials(schema)
    return schema


class LocalAPI:
    """One server: its store, the credentials it accepts, and its ASGI ``app``."""

    def __init__(
        self,
        *,
        db: str = ":memory:",
        auth: AuthConfig | None = None,
        services: ServiceIntervals | None = None,
    ) -> None:
        self.store = Store(db)
        self.services = Services(self.store, services)
        self.credentials = Credentials(auth)
        registry = Registry(self.store)
        registry.seed()
        for tenant_id in sorted(self.credentials.api_key_tenants):
            registry.ensure_tenant(tenant_id)
        graphql = GraphQL(
            _schema(),
            http_handler=_PrefectHTTPHandler(self),
            logger=_ErrorLog(_log),
            error_formatter=_format_error,
        )
        routes = [Route(path, graphql, methods=["GET", "POST"]) for path in GRAPHQL_PATHS]
        routes.append(Route("/health", self._health, methods=["GET"]))
        self.app = Starlette(routes=routes, lifespan=self._lifespan)

    def request_context(self, request: Request) -> RequestContext:
        """Who the request acts as, and the tables it sees (a worker thread calls this:
        finding a USER token's tenant reads the store)."""
        principal = self.credentials.authenticate(
            request.headers.get("authorization"), request.headers.get("x-prefect-tenant-id")
        )
        if principal is not None and principal.kind == "api_token":
            principal = principal.acting_for(self._users_default_tenant())
        return RequestContext(
            store=self.store.for_tenant(principal.scope if principal is not None else None),
            credentials=self.credentials,
            principal=principal,
            bearer=bearer_token(request.headers.get("authorization")),
            agent_id=request.headers.get("x-prefect-agent-id"),
            core_version=request.headers.get("x-prefect-core-version"),
        )

    def _users_default_tenant(self) -> str | None:
        """The tenant a USER API token acts for: the local user's default membership,
        the first tenant created (``default``)."""
        try:
            return Registry(self.store.for_tenant(None)).default_tenant_id()
        except APIError:
            return None

    async def _health(self, request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    @asynccontextmanager
    async def _lifespan(self, app: Starlette) -> AsyncIterator[None]:
        self.services.start()
        try:
            yield
        finally:
            await anyio.to_thread.run_sync(self.services.stop)
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


def create_app(
    *,
    db: str = ":memory:",
    auth: AuthConfig | None = None,
    services: ServiceIntervals | None = None,
) -> Starlette:
    """The server as an ASGI app: ``db`` is an SQLite path or ``":memory:"``; ``auth``
    switches on token mode; ``services`` sets the background services' intervals."""
    return LocalAPI(db=db, auth=auth, services=services).app
