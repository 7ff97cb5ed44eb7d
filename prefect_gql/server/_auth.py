"""Who a request acts as, in the server's two auth modes.

- open (``AuthConfig`` not given): like Prefect Server, no credentials; the tenant is
  ``X-PREFECT-TENANT-ID`` when sent.
- token: the credentials in ``AuthConfig`` are required. An API key acts for its
  tenant (``X-PREFECT-TENANT-ID`` may only name that tenant); a USER-scoped API token
  may list tenants and call ``switch_tenant``, which issues a tenant access token
  (expiring after ``access_token_ttl``) and a refresh token for ``refresh_token``.

Tokens are opaque random strings; none is ever logged or echoed in an error.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field

__all__ = ["AuthConfig", "IssuedTokens", "Principal", "TokenRegistry"]


@dataclass(frozen=True)
class AuthConfig:
    """Credentials the server accepts in token mode.

    ``api_keys`` maps each API key to its tenant id (created at start if missing);
    ``api_tokens`` lists USER-scoped 0.12 API tokens.
    """

    api_keys: dict[str, str] = field(default_factory=dict)
    api_tokens: frozenset[str] = frozenset()
    access_token_ttl: float = 600.0


@dataclass(frozen=True)
class Principal:
    """The caller: its kind and the tenant it acts for (None: not chosen yet)."""

    kind: str
    tenant_id: str | None
    bearer: str | None = None


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    refresh_token: str
    expires_at: float


class TokenRegistry:
    """Tenant access and refresh tokens issued by ``switch_tenant``/``refresh_token``."""

    def __init__(self, config: AuthConfig) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._access: dict[str, tuple[str, float]] = {}
        self._refresh: dict[str, tuple[str, str]] = {}

    def issue(self, tenant_id: str) -> IssuedTokens:
        access, refresh = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        expires_at = time.time() + self.config.access_token_ttl
        with self._lock:
            self._access[access] = (tenant_id, expires_at)
            self._refresh[refresh] = (access, tenant_id)
        return IssuedTokens(access, refresh, expires_at)

    def refresh(self, refresh_token: str, access_token: str) -> IssuedTokens | None:
        """New tokens for a refresh token issued with ``access_token``; each works once."""
        with self._lock:
            issued = self._refresh.get(refresh_token)
            if issued is None or issued[0] != access_token:
                return None
            del self._refresh[refresh_token]
            self._access.pop(access_token, None)
        return self.issue(issued[1])

    def is_refresh_token(self, token: str) -> bool:
        with self._lock:
            return token in self._refresh

    def principal(self, bearer: str | None, tenant_header: str | None) -> Principal | None:
        """The caller for this ``Authorization`` bearer, or None when it is not accepted."""
        if bearer is None:
            return None
        if bearer in self.config.api_keys:
            tenant = self.config.api_keys[bearer]
            if tenant_header and tenant_header != tenant:
                return None
            return Principal("api_key", tenant, bearer)
        if bearer in self.config.api_tokens:
            return Principal("api_token", None, bearer)
        with self._lock:
            access = self._access.get(bearer)
        if access is not None and access[1] > time.time():
            return Principal("access_token", access[0], bearer)
        return None
