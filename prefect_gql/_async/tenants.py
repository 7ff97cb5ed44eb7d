"""Tenants and tokens (queries/tenants.graphql, queries/auth_tokens.graphql)."""

from __future__ import annotations

import re

import prefect_gql_generated as generated
from prefect_gql_generated.list_tenants_by_slug import ListTenantsBySlugTenant

from .._config.disk import save_api_token_settings
from .._exceptions import (
    AuthenticationError,
    ConfigurationError,
    InvalidInputError,
    NotFoundError,
    OperationFailedError,
    PrefectGQLError,
)
from .._http.auth import tokens_from_payload
from .._http.config import ClientConfig, ClientMethod, Plan
from .._model.validation import build_input, valid_uuid

__all__ = ["TenantMethods", "get_default_tenant_slug", "get_tenant_id"]


def get_tenant_id(config: ClientConfig) -> Plan[str]:
    """The tenant requests act for: the configured one, else the API's default (as 1.4.1)."""
    if config.tokens.tenant_id:
        return config.tokens.tenant_id
    if config.backend == "cloud":
        auth = yield from config.operations.get_auth_tenant()
        if auth.auth_info is None or auth.auth_info.tenant_id is None:
            raise AuthenticationError(
                "the API key is not tied to a tenant; "
                "an old API token may have been passed as a key"
            )
        tenant_id = auth.auth_info.tenant_id
    else:
        tenants = yield from config.operations.list_tenant_slugs()
        if not tenants.tenant:
            raise NotFoundError(
                "the server has no tenant yet; create one (prefect server create-tenant)"
            )
        tenant_id = tenants.tenant[0].id
    config.tokens.tenant_id = tenant_id
    return tenant_id


def get_auth_token(config: ClientConfig) -> Plan[str | None]:
    """The token requests are sent with, refreshing a tenant JWT that expires within 30 s."""
    tokens = config.tokens
    if tokens.needs_refresh():
        assert tokens.tenant_tokens is not None
        assert tokens.tenant_tokens.refresh_token is not None
        answer = yield from config.operations.refresh_token(
            input=generated.refresh_token_input(
                access_token=tokens.tenant_tokens.access_token.get_secret_value()
            ),
            token=tokens.tenant_tokens.refresh_token.get_secret_value(),
        )
        tokens.tenant_tokens = tokens_from_payload(answer.refresh_token)
    return tokens.bearer()


def get_available_tenants(config: ClientConfig) -> Plan[list[ListTenantsBySlugTenant]]:
    """Every tenant these credentials can see (id, slug, name), by slug."""
    answer = yield from config.operations.list_tenants_by_slug(token=_account_token(config))
    return answer.tenant


def _account_token(config: ClientConfig) -> str | None:
    """The long-lived credential (API key or API token), never a tenant JWT."""
    secret = config.tokens.api_key or config.tokens.api_token
    return secret.get_secret_value() if secret else None


def _find_tenant_id(
    config: ClientConfig, tenant_slug: str | None, tenant_id: str | None
) -> Plan[str]:
    if tenant_slug is None and tenant_id is None:
        raise InvalidInputError("pass tenant_slug or tenant_id")
    checked_id = valid_uuid(tenant_id, "tenant_id") if tenant_id is not None else None
    found = yield from config.operations.find_tenant_id(
        slug=tenant_slug, id=checked_id, token=_account_token(config)
    )
    if not found.tenant:
        wanted = f"slug {tenant_slug!r}" if tenant_slug else f"id {checked_id}"
        raise InvalidInputError(f"no tenant matches {wanted}")
    return found.tenant[0].id


def login_to_tenant(
    config: ClientConfig, tenant_slug: str | None = None, tenant_id: str | None = None
) -> Plan[bool]:
    """0.12 API tokens: get tenant JWTs; ValueError on a bad or unknown tenant."""
    api_token = config.tokens.api_token
    if api_token is None:
        raise ConfigurationError(
            "login_to_tenant needs a USER-scoped API token (api_token=...); "
            "with an API key use switch_tenant"
        )
    found_id = yield from _find_tenant_id(config, tenant_slug, tenant_id)
    answer = yield from config.operations.switch_tenant(
        input=generated.switch_tenant_input(tenant_id=found_id), token=api_token.get_secret_value()
    )
    config.tokens.tenant_tokens = tokens_from_payload(answer.switch_tenant)
    config.tokens.tenant_id = found_id
    return True


def _remember_active_tenant(config: ClientConfig, logged_in: bool) -> None:
    if logged_in and config.tokens.api_token is not None:
        save_api_token_settings(
            config.home_dir, config.api_server, config.tokens.api_token, config.tokens.tenant_id
        )


def switch_tenant(
    config: ClientConfig, tenant_slug: str | None = None, tenant_id: str | None = None
) -> Plan[str]:
    """1.x API keys: act for another tenant (``X-PREFECT-TENANT-ID``); returns its id."""
    if config.tokens.api_token is not None:
        raise ConfigurationError(
            "switch_tenant is for API keys; with an API token use login_to_tenant"
        )
    if tenant_slug is not None:
        found_id = yield from _find_tenant_id(config, tenant_slug, None)
    else:
        found_id = valid_uuid(tenant_id, "tenant_id")
    previous = config.tokens.tenant_id
    config.tokens.tenant_id = found_id
    if config.backend == "cloud":
        try:
            auth = yield from config.operations.get_auth_tenant()
        except PrefectGQLError:
            config.tokens.tenant_id = previous
            raise
        if auth.auth_info is None or auth.auth_info.tenant_id != found_id:
            config.tokens.tenant_id = previous
            raise AuthenticationError(f"the API key cannot act for tenant {found_id}")
    return found_id


def create_tenant(config: ClientConfig, name: str, slug: str | None = None) -> Plan[str]:
    """Create a tenant (Prefect Server); returns its id."""
    tenant_slug = slug or re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    answer = yield from config.operations.create_tenant(
        input=build_input(generated.create_tenant_input, "tenant", name=name, slug=tenant_slug)
    )
    if answer.create_tenant is None or answer.create_tenant.id is None:
        raise OperationFailedError("create_tenant returned no id")
    return answer.create_tenant.id


def get_default_tenant_slug(config: ClientConfig, as_user: bool = True) -> Plan[str]:
    """The slug of the tenant these credentials act for by default."""
    if config.tokens.api_token is not None and as_user:
        user = yield from config.operations.get_user_default_tenant_slug()
        for entry in user.user:
            if entry.default_membership is not None:
                return entry.default_membership.tenant.slug
        raise NotFoundError("the user has no default tenant membership")
    tenants = yield from config.operations.list_tenant_slugs()
    if not tenants.tenant:
        raise NotFoundError("no tenant is visible to these credentials")
    wanted = config.tokens.tenant_id
    for tenant in tenants.tenant:
        if wanted is None or tenant.id == wanted:
            return tenant.slug
    return tenants.tenant[0].slug


def get_cloud_url(
    config: ClientConfig, subdirectory: str, id: str, as_user: bool = True
) -> Plan[str]:
    """The UI link of an object, e.g. ``get_cloud_url("flow-run", run_id)``.

    ``<ui>/<tenant slug>/<subdirectory>/<id>`` on Cloud; no slug on Server.
    """
    if config.backend == "server":
        return "/".join([config.ui_endpoint.rstrip("/"), subdirectory, id])
    slug = yield from get_default_tenant_slug(config, as_user)
    api = config.api_server
    base = api.replace("api-", "", 1) if "api-" in api else api.replace("api", "cloud", 1)
    return "/".join([base.rstrip("/"), slug, subdirectory, id])


class TenantMethods:
    get_tenant_id = ClientMethod(get_tenant_id)
    get_auth_token = ClientMethod(get_auth_token)
    get_available_tenants = ClientMethod(get_available_tenants)
    login_to_tenant = ClientMethod(login_to_tenant, after=_remember_active_tenant)
    switch_tenant = ClientMethod(switch_tenant)
    create_tenant = ClientMethod(create_tenant)
    get_default_tenant_slug = ClientMethod(get_default_tenant_slug)
    get_cloud_url = ClientMethod(get_cloud_url)
