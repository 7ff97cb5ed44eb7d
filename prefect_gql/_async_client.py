"""``AsyncClient``: the asynchronous shell over the shared plans (see ``_core``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, Self, TypeVar, cast, overload

import anyio
import httpx
from prefect_gql_generated.client import AsyncOperations
from prefect_gql_generated.json_value import JSONValue
from prefect_gql_generated.list_tenants_by_slug import ListTenantsBySlugTenant

from . import _plans as plans
from ._base_client import BaseClient
from ._core import EFFECT_FAILURES, Call, Effect, Plan, Send, Stepper
from ._flow import FlowSpec
from ._models import FlowRunInfo, LogEntry, TaskRunInfo
from ._retry import DEFAULT_LIMITS, DEFAULT_MAX_CONNECTIONS
from ._states import AnyState, State

__all__ = ["AsyncClient"]

T = TypeVar("T")


class AsyncClient(BaseClient[httpx.AsyncClient, AsyncOperations]):
    """The asyncio (and trio) twin of ``Client``: the same methods, arguments, results and errors.

    Arguments not given are read from the environment and ``~/.prefect`` (see
    ``Settings``). ``http_client`` lets you bring your own ``httpx.AsyncClient`` (proxies,
    certificates, transports); the client does not close one it did not create.
    """

    _operations_class = AsyncOperations

    def _new_http_client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(limits=DEFAULT_LIMITS)

    _send_slots: anyio.Semaphore | None = None
    """Bounds the requests in flight: more wait here, cheaply, rather than in httpx's
    pool queue (where a thousand waiters end in ``PoolTimeout``). Made on first send."""

    _sleep = staticmethod(anyio.sleep)
    """How retries wait; tests replace it to count delays instead of sleeping."""

    # -- the driver ---------------------------------------------------------------

    async def _run(self, plan: Plan[T]) -> T:
        stepper = Stepper(plan)
        while stepper.effect is not None:
            try:
                outcome = await self._perform(stepper.effect)
            except EFFECT_FAILURES as err:
                stepper.fail(err)
            else:
                stepper.succeed(outcome)
        return cast(T, stepper.result)

    async def _perform(self, effect: Effect) -> Any:
        if isinstance(effect, Send):
            if self._send_slots is None:
                self._send_slots = anyio.Semaphore(DEFAULT_MAX_CONNECTIONS)
            async with self._send_slots:
                return await self._http.send(effect.request, auth=self._auth)
        if isinstance(effect, Call):
            return await getattr(self.operations, effect.method)(*effect.args, **effect.kwargs)
        await self._sleep(effect.seconds)
        return None

    async def aclose(self) -> None:
        """Close the connections, unless the ``httpx.AsyncClient`` was passed in."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- the documented methods ---------------------------------------------------

    async def graphql(
        self,
        query: str,
        raise_on_error: bool = True,
        headers: Mapping[str, str] | None = None,
        variables: Mapping[str, Any] | None = None,
        token: str | None = None,
    ) -> dict[str, Any]:
        """Run any GraphQL document: ``{"data": ...}``, plus ``"errors"`` if not raising."""
        return await self._run(
            plans.graphql(self._config, query, raise_on_error, headers, variables, token)
        )

    async def get(
        self,
        path: str,
        server: str | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        token: str | None = None,
    ) -> Any:
        """GET ``path`` on the API server (or ``server``) with this auth; the JSON answer."""
        return await self._run(
            plans.rest(self._config, "GET", path, server, headers, params, token)
        )

    async def post(
        self,
        path: str,
        server: str | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        token: str | None = None,
    ) -> Any:
        """POST ``params`` as JSON to ``path`` on the API (or ``server``); the JSON answer."""
        return await self._run(
            plans.rest(self._config, "POST", path, server, headers, params, token)
        )

    async def get_auth_token(self) -> str | None:
        """The token requests are sent with, refreshing a tenant JWT that expires within 30 s."""
        return await self._run(plans.get_auth_token(self._config))

    async def get_tenant_id(self) -> str:
        """The tenant requests act for: the configured one, else the API's default tenant."""
        return await self._run(plans.get_tenant_id(self._config))

    async def get_available_tenants(self) -> list[ListTenantsBySlugTenant]:
        """Every tenant these credentials can see (id, slug, name), by slug."""
        return await self._run(plans.get_available_tenants(self._config))

    async def login_to_tenant(
        self, tenant_slug: str | None = None, tenant_id: str | None = None
    ) -> bool:
        """0.12 API tokens: get tenant JWTs; ValueError on a bad or unknown tenant."""
        return await self._run(plans.login_to_tenant(self._config, tenant_slug, tenant_id))

    async def switch_tenant(
        self, tenant_slug: str | None = None, tenant_id: str | None = None
    ) -> str:
        """1.x API keys: act for another tenant; returns its id."""
        return await self._run(plans.switch_tenant(self._config, tenant_slug, tenant_id))

    async def create_tenant(self, name: str, slug: str | None = None) -> str:
        """Create a tenant (Prefect Server); returns its id."""
        return await self._run(plans.create_tenant(self._config, name, slug))

    async def get_default_tenant_slug(self, as_user: bool = True) -> str:
        """The slug of the tenant these credentials act for by default."""
        return await self._run(plans.get_default_tenant_slug(self._config, as_user))

    async def get_cloud_url(self, subdirectory: str, id: str, as_user: bool = True) -> str:
        """The UI link of an object, e.g. ``get_cloud_url("flow-run", run_id)``."""
        return await self._run(plans.get_cloud_url(self._config, subdirectory, id, as_user))

    async def create_project(
        self, project_name: str, project_description: str | None = None
    ) -> str:
        """Create a project (or find the existing one of that name); returns its id."""
        return await self._run(
            plans.create_project(self._config, project_name, project_description)
        )

    async def delete_project(self, project_name: str) -> bool:
        """Delete the project of that name; NotFoundError if there is none."""
        return await self._run(plans.delete_project(self._config, project_name))

    async def register(
        self,
        flow: FlowSpec | Mapping[str, Any],
        project_name: str | None = None,
        build: bool = True,
        set_schedule_active: bool = True,
        version_group_id: str | None = None,
        compressed: bool = True,
        no_url: bool = False,
        idempotency_key: str | None = None,
    ) -> str:
        """Register a flow (a ``FlowSpec`` or a serialized flow dict); returns the flow id.

        ``build`` is accepted for compatibility: there is no environment to build here.
        """
        return await self._run(
            plans.register(
                self._config,
                flow,
                project_name,
                set_schedule_active,
                version_group_id,
                compressed,
                no_url,
                idempotency_key,
            )
        )

    async def create_flow_run(
        self,
        flow_id: str | None = None,
        context: Mapping[str, Any] | None = None,
        parameters: Mapping[str, Any] | None = None,
        scheduled_start_time: datetime | None = None,
        idempotency_key: str | None = None,
        run_name: str | None = None,
        version_group_id: str | None = None,
        labels: Sequence[str] | None = None,
        run_config: Mapping[str, Any] | None = None,
    ) -> str:
        """Create a flow run; returns its id. Always sends an idempotency key (made if omitted)."""
        return await self._run(
            plans.create_flow_run(
                self._config,
                flow_id,
                context,
                parameters,
                scheduled_start_time,
                idempotency_key,
                run_name,
                version_group_id,
                labels,
                run_config,
            )
        )

    async def get_flow_run_info(self, flow_run_id: str) -> FlowRunInfo:
        """A flow run's version, state and (unmapped) task runs."""
        return await self._run(plans.get_flow_run_info(self._config, flow_run_id))

    async def get_flow_run_state(self, flow_run_id: str) -> AnyState:
        """A flow run's current state."""
        return await self._run(plans.get_flow_run_state(self._config, flow_run_id))

    @overload
    async def set_flow_run_state(
        self, flow_run_id: str, state: State, version: int | None = None
    ) -> State: ...
    @overload
    async def set_flow_run_state(self, flow_run_id: str, version: int, state: State) -> State: ...
    async def set_flow_run_state(self, flow_run_id: str, *args: Any, **kwargs: Any) -> State:
        """Set a flow run's state; returns it, or ``Queued`` when the API queued the run.

        Takes 1.x's ``(flow_run_id, state, version=None)`` and 0.12's
        ``(flow_run_id, version, state)``.
        A stale ``version`` raises ``VersionLockError``.
        """
        state, version = plans.state_and_version(args, kwargs)
        return await self._run(plans.set_flow_run_state(self._config, flow_run_id, state, version))

    async def set_flow_run_name(self, flow_run_id: str, name: str) -> bool:
        return await self._run(plans.set_flow_run_name(self._config, flow_run_id, name))

    async def cancel_flow_run(self, flow_run_id: str) -> str | None:
        """Cancel a flow run; returns the state it is now in (e.g. ``"Cancelling"``)."""
        return await self._run(plans.cancel_flow_run(self._config, flow_run_id))

    async def update_flow_run_heartbeat(self, flow_run_id: str) -> None:
        """Heartbeat a flow run. Never raises: a failure is logged."""
        await self._run(plans.update_flow_run_heartbeat(self._config, flow_run_id))

    async def get_task_run_info(
        self, flow_run_id: str, task_id: str, map_index: int | None = None
    ) -> TaskRunInfo:
        """The task run of ``task_id`` in a flow run (created if missing): id, version, state."""
        return await self._run(
            plans.get_task_run_info(self._config, flow_run_id, task_id, map_index)
        )

    async def get_task_run_state(self, task_run_id: str) -> AnyState:
        """A task run's current state."""
        return await self._run(plans.get_task_run_state(self._config, task_run_id))

    @overload
    async def set_task_run_state(
        self,
        task_run_id: str,
        state: State,
        version: int | None = None,
        cache_for: timedelta | None = None,
    ) -> State: ...
    @overload
    async def set_task_run_state(
        self, task_run_id: str, version: int, state: State, cache_for: timedelta | None = None
    ) -> State: ...
    async def set_task_run_state(self, task_run_id: str, *args: Any, **kwargs: Any) -> State:
        """Set a task run's state; returns it, or ``Queued`` when the API queued the run.

        Takes 1.x's and 0.12's argument orders, like ``set_flow_run_state``.
        """
        cache_for = plans.pop_cache_for(args, kwargs)
        state, version = plans.state_and_version(args[:2], kwargs)
        return await self._run(
            plans.set_task_run_state(self._config, task_run_id, state, version, cache_for)
        )

    async def set_task_run_name(self, task_run_id: str, name: str) -> bool:
        return await self._run(plans.set_task_run_name(self._config, task_run_id, name))

    async def update_task_run_heartbeat(self, task_run_id: str) -> None:
        """Heartbeat a task run. Never raises: a failure is logged."""
        await self._run(plans.update_task_run_heartbeat(self._config, task_run_id))

    async def get_latest_cached_states(
        self, task_id: str, cache_key: str | None, created_after: datetime
    ) -> list[AnyState]:
        """Cached states created after ``created_after`` (timezone-aware), newest first."""
        return await self._run(
            plans.get_latest_cached_states(self._config, task_id, cache_key, created_after)
        )

    async def create_task_run_artifact(
        self, task_run_id: str, kind: str, data: Any, tenant_id: str | None = None
    ) -> str:
        return await self._run(
            plans.create_task_run_artifact(self._config, task_run_id, kind, data, tenant_id)
        )

    async def update_task_run_artifact(self, task_run_artifact_id: str, data: Any) -> None:
        await self._run(plans.update_task_run_artifact(self._config, task_run_artifact_id, data))

    async def delete_task_run_artifact(self, task_run_artifact_id: str) -> None:
        await self._run(plans.delete_task_run_artifact(self._config, task_run_artifact_id))

    async def set_secret(self, name: str, value: Any) -> None:
        """Store a secret (Cloud); ValueError if the API reports failure."""
        await self._run(plans.set_secret(self._config, name, value))

    async def get_task_tag_limit(self, tag: str) -> int | None:
        """The concurrency limit of a task tag, or None if it has none."""
        return await self._run(plans.get_task_tag_limit(self._config, tag))

    async def update_task_tag_limit(self, tag: str, limit: int) -> str:
        """Set a task tag's concurrency limit (>= 0); returns the limit's id."""
        return await self._run(plans.update_task_tag_limit(self._config, tag, limit))

    async def delete_task_tag_limit(self, limit_id: str) -> None:
        """Delete a task tag limit by id; ValueError on a bad id or failure."""
        await self._run(plans.delete_task_tag_limit(self._config, limit_id))

    async def write_run_logs(
        self,
        logs: Iterable[LogEntry | Mapping[str, Any]],
        batch_size: int = plans.LOG_BATCH_SIZE,
    ) -> None:
        """Write run logs in batches; ``LogWriteError`` lists the entries not written."""
        await self._run(plans.write_run_logs(self._config, logs, batch_size))

    async def register_agent(
        self,
        agent_type: str,
        name: str | None = None,
        labels: Sequence[str] | None = None,
        agent_config_id: str | None = None,
    ) -> str:
        """Register an agent; returns its id."""
        return await self._run(
            plans.register_agent(self._config, agent_type, name, labels, agent_config_id)
        )

    async def get_agent_config(self, agent_config_id: str) -> dict[str, JSONValue]:
        """The settings of an agent config."""
        return await self._run(plans.get_agent_config(self._config, agent_config_id))
