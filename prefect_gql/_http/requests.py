"""Building requests, the one place it is done (API calls, token login and refresh). No I/O.

A request carries the core version header, the call's headers and the client's attached
headers; never ``Authorization``, which the auth flow (``auth.PrefectAuth``) sets.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
from pydantic import BaseModel
from pydantic_core import PydanticSerializationError, to_json

from .._config.credentials import credential_problem
from .._exceptions import InvalidInputError

__all__ = [
    "EXPLICIT_TOKEN_EXTENSION",
    "build_request",
    "rest_url",
    "to_json_bytes",
]

EXPLICIT_TOKEN_EXTENSION = "prefect_gql.explicit_token"  # noqa: S105 - a key name, no secret
"""The credential a request was given for itself (``token=``), for the auth flow to send."""


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
    method: str,
    url: str | httpx.URL,
    *,
    core_version: str,
    attached_headers: Mapping[str, str],
    content: bytes | None = None,
    params: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    token: str | None = None,
) -> httpx.Request:
    """One request: the core version header, then the call's headers, then the client's
    attached ones (they win, as in Prefect).

    ``token`` replaces the client's credential for this request only; it travels in the
    request's extensions to the auth flow, the one place that sets ``Authorization``.
    """
    all_headers = {"X-PREFECT-CORE-VERSION": core_version, **(headers or {})}
    all_headers.update(attached_headers)
    if content is not None:
        all_headers["Content-Type"] = "application/json"
    if token is not None:
        problem = credential_problem(token)
        if problem is not None:
            raise InvalidInputError(f"token is not a usable credential: {problem}")
    request = httpx.Request(
        method, url, content=content, params=_query_params(params), headers=all_headers
    )
    if token is not None:
        request.extensions[EXPLICIT_TOKEN_EXTENSION] = token
    return request


def rest_url(base: str, path: str) -> str:
    """Prefect's ``urljoin(server, path.lstrip("/")).rstrip("/")`` for a base URL."""
    return (base.rstrip("/") + "/" + path.lstrip("/")).rstrip("/")
