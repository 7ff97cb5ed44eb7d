"""Sending one request as a plan: building it, retrying it, mapping its answer. No I/O.

``graphql_exchange`` and ``rest_exchange`` are the only places requests are built;
retry decisions come from ``RetryPolicy`` and answers are mapped by ``_responses``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel
from pydantic_core import PydanticSerializationError, to_json

from ._auth import EXPLICIT_TOKEN_EXTENSION
from ._core import ClientConfig, Plan, Send, Sleep
from ._exceptions import (
    APIConnectionError,
    APIResponseError,
    APITimeoutError,
    ClientError,
    ConfigurationError,
    InvalidInputError,
)
from ._responses import parse_graphql_response, parse_json_response
from ._retry import is_retry_safe

__all__ = ["build_request", "graphql_exchange", "rest_exchange", "rest_url", "to_json_bytes"]

logger = logging.getLogger("prefect_gql")

T = TypeVar("T")


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
