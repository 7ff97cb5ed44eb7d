"""The body of every client method, written once as a plan (see ``_core``).

``Client.x(...)`` is ``run(plans.x(config, ...))`` and ``AsyncClient.x(...)`` is
``await run(plans.x(config, ...))``: the rules below (argument checks, which
operations to send, how answers become typed results) exist once.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from prefect_gql_generated.client import Operations
from prefect_gql_generated.input_types import (
    cancel_flow_run_input,
    create_flow_from_compressed_string_input,
    create_flow_input,
    create_flow_run_input,
    create_project_input,
    create_task_run_artifact_input,
    create_tenant_input,
    delete_project_input,
    delete_task_run_artifact_input,
    delete_task_tag_limit_input,
    get_or_create_task_run_info_input,
    refresh_token_input,
    register_agent_input,
    register_edges_input,
    register_tasks_input,
    set_flow_run_name_input,
    set_flow_run_state_input,
    set_flow_run_states_input,
    set_schedule_active_input,
    set_secret_input,
    set_task_run_name_input,
    set_task_run_state_input,
    set_task_run_states_input,
    switch_tenant_input,
    update_flow_run_heartbeat_input,
    update_task_run_artifact_input,
    update_task_run_heartbeat_input,
    update_task_tag_limit_input,
    write_run_log_input,
    write_run_logs_input,
)
from prefect_gql_generated.json_value import JSONValue
from prefect_gql_generated.list_tenants_by_slug import ListTenantsBySlugTenant
from pydantic import BaseModel, SecretStr, ValidationError

from ._auth import tokens_from_payload
from ._core import ClientConfig, Plan, call, graphql_exchange, rest_exchange
from ._disk import api_token_settings_path, read_toml_file, write_private_toml
from ._exceptions import (
    AuthenticationError,
    ClientError,
    ConfigurationError,
    InvalidInputError,
    InvalidStateError,
    LogWriteError,
    NotFoundError,
    OperationFailedError,
    PrefectGQLError,
)
from ._flow import (
    REGISTRATION_BATCH_SIZE,
    FlowSpec,
    batched,
    compress_flow,
    split_for_registration,
)
from ._models import FlowRunInfo, LogEntry, ProjectInfo, TaskRunInfo
from ._states import AnyState, Cached, Pending, Queued, State, parse_state
from ._validation import describe_validation_error

__all__ = [
    "LOG_BATCH_SIZE",
    "QUEUE_INTERVAL",
]

logger = logging.getLogger("prefect_gql")

ModelT = TypeVar("ModelT", bound=BaseModel)

LOG_BATCH_SIZE = 1000
CACHED_STATES_LIMIT = 100
QUEUE_INTERVAL = timedelta(seconds=30)


# -- argument checks -----------------------------------------------------------------


def valid_uuid(value: object, what: str) -> uuid.UUID:
    """``value`` as a UUID, or ``InvalidInputError`` (a ValueError) naming ``what``."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise InvalidInputError(f"{what} must be a UUID, got {value!r}") from None


def aware(value: datetime, what: str) -> datetime:
    """Datetimes sent to the API must carry a timezone: a naive one is ambiguous."""
    if not isinstance(value, datetime):
        raise InvalidInputError(f"{what} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInputError(
            f"{what} must be timezone-aware (e.g. datetime.now(timezone.utc)), got a naive datetime"
        )
    return value


def json_value(value: Any, what: str) -> Any:
    """``value`` if it is plain JSON (no sets, objects, NaN); else ``InvalidInputError``."""
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as err:
        raise InvalidInputError(f"{what} must be JSON-serializable: {err}") from None
    return value


def build_input(model: type[ModelT], what: str, **fields: Any) -> ModelT:
    """Construct a generated input model; ``None`` means not given, bad values raise.

    Bad values become ``InvalidInputError`` before anything is sent.
    """
    try:
        return model(**{name: value for name, value in fields.items() if value is not None})
    except ValidationError as err:
        problems = describe_validation_error(err, root=what)
        raise InvalidInputError(f"invalid {what}: {problems}") from err


def require_state(state: object, what: str = "state") -> State:
    if not isinstance(state, State):
        raise InvalidStateError(
            f"{what} must be a prefect_gql State (e.g. Running()), got {type(state).__name__}"
        )
    return state


def state_and_version(args: Sequence[Any], kwargs: dict[str, Any]) -> tuple[State, int | None]:
    """Read ``(state, version=None)`` (1.x) or ``(version, state)`` (0.12) arguments."""
    extra = set(kwargs) - {"state", "version", "cache_for"}
    if extra or len(args) > 2:
        raise TypeError(f"unexpected arguments: {sorted(extra) or list(args[2:])}")
    state: Any = kwargs.get("state")
    version: Any = kwargs.get("version")
    if args and isinstance(args[0], int) and not isinstance(args[0], bool):
        version = args[0]
        state = args[1] if len(args) > 1 else state
    elif args:
        state = args[0]
        version = args[1] if len(args) > 1 else version
    if state is None:
        raise TypeError("missing required argument: 'state'")
    if version is not None and (not isinstance(version, int) or isinstance(version, bool)):
        raise InvalidInputError(f"version must be an integer, got {type(version).__name__}")
    return require_state(state), version


def pop_cache_for(args: Sequence[Any], kwargs: dict[str, Any]) -> timedelta | None:
    """The ``cache_for`` of ``set_task_run_state``, third positionally in both orders."""
    value: Any = args[2] if len(args) > 2 else kwargs.get("cache_for")
    if value is not None and not isinstance(value, timedelta):
        raise InvalidInputError(f"cache_for must be a timedelta, got {type(value).__name__}")
    return value


def _state_or_pending(serialized: JSONValue | None) -> AnyState:
    if serialized is None:
        return Pending()
    if not isinstance(serialized, Mapping):
        raise InvalidStateError(
            "the API returned a serialized state that is not an object: "
            f"{type(serialized).__name__}"
        )
    return parse_state(serialized)


def _json_object(value: JSONValue | None) -> dict[str, JSONValue]:
    return dict(value) if isinstance(value, Mapping) else {}


# -- tenants and auth -------------------------------------------------------------------


def get_tenant_id(config: ClientConfig) -> Plan[str]:
    """The tenant requests act for: the configured one, else the API's default (as 1.4.1)."""
    if config.tokens.tenant_id:
        return config.tokens.tenant_id
    if config.backend == "cloud":
        auth = yield from call(Operations.get_auth_tenant)
        if auth.auth_info is None or auth.auth_info.tenant_id is None:
            raise AuthenticationError(
                "the API key is not tied to a tenant; "
                "an old API token may have been passed as a key"
            )
        tenant_id = str(auth.auth_info.tenant_id)
    else:
        tenants = yield from call(Operations.list_tenant_slugs)
        if not tenants.tenant:
            raise NotFoundError(
                "the server has no tenant yet; create one (prefect server create-tenant)"
            )
        tenant_id = str(tenants.tenant[0].id)
    config.tokens.tenant_id = tenant_id
    return tenant_id


def get_auth_token(config: ClientConfig) -> Plan[str | None]:
    tokens = config.tokens
    if tokens.needs_refresh():
        assert tokens.tenant_tokens is not None
        assert tokens.tenant_tokens.refresh_token is not None
        answer = yield from call(
            Operations.refresh_token,
            input=refresh_token_input(
                access_token=tokens.tenant_tokens.access_token.get_secret_value()
            ),
            token=tokens.tenant_tokens.refresh_token.get_secret_value(),
        )
        tokens.tenant_tokens = tokens_from_payload(answer.refresh_token)
    return tokens.bearer()


def get_available_tenants(config: ClientConfig) -> Plan[list[ListTenantsBySlugTenant]]:
    answer = yield from call(Operations.list_tenants_by_slug, token=_account_token(config))
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
    checked_id = str(valid_uuid(tenant_id, "tenant_id")) if tenant_id is not None else None
    found = yield from call(
        Operations.find_tenant_id,
        slug=tenant_slug,
        id=uuid.UUID(checked_id) if checked_id else None,
        token=_account_token(config),
    )
    if not found.tenant:
        wanted = f"slug {tenant_slug!r}" if tenant_slug else f"id {checked_id}"
        raise InvalidInputError(f"no tenant matches {wanted}")
    return str(found.tenant[0].id)


def login_to_tenant(
    config: ClientConfig, tenant_slug: str | None, tenant_id: str | None
) -> Plan[bool]:
    api_token = config.tokens.api_token
    if api_token is None:
        raise ConfigurationError(
            "login_to_tenant needs a USER-scoped API token (api_token=...); "
            "with an API key use switch_tenant"
        )
    found_id = yield from _find_tenant_id(config, tenant_slug, tenant_id)
    answer = yield from call(
        Operations.switch_tenant,
        input=switch_tenant_input(tenant_id=uuid.UUID(found_id)),
        token=api_token.get_secret_value(),
    )
    config.tokens.tenant_tokens = tokens_from_payload(answer.switch_tenant)
    config.tokens.tenant_id = found_id
    _write_api_token_settings(config, active_tenant_id=found_id)
    return True


def logout_from_tenant(config: ClientConfig) -> None:
    config.tokens.tenant_tokens = None
    config.tokens.tenant_id = None
    _write_api_token_settings(config, active_tenant_id=None)


def save_api_token(config: ClientConfig) -> None:
    if config.tokens.api_token is None:
        raise ConfigurationError("this client has no API token to save")
    _write_api_token_settings(config, active_tenant_id=config.tokens.tenant_id)


def _write_api_token_settings(config: ClientConfig, *, active_tenant_id: str | None) -> None:
    if config.tokens.api_token is None:
        return
    path = api_token_settings_path(config.home_dir, config.api_server)
    settings = read_toml_file(path)
    settings["api_token"] = config.tokens.api_token.get_secret_value()
    if active_tenant_id:
        settings["active_tenant_id"] = active_tenant_id
    else:
        settings.pop("active_tenant_id", None)
    write_private_toml(path, settings)


def load_api_token_settings(config: ClientConfig) -> tuple[SecretStr | None, str | None]:
    """The 0.12 API token file's token and active tenant, if the file exists."""
    settings = read_toml_file(api_token_settings_path(config.home_dir, config.api_server))
    token = settings.get("api_token")
    tenant = settings.get("active_tenant_id")
    return (
        SecretStr(token) if isinstance(token, str) else None,
        tenant if isinstance(tenant, str) else None,
    )


def switch_tenant(
    config: ClientConfig, tenant_slug: str | None, tenant_id: str | None
) -> Plan[str]:
    """1.x: act for another tenant (``X-PREFECT-TENANT-ID``), checking the key may."""
    if config.tokens.api_token is not None:
        raise ConfigurationError(
            "switch_tenant is for API keys; with an API token use login_to_tenant"
        )
    if tenant_slug is not None:
        found_id = yield from _find_tenant_id(config, tenant_slug, None)
    else:
        found_id = str(valid_uuid(tenant_id, "tenant_id"))
    previous = config.tokens.tenant_id
    config.tokens.tenant_id = found_id
    if config.backend == "cloud":
        try:
            auth = yield from call(Operations.get_auth_tenant)
        except PrefectGQLError:
            config.tokens.tenant_id = previous
            raise
        if auth.auth_info is None or str(auth.auth_info.tenant_id) != found_id:
            config.tokens.tenant_id = previous
            raise AuthenticationError(f"the API key cannot act for tenant {found_id}")
    return found_id


def create_tenant(config: ClientConfig, name: str, slug: str | None) -> Plan[str]:
    tenant_slug = slug or re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    answer = yield from call(
        Operations.create_tenant,
        input=build_input(create_tenant_input, "tenant", name=name, slug=tenant_slug),
    )
    if answer.create_tenant is None or answer.create_tenant.id is None:
        raise OperationFailedError("create_tenant returned no id")
    return str(answer.create_tenant.id)


def get_default_tenant_slug(config: ClientConfig, as_user: bool) -> Plan[str]:
    if config.tokens.api_token is not None and as_user:
        user = yield from call(Operations.get_user_default_tenant_slug)
        for entry in user.user:
            if entry.default_membership is not None:
                return entry.default_membership.tenant.slug
        raise NotFoundError("the user has no default tenant membership")
    tenants = yield from call(Operations.list_tenant_slugs)
    if not tenants.tenant:
        raise NotFoundError("no tenant is visible to these credentials")
    wanted = config.tokens.tenant_id
    for tenant in tenants.tenant:
        if wanted is None or str(tenant.id) == wanted:
            return tenant.slug
    return tenants.tenant[0].slug


def get_cloud_url(config: ClientConfig, subdirectory: str, id: str, as_user: bool) -> Plan[str]:
    """A UI link: ``<ui>/<tenant slug>/<subdirectory>/<id>`` on Cloud, no slug on Server."""
    if config.backend == "server":
        return "/".join([config.ui_endpoint.rstrip("/"), subdirectory, id])
    slug = yield from get_default_tenant_slug(config, as_user)
    api = config.api_server
    base = api.replace("api-", "", 1) if "api-" in api else api.replace("api", "cloud", 1)
    return "/".join([base.rstrip("/"), slug, subdirectory, id])


# -- projects and flows ---------------------------------------------------------------


def create_project(
    config: ClientConfig, project_name: str, project_description: str | None
) -> Plan[str]:
    tenant_id = yield from get_tenant_id(config)
    try:
        answer = yield from call(
            Operations.create_project,
            input=build_input(
                create_project_input,
                "project",
                tenant_id=tenant_id,
                name=project_name,
                description=project_description,
            ),
        )
    except ClientError as err:
        if not any("Uniqueness violation" in error.message for error in err.errors):
            raise
        return (yield from _project_id(config, project_name))
    if answer.create_project is None or answer.create_project.id is None:
        raise OperationFailedError("create_project returned no id")
    return str(answer.create_project.id)


def _project_id(config: ClientConfig, project_name: str) -> Plan[str]:
    found = yield from call(Operations.find_project_by_name, name=project_name)
    if not found.project:
        raise NotFoundError(
            f"project {project_name!r} not found; create it with client.create_project"
        )
    return str(found.project[0].id)


def delete_project(config: ClientConfig, project_name: str) -> Plan[bool]:
    project_id = yield from _project_id(config, project_name)
    answer = yield from call(
        Operations.delete_project,
        input=delete_project_input(project_id=uuid.UUID(project_id)),
    )
    return bool(answer.delete_project and answer.delete_project.success)


def register(
    config: ClientConfig,
    flow: FlowSpec | Mapping[str, Any],
    project_name: str | None,
    set_schedule_active: bool,
    version_group_id: str | None,
    compressed: bool,
    no_url: bool,
    idempotency_key: str | None,
) -> Plan[str]:
    """Register a flow as 1.4.1 does: the flow, its tasks and edges in batches, its schedule."""
    if not project_name:
        raise InvalidInputError("project_name is required to register a flow")
    serialized = flow.serialize() if isinstance(flow, FlowSpec) else dict(flow)
    if not isinstance(serialized.get("name"), str):
        raise InvalidInputError("the serialized flow has no 'name'")
    project_id = yield from _project_id(config, project_name)
    flow_only, tasks, edges = split_for_registration(serialized)
    common: dict[str, Any] = {
        "project_id": project_id,
        "set_schedule_active": False,
        "version_group_id": version_group_id,
        "idempotency_key": idempotency_key,
        "description": serialized.get("description"),
    }
    if compressed:
        created = yield from call(
            Operations.create_flow_from_compressed_string,
            input=build_input(
                create_flow_from_compressed_string_input,
                "flow",
                serialized_flow=compress_flow(flow_only),
                **common,
            ),
        )
        payload = created.create_flow_from_compressed_string
        flow_id = payload.id if payload else None
    else:
        created_plain = yield from call(
            Operations.create_flow,
            input=build_input(create_flow_input, "flow", serialized_flow=flow_only, **common),
        )
        payload_plain = created_plain.create_flow
        flow_id = payload_plain.id if payload_plain else None
    if flow_id is None:
        raise OperationFailedError("flow registration returned no id")
    for batch in batched(tasks, REGISTRATION_BATCH_SIZE):
        yield from call(
            Operations.register_tasks,
            input=build_input(
                register_tasks_input, "tasks", flow_id=flow_id, serialized_tasks=batch
            ),
        )
    for batch in batched(edges, REGISTRATION_BATCH_SIZE):
        yield from call(
            Operations.register_edges,
            input=build_input(
                register_edges_input, "edges", flow_id=flow_id, serialized_edges=batch
            ),
        )
    if set_schedule_active:
        yield from call(
            Operations.set_schedule_active, input=set_schedule_active_input(flow_id=flow_id)
        )
    if not no_url:
        group = yield from call(Operations.get_flow_group_id, id=flow_id)
        if group.flow_by_pk is not None:
            url = yield from get_cloud_url(
                config, "flow", str(group.flow_by_pk.flow_group_id), True
            )
            print(f"Flow URL: {url}")
    return str(flow_id)


# -- flow runs -------------------------------------------------------------------------


def create_flow_run(
    config: ClientConfig,
    flow_id: str | None,
    context: Mapping[str, Any] | None,
    parameters: Mapping[str, Any] | None,
    scheduled_start_time: datetime | None,
    idempotency_key: str | None,
    run_name: str | None,
    version_group_id: str | None,
    labels: Sequence[str] | None,
    run_config: Mapping[str, Any] | None,
) -> Plan[str]:
    """Always sends an idempotency key, so a retried request cannot create a second run."""
    if flow_id is None and version_group_id is None:
        raise InvalidInputError("pass flow_id or version_group_id")
    fields: dict[str, Any] = {"idempotency_key": idempotency_key or uuid.uuid4().hex}
    if flow_id is not None:
        fields["flow_id"] = valid_uuid(flow_id, "flow_id")
    else:
        fields["version_group_id"] = version_group_id
    if scheduled_start_time is not None:
        fields["scheduled_start_time"] = aware(scheduled_start_time, "scheduled_start_time")
    fields.update(
        parameters=json_value(parameters, "parameters"),
        context=json_value(context, "context"),
        flow_run_name=run_name,
        labels=list(labels) if labels is not None else None,
        run_config=json_value(run_config, "run_config"),
    )
    answer = yield from call(
        Operations.create_flow_run, input=build_input(create_flow_run_input, "flow run", **fields)
    )
    if answer.create_flow_run is None or answer.create_flow_run.id is None:
        raise OperationFailedError("create_flow_run returned no id")
    return str(answer.create_flow_run.id)


def get_flow_run_info(config: ClientConfig, flow_run_id: str) -> Plan[FlowRunInfo]:
    run_id = valid_uuid(flow_run_id, "flow_run_id")
    answer = yield from call(Operations.get_flow_run_info, id=run_id)
    run = answer.flow_run_by_pk
    if run is None:
        raise NotFoundError(f"flow run {run_id} not found")
    project = run.flow.project
    return FlowRunInfo(
        id=str(run.id),
        name=run.name,
        flow_id=str(run.flow_id),
        project=ProjectInfo(id=str(project.id), name=project.name),
        parameters=_json_object(run.parameters),
        context=_json_object(run.context),
        version=run.version,
        scheduled_start_time=run.scheduled_start_time,
        state=_state_or_pending(run.serialized_state),
        task_runs=[
            TaskRunInfo(
                id=str(task_run.id),
                task_id=str(task_run.task.id),
                task_slug=task_run.task.slug,
                version=task_run.version,
                state=_state_or_pending(task_run.serialized_state),
            )
            for task_run in run.task_runs
        ],
    )


def get_flow_run_state(config: ClientConfig, flow_run_id: str) -> Plan[AnyState]:
    run_id = valid_uuid(flow_run_id, "flow_run_id")
    answer = yield from call(Operations.get_flow_run_state, id=run_id)
    if answer.flow_run_by_pk is None:
        raise NotFoundError(f"flow run {run_id} not found")
    return _state_or_pending(answer.flow_run_by_pk.serialized_state)


def _state_update(
    config: ClientConfig, id_field: str, run_id: str, state: State, version: int | None
) -> dict[str, Any]:
    """The fields of one ``set_*_run_state_input``."""
    return {
        id_field: valid_uuid(run_id, id_field),
        "version": version,
        "state": state.to_wire(core_version=config.core_version),
    }


def _answered_state(requested: State, answers: Sequence[Any] | None) -> State:
    """The state to consider the run in: a QUEUED answer means wait and retry later."""
    answer = answers[0] if answers else None
    if answer is not None and answer.status == "QUEUED":
        return Queued(
            message=answer.message,
            state=requested,
            start_time=datetime.now(UTC) + QUEUE_INTERVAL,
        )
    return requested


def set_flow_run_state(
    config: ClientConfig, flow_run_id: str, state: State, version: int | None
) -> Plan[State]:
    checked = require_state(state)
    answer = yield from call(
        Operations.set_flow_run_states,
        input=set_flow_run_states_input(
            states=[
                build_input(
                    set_flow_run_state_input,
                    "flow run state",
                    **_state_update(config, "flow_run_id", flow_run_id, checked, version),
                )
            ]
        ),
    )
    payload = answer.set_flow_run_states
    return _answered_state(checked, payload.states if payload else None)


def set_flow_run_name(config: ClientConfig, flow_run_id: str, name: str) -> Plan[bool]:
    answer = yield from call(
        Operations.set_flow_run_name,
        input=set_flow_run_name_input(
            flow_run_id=valid_uuid(flow_run_id, "flow_run_id"), name=name
        ),
    )
    return bool(answer.set_flow_run_name and answer.set_flow_run_name.success)


def cancel_flow_run(config: ClientConfig, flow_run_id: str) -> Plan[str | None]:
    answer = yield from call(
        Operations.cancel_flow_run,
        input=cancel_flow_run_input(flow_run_id=valid_uuid(flow_run_id, "flow_run_id")),
    )
    return answer.cancel_flow_run.state if answer.cancel_flow_run else None


def update_flow_run_heartbeat(config: ClientConfig, flow_run_id: str) -> Plan[None]:
    """Never raises: a missed heartbeat is logged, the run goes on."""
    try:
        run_id = valid_uuid(flow_run_id, "flow_run_id")
        yield from call(
            Operations.update_flow_run_heartbeat,
            input=update_flow_run_heartbeat_input(flow_run_id=run_id),
            headers={"X-PREFECT-HEARTBEAT-ID": str(run_id)},
        )
    except PrefectGQLError as err:
        logger.warning("flow run heartbeat failed: %s", err)


# -- task runs ---------------------------------------------------------------------


def get_task_run_info(
    config: ClientConfig, flow_run_id: str, task_id: str, map_index: int | None
) -> Plan[TaskRunInfo]:
    answer = yield from call(
        Operations.get_or_create_task_run_info,
        input=get_or_create_task_run_info_input(
            flow_run_id=valid_uuid(flow_run_id, "flow_run_id"),
            task_id=valid_uuid(task_id, "task_id"),
            map_index=-1 if map_index is None else map_index,
        ),
    )
    info = answer.get_or_create_task_run_info
    if info is None or info.id is None:
        raise NotFoundError(f"no task run for task {task_id} in flow run {flow_run_id}")
    return TaskRunInfo(
        id=str(info.id),
        task_id=str(task_id),
        version=info.version or 0,
        state=_state_or_pending(info.serialized_state),
    )


def get_task_run_state(config: ClientConfig, task_run_id: str) -> Plan[AnyState]:
    run_id = valid_uuid(task_run_id, "task_run_id")
    answer = yield from call(Operations.get_task_run_state, task_run_id=run_id)
    if answer.get_task_run_info is None:
        raise NotFoundError(f"task run {run_id} not found")
    return _state_or_pending(answer.get_task_run_info.serialized_state)


def set_task_run_state(
    config: ClientConfig,
    task_run_id: str,
    state: State,
    version: int | None,
    cache_for: timedelta | None,
) -> Plan[State]:
    checked = require_state(state)
    if (
        cache_for is not None
        and isinstance(checked, Cached)
        and checked.cached_result_expiration is None
    ):
        checked = checked.model_copy(
            update={"cached_result_expiration": datetime.now(UTC) + cache_for}
        )
    answer = yield from call(
        Operations.set_task_run_states,
        input=set_task_run_states_input(
            states=[
                build_input(
                    set_task_run_state_input,
                    "task run state",
                    **_state_update(config, "task_run_id", task_run_id, checked, version),
                )
            ]
        ),
    )
    payload = answer.set_task_run_states
    return _answered_state(checked, payload.states if payload else None)


def set_task_run_name(config: ClientConfig, task_run_id: str, name: str) -> Plan[bool]:
    answer = yield from call(
        Operations.set_task_run_name,
        input=set_task_run_name_input(
            task_run_id=valid_uuid(task_run_id, "task_run_id"), name=name
        ),
    )
    return bool(answer.set_task_run_name and answer.set_task_run_name.success)


def update_task_run_heartbeat(config: ClientConfig, task_run_id: str) -> Plan[None]:
    """Never raises: a missed heartbeat is logged, the run goes on."""
    try:
        yield from call(
            Operations.update_task_run_heartbeat,
            input=update_task_run_heartbeat_input(
                task_run_id=valid_uuid(task_run_id, "task_run_id")
            ),
        )
    except PrefectGQLError as err:
        logger.warning("task run heartbeat failed: %s", err)


def get_latest_cached_states(
    config: ClientConfig, task_id: str, cache_key: str | None, created_after: datetime
) -> Plan[list[AnyState]]:
    """Cached states newer than ``created_after``, by cache key if given, else by task."""
    after = aware(created_after, "created_after")
    if cache_key is not None:
        by_key = yield from call(
            Operations.get_cached_states_by_cache_key,
            cache_key=cache_key,
            created_after=after,
            limit=CACHED_STATES_LIMIT,
        )
        rows = [row.serialized_state for row in by_key.task_run]
    else:
        by_task = yield from call(
            Operations.get_cached_states_by_task,
            task_id=valid_uuid(task_id, "task_id"),
            created_after=after,
            limit=CACHED_STATES_LIMIT,
        )
        rows = [row.serialized_state for row in by_task.task_run]
    return [_state_or_pending(row) for row in rows if row is not None]


# -- artifacts, secrets, limits, logs, agents ------------------------------------------


def create_task_run_artifact(
    config: ClientConfig, task_run_id: str, kind: str, data: Any, tenant_id: str | None
) -> Plan[str]:
    fields: dict[str, Any] = {
        "task_run_id": valid_uuid(task_run_id, "task_run_id"),
        "kind": kind,
        "data": json_value(data, "artifact data"),
    }
    if tenant_id is not None:
        fields["tenant_id"] = valid_uuid(tenant_id, "tenant_id")
    answer = yield from call(
        Operations.create_task_run_artifact,
        input=build_input(create_task_run_artifact_input, "artifact", **fields),
    )
    if answer.create_task_run_artifact is None or answer.create_task_run_artifact.id is None:
        raise OperationFailedError("create_task_run_artifact returned no id")
    return str(answer.create_task_run_artifact.id)


def update_task_run_artifact(
    config: ClientConfig, task_run_artifact_id: str, data: Any
) -> Plan[None]:
    answer = yield from call(
        Operations.update_task_run_artifact,
        input=build_input(
            update_task_run_artifact_input,
            "artifact",
            task_run_artifact_id=valid_uuid(task_run_artifact_id, "task_run_artifact_id"),
            data=json_value(data, "artifact data"),
        ),
    )
    _require_success(answer.update_task_run_artifact, "update_task_run_artifact")


def delete_task_run_artifact(config: ClientConfig, task_run_artifact_id: str) -> Plan[None]:
    answer = yield from call(
        Operations.delete_task_run_artifact,
        input=delete_task_run_artifact_input(
            task_run_artifact_id=valid_uuid(task_run_artifact_id, "task_run_artifact_id")
        ),
    )
    _require_success(answer.delete_task_run_artifact, "delete_task_run_artifact")


def _require_success(payload: Any, operation: str) -> None:
    if payload is None or not getattr(payload, "success", False):
        error = getattr(payload, "error", None) if payload is not None else None
        raise OperationFailedError(
            f"{operation} was not successful" + (f": {error}" if error else "")
        )


def set_secret(config: ClientConfig, name: str, value: Any) -> Plan[None]:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        raise InvalidInputError(f"the value of secret {name!r} must be JSON-serializable") from None
    answer = yield from call(
        Operations.set_secret, input=build_input(set_secret_input, "secret", name=name, value=value)
    )
    _require_success(answer.set_secret, "set_secret")


def get_task_tag_limit(config: ClientConfig, tag: str) -> Plan[int | None]:
    answer = yield from call(Operations.get_task_tag_limit, tag=tag)
    return answer.task_tag_limit[0].limit if answer.task_tag_limit else None


def update_task_tag_limit(config: ClientConfig, tag: str, limit: int) -> Plan[str]:
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
        raise InvalidInputError(f"limit must be an integer >= 0, got {limit!r}")
    answer = yield from call(
        Operations.update_task_tag_limit,
        input=update_task_tag_limit_input(tag=tag, limit=limit),
    )
    if answer.update_task_tag_limit is None or answer.update_task_tag_limit.id is None:
        raise OperationFailedError(f"updating the limit of tag {tag!r} was not successful")
    return str(answer.update_task_tag_limit.id)


def delete_task_tag_limit(config: ClientConfig, limit_id: str) -> Plan[None]:
    """Deleting an unknown limit is unsuccessful: ``OperationFailedError``, a ValueError."""
    checked = valid_uuid(limit_id, "limit_id")
    try:
        answer = yield from call(
            Operations.delete_task_tag_limit,
            input=delete_task_tag_limit_input(limit_id=checked),
        )
    except NotFoundError as err:
        raise OperationFailedError(
            f"delete_task_tag_limit was not successful: no limit {checked}",
            errors=err.errors,
            operation_name=err.operation_name,
        ) from err
    _require_success(answer.delete_task_tag_limit, "delete_task_tag_limit")


def _log_input(entry: LogEntry | Mapping[str, Any], index: int) -> write_run_log_input:
    try:
        log = entry if isinstance(entry, LogEntry) else LogEntry.model_validate(entry)
    except ValidationError as err:
        problems = describe_validation_error(err)
        raise InvalidInputError(f"log entry {index} is invalid: {problems}") from err
    fields = log.model_dump(exclude_unset=True)
    fields["flow_run_id"] = valid_uuid(log.flow_run_id, f"log entry {index} flow_run_id")
    if log.task_run_id is not None:
        fields["task_run_id"] = valid_uuid(log.task_run_id, f"log entry {index} task_run_id")
    return build_input(write_run_log_input, f"log entry {index}", **fields)


def write_run_logs(
    config: ClientConfig, logs: Iterable[LogEntry | Mapping[str, Any]], batch_size: int
) -> Plan[None]:
    """Write logs in batches; on failure, say exactly which entries were not written.

    Every entry is checked before anything is sent, without keeping the checked
    copies: a batch's inputs are built when it is sent, so memory stays near the
    size of the entries themselves. A batch is retried like any request; when it
    still fails, it and every later batch are reported unwritten.
    """
    if batch_size < 1:
        raise InvalidInputError(f"batch_size must be >= 1, got {batch_size}")
    entries = logs if isinstance(logs, Sequence) else list(logs)
    for index, entry in enumerate(entries):
        _log_input(entry, index)
    for start in range(0, len(entries), batch_size):
        batch = [
            _log_input(entry, index)
            for index, entry in enumerate(entries[start : start + batch_size], start)
        ]
        try:
            answer = yield from call(
                Operations.write_run_logs, input=write_run_logs_input(logs=batch)
            )
            _require_success(answer.write_run_logs, "write_run_logs")
        except PrefectGQLError as err:
            unwritten = [_as_mapping(entry) for entry in entries[start:]]
            raise LogWriteError(
                f"{len(unwritten)} of {len(entries)} log entries were not written "
                f"(entries {start} to {len(entries) - 1}): {err}",
                unwritten=unwritten,
            ) from err


def _as_mapping(entry: LogEntry | Mapping[str, Any]) -> Mapping[str, Any]:
    return entry.model_dump(exclude_unset=True) if isinstance(entry, LogEntry) else entry


def register_agent(
    config: ClientConfig,
    agent_type: str,
    name: str | None,
    labels: Sequence[str] | None,
    agent_config_id: str | None,
) -> Plan[str]:
    tenant_id = yield from get_tenant_id(config)
    answer = yield from call(
        Operations.register_agent,
        input=build_input(
            register_agent_input,
            "agent",
            type=agent_type,
            name=name,
            labels=list(labels or []),
            tenant_id=tenant_id,
            agent_config_id=valid_uuid(agent_config_id, "agent_config_id")
            if agent_config_id is not None
            else None,
        ),
    )
    if answer.register_agent is None or answer.register_agent.id is None:
        raise OperationFailedError("register_agent returned no id")
    return str(answer.register_agent.id)


def get_agent_config(config: ClientConfig, agent_config_id: str) -> Plan[dict[str, JSONValue]]:
    config_id = valid_uuid(agent_config_id, "agent_config_id")
    answer = yield from call(Operations.get_agent_config, id=config_id)
    if not answer.agent_config:
        raise NotFoundError(f"agent config {config_id} not found")
    return _json_object(answer.agent_config[0].settings)


# -- the untyped escape hatches ------------------------------------------------------


def graphql(
    config: ClientConfig,
    query: str,
    raise_on_error: bool,
    headers: Mapping[str, str] | None,
    variables: Mapping[str, Any] | None,
    token: str | None,
) -> Plan[dict[str, Any]]:
    if not isinstance(query, str) or not query.strip():
        raise InvalidInputError("query must be a non-empty GraphQL document string")
    if raise_on_error:
        data = yield from graphql_exchange(
            config, query, None, variables, headers=headers, token=token
        )
        return {"data": data}
    try:
        data = yield from graphql_exchange(
            config, query, None, variables, headers=headers, token=token
        )
    except ClientError as err:
        return {
            "data": err.data,
            "errors": [
                {"message": e.message, "path": list(e.path), "extensions": e.extensions}
                for e in err.errors
            ],
        }
    return {"data": data}


def rest(
    config: ClientConfig,
    method: str,
    path: str,
    server: str | None,
    headers: Mapping[str, str] | None,
    params: Mapping[str, Any] | None,
    token: str | None,
) -> Plan[Any]:
    return (
        yield from rest_exchange(
            config, method, path, server=server, headers=headers, params=params, token=token
        )
    )
