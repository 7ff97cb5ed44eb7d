"""What ``Client`` and ``AsyncClient`` share that involves no network I/O.

Resolving settings and credentials, the documented methods (``ClientMethods``), the
local-only ones (headers, credential files), ``with_options`` and a secret-free ``repr``.
"""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Mapping
from typing import Any, Generic, Literal, Self, TypeVar

import httpx
from prefect_gql_generated.client import AsyncOperations, Operations
from pydantic import SecretStr

from ._auth import PrefectAuth, TokenState, check_credential
from ._constants import DEFAULT_CORE_VERSION, DEFAULT_DEADLINE, DEFAULT_TIMEOUT, MAX_RESPONSE_BYTES
from ._core import AfterHook, ClientConfig, Plan
from ._disk import (
    load_api_token_settings,
    load_auth_table,
    save_api_token_settings,
    save_auth_table,
)
from ._exceptions import ConfigurationError
from ._plans import ClientMethods
from ._retry import RetryPolicy
from ._types import Backend
from ._validation import valid_uuid

__all__ = ["BaseClient"]

logger = logging.getLogger("prefect_gql")


def _timeout(value: float | httpx.Timeout | None, default: float | None) -> httpx.Timeout:
    if isinstance(value, httpx.Timeout):
        return value
    if value is not None:
        return httpx.Timeout(value)
    if default is not None:
        return httpx.Timeout(default, connect=DEFAULT_TIMEOUT.connect)
    return DEFAULT_TIMEOUT


def _positive(value: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigurationError(f"{what} must be a positive integer, got {value!r}")
    return value


def _positive_or_none(value: float | None, what: str) -> float | None:
    if value is not None and (isinstance(value, bool) or not value > 0):
        raise ConfigurationError(f"{what} must be a positive number of seconds or None")
    return value


_USER_INFO = re.compile(r"[^/@]*@")


def _sendable_api_server(url: str) -> str:
    """``url`` if httpx can send to it (http or https, and a host), else ``ConfigurationError``
    naming the setting, so a missing scheme fails when the client is built, not at the first
    request. The error shows the URL without its user info (it may hold a password)."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        parsed = None
    if parsed is not None and parsed.scheme in ("http", "https") and parsed.host:
        return url
    shown = _USER_INFO.sub("***@", url)
    raise ConfigurationError(
        f"api_server {shown!r} is not a URL the client can send to: it needs http:// or "
        "https:// and a host, e.g. http://localhost:4200 (set by the api_server argument, "
        "PREFECT__CLOUD__API, PREFECT__SERVER__ENDPOINT or the config file's [cloud] api)"
    )


class _Unchanged:
    """``with_options``'s default: not given, keep it (``deadline=None`` removes the deadline)."""

    def __repr__(self) -> str:
        return "UNCHANGED"


_UNSET: Any = _Unchanged()


HttpT = TypeVar("HttpT", httpx.Client, httpx.AsyncClient)
OperationsT = TypeVar("OperationsT", Operations, AsyncOperations)


class BaseClient(ClientMethods, Generic[HttpT, OperationsT]):
    """Settings, credentials and local state of a client; see ``Client`` for the arguments."""

    _config: ClientConfig
    _operations_class: type[OperationsT]
    operations: OperationsT
    """The generated operations client, for operations the facade does not wrap."""

    def __init__(
        self,
        api_server: str | None = None,
        api_token: str | None = None,
        *,
        api_key: str | None = None,
        tenant_id: str | None = None,
        backend: Backend | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int | None = None,
        core_version: str = DEFAULT_CORE_VERSION,
        headers: Mapping[str, str] | None = None,
        http_client: HttpT | None = None,
        deadline: float | None = DEFAULT_DEADLINE,
        max_response_size: int = MAX_RESPONSE_BYTES,
    ) -> None:
        if api_key is not None and api_token is not None:
            raise ConfigurationError(
                "pass either api_key (Prefect 1.x) or api_token (0.12 API tokens), not both"
            )
        from ._settings import load_settings  # noqa: PLC0415 - pydantic-settings is slow to import

        settings = load_settings(
            backend=backend,
            cloud={
                "api": api_server,
                "api_key": api_key,
                "tenant_id": tenant_id,
                "auth_token": api_token,
            },
        )
        server = _sendable_api_server(settings.api_server)
        key = settings.cloud.api_key
        token = settings.cloud.auth_token
        tenant = settings.cloud.tenant_id
        if key is not None and token is not None:
            logger.warning("both an API key and an API token are configured; using the API key")
            token = None
        if key is None and token is None:
            stored = load_auth_table(settings.home_dir, server)
            if "api_key" in stored:
                key = SecretStr(stored["api_key"])
                tenant = tenant or stored.get("tenant_id")
        if tenant is not None:
            tenant = valid_uuid(tenant, "tenant_id")
        check_credential(key, "api_key (argument, PREFECT__CLOUD__API_KEY or auth.toml)")
        check_credential(token, "api_token (argument or PREFECT__CLOUD__AUTH_TOKEN)")
        if max_retries is not None and max_retries < 0:
            raise ConfigurationError(f"max_retries must be >= 0, got {max_retries}")
        self._config = ClientConfig(
            api_server=server,
            backend=settings.backend,
            tokens=TokenState(api_key=key, api_token=token, tenant_id=tenant),
            home_dir=settings.home_dir,
            core_version=core_version,
            retry=RetryPolicy() if max_retries is None else RetryPolicy(max_retries=max_retries),
            timeout=_timeout(timeout, settings.cloud.request_timeout),
            headers=dict(headers or {}),
            ui_endpoint=settings.server.ui.endpoint,
            deadline=_positive_or_none(deadline, "deadline"),
            max_response_bytes=_positive(max_response_size, "max_response_size"),
        )
        if key is None and token is None and settings.backend == "cloud":
            stored_token, active_tenant = load_api_token_settings(
                self._config.home_dir, self._config.api_server
            )
            if stored_token is not None:
                check_credential(stored_token, f"the api_token saved for {server}")
                self._config.tokens.api_token = stored_token
                self._config.tokens.tenant_id = active_tenant
                self._config.tokens.login_pending = active_tenant is not None
        self._owns_http = http_client is None
        self._http: HttpT = http_client if http_client is not None else self._new_http_client()
        self._auth = PrefectAuth(
            self._config.tokens, self._config.api_server, self._config.base_headers
        )
        self._bind_operations()

    def _new_http_client(self) -> HttpT:
        raise NotImplementedError

    def _run(self, plan: Plan[Any], after: AfterHook | None = None) -> Any:
        """Perform the plan's effects, then ``after`` (sync: the result; async: an awaitable)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(api_server={self._config.api_server!r}, "
            f"backend={self._config.backend!r}, auth={self.credential_kind!r}, "
            f"tenant_id={self.tenant_id!r})"
        )

    @property
    def credential_kind(self) -> Literal["api_key", "api_token", "none"]:
        """Which credential requests carry (never the credential itself)."""
        return self._config.tokens.kind

    @property
    def api_server(self) -> str:
        return self._config.api_server

    @property
    def backend(self) -> Backend:
        return self._config.backend

    @property
    def tenant_id(self) -> str | None:
        """The tenant requests act for, if known; ``get_tenant_id()`` asks the API when not."""
        return self._config.tokens.tenant_id

    @property
    def max_retries(self) -> int:
        return self._config.retry.max_retries

    @property
    def timeout(self) -> httpx.Timeout:
        return self._config.timeout

    def with_options(
        self,
        *,
        max_retries: int | None = None,
        timeout: float | httpx.Timeout | None = None,
        deadline: float | None = _UNSET,
        max_response_size: int | None = None,
    ) -> Self:
        """A client sharing this one's connections and login, with other retry/timeout settings.

        ``client.with_options(max_retries=0).create_flow_run(...)`` changes one call only;
        ``deadline=None`` removes the deadline, an option not given is kept.
        """
        changes: dict[str, Any] = {}
        if deadline is not _UNSET:
            changes["deadline"] = _positive_or_none(deadline, "deadline")
        if max_response_size is not None:
            changes["max_response_bytes"] = _positive(max_response_size, "max_response_size")
        if max_retries is not None:
            if max_retries < 0:
                raise ConfigurationError(f"max_retries must be >= 0, got {max_retries}")
            changes["retry"] = RetryPolicy(max_retries=max_retries)
        if timeout is not None:
            changes["timeout"] = _timeout(timeout, None)
        clone = copy.copy(self)
        clone._config = self._config.with_changes(**changes)
        clone._bind_operations()
        return clone

    def _bind_operations(self) -> None:
        self.operations = self._operations_class(self)

    def attach_headers(self, headers: Mapping[str, str]) -> None:
        """Add headers to every later request of this client (e.g. ``X-PREFECT-AGENT-ID``)."""
        self._config.headers.update(headers)

    def logout_from_tenant(self) -> None:
        """Forget the tenant JWTs and go back to the API token (0.12; local only)."""
        tokens = self._config.tokens
        tokens.tenant_tokens = None
        tokens.tenant_id = None
        if tokens.api_token is not None:
            save_api_token_settings(
                self._config.home_dir, self._config.api_server, tokens.api_token, None
            )

    def save_api_token(self) -> None:
        """Write the API token to ``~/.prefect/client/<server>/settings.toml`` (mode 0600)."""
        tokens = self._config.tokens
        if tokens.api_token is None:
            raise ConfigurationError("this client has no API token to save")
        save_api_token_settings(
            self._config.home_dir, self._config.api_server, tokens.api_token, tokens.tenant_id
        )

    def save_auth_to_disk(self) -> None:
        """Write the API key and tenant to ``~/.prefect/auth.toml`` (mode 0600), as 1.4.1 does."""
        tokens = self._config.tokens
        if tokens.api_key is None:
            raise ConfigurationError("this client has no API key to save")
        save_auth_table(
            self._config.home_dir, self._config.api_server, tokens.api_key, tokens.tenant_id
        )

    def load_auth_from_disk(self) -> dict[str, str]:
        """This API server's table of ``~/.prefect/auth.toml`` (``{}`` if none)."""
        return load_auth_table(self._config.home_dir, self._config.api_server)
