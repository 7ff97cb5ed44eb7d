"""Task runs (queries/task_runs.graphql)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import prefect_gql_generated as generated

from .._constants import CACHED_STATES_LIMIT
from .._core import ClientConfig, ClientMethod, Plan
from .._exceptions import InvalidInputError, NotFoundError, PrefectGQLError
from .._models import TaskRunInfo, from_answer
from .._states import AnyState, Cached, State, state_from_answer
from .._validation import aware, build_input, valid_uuid
from .run_states import (
    StateArgument,
    answered_state,
    state_and_version,
    state_update,
)

__all__ = ["TaskRunMethods"]

logger = logging.getLogger("prefect_gql")


def get_task_run_info(
    config: ClientConfig, flow_run_id: str, task_id: str, map_index: int | None = None
) -> Plan[TaskRunInfo]:
    """The task run of ``task_id`` in a flow run (created if missing): id, version, state."""
    checked_task_id = valid_uuid(task_id, "task_id")
    answer = yield from config.operations.get_or_create_task_run_info(
        input=generated.get_or_create_task_run_info_input(
            flow_run_id=valid_uuid(flow_run_id, "flow_run_id"),
            task_id=checked_task_id,
            map_index=-1 if map_index is None else map_index,
        )
    )
    info = answer.get_or_create_task_run_info
    if info is None or info.id is None:
        raise NotFoundError(f"no task run for task {task_id} in flow run {flow_run_id}")
    return from_answer(
        TaskRunInfo,
        id=info.id,
        task_id=checked_task_id,
        version=info.version or 0,
        state=state_from_answer(info.serialized_state),
    )


def get_task_run_state(config: ClientConfig, task_run_id: str) -> Plan[AnyState]:
    """A task run's current state."""
    run_id = valid_uuid(task_run_id, "task_run_id")
    answer = yield from config.operations.get_task_run_state(task_run_id=run_id)
    if answer.get_task_run_info is None:
        raise NotFoundError(f"task run {run_id} not found")
    return state_from_answer(answer.get_task_run_info.serialized_state)


def set_task_run_state(
    config: ClientConfig,
    task_run_id: str,
    state: StateArgument = None,
    version: StateArgument = None,
    cache_for: timedelta | None = None,
) -> Plan[State]:
    """Set a task run's state; returns it, or ``Queued`` when the API queued the run.

    Takes 1.x's ``(task_run_id, state, version=None, cache_for=None)`` and 0.12's
    ``(task_run_id, version, state, cache_for=None)``. A stale ``version`` raises
    ``VersionLockError``; ``cache_for`` sets a ``Cached`` state's expiration.
    """
    checked, checked_version = state_and_version(state, version)
    if cache_for is not None and not isinstance(cache_for, timedelta):
        raise InvalidInputError(f"cache_for must be a timedelta, got {type(cache_for).__name__}")
    if (
        cache_for is not None
        and isinstance(checked, Cached)
        and checked.cached_result_expiration is None
    ):
        checked = checked.model_copy(
            update={"cached_result_expiration": datetime.now(UTC) + cache_for}
        )
    answer = yield from config.operations.set_task_run_states(
        input=generated.set_task_run_states_input(
            states=[
                build_input(
                    generated.set_task_run_state_input,
                    "task run state",
                    **state_update(config, "task_run_id", task_run_id, checked, checked_version),
                )
            ]
        )
    )
    payload = answer.set_task_run_states
    return answered_state(checked, payload.states if payload else None)


def set_task_run_name(config: ClientConfig, task_run_id: str, name: str) -> Plan[bool]:
    """Rename a task run."""
    answer = yield from config.operations.set_task_run_name(
        input=generated.set_task_run_name_input(
            task_run_id=valid_uuid(task_run_id, "task_run_id"), name=name
        )
    )
    return bool(answer.set_task_run_name and answer.set_task_run_name.success)


def update_task_run_heartbeat(config: ClientConfig, task_run_id: str) -> Plan[None]:
    """Heartbeat a task run. Never raises: a missed heartbeat is logged, the run goes on."""
    try:
        yield from config.operations.update_task_run_heartbeat(
            input=generated.update_task_run_heartbeat_input(
                task_run_id=valid_uuid(task_run_id, "task_run_id")
            )
        )
    except PrefectGQLError as err:
        logger.warning("task run heartbeat failed: %s", err)


def get_latest_cached_states(
    config: ClientConfig, task_id: str, cache_key: str | None, created_after: datetime
) -> Plan[list[AnyState]]:
    """Cached states created after ``created_after`` (naive: UTC), newest first.

    By ``cache_key`` when one is given, else by task.
    """
    after = aware(created_after, "created_after")
    if cache_key is not None:
        by_key = yield from config.operations.get_cached_states_by_cache_key(
            cache_key=cache_key, created_after=after, limit=CACHED_STATES_LIMIT
        )
        rows = [row.serialized_state for row in by_key.task_run]
    else:
        by_task = yield from config.operations.get_cached_states_by_task(
            task_id=valid_uuid(task_id, "task_id"), created_after=after, limit=CACHED_STATES_LIMIT
        )
        rows = [row.serialized_state for row in by_task.task_run]
    return [state_from_answer(row) for row in rows if row is not None]


class TaskRunMethods:
    get_task_run_info = ClientMethod(get_task_run_info)
    get_task_run_state = ClientMethod(get_task_run_state)
    set_task_run_state = ClientMethod(set_task_run_state)
    set_task_run_name = ClientMethod(set_task_run_name)
    update_task_run_heartbeat = ClientMethod(update_task_run_heartbeat)
    get_latest_cached_states = ClientMethod(get_latest_cached_states)
