"""The untyped escape hatches: any GraphQL document, REST calls, named operations."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .._exceptions import ClientError, InvalidInputError
from .._http.exchange import graphql_exchange, rest_exchange
from .base import AsyncClientBase

if TYPE_CHECKING:
    from .._model.graphql_dsl import GraphQLResult

__all__ = ["RawMethods"]


def _bearer(token: str | None, api_key: str | None) -> str | None:
    """0.12's ``token`` and 1.4.1's ``api_key``: a credential for this call only."""
    if token is not None and api_key is not None and token != api_key:
        raise InvalidInputError("pass token (0.12) or api_key (1.4.1), not both")
    return token if token is not None else api_key


class RawMethods(AsyncClientBase):
    async def graphql(
        self,
        query: Any,
        raise_on_error: bool = True,
        headers: Mapping[str, str] | None = None,
        variables: Mapping[str, Any] | None = None,
        token: str | None = None,
        retry_on_api_error: bool = True,
        *,
        api_key: str | None = None,
    ) -> GraphQLResult:
        """Run any GraphQL document: a string, or Prefect's dict DSL (``parse_graphql``).

        Returns ``{"data": ...}`` (plus ``"errors"`` when not raising) as a ``GraphQLResult``:
        a dict whose keys are also attributes (``result.data.flow_run[0].id``). ``token``
        (0.12) or ``api_key`` (1.4.1) authenticates this call only; ``retry_on_api_error=False``
        does not retry ``API_ERROR`` answers.
        """
        from .._model.graphql_dsl import GraphQLResult, parse_graphql  # noqa: PLC0415

        document = parse_graphql(query)
        if not document.strip():
            raise InvalidInputError("query must be a non-empty GraphQL document")
        try:
            data = await self._transport.run(
                graphql_exchange(
                    self._config,
                    document,
                    None,
                    variables,
                    headers=headers,
                    token=_bearer(token, api_key),
                    retry_api_errors=retry_on_api_error,
                )
            )
        except ClientError as err:
            if raise_on_error:
                raise
            return GraphQLResult(
                {
                    "data": err.data,
                    "errors": [
                        {"message": e.message, "path": list(e.path), "extensions": e.extensions}
                        for e in err.errors
                    ],
                }
            )
        return GraphQLResult({"data": data})

    async def execute_operation(
        self,
        query: str,
        operation_name: str,
        variables: Mapping[str, Any] | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        token: str | None = None,
    ) -> dict[str, Any]:
        """Send one named operation through this client and return its ``data``.

        What the generated operation classes call when built on this client: the operation
        gets this client's auth, tenant, retries (mutations only when safe) and errors.
        """
        return await self._transport.execute_operation(
            query, operation_name, dict(variables or {}), headers=headers, token=token
        )

    async def get(
        self,
        path: str,
        server: str | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        token: str | None = None,
        retry_on_api_error: bool = True,
        *,
        api_key: str | None = None,
    ) -> Any:
        """GET ``path`` on the API server (or ``server``) with this auth; the JSON answer
        (``{}`` for an empty body). ``None`` params are dropped, lists sent as repeated keys.
        ``retry_on_api_error`` is taken for 1.4.1 code; a REST answer carries no ``API_ERROR``."""
        return await self._transport.run(
            rest_exchange(
                self._config,
                "GET",
                path,
                server=server,
                headers=headers,
                params=params,
                token=_bearer(token, api_key),
            )
        )

    async def post(
        self,
        path: str,
        server: str | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        token: str | None = None,
        retry_on_api_error: bool = True,
        *,
        api_key: str | None = None,
    ) -> Any:
        """POST ``params`` as JSON to ``path`` on the API (or ``server``); the JSON answer.
        ``retry_on_api_error`` is taken for 1.4.1 code; a REST answer carries no ``API_ERROR``."""
        return await self._transport.run(
            rest_exchange(
                self._config,
                "POST",
                path,
                server=server,
                headers=headers,
                params=params,
                token=_bearer(token, api_key),
            )
        )
