"""Who a request acts as, in the server's two auth modes.

- open (no ``AuthConfig``): like Prefect Server, no credentials are needed; a valid
  ``X-PREFECT-TENANT-ID`` names the tenant that writes without one act for.
- token (``AuthConfig`` given): every request needs ``Authorization: Bearer ...``
  with an issued credential. An API key (1.x) acts for its tenant; an
  ``X-PREFECT-TENANT-ID`` it sends must name that tenant. A USER-scoped API token
  (0.12) lists every tenant (the local user is a member of all of them), may create
  tenants, and reads and writes in the user's default tenant; ``switch_tenant``
  issues it a tenant access token (expiring after ``access_token_ttl``) and a
  refresh token; ``refresh_token``, called with the refresh token as the bearer,
  trades both for new ones.

Access and refresh tokens are opaque random strings. No credential is ever logged,
put in an error, or shown in a ``repr``.
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Literal

from ._errors import UnauthenticatedError

__all__ = [
    "INTROSPECTION_FIELDS",
    "USER_ONLY_FIELDS",
    "AuthConfig",
    "Credentials",
    "IssuedTokens",
    "Principal",
    "bearer_token",
]

PrincipalKind = Literal["open", "api_key", "api_token", "access_token", "refresh_token"]
INTROSPECTION_FIELDS = frozenset({"__schema", "__type", "__typename"})
USER_ONLY_FIELDS = frozenset({"create_tenant", "insert_tenant", "insert_tenant_one"})
"""Root fields that act for a user rather than in a tenant: token mode needs a USER API token."""


def _canonical_uuid(value: str) -> str | None:
    try:
        return str(uuid.UUID(value))
    except (ValueError, AttributeError, TypeError):
        return None


@dataclass(frozen=True)
class AuthConfig:
    """Token mode: the credentials the server accepts.

    ``api_keys`` maps each 1.x API key to the id of the tenant it acts for (the
    tenant is created when the server starts if it does not exist); ``api_tokens``
    are 0.12 USER-scoped API tokens; ``access_token_ttl`` is how many seconds a
    token issued by ``switch_tenant``/``refresh_token`` stays valid.
    ``LocalServer.issue_api_key``/``issue_api_token`` add credentials later.
    """

    api_keys: Mapping[str, str] = field(default_factory=dict, repr=False)
    api_tokens: Collection[str] = field(default=frozenset(), repr=False)
    access_token_ttl: float = 600.0

    def __post_init__(self) -> None:
        if not self.access_token_ttl > 0:
            raise ValueError("access_token_ttl must be a positive number of seconds")
        keys = {}
        for key, tenant_id in self.api_keys.items():
            canonical = _canonical_uuid(tenant_id)
            if canonical is None:
                raise ValueError("every API key's tenant must be a UUID")
            keys[key] = canonical
        object.__setattr__(self, "api_keys", keys)
        object.__setattr__(self, "api_tokens", frozenset(self.api_tokens))


@dataclass(frozen=True)
class Principal:
    """The caller: how it authenticated and the tenant it acts for (None: any)."""

    kind: PrincipalKind
    tenant_id: str | None

    @property
    def scope(self) -> str | None:
        """The tenant whose rows the caller sees; None: every tenant's (open mode)."""
        return None if self.kind == "open" else self.tenant_id

    @property
    def is_user(self) -> bool:
        """Whether the caller acts as a user (a USER API token, or anyone in open mode)."""
        return self.kind in ("open", "api_token")

    def acting_for(self, tenant_id: str | None) -> Principal:
        """The same caller, acting for ``tenant_id``."""
        return replace(self, tenant_id=tenant_id)

    def may_call(self, root_field: str) -> bool:
        """A refresh token is good for ``refresh_token`` only."""
        return self.kind != "refresh_token" or root_field in {
            "refresh_token",
            *INTROSPECTION_FIELDS,
        }


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at: float

    def payload(self) -> dict[str, str]:
        """The ``auth_token_payload``: ``expires_at`` as an ISO-8601 string."""
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_at": datetime.fromtimestamp(self.expires_at, UTC).isoformat(),
        }


class Credentials:
    """The credentials a server accepts and the tenant tokens it has issued."""

    def __init__(self, config: AuthConfig | None) -> None:
        self.required = config is not None
        config = config or AuthConfig()
        self._ttl = config.access_token_ttl
        self._lock = threading.Lock()
        self._api_keys = dict(config.api_keys)
        self._api_tokens = set(config.api_tokens)
        self._access: dict[str, tuple[str, float]] = {}
        self._refresh: dict[str, tuple[str, str]] = {}
        self.clock: Callable[[], float] = time.time
        """What access tokens expire by (tests set a clock of their own)."""

    @property
    def api_key_tenants(self) -> set[str]:
        with self._lock:
            return set(self._api_keys.values())

    def issue_api_key(self, tenant_id: str) -> str:
        """A new API key for the tenant (a UUID in canonical form)."""
        key = secrets.token_urlsafe(24)
        with self._lock:
            self._api_keys[key] = tenant_id
        return key

    def issue_api_token(self) -> str:
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._api_tokens.add(token)
        return token

    def issue(self, tenant_id: str) -> IssuedTokens:
        """A new access token for the tenant, and the refresh token that renews it."""
        access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        now = self.clock()
        expires_at = now + self._ttl
        with self._lock:
            for expired in [token for token, (_, end) in self._access.items() if end <= now]:
                del self._access[expired]
            self._access[access] = (tenant_id, expires_at)
            self._refresh[refresh] = (access, tenant_id)
        return IssuedTokens(access, refresh, expires_at)

    def refresh(self, refresh_token: str | None, access_token: str) -> IssuedTokens:
        """New tokens for a refresh token issued with ``access_token`` (even an expired
        one). Each refresh token works once, and retires its access token."""
        with self._lock:
            issued = self._refresh.get(refresh_token or "")
            if issued is None or not secrets.compare_digest(issued[0], access_token):
                raise UnauthenticatedError
            del self._refresh[refresh_token or ""]
            self._access.pop(access_token, None)
        return self.issue(issued[1])

    def revoke(self, access_token: str) -> bool:
        """Cloud's ``log_out``: the access token and the refresh token issued with it
        stop working. False for a token that was not issued (or is revoked)."""
        with self._lock:
            known = self._access.pop(access_token, None) is not None
            for refresh, (access, _) in list(self._refresh.items()):
                if secrets.compare_digest(access, access_token):
                    del self._refresh[refresh]
                    known = True
        return known

    def authenticate(
        self, authorization: str | None, tenant_header: str | None
    ) -> Principal | None:
        """The caller, from the ``Authorization`` and ``X-PREFECT-TENANT-ID`` headers;
        None when token mode does not accept them."""
        bearer = bearer_token(authorization)
        header_tenant = _canonical_uuid(tenant_header) if tenant_header else None
        if not self.required:
            return Principal("open", header_tenant)
        if bearer is None:
            return None
        with self._lock:
            if bearer in self._refresh:
                return Principal("refresh_token", self._refresh[bearer][1])
            if bearer in self._api_keys:
                tenant_id = self._api_keys[bearer]
                if tenant_header is not None and header_tenant != tenant_id:
                    return None
                return Principal("api_key", tenant_id)
            if bearer in self._api_tokens:
                return Principal("api_token", None)
            access = self._access.get(bearer)
        if access is not None and access[1] > self.clock():
            return Principal("access_token", access[0])
        return None


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header."""
    scheme, _, token = (authorization or "").strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None
