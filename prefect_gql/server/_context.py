"""What a resolver knows about its request: the caller and the tables it may see."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property

from graphql import GraphQLResolveInfo

from ._auth import Credentials, Principal
from ._batches import Batches
from ._queue import AgentQueue
from ._records import Records
from ._registry import Registry
from ._runs import Runs
from ._store import Store

__all__ = ["RequestContext", "context_of"]


@dataclass
class RequestContext:
    """``store`` is narrowed to the caller's tenant when token mode binds one;
    ``batches`` holds the relationship values read ahead for the request."""

    store: Store
    credentials: Credentials
    principal: Principal | None
    bearer: str | None
    agent_id: str | None = None
    """The ``X-PREFECT-AGENT-ID`` header: the agent the request comes from."""
    core_version: str | None = None
    """The ``X-PREFECT-CORE-VERSION`` header: the caller's Prefect version."""
    batches: Batches = field(default_factory=Batches)

    @cached_property
    def registry(self) -> Registry:
        return Registry(self.store)

    @cached_property
    def runs(self) -> Runs:
        return Runs(self.store)

    @cached_property
    def records(self) -> Records:
        return Records(self.store)

    @cached_property
    def queue(self) -> AgentQueue:
        return AgentQueue(self.store)

    @property
    def member_tenants(self) -> Store:
        """Where the caller lists tenants: a USER token sees every tenant (the local user
        is a member of all of them), though it reads and writes in one."""
        if self.principal is not None and self.principal.kind == "api_token":
            return self.store.for_tenant(None)
        return self.store

    def as_member(self) -> RequestContext:
        """This context with ``member_tenants`` as its store, for reading tenants."""
        return replace(self, store=self.member_tenants)

    def tenant_id(self, given: str | None = None) -> str:
        """The tenant a write acts for: the one it names, else the caller's, else the
        first tenant the caller sees (Prefect Cloud takes it from the token)."""
        if given is not None:
            return given
        if self.principal is not None and self.principal.tenant_id is not None:
            return self.principal.tenant_id
        return self.registry.default_tenant_id()


def context_of(info: GraphQLResolveInfo) -> RequestContext:
    context = info.context
    if not isinstance(context, RequestContext):
        raise TypeError("the server's resolvers run with a RequestContext")
    return context
