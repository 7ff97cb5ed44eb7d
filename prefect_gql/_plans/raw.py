"""The untyped escape hatches: any GraphQL document, REST calls, named operations."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._core import ClientConfig, ClientMethod, Plan
from .._exceptions import ClientError, InvalidInputError
from .._exchange import graphql_exchange, rest_exchange

__all__ = ["RawMethods"]


def graphql(
    config: ClientConfig,
    query: str,
    raise_on_error: bool = True,
    headers: Mapping[str, str] | None = None,
    variables: Mapping[str, Any] | None = None,
    token: str | None = None,
) -> Plan[dict[str, Any]]:
    """Run any GraphQL document: ``{"data": ...}``, plus ``"errors"`` if not raising."""
    if not isinstance(query, str) or not query.strip():
        raise InvalidInputError("query must be a non-empty GraphQL document string")
    try:
        data = yield from graphql_exchange(
            config, query, None, variables, headers=headers, token=token
        )
    except ClientError as err:
        if raise_on_error:
            raise
        return {
            "data": err.data,
            "errors": [
                {"message": e.message, "path": list(e.path), "extensions": e.extensions}
                for e in err.errors
            ],
        }
    return {"data": data}


def execute_operation(
    config: ClientConfig,
    query: str,
    operation_name: str,
    variables: Mapping[str, Any] | None = None,
    *,
    headers: Mapping[str, str] | None = None,
    token: str | None = None,
) -> Plan[dict[str, Any]]:
    """Send one named operation through this client and return its ``data``.

    What generated ``Operations`` / ``AsyncOperations`` classes call: the operation
    gets this client's auth, tenant, retries (mutations only when safe) and errors.
    """
    return (
        yield from graphql_exchange(
            config, query, operation_name, variables, headers=headers, token=token
        )
    )


def get(
    config: ClientConfig,
    path: str,
    server: str | None = None,
    headers: Mapping[str, str] | None = None,
    params: Mapping[str, Any] | None = None,
    token: str | None = None,
) -> Plan[Any]:
    """GET ``path`` on the API server (or ``server``) with this auth; the JSON answer."""
    return (
        yield from rest_exchange(
            config, "GET", path, server=server, headers=headers, params=params, token=token
        )
    )


def post(
    config: ClientConfig,
    path: str,
    server: str | None = None,
    headers: Mapping[str, str] | None = None,
    params: Mapping[str, Any] | None = None,
    token: str | None = None,
) -> Plan[Any]:
    """POST ``params`` as JSON to ``path`` on the API (or ``server``); the JSON answer."""
    return (
        yield from rest_exchange(
            config, "POST", path, server=server, headers=headers, params=params, token=token
        )
    )


class RawMethods:
    graphql = ClientMethod(graphql)
    execute_operation = ClientMethod(execute_operation)
    get = ClientMethod(get)
    post = ClientMethod(post)
