"""The I/O-free core shared by ``Client`` and ``AsyncClient``.

Everything a client method does is written once, as a *plan*: a generator that
yields effects and receives their results. The sync and async clients are thin
drivers that perform three kinds of effect:

- ``Call``: run one generated operation (``Operations`` / ``AsyncOperations`` method);
- ``Send``: send one ``httpx.Request`` and return the ``httpx.Response``;
- ``Sleep``: wait before a retry.

A plan uses ``result = yield from call(Operations.method, ...)`` and gets the
method's typed result back. Failures of an effect are thrown into the plan at the
``yield``, so plans use ordinary ``try``/``except``.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, cast

import httpx
from prefect_gql_generated.client import Operations
from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticSerializationError, to_json

from ._auth import EXPLICIT_TOKEN_EXTENSION, TokenState
from ._exceptions import (
    APIConnectionError,
    APIResponseError,
    APITimeoutError,
    ClientError,
    ConfigurationError,
    InvalidInputError,
    PrefectGQLError,
)
from ._responses import parse_graphql_response, parse_json_response
from ._retry import RETRY_SAFE_MUTATIONS, RetryPolicy
from ._types import Backend

__all__ = [
    "EFFECT_FAILURES",
    "Call",
    "ClientConfig",
    "Effect",
    "Plan",
    "Send",
    "Sleep",
    "Stepper",
    "call",
    "graphql_exchange",
    "invalid_answer",
    "rest_exchange",
]

logger = logging.getLogger("prefect_gql")

T = TypeVar("T")
P = ParamSpec("P")


@dataclass(frozen=True, slots=True)
class Send:
    request: httpx.Request


@dataclass(frozen=True, slots=True)
class Sleep:
    seconds: float


@dataclass(frozen=True, slots=True)
class Call(Generic[T]):
    method: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]

    def __iter__(self) -> Generator[Effect, Any, T]:
        result = yield self
        return cast(T, result)


Effect = Send | Sleep | Call[Any]
Plan = Generator[Effect, Any, T]
EFFECT_FAILURES = (httpx.RequestError, PrefectGQLError, ValidationError)
"""What performing an effect may raise that its plan should see."""


def call(
    method: Callable[Concatenate[Operations, P], T], /, *args: P.args, **kwargs: P.kwargs
) -> Call[T]:
    """An effect running ``method`` of the generated operations client, typed as it is."""
    return Call(method.__name__, args, kwargs)


class Stepper(Generic[T]):
    """Advances a plan one effect at a time; the drivers only perform the effects.

    ``effect`` is the effect to perform next, or ``None`` once the plan returned
    ``result``. A failure listed in ``EFFECT_FAILURES`` goes back into the plan (a
    generated model refusing the answer becomes ``APIResponseError``); any other
    exception is a bug and propagates from the driver.
    """

    def __init__(self, plan: Plan[T]) -> None:
        self._plan = plan
        self.effect: Effect | None = None
        self.result: T | None = None
        self._advance(lambda: next(plan))

    def succeed(self, outcome: Any) -> None:
        self._advance(lambda: self._plan.send(outcome))

    def fail(self, error: Exception) -> None:
        if isinstance(error, ValidationError) and isinstance(self.effect, Call):
            failure: Exception = invalid_answer(self.effect.method, error)
            failure.__cause__ = error
        else:
            failure = error
        self._advance(lambda: self._plan.throw(failure))

    def _advance(self, step: Callable[[], Effect]) -> None:
        try:
            self.effect = step()
        except StopIteration as done:
            self.effect = None
            self.result = cast(T, done.value)


@dataclass(frozen=True)
class ClientConfig:
    """Everything a plan needs to know about its client; ``with_options`` copies it.

    ``tokens`` and ``headers`` are shared by the copies: logging in to a tenant or
    attaching a header on one is seen by all.
    """

    api_server: str
    backend: Backend
    tokens: TokenState
    home_dir: Path
    core_version: str
    retry: RetryPolicy
    timeout: httpx.Timeout
    headers: dict[str, str] = field(default_factory=dict)
    ui_endpoint: str = "http://localhost:8080"
    """The Prefect Server UI, for links (``server.ui.endpoint``)."""

    def with_changes(self, **changes: Any) -> ClientConfig:
        return replace(self, **changes)

    def base_headers(self) -> dict[str, str]:
        return {"X-PREFECT-CORE-VERSION": self.core_version, **self.headers}


_OPERATION_KEYWORD = re.compile(r"^\s*(?:#[^\n]*\n\s*)*(query|mutation|subscription|\{)")


def is_retry_safe(document: str, operation_name: str | None) -> bool:
    """Queries are safe to repeat; mutations only when listed as idempotent."""
    match = _OPERATION_KEYWORD.match(document)
    if match is None or match.group(1) in ("query", "{"):
        return True
    return operation_name in RETRY_SAFE_MUTATIONS


def to_json_bytes(value: Any, what: str) -> bytes:
    """JSON for the wire; models as their set fields by alias (as ariadne-codegen does)."""
    try:
        return to_json(_dump_models(value))
    except PydanticSerializationError as err:
        raise InvalidInputError(f"{what} is not JSON-serializable: {err}") from err


def _dump_models(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True, exclude_unset=True)
    if isinstance(value, Mapping):
        return {key: _dump_models(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_dump_models(item) for item in value]
    return value


def build_request(
    config: ClientConfig,
    method: str,
    url: str,
    *,
    content: bytes | None = None,
    params: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    token: str | None = None,
) -> httpx.Request:
    if token is None and config.backend == "cloud" and config.tokens.bearer() is None:
        raise ConfigurationError(
            "Prefect Cloud needs credentials: pass api_key=... (or a 0.12 api_token=...), "
            "set PREFECT__CLOUD__API_KEY, or use backend='server' for a Prefect Server"
        )
    all_headers = {**config.base_headers(), **(headers or {})}
    if content is not None:
        all_headers["Content-Type"] = "application/json"
    if token is not None:
        all_headers["Authorization"] = f"Bearer {token}"
    request = httpx.Request(
        method,
        url,
        content=content,
        params={key: str(value) for key, value in (params or {}).items()} or None,
        headers=all_headers,
    )
    request.extensions["timeout"] = config.timeout.as_dict()
    if token is not None:
        request.extensions[EXPLICIT_TOKEN_EXTENSION] = True
    return request


def rest_url(base: str, path: str) -> str:
    """Prefect's ``urljoin(server, path.lstrip("/")).rstrip("/")`` for a base URL."""
    return (base.rstrip("/") + "/" + path.lstrip("/")).rstrip("/")


def graphql_exchange(
    config: ClientConfig,
    document: str,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
    *,
    headers: Mapping[str, str] | None = None,
    token: str | None = None,
) -> Plan[dict[str, Any]]:
    """Send one GraphQL document (retrying as allowed) and return its ``data``."""
    body: dict[str, Any] = {"query": document, "variables": variables or {}}
    if operation_name:
        body["operationName"] = operation_name
    request = build_request(
        config,
        "POST",
        config.api_server,
        content=to_json_bytes(body, "the GraphQL variables"),
        headers=headers,
        token=token,
    )
    return (
        yield from _send_with_retries(
            config,
            request,
            operation_name,
            retry_safe=is_retry_safe(document, operation_name),
            parse=lambda response: parse_graphql_response(response, operation_name),
        )
    )


def rest_exchange(
    config: ClientConfig,
    method: str,
    path: str,
    *,
    server: str | None = None,
    headers: Mapping[str, str] | None = None,
    params: Mapping[str, Any] | None = None,
    token: str | None = None,
) -> Plan[Any]:
    """A REST call: GET sends ``params`` as the query string, POST as a JSON body."""
    url = rest_url(server or config.api_server, path)
    if method == "GET":
        request = build_request(config, method, url, params=params, headers=headers, token=token)
    else:
        request = build_request(
            config,
            method,
            url,
            content=to_json_bytes(dict(params or {}), "the POST parameters"),
            headers=headers,
            token=token,
        )
    return (
        yield from _send_with_retries(
            config, request, None, retry_safe=method == "GET", parse=parse_json_response
        )
    )


def _send_with_retries(
    config: ClientConfig,
    request: httpx.Request,
    operation_name: str | None,
    *,
    retry_safe: bool,
    parse: Callable[[httpx.Response], T],
) -> Plan[T]:
    label = operation_name or "-"
    retry_number = 0
    while True:
        retry_number += 1
        started = time.monotonic()
        try:
            response = yield Send(request)
        except httpx.TransportError as err:
            delay = config.retry.delay_after_error(err, retry_number, retry_safe=retry_safe)
            _log_attempt(request, label, type(err).__name__, started, delay)
            if delay is None:
                raise _connection_error(err, request) from err
            yield Sleep(delay)
            continue
        except httpx.RequestError as err:
            raise APIResponseError(
                f"{request.method} {request.url.copy_with(query=None)}: "
                f"unusable answer ({type(err).__name__})"
            ) from err
        delay = config.retry.delay_after_response(response, retry_number, retry_safe=retry_safe)
        _log_attempt(request, label, response.status_code, started, delay)
        if delay is not None:
            yield Sleep(delay)
            continue
        try:
            return parse(response)
        except ClientError as err:
            delay = config.retry.delay_after_graphql_error(
                err.code, retry_number, retry_safe=retry_safe
            )
            if delay is None:
                raise
            logger.debug("%s: %s, retrying in %.2fs", label, err.code, delay)
            yield Sleep(delay)


def _log_attempt(
    request: httpx.Request, label: str, outcome: object, started: float, delay: float | None
) -> None:
    if not logger.isEnabledFor(logging.DEBUG):
        return
    retry = f", retrying in {delay:.2f}s" if delay is not None else ""
    logger.debug(
        "%s %s %s -> %s in %.1fms%s",
        request.method,
        request.url.copy_with(query=None),
        label,
        outcome,
        (time.monotonic() - started) * 1000,
        retry,
    )


def _connection_error(err: httpx.TransportError, request: httpx.Request) -> APIConnectionError:
    where = f"{request.method} {request.url.copy_with(query=None)}"
    if isinstance(err, httpx.TimeoutException):
        return APITimeoutError(f"{where} timed out ({type(err).__name__})")
    return APIConnectionError(f"{where} failed: {type(err).__name__}: {err}")


def invalid_answer(method: str, err: ValidationError) -> APIResponseError:
    """An answer whose shape does not match the generated model of ``method``."""
    problems = err.errors(include_input=False, include_url=False)
    first = problems[0] if problems else None
    where = ".".join(str(part) for part in first["loc"]) if first else "?"
    return APIResponseError(
        f"the answer to {method} does not match the schema: {len(problems)} problem(s), "
        f"first at {where}: {first['msg'] if first else 'unknown'}"
    )
