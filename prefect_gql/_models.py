"""Result and input models of the facade, where the generated ones are not enough.

The generated models mirror the API's JSON; these add what the Prefect ``Client``
returned on top: parsed ``State`` objects instead of ``serialized_state`` dicts, and
ids as strings, as the documented methods returned them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from prefect_gql_generated.json_value import JSONValue
from prefect_gql_generated.list_tenants_by_slug import ListTenantsBySlugTenant
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from ._states import AnyState

__all__ = ["FlowRunInfo", "LogEntry", "ProjectInfo", "TaskRunInfo", "TenantInfo"]

LogLevel = Literal["CRITICAL", "DEBUG", "ERROR", "INFO", "WARNING"]


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
