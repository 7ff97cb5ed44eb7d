"""One request's exchange as a flow: building it, retrying it, mapping its answer. No I/O.

Like ``httpx.Auth.auth_flow``, an exchange is a generator: it yields ``Send`` (send this
request, give me the response) and ``Sleep`` (wait before a retry), has a failure to send
thrown in at its ``yield``, and returns the mapped answer. The transports of both clients
(``_async/transport.py`` and the ``_sync`` one generated from it) perform the effects.
Retry decisions come from ``RetryPolicy``, answers are mapped by ``responses``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel
from pydantic_core import PydanticSerializationError, to_json

from .._exceptions import (
    APIConnectionError,
    APIResponseError,
    APITimeoutError,
    ClientError,
    InvalidInputError,
    PrefectGQLError,
)
from .auth import EXPLICIT_TOKEN_EXTENSION, credential_problem
from .config import ClientConfig
from .limits import READ_LIMITS_EXTENSION, ReadLimits
from .redaction import redacted
from .responses import parse_graphql_response, parse_json_response
from .retry import is_retry_safe

__all__ = [
    "SEND_FAILURES",
    "Exchange",
    "Send",
    "Sleep",
    "build_request",
    "graphql_exchange",
    "rest_exchange",
    "rest_url",
    "to_json_bytes",
]

logger = logging.getLogger("prefect_gql")

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Send:
    """Send this request; the exchange resumes with its ``httpx.Response``."""

    request: httpx.Request


@dataclass(frozen=True, slots=True)
class Sleep:
    """Wait this long before the next attempt."""

    seconds: float


Exchange = Generator[Send | Sleep, Any, T]
"""An exchange flow returning ``T``; see the module docstring."""
SEND_FAILURES = (httpx.RequestError, PrefectGQLError)
"""What sending may raise that the exchange decides about (retry, or map to our error)."""


def to_json_bytes(value: Any, what: str) -> bytes:
    """JSON for the wire; models as their set fields by alias (as ariadne-codegen does)."""
    return _to_json(_dump_models(value), what)


def _to_json(value: Any, what: str) -> bytes:
    try:
        return to_json(value)
    except PydanticSerializationError as err:
        raise InvalidInputError(f"{what} is not JSON-serializable: {err}") from err


_JSON_SCALARS = (str, int, float, bool, type(None))


def _dump_models(value: Any) -> Any:
    if type(value) in _JSON_SCALARS:
        return value
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True, exclude_unset=True)
    if isinstance(value, Mapping):
        return {key: _dump_models(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_dump_models(item) for item in value]
    return value


def _query_params(params: Mapping[str, Any] | None) -> httpx.QueryParams | None:
    """Prefect's (requests') rules: ``None`` values dropped, lists sent as repeated keys."""
    pairs: list[tuple[str, str | int | float | bool | None]] = []
    for key, value in (params or {}).items():
        if value is None:
            continue
        values = value if isinstance(value, list | tuple) else [value]
        pairs.extend((key, str(item)) for item in values if item is not None)
    return httpx.QueryParams(pairs) if pairs else None


def build_request(
    config: ClientConfig,
    method: str,
    url: str | httpx.URL,
    *,
    content: bytes | None = None,
    params: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    token: str | None = None,
) -> httpx.Request:
    """One request: the core version header, then the call's headers, then the client's
    attached ones (they win, as in Prefect); ``token`` replaces the client's credential."""
    all_headers = {"X-PREFECT-CORE-VERSION": config.core_version, **(headers or {})}
    all_headers.update(config.headers)
    if content is not None:
        all_headers["Content-Type"] = "application/json"
    if token is not None:
        problem = credential_problem(token)
        if problem is not None:
            raise InvalidInputError(f"token is not a usable credential: {problem}")
        all_headers["Authorization"] = f"Bearer {token}"
    request = httpx.Request(
        method, url, content=content, params=_query_params(params), headers=all_headers
    )
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
    retry_api_errors: bool = True,
) -> Exchange[dict[str, Any]]:
    """Send one GraphQL document (retrying as allowed) and return its ``data``."""
    body: dict[str, Any] = {"query": document, "variables": _dump_models(variables or {})}
    if operation_name:
        body["operationName"] = operation_name
    request = build_request(
        config,
        "POST",
        config.api_url,
        content=_to_json(body, "the GraphQL variables"),
        headers=headers,
        token=token,
    )
    return (
        yield from _send_with_retries(
            config,
            request,
            operation_name,
            retry_safe=is_retry_safe(document, operation_name),
            retry_api_errors=retry_api_errors,
            parse=lambda response: parse_graphql_response(response, operation_name),
            token=token,
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
) -> Exchange[Any]:
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
            config,
            request,
            None,
            retry_safe=method == "GET",
            parse=parse_json_response,
            token=token,
        )
    )


def _longest_phase(timeout: httpx.Timeout) -> float | None:
    phases = [t for t in (timeout.connect, timeout.read, timeout.write, timeout.pool) if t]
    return max(phases) if phases else None


def _bound_attempt(
    config: ClientConfig,
    request: httpx.Request,
    now: float,
    deadline: float | None,
    longest_phase: float | None,
) -> None:
    """Limit one attempt: its timeouts to what the request has left, its body to a deadline
    (the longest timeout phase, or what the request has left) and to the size cap."""
    left = deadline - now if deadline is not None else None
    bounds = [bound for bound in (longest_phase, left) if bound is not None]
    timeouts = config.timeout.as_dict()
    if left is not None and (
        longest_phase is None or left < longest_phase or None in timeouts.values()
    ):
        timeouts = {
            phase: left if value is None else min(value, left) for phase, value in timeouts.items()
        }
    request.extensions["timeout"] = timeouts
    request.extensions[READ_LIMITS_EXTENSION] = ReadLimits(
        deadline=now + min(bounds) if bounds else float("inf"),
        max_bytes=config.max_response_bytes,
    )


def _send_with_retries(
    config: ClientConfig,
    request: httpx.Request,
    operation_name: str | None,
    *,
    retry_safe: bool,
    parse: Callable[[httpx.Response], T],
    token: str | None,
    retry_api_errors: bool = True,
) -> Exchange[T]:
    """Send, retrying as ``config.retry`` decides, within the call's deadline.

    Every error raised from here has the client's credentials (and ``token``) redacted
    from its text, including text a server echoed back.
    """
    label = operation_name or "-"
    retry_number = 0
    deadline = time.monotonic() + config.deadline if config.deadline is not None else None
    longest_phase = _longest_phase(config.timeout)
    while True:
        retry_number += 1
        started = time.monotonic()
        if deadline is not None and started >= deadline:
            raise _deadline_error(config, request)
        _bound_attempt(config, request, started, deadline, longest_phase)
        try:
            response = yield Send(request)
        except httpx.TransportError as err:
            delay = _within_deadline(
                deadline, config.retry.delay_after_error(err, retry_number, retry_safe=retry_safe)
            )
            _log_attempt(request, label, type(err).__name__, started, delay)
            if delay is None:
                raise redacted(_connection_error(err, request), config, token) from err
            yield Sleep(delay)
            continue
        except httpx.RequestError as err:
            raise APIResponseError(
                f"{request.method} {request.url.copy_with(query=None)}: "
                f"unusable answer ({type(err).__name__})"
            ) from err
        except PrefectGQLError as err:
            raise redacted(err, config, token) from err.__cause__
        delay = _within_deadline(
            deadline,
            config.retry.delay_after_response(response, retry_number, retry_safe=retry_safe),
        )
        _log_attempt(request, label, response.status_code, started, delay)
        if delay is not None:
            yield Sleep(delay)
            continue
        try:
            return parse(response)
        except ClientError as err:
            delay = (
                _within_deadline(
                    deadline,
                    config.retry.delay_after_graphql_error(
                        err.code, retry_number, retry_safe=retry_safe
                    ),
                )
                if retry_api_errors
                else None
            )
            if delay is None:
                raise redacted(err, config, token) from None
            logger.debug("%s: %s, retrying in %.2fs", label, err.code, delay)
            yield Sleep(delay)
        except PrefectGQLError as err:
            raise redacted(err, config, token) from err.__cause__


def _within_deadline(deadline: float | None, delay: float | None) -> float | None:
    """A retry delay, or ``None`` when waiting it would end past the request's deadline."""
    if delay is None or deadline is None:
        return delay
    return delay if time.monotonic() + delay < deadline else None


def _deadline_error(config: ClientConfig, request: httpx.Request) -> APITimeoutError:
    return APITimeoutError(
        f"{request.method} {request.url.copy_with(query=None)}: no answer within the "
        f"request's deadline of {config.deadline:g} s, retries included (deadline=...)"
    )


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
