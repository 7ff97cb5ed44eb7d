"""Turn an HTTP response into GraphQL ``data`` or the right exception. No I/O here.

Every rule about what an answer means lives here, shared by both clients and the
auth flow: HTTP status -> ``APIStatusError`` (with the GraphQL message parsed out of a
400 body), unusable bodies -> ``APIResponseError``, GraphQL ``errors`` -> the
``ClientError`` subclass their ``extensions.code`` (or message) calls for.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx

from .._exceptions import (
    APIResponseError,
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ClientError,
    GraphQLErrorDetail,
    NotFoundError,
    VersionLockError,
)

__all__ = [
    "error_details",
    "graphql_error",
    "is_unauthenticated",
    "parse_graphql_response",
    "parse_json_response",
]

BODY_EXCERPT_LIMIT = 200
AUTH_ERROR_MARKERS = ("UNAUTHENTICATED", "Malformed Authorization header")
_CODE_TO_ERROR: dict[str, type[ClientError]] = {
    "UNAUTHENTICATED": AuthenticationError,
    "FORBIDDEN": AuthenticationError,
    "VERSION_LOCKING_ERROR": VersionLockError,
    "NOT_FOUND": NotFoundError,
}


def error_details(errors: object) -> list[GraphQLErrorDetail]:
    """The ``errors`` list of a response body, tolerant of malformed entries."""
    if not isinstance(errors, list):
        return [GraphQLErrorDetail(message=_short(repr(errors)))]
    details = []
    for entry in errors:
        if isinstance(entry, Mapping):
            message = entry.get("message")
            path = entry.get("path")
            extensions = entry.get("extensions")
            details.append(
                GraphQLErrorDetail(
                    message=message if isinstance(message, str) else _short(repr(message)),
                    path=[p for p in path if isinstance(p, str | int)]
                    if isinstance(path, list)
                    else None,
                    extensions=extensions if isinstance(extensions, Mapping) else None,
                )
            )
        else:
            details.append(GraphQLErrorDetail(message=_short(repr(entry))))
    return details


def is_unauthenticated(details: list[GraphQLErrorDetail]) -> bool:
    return any(
        detail.code == "UNAUTHENTICATED"
        or any(marker in detail.message for marker in AUTH_ERROR_MARKERS)
        for detail in details
    )


def graphql_error(
    details: list[GraphQLErrorDetail],
    data: Mapping[str, Any] | None,
    operation_name: str | None,
    status_code: int = 200,
) -> ClientError:
    """The exception for a response carrying GraphQL ``errors``."""
    error_class: type[ClientError] = BadRequestError if status_code == 400 else ClientError
    if is_unauthenticated(details):
        error_class = AuthenticationError
    else:
        for detail in details:
            if detail.code in _CODE_TO_ERROR:
                error_class = _CODE_TO_ERROR[detail.code]
                break
    prefix = f"{operation_name}: " if operation_name else ""
    message = prefix + "; ".join(detail.message for detail in details)
    return error_class(
        message,
        errors=details,
        data=data,
        operation_name=operation_name,
        status_code=status_code,
    )


def parse_json_response(response: httpx.Response) -> Any:
    """The decoded JSON body of a 2xx response; typed errors for anything else."""
    if not response.is_success:
        raise _status_error(response)
    if not response.content:
        return {}
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise APIResponseError(
            f"expected a JSON body from {_where(response)}, got "
            f"{response.headers.get('content-type', 'no content type')}: "
            f"{_short(response.text)!r}"
        ) from err


def parse_graphql_response(response: httpx.Response, operation_name: str | None) -> dict[str, Any]:
    """The ``data`` object of a GraphQL response; raises the matching error otherwise.

    GraphQL ``errors`` answered with HTTP 400 (a document refused before it ran) are a
    ``BadRequestError``, not a bare status error: the caller sees the API's messages.
    """
    if response.status_code == 400:
        refused = _json_or_none(response)
        if isinstance(refused, Mapping) and refused.get("errors"):
            raise graphql_error(error_details(refused["errors"]), None, operation_name, 400)
    body = parse_json_response(response)
    if type(body) is not dict and not isinstance(body, Mapping):
        raise APIResponseError(
            f"expected a JSON object from {_where(response)}, got {type(body).__name__}"
        )
    data = body.get("data")
    if body.get("errors"):
        raise graphql_error(
            error_details(body["errors"]),
            data if isinstance(data, Mapping) else None,
            operation_name,
        )
    if not isinstance(data, Mapping):
        raise APIResponseError(
            f"response from {_where(response)} has no 'data' object"
            + (f" for {operation_name}" if operation_name else "")
        )
    return dict(data)


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None


def _status_error(response: httpx.Response) -> APIStatusError:
    detail = ""
    body = _json_or_none(response)
    if isinstance(body, Mapping) and body.get("errors"):
        detail = "; ".join(d.message for d in error_details(body["errors"]))
    elif isinstance(body, Mapping) and isinstance(body.get("message"), str):
        detail = body["message"]
    text = f"HTTP {response.status_code} from {_where(response)}"
    if detail:
        text += f": {detail}"
    return APIStatusError(
        text, status_code=response.status_code, body_excerpt=_short(response.text)
    )


def _where(response: httpx.Response) -> str:
    request = response.request
    return f"{request.method} {request.url.copy_with(query=None)}"


def _short(text: str) -> str:
    text = " ".join(text.split())
    if len(text) > BODY_EXCERPT_LIMIT:
        return text[:BODY_EXCERPT_LIMIT] + "..."
    return text
