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

from .._exceptions import (
    APIConnectionError,
    APIResponseError,
    APITimeoutError,
    ClientError,
    PrefectGQLError,
)
from .config import ClientConfig
from .limits import READ_LIMITS_EXTENSION, ReadLimits
from .redaction import redacted
from .requests import build_request, rest_url, to_json_bytes
from .responses import parse_graphql_response, parse_json_response
from .retry import is_retry_safe

__all__ = [
    "SEND_FAILURES",
    "Exchange",
    "Send",
    "Sleep",
    "graphql_exchange",
    "rest_exchange",
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
    body: dict[str, Any] = {"query": document, "variables": variables or {}}
    if operation_name:
        body["operationName"] = operation_name
    request = build_request(
        "POST",
        config.api_url,
        core_version=config.core_version,
        attached_headers=config.headers,
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
    content = None if method == "GET" else to_json_bytes(dict(params or {}), "the POST parameters")
    request = build_request(
        method,
        url,
        core_version=config.core_version,
        attached_headers=config.headers,
        content=content,
        params=params if method == "GET" else None,
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
