"""Which credential a client uses: the one place that decides it. No network I/O.

Highest first:

1. an API key (argument, ``PREFECT__CLOUD__API_KEY``, config.toml), with its tenant; an
   API token configured as well is ignored, with a warning;
2. an API token (argument, ``PREFECT__CLOUD__AUTH_TOKEN``, config.toml);
3. the API key saved for this server in ``~/.prefect/auth.toml`` (as 1.4.1 saves it);
4. on Cloud, the API token saved for this server by 0.12's ``save_api_token``, with its
   active tenant, logged in to before the first request (as 0.12's constructor did);
5. none (Prefect Server).

A credential no request could carry is refused here, naming where it came from.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import SecretStr

from .._exceptions import ConfigurationError
from .._model.validation import valid_uuid
from .disk import load_api_token_settings, load_auth_table

if TYPE_CHECKING:
    from .settings import Settings

__all__ = ["Credentials", "check_credential", "choose_credentials", "credential_problem"]

logger = logging.getLogger("prefect_gql")


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


@dataclass(frozen=True)
class Credentials:
    api_key: SecretStr | None = None
    api_token: SecretStr | None = None
    tenant_id: str | None = None
    login_pending: bool = False
    """A saved 0.12 API token named an active tenant: log in to it before the first request."""


def choose_credentials(settings: Settings) -> Credentials:
    """The credential of a client with these settings (see the module docstring)."""
    server = settings.api_server
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
    if key is not None or token is not None or settings.backend != "cloud":
        return Credentials(api_key=key, api_token=token, tenant_id=tenant)
    stored_token, active_tenant = load_api_token_settings(settings.home_dir, server)
    if stored_token is None:
        return Credentials(tenant_id=tenant)
    check_credential(stored_token, f"the api_token saved for {server}")
    return Credentials(
        api_token=stored_token, tenant_id=active_tenant, login_pending=active_tenant is not None
    )
