"""Result and input models of the facade, where the generated ones are not enough.

The generated models mirror the API's JSON; these add what the Prefect ``Client``
returned on top: parsed ``State`` objects instead of ``serialized_state`` dicts, and
ids as strings, as the documented methods returned them.

``FlowRunInfo`` (with ``ProjectInfo`` and ``TaskRunInfo``) is validated straight from
the ``GetFlowRunInfo`` answer, in one pass: its validation aliases name where each field
sits in that answer (``tests/test_models.py`` holds them to the generated model), so the
flow runner's most frequent call validates its answer once, not twice (issue 16).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar, cast

from prefect_gql_generated.json_value import JSONAnswer, JSONValue
from prefect_gql_generated.list_tenants_by_slug import ListTenantsBySlugTenant
from pydantic import (
    AliasPath,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    ValidationError,
    ValidationInfo,
)

from ._exceptions import APIResponseError, InvalidStateError
from ._states import AnyState, State, parse_state, state_from_answer
from ._validation import ANSWER_CONTEXT, UTCDatetime

__all__ = ["FlowRunInfo", "LogEntry", "ProjectInfo", "TaskRunInfo", "TenantInfo"]

LogLevel = Literal["CRITICAL", "DEBUG", "ERROR", "INFO", "WARNING"]


_FrozenT = TypeVar("_FrozenT", bound="_Frozen")


def _run_state(value: object, info: ValidationInfo) -> State:
    """A state field: a ``State`` as given; from an answer, its ``serialized_state``."""
    if isinstance(value, State):
        return value
    if info.context is ANSWER_CONTEXT:
        return state_from_answer(value)
    return parse_state(value)  # type: ignore[arg-type]


if TYPE_CHECKING:
    RunState = AnyState
else:
    # Validated by ``_run_state``: pydantic never builds the 21-class union for these
    # models, which would cost a fresh process ~30 ms on its first call (issue 16).
    RunState = Annotated[Any, PlainValidator(_run_state)]


def _object_or_empty(value: object) -> object:
    """A run's ``parameters``/``context``: ``{}`` when the API has none (or no object)."""
    return value if isinstance(value, dict) else {}


if TYPE_CHECKING:
    _AnswerObject = dict[str, JSONValue]
else:
    _AnswerObject = Annotated[dict[str, JSONAnswer], BeforeValidator(_object_or_empty)]


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


def validate_answer(model: type[_FrozenT], data: object, operation_name: str) -> _FrozenT:
    """``data``, a part of ``operation_name``'s answer, as ``model`` in one pass.

    A malformed state raises ``InvalidStateError`` as ``parse_state`` does; any other
    mismatch is the API's fault: ``APIResponseError``.
    """
    try:
        return model.model_validate(data, context=ANSWER_CONTEXT)
    except ValidationError as err:
        for error in err.errors():
            cause = error.get("ctx", {}).get("error")
            if isinstance(cause, InvalidStateError):
                raise cause from err
        raise APIResponseError.from_validation_error(operation_name, err) from err


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True, populate_by_name=True)

    def _asdict(self) -> dict[str, Any]:
        """The fields by name, as the NamedTuples Prefect's ``Client`` returned had it."""
        return {name: getattr(self, name) for name in type(self).model_fields}


class TaskRunInfo(_Frozen):
    """A task run's id, version and current state (``get_task_run_info``)."""

    id: str
    task_id: str = Field(validation_alias=AliasPath("task", "id"))
    task_slug: str | None = Field(default=None, validation_alias=AliasPath("task", "slug"))
    version: int
    state: RunState = Field(validation_alias="serialized_state")


class ProjectInfo(_Frozen):
    id: str
    name: str


class FlowRunInfo(_Frozen):
    """A flow run with its current state and its unmapped task runs (``get_flow_run_info``)."""

    id: str
    name: str | None
    flow_id: str
    project: ProjectInfo | None = Field(validation_alias=AliasPath("flow", "project"))
    parameters: _AnswerObject
    context: _AnswerObject
    version: int
    scheduled_start_time: datetime
    state: RunState = Field(validation_alias="serialized_state")
    task_runs: list[TaskRunInfo]


class LogEntry(_Frozen):
    """One run log line for ``write_run_logs``; plain dicts of the same keys are accepted too."""

    flow_run_id: str
    task_run_id: str | None = None
    timestamp: UTCDatetime | None = None
    """A naive datetime or ISO string is UTC, as Prefect's client sent them."""
    name: str | None = None
    message: str | None = None
    level: LogLevel | None = None
    info: JSONValue = Field(default=None)


TenantInfo = ListTenantsBySlugTenant
"""A tenant's ``id``, ``slug`` and ``name`` (``get_available_tenants``)."""
