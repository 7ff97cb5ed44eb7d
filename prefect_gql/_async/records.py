"""Artifacts, secrets, task tag limits, logs and agents (queries/artifacts.graphql,
secrets.graphql, task_tag_limits.graphql, logs.graphql, agents.graphql)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pydantic import ValidationError

import prefect_gql._generated as generated
from prefect_gql._generated.json_value import JSONValue

from .._constants import LOG_BATCH_SIZE
from .._exceptions import (
    InvalidInputError,
    LogWriteError,
    NotFoundError,
    OperationFailedError,
    PrefectGQLError,
)
from .._model.results import LogEntry, json_object
from .._model.validation import build_input, describe_validation_error, ensure_json, valid_uuid
from .tenants import TenantMethods

__all__ = ["RecordMethods"]


def _require_success(payload: Any, operation: str) -> None:
    if payload is None or not getattr(payload, "success", False):
        error = getattr(payload, "error", None) if payload is not None else None
        raise OperationFailedError(
            f"{operation} was not successful" + (f": {error}" if error else "")
        )


def _log_input(entry: LogEntry | Mapping[str, Any], index: int) -> generated.write_run_log_input:
    try:
        log = entry if isinstance(entry, LogEntry) else LogEntry.model_validate(entry)
    except ValidationError as err:
        problems = describe_validation_error(err)
        raise InvalidInputError(f"log entry {index} is invalid: {problems}") from err
    fields = log.model_dump(exclude_unset=True)
    fields["flow_run_id"] = valid_uuid(log.flow_run_id, f"log entry {index} flow_run_id")
    if log.task_run_id is not None:
        fields["task_run_id"] = valid_uuid(log.task_run_id, f"log entry {index} task_run_id")
    return build_input(generated.write_run_log_input, f"log entry {index}", **fields)


def _as_mapping(entry: LogEntry | Mapping[str, Any]) -> Mapping[str, Any]:
    return entry.model_dump(exclude_unset=True) if isinstance(entry, LogEntry) else entry


class RecordMethods(TenantMethods):
    async def create_task_run_artifact(
        self, task_run_id: str, kind: str, data: Any, tenant_id: str | None = None
    ) -> str:
        """Attach an artifact (``kind``: e.g. ``"link"``, ``"markdown"``) to a task run; its id."""
        ensure_json(data, "artifact data")
        answer = await self.operations.create_task_run_artifact(
            input=build_input(
                generated.create_task_run_artifact_input,
                "artifact",
                task_run_id=valid_uuid(task_run_id, "task_run_id"),
                kind=kind,
                data=data,
                tenant_id=valid_uuid(tenant_id, "tenant_id") if tenant_id is not None else None,
            )
        )
        if answer.create_task_run_artifact is None or answer.create_task_run_artifact.id is None:
            raise OperationFailedError("create_task_run_artifact returned no id")
        return answer.create_task_run_artifact.id

    async def update_task_run_artifact(self, task_run_artifact_id: str, data: Any) -> None:
        """Replace an artifact's data."""
        ensure_json(data, "artifact data")
        answer = await self.operations.update_task_run_artifact(
            input=build_input(
                generated.update_task_run_artifact_input,
                "artifact",
                task_run_artifact_id=valid_uuid(task_run_artifact_id, "task_run_artifact_id"),
                data=data,
            )
        )
        _require_success(answer.update_task_run_artifact, "update_task_run_artifact")

    async def delete_task_run_artifact(self, task_run_artifact_id: str) -> None:
        """Delete an artifact."""
        answer = await self.operations.delete_task_run_artifact(
            input=generated.delete_task_run_artifact_input(
                task_run_artifact_id=valid_uuid(task_run_artifact_id, "task_run_artifact_id")
            )
        )
        _require_success(answer.delete_task_run_artifact, "delete_task_run_artifact")

    async def set_secret(self, name: str, value: Any) -> None:
        """Store a secret (Cloud); ValueError if the API reports failure."""
        ensure_json(value, f"the value of secret {name!r}")
        answer = await self.operations.set_secret(
            input=build_input(generated.set_secret_input, "secret", name=name, value=value)
        )
        _require_success(answer.set_secret, "set_secret")

    async def get_task_tag_limit(self, tag: str) -> int | None:
        """The concurrency limit of a task tag, or None if it has none."""
        answer = await self.operations.get_task_tag_limit(tag=tag)
        return answer.task_tag_limit[0].limit if answer.task_tag_limit else None

    async def update_task_tag_limit(self, tag: str, limit: int) -> str:
        """Set a task tag's concurrency limit (>= 0); returns the limit's id."""
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
            raise InvalidInputError(f"limit must be an integer >= 0, got {limit!r}")
        answer = await self.operations.update_task_tag_limit(
            input=generated.update_task_tag_limit_input(tag=tag, limit=limit)
        )
        if answer.update_task_tag_limit is None or answer.update_task_tag_limit.id is None:
            raise OperationFailedError(f"updating the limit of tag {tag!r} was not successful")
        return answer.update_task_tag_limit.id

    async def delete_task_tag_limit(self, limit_id: str) -> None:
        """Delete a task tag limit by id; ValueError on a bad id or failure."""
        checked = valid_uuid(limit_id, "limit_id")
        try:
            answer = await self.operations.delete_task_tag_limit(
                input=generated.delete_task_tag_limit_input(limit_id=checked)
            )
        except NotFoundError as err:
            raise OperationFailedError(
                f"delete_task_tag_limit was not successful: no limit {checked}",
                errors=err.errors,
                operation_name=err.operation_name,
            ) from err
        _require_success(answer.delete_task_tag_limit, "delete_task_tag_limit")

    async def write_run_logs(
        self,
        logs: Iterable[LogEntry | Mapping[str, Any]],
        batch_size: int = LOG_BATCH_SIZE,
    ) -> None:
        """Write run logs in batches; ``LogWriteError`` lists the entries not written.

        Every entry is checked before anything is sent, without keeping the checked
        copies: a batch's inputs are built when it is sent, so memory stays near the size
        of the entries themselves. A batch is retried like any request; when it still
        fails, it and every later batch are reported unwritten.
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
                answer = await self.operations.write_run_logs(
                    input=generated.write_run_logs_input(logs=batch)
                )
                _require_success(answer.write_run_logs, "write_run_logs")
            except PrefectGQLError as err:
                unwritten = [_as_mapping(entry) for entry in entries[start:]]
                raise LogWriteError(
                    f"{len(unwritten)} of {len(entries)} log entries were not written "
                    f"(entries {start} to {len(entries) - 1}): {err}",
                    unwritten=unwritten,
                ) from err

    async def register_agent(
        self,
        agent_type: str,
        name: str | None = None,
        labels: Sequence[str] | None = None,
        agent_config_id: str | None = None,
    ) -> str:
        """Register an agent; returns its id."""
        tenant_id = await self.get_tenant_id()
        answer = await self.operations.register_agent(
            input=build_input(
                generated.register_agent_input,
                "agent",
                type=agent_type,
                name=name,
                labels=list(labels or []),
                tenant_id=tenant_id,
                agent_config_id=valid_uuid(agent_config_id, "agent_config_id")
                if agent_config_id is not None
                else None,
            )
        )
        if answer.register_agent is None or answer.register_agent.id is None:
            raise OperationFailedError("register_agent returned no id")
        return answer.register_agent.id

    async def get_agent_config(self, agent_config_id: str) -> dict[str, JSONValue]:
        """The settings of an agent config."""
        config_id = valid_uuid(agent_config_id, "agent_config_id")
        answer = await self.operations.get_agent_config(id=config_id)
        if not answer.agent_config:
            raise NotFoundError(f"agent config {config_id} not found")
        return json_object(answer.agent_config[0].settings)
