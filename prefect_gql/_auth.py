"""Credentials, tenant JWTs and the ``httpx.Auth`` flow that applies them.

Three ways to authenticate, never mixed in one client:

- 1.x API key: ``Authorization: Bearer <key>`` plus ``X-PREFECT-TENANT-ID``;
- 0.12 API token: ``Authorization: Bearer <token>``; after ``login_to_tenant`` the tenant
  JWT access token replaces it, refreshed (Bearer = refresh token) once it expires
  within ``REFRESH_WINDOW``;
- none (Prefect Server).

``TokenState`` makes every decision and does no I/O; ``PrefectAuth`` is the thin
sync/async shell httpx drives. Refreshing is single-flight: concurrent requests
that find the token expiring wait for one refresh instead of each starting one.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncGenerator, Callable, Generator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

import httpx
from prefect_gql_generated.documents import REFRESH_TOKEN_GQL, SWITCH_TENANT_GQL
from prefect_gql_generated.fragments import AuthTokens
from prefect_gql_generated.refresh_token import RefreshToken
from prefect_gql_generated.switch_tenant import SwitchTenant
from pydantic import SecretStr, ValidationError

from ._exceptions import AuthenticationError, ConfigurationError, PrefectGQLError
from ._limits import bound_response
from ._responses import error_details, is_unauthenticated, parse_graphql_response

if TYPE_CHECKING:
    import anyio

__all__ = ["REFRESH_WINDOW", "PrefectAuth", "TenantTokens", "TokenState", "check_credential"]

REFRESH_WINDOW = timedelta(seconds=30)
EXPLICIT_TOKEN_EXTENSION = "prefect_gql.explicit_token"  # noqa: S105 - a key name, no secret
"""Set on a request whose ``Authorization`` was chosen by the caller (``token=``)."""


def credential_problem(value: str) -> str | None:
    """Why ``value`` cannot be sent as a bearer token, or ``None`` (never quotes it)."""
    if not value:
        return "it is empty"
    if any(char.isspace() for char in value):
        return "it contains white space (a trailing newline or space from a file or paste?)"
    if not all("!" <= char <= "~" for char in value):
        return "it contains a character that is not printable ASCII"
    return None


def check_credential(secret: SecretStr | None, setting: str) -> None:
    """Refuse, when configured, a credential no request could carry (naming the setting)."""
    problem = credential_problem(secret.get_secret_value()) if secret is not None else None
    if problem is not None:
        raise ConfigurationError(f"{setting} is not a usable credential: {problem}")


@dataclass(frozen=True, slots=True)
class TenantTokens:
    access_token: SecretStr
    refresh_token: SecretStr | None
    expires_at: datetime | None


def _parse_expiry(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as err:
        raise AuthenticationError("the API returned an unreadable token expiry") from err
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def tokens_from_payload(payload: AuthTokens | None) -> TenantTokens:
    """Tokens from a ``switch_tenant`` / ``refresh_token`` answer."""
    if payload is None or not payload.access_token:
        raise AuthenticationError("the API returned no access token")
    return TenantTokens(
        access_token=SecretStr(payload.access_token),
        refresh_token=SecretStr(payload.refresh_token) if payload.refresh_token else None,
        expires_at=_parse_expiry(payload.expires_at),
    )


def _token_request(
    url: str,
    extra_headers: dict[str, str],
    document: str,
    operation_name: str,
    operation_input: dict[str, Any],
    *,
    bearer: SecretStr,
) -> httpx.Request:
    """One token operation (login, refresh) sent with its own credential, past the auth flow."""
    request = httpx.Request(
        "POST",
        url,
        json={
            "query": document,
            "operationName": operation_name,
            "variables": {"input": operation_input},
        },
        headers={**extra_headers, "Authorization": f"Bearer {bearer.get_secret_value()}"},
    )
    request.extensions[EXPLICIT_TOKEN_EXTENSION] = True
    return request


class TokenState:
    """What to send as ``Authorization``, and when tenant JWTs need refreshing."""

    def __init__(
        self,
        *,
        api_key: SecretStr | None = None,
        api_token: SecretStr | None = None,
        tenant_id: str | None = None,
    ) -> None:
        if api_key is not None and api_token is not None:
            raise ConfigurationError(
                "pass either an API key (1.x) or an API token (0.12), not both"
            )
        self.api_key = api_key
        self.api_token = api_token
        self.tenant_id = tenant_id
        self.tenant_tokens: TenantTokens | None = None
        self.login_pending = False
        """0.12: the settings file named an active tenant; log in to it before the first
        request, as 0.12's constructor did."""

    def __repr__(self) -> str:
        return f"TokenState(kind={self.kind!r}, tenant_id={self.tenant_id!r}, jwt={self.has_jwt})"

    @property
    def kind(self) -> Literal["api_key", "api_token", "none"]:
        """Which long-lived credential requests carry (never the credential itself)."""
        return "api_key" if self.api_key else "api_token" if self.api_token else "none"

    def secrets(self) -> list[str]:
        """Every credential value held: what no text shown to anyone may contain."""
        held = [self.api_key, self.api_token]
        if self.tenant_tokens is not None:
            held += [self.tenant_tokens.access_token, self.tenant_tokens.refresh_token]
        return [secret.get_secret_value() for secret in held if secret is not None]

    @property
    def has_jwt(self) -> bool:
        return self.tenant_tokens is not None

    def bearer(self) -> str | None:
        """The token for ``Authorization``: key, else tenant JWT, else API token."""
        if self.api_key is not None:
            return self.api_key.get_secret_value()
        if self.tenant_tokens is not None:
            return self.tenant_tokens.access_token.get_secret_value()
        if self.api_token is not None:
            return self.api_token.get_secret_value()
        return None

    def headers(self) -> dict[str, str]:
        headers = {}
        bearer = self.bearer()
        if bearer is not None:
            headers["Authorization"] = f"Bearer {bearer}"
        if self.api_key is not None and self.tenant_id:
            headers["X-PREFECT-TENANT-ID"] = self.tenant_id
        return headers

    def needs_login(self) -> bool:
        return self.login_pending and self.api_token is not None and self.tenant_id is not None

    def login_request(self, url: str, extra_headers: dict[str, str]) -> httpx.Request:
        assert self.api_token is not None
        return _token_request(
            url,
            extra_headers,
            SWITCH_TENANT_GQL,
            "SwitchTenant",
            {"tenant_id": self.tenant_id},
            bearer=self.api_token,
        )

    def apply_login_response(self, response: httpx.Response) -> None:
        """Keep the tenant's tokens, or raise ``AuthenticationError`` (unchained, as refresh)."""
        self.login_pending = False
        try:
            data = parse_graphql_response(response, "SwitchTenant")
            payload = SwitchTenant.model_validate(data).switch_tenant
        except (PrefectGQLError, ValidationError):
            raise AuthenticationError(
                f"logging in to the active tenant {self.tenant_id} of the saved API token "
                f"failed (HTTP {response.status_code}); log in with login_to_tenant"
            ) from None
        self.tenant_tokens = tokens_from_payload(payload)

    def needs_refresh(self, now: datetime | None = None) -> bool:
        """True when the access token expires within ``REFRESH_WINDOW`` and can be refreshed."""
        tokens = self.tenant_tokens
        if tokens is None or tokens.refresh_token is None or tokens.expires_at is None:
            return False
        return (now or datetime.now(UTC)) + REFRESH_WINDOW > tokens.expires_at

    def can_refresh(self) -> bool:
        return self.tenant_tokens is not None and self.tenant_tokens.refresh_token is not None

    def mark_expired(self, rejected_bearer: str | None) -> None:
        """The server refused ``rejected_bearer``: refresh it, unless it was already replaced."""
        tokens = self.tenant_tokens
        if tokens is not None and tokens.access_token.get_secret_value() == rejected_bearer:
            self.tenant_tokens = TenantTokens(
                tokens.access_token, tokens.refresh_token, datetime.min.replace(tzinfo=UTC)
            )

    def refresh_request(self, url: str, extra_headers: dict[str, str]) -> httpx.Request:
        tokens = self.tenant_tokens
        assert tokens is not None
        assert tokens.refresh_token is not None
        return _token_request(
            url,
            extra_headers,
            REFRESH_TOKEN_GQL,
            "RefreshToken",
            {"access_token": tokens.access_token.get_secret_value()},
            bearer=tokens.refresh_token,
        )

    def apply_refresh_response(self, response: httpx.Response) -> None:
        """Keep the refreshed tokens, or raise ``AuthenticationError``.

        The error is not chained: the request carried the access token as a variable,
        and a server echoing variables in its error would put it in the cause's text.
        """
        try:
            data = parse_graphql_response(response, "RefreshToken")
            payload = RefreshToken.model_validate(data).refresh_token
        except AuthenticationError:
            raise AuthenticationError(
                "the tenant session expired and could not be refreshed; log in to the tenant again"
            ) from None
        except (PrefectGQLError, ValidationError):
            raise AuthenticationError(
                f"refreshing the tenant session failed (HTTP {response.status_code}); "
                "log in to the tenant again"
            ) from None
        self.tenant_tokens = tokens_from_payload(payload)


def _rejected_credentials(response: httpx.Response) -> bool:
    if response.status_code == 401:
        return True
    try:
        body: Any = response.json()
    except ValueError:
        return False
    return (
        isinstance(body, dict)
        and bool(body.get("errors"))
        and is_unauthenticated(error_details(body["errors"]))
    )


class PrefectAuth(httpx.Auth):
    """Applies ``TokenState``; refreshes JWTs before they expire and once when refused."""

    def __init__(
        self,
        state: TokenState,
        refresh_url: str,
        extra_headers: Callable[[], dict[str, str]],
    ) -> None:
        """``extra_headers`` is asked at each login or refresh, so headers attached to the
        client later reach those requests too."""
        self._state = state
        self._refresh_url = refresh_url
        self._extra_headers = extra_headers
        self._sync_lock = threading.Lock()
        self._async_lock: anyio.Lock | None = None

    def _authorize(self, request: httpx.Request) -> httpx.Request:
        if "Authorization" in request.headers:
            del request.headers["Authorization"]
        headers = self._state.headers()
        if headers:
            request.headers.update(headers)
        return request

    def _should_retry_rejected(self, request: httpx.Request, response: httpx.Response) -> bool:
        if not self._state.can_refresh():
            return False
        if not _rejected_credentials(response):
            return False
        sent = request.headers.get("Authorization", "").removeprefix("Bearer ")
        self._state.mark_expired(sent)
        return True

    def _refresh_lock(self) -> anyio.Lock:
        """Created on first async use: sync-only programs never import anyio."""
        if self._async_lock is None:
            import anyio  # noqa: PLC0415

            self._async_lock = anyio.Lock()
        return self._async_lock

    def _refresh_request(self) -> httpx.Request:
        return self._state.refresh_request(self._refresh_url, self._extra_headers())

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        if request.extensions.get(EXPLICIT_TOKEN_EXTENSION):
            response = yield request
            bound_response(response).read()
            return
        if self._state.needs_login():
            with self._sync_lock:
                if self._state.needs_login():
                    logged_in = yield self._state.login_request(
                        self._refresh_url, self._extra_headers()
                    )
                    bound_response(logged_in).read()
                    self._state.apply_login_response(logged_in)
        for attempt in (1, 2):
            if self._state.needs_refresh():
                with self._sync_lock:
                    if self._state.needs_refresh():
                        refreshed = yield self._refresh_request()
                        bound_response(refreshed).read()
                        self._state.apply_refresh_response(refreshed)
            response = yield self._authorize(request)
            bound_response(response).read()
            if attempt == 2 or not self._should_retry_rejected(request, response):
                return

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        if request.extensions.get(EXPLICIT_TOKEN_EXTENSION):
            response = yield request
            await bound_response(response).aread()
            return
        if self._state.needs_login():
            async with self._refresh_lock():
                if self._state.needs_login():
                    logged_in = yield self._state.login_request(
                        self._refresh_url, self._extra_headers()
                    )
                    await bound_response(logged_in).aread()
                    self._state.apply_login_response(logged_in)
        for attempt in (1, 2):
            if self._state.needs_refresh():
                async with self._refresh_lock():
                    if self._state.needs_refresh():
                        refreshed = yield self._refresh_request()
                        await bound_response(refreshed).aread()
                        self._state.apply_refresh_response(refreshed)
            response = yield self._authorize(request)
            await bound_response(response).aread()
            if attempt == 2 or not self._should_retry_rejected(request, response):
                return
