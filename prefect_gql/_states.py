"""Prefect's serialized ``State`` and ``Result`` JSON, as typed models.

The wire format is what ``State.serialize()`` of Prefect Core 0.12 / 1.x writes: the
state's class name under ``type``, the writer's version under ``__version__``,
``message``, ``context``, ``cached_inputs`` (name -> Result), ``_result`` (a Result,
absent for ``Mapped``) and per-class extras (``start_time``, ``run_count``, a wrapped
``state`` for the meta states, Cached's ``cached_*`` and ``hashed_inputs``...).

The classes keep Prefect's hierarchy, so ``isinstance(state, Finished)`` and
``state.is_failed()`` mean what they meant there (``TimedOut`` is a ``Failed``,
``Retrying`` a ``Scheduled``...).

Rules:
- ``parse_state`` accepts every real example, including the minimal
  ``{"type": "Pending", "message": "Task run created"}`` the Server's triggers insert;
  an unknown state type or a malformed field raises ``InvalidStateError``.
- An unknown *result* type loads as ``CustomResult`` keeping its name and fields, as
  1.x does, so nothing is lost on a round trip.
- State times must be timezone-aware; a naive datetime is rejected (``InvalidStateError``
  from ``parse_state``, pydantic's ``ValidationError`` from a constructor).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from prefect_gql_generated.json_value import JSONValue
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PlainSerializer,
    Tag,
    TypeAdapter,
    ValidationError,
    field_validator,
)

from ._exceptions import InvalidStateError

__all__ = [
    "AnyResult",
    "AnyState",
    "AzureResult",
    "Cached",
    "Cancelled",
    "Cancelling",
    "ClientFailed",
    "ConstantResult",
    "CustomResult",
    "Failed",
    "Finished",
    "GCSResult",
    "LocalResult",
    "Looped",
    "Mapped",
    "NoResultType",
    "Paused",
    "Pending",
    "PrefectResult",
    "Queued",
    "Result",
    "ResultHandlerResult",
    "Resume",
    "Retrying",
    "Running",
    "S3Result",
    "SafeResult",
    "Scheduled",
    "SecretResult",
    "Skipped",
    "State",
    "Submitted",
    "Success",
    "TimedOut",
    "TriggerFailed",
    "ValidationFailed",
    "parse_state",
]

WireTime = Annotated[
    AwareDatetime, PlainSerializer(lambda value: value.isoformat(), return_type=str)
]


# -- results -------------------------------------------------------------------------


class _ResultBase(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore", frozen=True, defer_build=True)

    version: str | None = Field(default=None, alias="__version__")

    def to_wire(self, *, core_version: str) -> dict[str, Any]:
        wire = self.model_dump(mode="json", by_alias=True)
        if wire.get("__version__") is None:
            wire["__version__"] = core_version
        return wire


class NoResultType(_ResultBase):
    type: Literal["NoResultType"] = "NoResultType"


class Result(_ResultBase):
    type: Literal["Result"] = "Result"
    location: str | None = None


class PrefectResult(_ResultBase):
    """The value itself, JSON-encoded, is the ``location``."""

    type: Literal["PrefectResult"] = "PrefectResult"
    location: str | None = None


class LocalResult(_ResultBase):
    type: Literal["LocalResult"] = "LocalResult"
    dir: str | None = None
    location: str | None = None


class S3Result(_ResultBase):
    type: Literal["S3Result"] = "S3Result"
    bucket: str | None = None
    location: str | None = None


class GCSResult(_ResultBase):
    type: Literal["GCSResult"] = "GCSResult"
    bucket: str | None = None
    location: str | None = None


class AzureResult(_ResultBase):
    type: Literal["AzureResult"] = "AzureResult"
    container: str | None = None
    location: str | None = None


class ConstantResult(_ResultBase):
    type: Literal["ConstantResult"] = "ConstantResult"
    location: str | None = None


class SecretResult(_ResultBase):
    type: Literal["SecretResult"] = "SecretResult"
    location: str | None = None
    secret_type: str | None = None


class SafeResult(_ResultBase):
    """0.12 only: a JSON value and the handler that wrote it."""

    type: Literal["SafeResult"] = "SafeResult"
    value: JSONValue = None
    result_handler: JSONValue = None


class ResultHandlerResult(_ResultBase):
    """0.12 only."""

    type: Literal["ResultHandlerResult"] = "ResultHandlerResult"
    location: str | None = None
    result_handler_type: str | None = None


class CustomResult(_ResultBase):
    """Any other Result subclass; its type name and fields are kept as they came."""

    model_config = ConfigDict(populate_by_name=True, extra="allow", frozen=True, defer_build=True)

    type: str = "CustomResult"
    location: str | None = None


_KNOWN_RESULTS = (
    NoResultType,
    Result,
    PrefectResult,
    LocalResult,
    S3Result,
    GCSResult,
    AzureResult,
    ConstantResult,
    SecretResult,
    SafeResult,
    ResultHandlerResult,
)
_RESULT_TAGS = frozenset(cls.__name__ for cls in _KNOWN_RESULTS)


def _result_tag(value: Any) -> str:
    tag = value.get("type") if isinstance(value, Mapping) else getattr(value, "type", None)
    return tag if tag in _RESULT_TAGS else "CustomResult"


AnyResult = Annotated[
    (
        Annotated[NoResultType, Tag("NoResultType")]
        | Annotated[Result, Tag("Result")]
        | Annotated[PrefectResult, Tag("PrefectResult")]
        | Annotated[LocalResult, Tag("LocalResult")]
        | Annotated[S3Result, Tag("S3Result")]
        | Annotated[GCSResult, Tag("GCSResult")]
        | Annotated[AzureResult, Tag("AzureResult")]
        | Annotated[ConstantResult, Tag("ConstantResult")]
        | Annotated[SecretResult, Tag("SecretResult")]
        | Annotated[SafeResult, Tag("SafeResult")]
        | Annotated[ResultHandlerResult, Tag("ResultHandlerResult")]
        | Annotated[CustomResult, Tag("CustomResult")]
    ),
    Discriminator(_result_tag),
]


# -- states --------------------------------------------------------------------------


class State(BaseModel):
    """Base of every state. ``type`` is the class name, as on the wire."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore", defer_build=True)

    message: str | None = None
    context: dict[str, JSONValue] = Field(default_factory=dict)
    cached_inputs: dict[str, AnyResult] = Field(default_factory=dict)
    result: AnyResult = Field(default_factory=NoResultType, alias="_result")
    version: str | None = Field(default=None, alias="__version__")

    @field_validator("context", "cached_inputs", mode="before")
    @classmethod
    def _null_is_empty(cls, value: Any) -> Any:
        return {} if value is None else value

    @property
    def type(self) -> str:
        return type(self).__name__

    def to_wire(self, *, core_version: str = "1.4.1") -> dict[str, Any]:
        """What Prefect's ``State.serialize()`` writes; ``__version__`` defaults to core_version."""
        wire = self.model_dump(
            mode="json", by_alias=True, exclude={"result", "cached_inputs", "state"}
        )
        wire["type"] = self.type
        if wire.get("__version__") is None:
            wire["__version__"] = core_version
        wire["cached_inputs"] = {
            name: result.to_wire(core_version=core_version)
            for name, result in self.cached_inputs.items()
        }
        wire["_result"] = self.result.to_wire(core_version=core_version)
        return wire

    def is_pending(self) -> bool:
        return isinstance(self, Pending)

    def is_running(self) -> bool:
        return isinstance(self, Running)

    def is_finished(self) -> bool:
        return isinstance(self, Finished)

    def is_successful(self) -> bool:
        return isinstance(self, Success)

    def is_failed(self) -> bool:
        return isinstance(self, Failed)

    def is_skipped(self) -> bool:
        return isinstance(self, Skipped)

    def is_scheduled(self) -> bool:
        return isinstance(self, Scheduled)

    def is_retrying(self) -> bool:
        return isinstance(self, Retrying)

    def is_cached(self) -> bool:
        return isinstance(self, Cached)

    def is_mapped(self) -> bool:
        return isinstance(self, Mapped)

    def is_looped(self) -> bool:
        return isinstance(self, Looped)

    def is_queued(self) -> bool:
        return isinstance(self, Queued)

    def is_submitted(self) -> bool:
        return isinstance(self, Submitted)

    def is_meta_state(self) -> bool:
        return isinstance(self, _MetaState)


class Pending(State):
    pass


class Scheduled(Pending):
    start_time: WireTime | None = None


class Paused(Scheduled):
    pass


class Resume(Scheduled):
    pass


class Retrying(Scheduled):
    run_count: int | None = None


class Running(State):
    pass


class Cancelling(Running):
    """1.x only (added in 0.12.3)."""


class Finished(State):
    pass


class Success(Finished):
    pass


class Cached(Success):
    cached_parameters: JSONValue = None
    cached_result_expiration: WireTime | None = None
    hashed_inputs: dict[str, str] | None = None


class Mapped(Success):
    """Carries no ``_result`` on the wire; ``n_map_states`` children were mapped."""

    n_map_states: int = 0

    def to_wire(self, *, core_version: str = "1.4.1") -> dict[str, Any]:
        wire = super().to_wire(core_version=core_version)
        del wire["_result"]
        return wire


class Skipped(Success):
    pass


class Looped(Finished):
    loop_count: int | None = None


class Cancelled(Finished):
    pass


class Failed(Finished):
    pass


class TimedOut(Failed):
    pass


class TriggerFailed(Failed):
    pass


class ValidationFailed(Failed):
    pass


class _MetaState(State):
    """A state wrapping another one (``state``), e.g. a run queued by a concurrency limit."""

    state: AnyState | None = None

    def to_wire(self, *, core_version: str = "1.4.1") -> dict[str, Any]:
        wire = super().to_wire(core_version=core_version)
        wire["state"] = self.state.to_wire(core_version=core_version) if self.state else None
        return wire


class Queued(_MetaState):
    start_time: WireTime | None = None


class Submitted(_MetaState):
    pass


class ClientFailed(_MetaState):
    pass


_STATE_CLASSES: tuple[type[State], ...] = (
    Cached,
    Cancelled,
    Cancelling,
    ClientFailed,
    Failed,
    Finished,
    Looped,
    Mapped,
    Paused,
    Pending,
    Queued,
    Resume,
    Retrying,
    Running,
    Scheduled,
    Skipped,
    Submitted,
    Success,
    TimedOut,
    TriggerFailed,
    ValidationFailed,
)
STATE_TYPES = frozenset(cls.__name__ for cls in _STATE_CLASSES)


def _state_tag(value: Any) -> str | None:
    if isinstance(value, Mapping):
        tag = value.get("type")
        return tag if isinstance(tag, str) else None
    return type(value).__name__ if isinstance(value, State) else None


AnyState = Annotated[
    (
        Annotated[Cached, Tag("Cached")]
        | Annotated[Cancelled, Tag("Cancelled")]
        | Annotated[Cancelling, Tag("Cancelling")]
        | Annotated[ClientFailed, Tag("ClientFailed")]
        | Annotated[Failed, Tag("Failed")]
        | Annotated[Finished, Tag("Finished")]
        | Annotated[Looped, Tag("Looped")]
        | Annotated[Mapped, Tag("Mapped")]
        | Annotated[Paused, Tag("Paused")]
        | Annotated[Pending, Tag("Pending")]
        | Annotated[Queued, Tag("Queued")]
        | Annotated[Resume, Tag("Resume")]
        | Annotated[Retrying, Tag("Retrying")]
        | Annotated[Running, Tag("Running")]
        | Annotated[Scheduled, Tag("Scheduled")]
        | Annotated[Skipped, Tag("Skipped")]
        | Annotated[Submitted, Tag("Submitted")]
        | Annotated[Success, Tag("Success")]
        | Annotated[TimedOut, Tag("TimedOut")]
        | Annotated[TriggerFailed, Tag("TriggerFailed")]
        | Annotated[ValidationFailed, Tag("ValidationFailed")]
    ),
    Discriminator(_state_tag),
]
"""Any concrete state; pydantic picks the class by the wire ``type``."""


@functools.cache
def _state_adapter() -> TypeAdapter[AnyState]:
    """Built on first use: building every state model at import would slow ``import``."""
    return TypeAdapter(AnyState)


def parse_state(data: Mapping[str, Any]) -> AnyState:
    """Load a serialized state (``serialized_state`` of a run, or ``State.serialize()``)."""
    if not isinstance(data, Mapping):
        raise InvalidStateError(f"a serialized state must be an object, got {type(data).__name__}")
    state_type = data.get("type")
    if state_type not in STATE_TYPES:
        raise InvalidStateError(
            f"unknown state type {state_type!r}; expected one of {', '.join(sorted(STATE_TYPES))}"
        )
    try:
        return _state_adapter().validate_python(data)
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'][1:]) or 'state'}: {error['msg']}"
            for error in err.errors(include_input=False, include_url=False)
        )
        raise InvalidStateError(f"malformed {state_type} state: {problems}") from err
