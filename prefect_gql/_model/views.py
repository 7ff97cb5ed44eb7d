"""Read-only views of runs and flows, as Prefect 1.x's ``prefect.backend`` offered them.

``FlowRunView``, ``TaskRunView`` and ``FlowView`` are snapshots taken when read (call
the getter again for fresh data). ``watch_flow_run`` yields ``FlowRunEvent``s: a
``StateChange``, a ``LogLine`` or a ``TaskRunProgress``, told apart by ``kind``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict

from prefect_gql._generated.json_value import JSONValue

from .results import ProjectInfo
from .states import AnyState

__all__ = [
    "FlowRunEvent",
    "FlowRunSummary",
    "FlowRunView",
    "FlowSummary",
    "FlowView",
    "LogLine",
    "StateChange",
    "TaskRunProgress",
    "TaskRunView",
]


class _View(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


def _duration(start: datetime | None, end: datetime | None) -> timedelta | None:
    return end - start if start is not None and end is not None else None


class FlowSummary(_View):
    """The flow a run belongs to: its id, name, version and project."""

    id: str
    name: str
    version: int | None
    project: ProjectInfo


class StateChange(_View):
    """One entry of a flow run's state history; ``watch_flow_run`` yields each new one."""

    kind: Literal["state"] = "state"
    state: AnyState
    timestamp: datetime
    version: int | None = None


class LogLine(_View):
    """One log line of a run, as read back from the API."""

    kind: Literal["log"] = "log"
    id: str
    timestamp: datetime
    created: datetime
    """When the API stored it: logs are paged in this order, so late writers are not missed."""
    level: str | None = None
    name: str | None = None
    message: str | None = None
    task_run_id: str | None = None


class TaskRunProgress(_View):
    """How many of a flow run's task runs are finished; yielded when either count changes."""

    kind: Literal["progress"] = "progress"
    finished: int
    total: int


FlowRunEvent = StateChange | LogLine | TaskRunProgress
"""What ``watch_flow_run`` yields."""


class FlowRunSummary(_View):
    """A flow run without its history: what ``iter_flow_runs`` yields."""

    id: str
    name: str | None
    flow: FlowSummary
    labels: list[str]
    parameters: dict[str, JSONValue]
    context: dict[str, JSONValue]
    run_config: dict[str, JSONValue] | None
    version: int
    state: AnyState
    created: datetime
    updated: datetime
    scheduled_start_time: datetime
    start_time: datetime | None
    end_time: datetime | None

    @property
    def duration(self) -> timedelta | None:
        """``end_time - start_time`` once the run has both."""
        return _duration(self.start_time, self.end_time)

    @property
    def is_finished(self) -> bool:
        return self.state.is_finished()


class FlowRunView(FlowRunSummary):
    """A flow run with its state history and task-run counts (``get_flow_run_view``)."""

    states: list[StateChange]
    """Every state the run entered, oldest first."""
    task_run_count: int
    finished_task_run_count: int


class TaskRunView(_View):
    """A task run (``get_task_run_view``, ``iter_task_runs``)."""

    id: str
    name: str | None
    flow_run_id: str
    task_id: str
    task_slug: str | None
    task_name: str | None
    map_index: int
    version: int
    state: AnyState
    created: datetime
    start_time: datetime | None
    end_time: datetime | None

    @property
    def duration(self) -> timedelta | None:
        """``end_time - start_time`` once the run has both."""
        return _duration(self.start_time, self.end_time)

    @property
    def is_finished(self) -> bool:
        return self.state.is_finished()


class FlowView(_View):
    """A registered flow's metadata (``get_flow_view``)."""

    id: str
    name: str
    version: int | None
    description: str | None
    project: ProjectInfo
    flow_group_id: str
    labels: list[str]
    """The flow group's labels, which runs of the flow get by default."""
    archived: bool
    core_version: str | None
    created: datetime
    parameters: JSONValue
    run_config: dict[str, JSONValue] | None
    settings: dict[str, JSONValue]
    is_schedule_active: bool
    task_count: int
