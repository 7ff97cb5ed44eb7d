"""Result and input models of the facade, where the generated ones are not enough.

The generated models mirror the API's JSON; these add what the Prefect ``Client``
returned on top: parsed ``State`` objects instead of ``serialized_state`` dicts, and
ids as strings, as the documented methods returned them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, TypeVar, cast

from prefect_gql_generated.json_value import JSONValue
from prefect_gql_generated.list_tenants_by_slug import ListTenantsBySlugTenant
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from ._states import AnyState

__all__ = ["FlowRunInfo", "LogEntry", "ProjectInfo", "TaskRunInfo", "TenantInfo"]

LogLevel = Literal["CRITICAL", "DEBUG", "ERROR", "INFO", "WARNING"]


_FrozenT = TypeVar("_FrozenT", bound="_Frozen")


def from_answer(model: type[_FrozenT], **fields: Any) -> _FrozenT:
    """A facade model from values the generated models and ``state_from_answer`` already
    validated: ``model_construct`` (no second validation, and no building of the model's
    validator, which would build every state class: ~30 ms of a fresh process, issue 16),
    without its per-field loop when every field is given. Held to ``model_construct`` by
    ``tests/test_models.py``.
    """
    if fields.keys() != model.__pydantic_fields__.keys():
        return cast("_FrozenT", model.model_construct(**fields))
    built = object.__new__(model)
    _set = object.__setattr__
    _set(built, "__dict__", fields)
    _set(built, "__pydantic_fields_set__", set(fields))
    _set(built, "__pydantic_extra__", None)
    _set(built, "__pydantic_private__", None)
    return built


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    def _asdict(self) -> dict[str, Any]:
        """The fields by name, as the NamedTuples Prefect's ``Client`` returned had it."""
        return {name: getattr(self, name) for name in type(self).model_fields}


class TaskRunInfo(_Frozen):
    """A task run's id, version and current state (``get_task_run_info``)."""

    id: str
    task_id: str
    task_slug: str | None = None
    version: int
    state: AnyState


class ProjectInfo(_Frozen):
    id: str
    name: str


class FlowRunInfo(_Frozen):
    """A flow run with its current state and its unmapped task runs (``get_flow_run_info``)."""

    id: str
    name: str | None
    flow_id: str
    project: ProjectInfo | None
    parameters: dict[str, JSONValue]
    context: dict[str, JSONValue]
    version: int
    scheduled_start_time: datetime
    state: AnyState
    task_runs: list[TaskRunInfo]


class LogEntry(_Frozen):
    """One run log line for ``write_run_logs``; plain dicts of the same keys are accepted too."""

    flow_run_id: str
    task_run_id: str | None = None
    timestamp: AwareDatetime | None = None
    name: str | None = None
    message: str | None = None
    level: LogLevel | None = None
    info: JSONValue = Field(default=None)


TenantInfo = ListTenantsBySlugTenant
"""A tenant's ``id``, ``slug`` and ``name`` (``get_available_tenants``)."""
