"""Tenants and tokens (queries/tenants.graphql, queries/auth_tokens.graphql)."""

from __future__ import annotations

import re

import prefect_gql._generated as generated
from prefect_gql._generated.list_tenants_by_slug import ListTenantsBySlugTenant

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
from .._model.validation import build_input, valid_uuid
from .base import AsyncClientBase

__all__ = ["TenantMethods"]


class TenantMethods(AsyncClientBase):
    async def get_tenant_id(self) -> str:
        """The tenant requests act for: the configured one, else the API's default (as 1.4.1)."""
        tokens = self._config.tokens
        if tokens.tenant_id:
            return tokens.tenant_id
        if self._config.backend == "cloud":
            auth = await self.operations.get_auth_tenant()
            if auth.auth_info is None or auth.auth_info.tenant_id is None:
                raise AuthenticationError(
                    "the API key is not tied to a tenant; "
                    "an old API token may have been passed as a key"
                )
            tenant_id = auth.auth_info.tenant_id
        else:
            tenants = await self.operations.list_tenant_slugs()
            if not tenants.tenant:
                raise NotFoundError(
                    "the server has no tenant yet; create one (prefect server create-tenant)"
                )
            tenant_id = tenants.tenant[0].id
        tokens.tenant_id = tenant_id
        return tenant_id

    async def get_auth_token(self) -> str | None:
        """The token requests are sent with, refreshing a tenant JWT that expires within 30 s."""
        tokens = self._config.tokens
        if tokens.needs_refresh():
            assert tokens.tenant_tokens is not None
            assert tokens.tenant_tokens.refresh_token is not None
            answer = await self.operations.refresh_token(
                input=generated.refresh_token_input(
                    access_token=tokens.tenant_tokens.access_token.get_secret_value()
                ),
                token=tokens.tenant_tokens.refresh_token.get_secret_value(),
            )
            tokens.tenant_tokens = tokens_from_payload(answer.refresh_token)
        return tokens.bearer()

    async def get_available_tenants(self) -> list[ListTenantsBySlugTenant]:
        """Every tenant these credentials can see (id, slug, name), by slug."""
        answer = await self.operations.list_tenants_by_slug(token=self._account_token())
        return answer.tenant

    def _account_token(self) -> str | None:
        """The long-lived credential (API key or API token), never a tenant JWT."""
        secret = self._config.tokens.api_key or self._config.tokens.api_token
        return secret.get_secret_value() if secret else None

    async def _find_tenant_id(self, tenant_slug: str | None, tenant_id: str | None) -> str:
        if tenant_slug is None and tenant_id is None:
            raise InvalidInputError("pass tenant_slug or tenant_id")
        checked_id = valid_uuid(tenant_id, "tenant_id") if tenant_id is not None else None
        found = await self.operations.find_tenant_id(
            slug=tenant_slug, id=checked_id, token=self._account_token()
        )
        if not found.tenant:
            wanted = f"slug {tenant_slug!r}" if tenant_slug else f"id {checked_id}"
            raise InvalidInputError(f"no tenant matches {wanted}")
        return found.tenant[0].id

    async def login_to_tenant(
        self, tenant_slug: str | None = None, tenant_id: str | None = None
    ) -> bool:
        """0.12 API tokens: get tenant JWTs; ValueError on a bad or unknown tenant."""
        tokens = self._config.tokens
        api_token = tokens.api_token
        if api_token is None:
            raise ConfigurationError(
                "login_to_tenant needs a USER-scoped API token (api_token=...); "
                "with an API key use switch_tenant"
            )
        found_id = await self._find_tenant_id(tenant_slug, tenant_id)
        answer = await self.operations.switch_tenant(
            input=generated.switch_tenant_input(tenant_id=found_id),
            token=api_token.get_secret_value(),
        )
        tokens.tenant_tokens = tokens_from_payload(answer.switch_tenant)
        tokens.tenant_id = found_id
        save_api_token_settings(
            self._config.home_dir, self._config.api_server, api_token, tokens.tenant_id
        )
        return True

    async def switch_tenant(
        self, tenant_slug: str | None = None, tenant_id: str | None = None
    ) -> str:
        """1.x API keys: act for another tenant (``X-PREFECT-TENANT-ID``); returns its id."""
        tokens = self._config.tokens
        if tokens.api_token is not None:
            raise ConfigurationError(
                "switch_tenant is for API keys; with an API token use login_to_tenant"
            )
        if tenant_slug is not None:
            found_id = await self._find_tenant_id(tenant_slug, None)
        else:
            found_id = valid_uuid(tenant_id, "tenant_id")
        previous = tokens.tenant_id
        tokens.tenant_id = found_id
        if self._config.backend == "cloud":
            try:
                auth = await self.operations.get_auth_tenant()
            except PrefectGQLError:
                tokens.tenant_id = previous
                raise
            if auth.auth_info is None or auth.auth_info.tenant_id != found_id:
                tokens.tenant_id = previous
                raise AuthenticationError(f"the API key cannot act for tenant {found_id}")
        return found_id

    async def create_tenant(self, name: str, slug: str | None = None) -> str:
        """Create a tenant (Prefect Server); returns its id."""
        tenant_slug = slug or re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        answer = await self.operations.create_tenant(
            input=build_input(generated.create_tenant_input, "tenant", name=name, slug=tenant_slug)
        )
        if answer.create_tenant is None or answer.create_tenant.id is None:
            raise OperationFailedError("create_tenant returned no id")
        return answer.create_tenant.id

    async def get_default_tenant_slug(self, as_user: bool = True) -> str:
        """The slug of the tenant these credentials act for by default."""
        if self._config.tokens.api_token is not None and as_user:
            user = await self.operations.get_user_default_tenant_slug()
            for entry in user.user:
                if entry.default_membership is not None:
                    return entry.default_membership.tenant.slug
            raise NotFoundError("the user has no default tenant membership")
        tenants = await self.operations.list_tenant_slugs()
        if not tenants.tenant:
            raise NotFoundError("no tenant is visible to these credentials")
        wanted = self._config.tokens.tenant_id
        for tenant in tenants.tenant:
            if wanted is None or tenant.id == wanted:
                return tenant.slug
        return tenants.tenant[0].slug

    async def get_cloud_url(self, subdirectory: str, id: str, as_user: bool = True) -> str:
        """The UI link of an object, e.g. ``get_cloud_url("flow-run", run_id)``.

        ``<ui>/<tenant slug>/<subdirectory>/<id>`` on Cloud; no slug on Server.
        """
        if self._config.backend == "server":
            return "/".join([self._config.ui_endpoint.rstrip("/"), subdirectory, id])
        slug = await self.get_default_tenant_slug(as_user)
        api = self._config.api_server
        base = api.replace("api-", "", 1) if "api-" in api else api.replace("api", "cloud", 1)
        return "/".join([base.rstrip("/"), slug, subdirectory, id])
