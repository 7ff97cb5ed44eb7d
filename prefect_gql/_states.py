"""Prefect's serialized ``State`` and ``Result`` JSON, as typed models.

Runs carry their state as the JSON Prefect Core's ``State.serialize()`` writes: the
``state`` argument of ``set_flow_run_states``/``set_task_run_states`` and the
``serialized_state`` columns. This module reads and writes that JSON without Prefect
installed, for 0.12 and 1.x alike.

On the wire: the class name under ``type``, the writer's version under ``__version__``,
``message``, ``context``, ``cached_inputs`` (name -> Result), ``_result`` (a Result;
never written for ``Mapped``) and per-class extras: ``start_time`` (Scheduled, Paused,
Resume, Retrying, Queued), ``run_count`` (Retrying), the wrapped ``state`` of the meta
states (Queued, Submitted, ClientFailed), ``loop_count`` (Looped), ``n_map_states``
(Mapped) and Cached's ``cached_parameters``, ``cached_result_expiration`` and
``hashed_inputs``.

The classes keep Prefect's hierarchy, so ``isinstance(state, Finished)`` and
``state.is_failed()`` mean what they meant there: ``TimedOut`` is a ``Failed``,
``Retrying`` a ``Scheduled`` and a ``Pending``, ``Cancelling`` a ``Running``. Each
class's ``type`` is typed as the names of itself and its subclasses, so ``Finished.type``
is ``Literal["Finished", "Success", ...]`` and ``Success.type`` the narrower one.

Rules:

- ``parse_state`` loads every state Prefect 0.12 and 1.x write, and the minimal
  ``{"type": "Pending", "message": "Task run created"}`` Prefect Server's trigger
  inserts (no ``__version__``, no ``_result``: the result is ``NoResultType``).
- A result of an unknown ``type`` loads as ``CustomResult`` keeping its type name and
  every field (as 1.x loads unknown results), so it is written back unchanged.
- Naive datetimes and naive ISO strings are taken as UTC, as the Prefect API took them.
  State times are written as ISO-8601 with an offset (``2020-06-17T12:00:00+00:00``).
- JSON-typed fields (``context``, ``cached_parameters``...) take only JSON values
  (objects with string keys, lists, strings, finite numbers, booleans, null).
- An unknown state type, a malformed field or a non-object raises ``InvalidStateError``
  naming the type or field, from ``parse_state`` and from the constructors alike; no
  pydantic ``ValidationError`` escapes them (it is the ``InvalidStateError``'s cause).
- States and results are immutable; derive changed ones with ``model_copy(update=...)``.
- ``to_wire`` keeps a state's or result's own ``__version__`` and gives the others
  ``core_version``, as Prefect's ``setdefault`` does.
"""

import functools
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal, Union

from prefect_gql_generated.json_value import JSONValue
from pydantic import (
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PlainSerializer,
    Tag,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    field_validator,
)
from pydantic_core import ErrorDetails
from typing_extensions import TypeAliasType

from ._constants import DEFAULT_CORE_VERSION
from ._exceptions import InvalidStateError
from ._validation import (
    ANSWER_CONTEXT,
    ImmutableInputModel,
    StrictJSON,
    UTCDatetime,
    describe_validation_error,
    json_field,
    problem_text,
)

__all__ = [
    "STATE_TYPES",
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


# -- field types -----------------------------------------------------------------------


def _null_as_empty(value: Any) -> Any:
    """Prefect writes a null ``context``/``cached_inputs`` as ``{}``."""
    return {} if value is None else value


def _json_object(value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo) -> Any:
    """A JSON object field: ``_null_as_empty``, then ``json_field`` (one call, not two)."""
    return json_field({} if value is None else value, handler, info, object_only=True)


def _datetime_input(value: Any) -> Any:
    if isinstance(value, str | datetime):
        return value
    raise ValueError(f"expected an ISO-8601 datetime string, got {type(value).__name__}")


_JSONObject = Annotated[dict[str, JSONValue], WrapValidator(_json_object)]
_WireTime = Annotated[
    UTCDatetime,
    BeforeValidator(_datetime_input),
    PlainSerializer(lambda value: value.isoformat(), return_type=str),
]


# -- errors ------------------------------------------------------------------------------


def _tag_problem(kind: str, value: object) -> str:
    if not isinstance(value, Mapping):
        return f"expected a serialized {kind} object, got {type(value).__name__}"
    tag = value.get("type")
    if tag is None:
        return f"the {kind} has no 'type'"
    if not isinstance(tag, str):
        return f"the {kind} 'type' must be a string, got {type(tag).__name__}"
    expected = f"; expected one of {', '.join(sorted(STATE_TYPES))}" if kind == "state" else ""
    return f"unknown {kind} type {tag!r}{expected}"


def _field_path(loc: tuple[int | str, ...], *, tagged_root: bool) -> str:
    """The error's field path, without the union tags pydantic puts in ``loc``."""
    parts: list[str] = []
    index = 1 if tagged_root else 0
    while index < len(loc):
        field = str(loc[index])
        parts.append(field)
        index += 1
        if field == "state":
            index += 1
            continue
        if field == "cached_inputs" and index < len(loc):
            parts.append(str(loc[index]))
            index += 1
            field = "_result"
        if field in ("_result", "result"):
            index += 1
        parts.extend(str(part) for part in loc[index:])
        break
    return ".".join(parts)


def _problem(error: ErrorDetails) -> str:
    kind = error["type"]
    if kind in ("state_type", "result_type"):
        return _tag_problem(kind.removesuffix("_type"), error["input"])
    return problem_text(error)


def _explain(err: ValidationError, *, tagged_root: bool) -> str:
    return describe_validation_error(
        err,
        path=functools.partial(_field_path, tagged_root=tagged_root),
        problem=_problem,
        include_input=True,
    )


class _WireModel(ImmutableInputModel):
    """Constructors raise ``InvalidStateError`` instead of pydantic's ``ValidationError``."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore", frozen=True, defer_build=True)
    invalid_error = InvalidStateError

    @classmethod
    def describe(cls, err: ValidationError) -> str:
        return _explain(err, tagged_root=False)


# -- results -----------------------------------------------------------------------------


class _ResultBase(_WireModel):
    """Only a result's location travels, never its value (except 0.12's ``SafeResult``)."""

    type: str
    version: str | None = Field(default=None, alias="__version__")

    def to_wire(self, *, core_version: str = DEFAULT_CORE_VERSION) -> dict[str, Any]:
        """The result as Prefect's ``StateResultSchema`` dumps it."""
        wire = self.model_dump(mode="json", by_alias=True)
        if wire.get("__version__") is None:
            wire["__version__"] = core_version
        return wire


class NoResultType(_ResultBase):
    """No result (yet), or 0.12's stand-in for a value that was not persisted."""

    type: Literal["NoResultType"] = "NoResultType"


class Result(_ResultBase):
    """A result of the base class; 1.x writes an un-persisted value as ``location: null``."""

    type: Literal["Result"] = "Result"
    location: str | None = None


class PrefectResult(_ResultBase):
    """The value itself, JSON-encoded, is the ``location`` (e.g. ``"42"``)."""

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
    """0.12 only: a JSON value and the serialized result handler that wrote it."""

    type: Literal["SafeResult"] = "SafeResult"
    value: StrictJSON = None
    result_handler: StrictJSON = None


class ResultHandlerResult(_ResultBase):
    """0.12 only."""

    type: Literal["ResultHandlerResult"] = "ResultHandlerResult"
    location: str | None = None
    result_handler_type: str | None = None


class CustomResult(_ResultBase):
    """Any other Result class: its ``type`` name and all its fields are kept as they came."""

    model_config = ConfigDict(extra="allow")

    type: str = "CustomResult"
    location: str | None = None


_KNOWN_RESULTS: tuple[type[_ResultBase], ...] = (
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


def _result_tag(value: Any) -> str | None:
    if type(value) is dict:
        tag = value.get("type")
    elif isinstance(value, _ResultBase):
        return "CustomResult" if isinstance(value, CustomResult) else value.type
    else:
        tag = value.get("type") if isinstance(value, Mapping) else None
    if not isinstance(tag, str):
        return None
    return tag if tag in _RESULT_TAGS else "CustomResult"


AnyResult = TypeAliasType(
    "AnyResult",
    Annotated[
        Union[  # noqa: UP007 - one Union of n members, not n-1 chained `|` unions
            Annotated[NoResultType, Tag("NoResultType")],
            Annotated[Result, Tag("Result")],
            Annotated[PrefectResult, Tag("PrefectResult")],
            Annotated[LocalResult, Tag("LocalResult")],
            Annotated[S3Result, Tag("S3Result")],
            Annotated[GCSResult, Tag("GCSResult")],
            Annotated[AzureResult, Tag("AzureResult")],
            Annotated[ConstantResult, Tag("ConstantResult")],
            Annotated[SecretResult, Tag("SecretResult")],
            Annotated[SafeResult, Tag("SafeResult")],
            Annotated[ResultHandlerResult, Tag("ResultHandlerResult")],
            Annotated[CustomResult, Tag("CustomResult")],
        ],
        Discriminator(
            _result_tag,
            custom_error_type="result_type",
            custom_error_message="a Result must be an object with a string 'type'",
        ),
    ],
)
"""Any result; the wire ``type`` picks the class, an unknown one loads as ``CustomResult``.

A named type: pydantic generates it once per model that holds it, not once per field.
"""


# -- states ------------------------------------------------------------------------------


class State(_WireModel):
    """Base of every state; instantiate the concrete classes (``Running(message=...)``)."""

    _writes_result: ClassVar[bool] = True

    type: str
    message: str | None = None
    context: _JSONObject = Field(default_factory=dict)
    cached_inputs: Annotated[dict[str, AnyResult], BeforeValidator(_null_as_empty)] = Field(
        default_factory=dict
    )
    result: AnyResult = Field(default_factory=NoResultType, alias="_result")
    version: str | None = Field(default=None, alias="__version__")

    @field_validator("type")
    @classmethod
    def _type_is_the_class(cls, value: str) -> str:
        if cls.__name__ not in STATE_TYPES:
            raise ValueError(f"{cls.__name__} is abstract; use a concrete class such as Pending")
        if value != cls.__name__:
            raise ValueError(f"a {cls.__name__}'s type is {cls.__name__!r}, not {value!r}")
        return value

    def to_wire(self, *, core_version: str = DEFAULT_CORE_VERSION) -> dict[str, Any]:
        """The JSON Prefect's ``State.serialize()`` writes for this state.

        ``__version__`` is the state's own version if it has one, else ``core_version``;
        nested results and states get the same treatment.
        """
        wire = self.model_dump(
            mode="json",
            by_alias=True,
            exclude={"type", "version", "cached_inputs", "result", "state"},
        )
        wire["type"] = self.type
        wire["__version__"] = self.version if self.version is not None else core_version
        wire["cached_inputs"] = {
            name: result.to_wire(core_version=core_version)
            for name, result in self.cached_inputs.items()
        }
        if self._writes_result:
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
        """Scheduled, or Queued (waiting to start again), as Prefect answers."""
        return isinstance(self, Scheduled | Queued)

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
    type: Literal["Pending", "Scheduled", "Paused", "Resume", "Retrying"] = "Pending"


class Scheduled(Pending):
    type: Literal["Scheduled", "Paused", "Resume", "Retrying"] = "Scheduled"
    start_time: _WireTime | None = None


class Paused(Scheduled):
    type: Literal["Paused"] = "Paused"


class Resume(Scheduled):
    type: Literal["Resume"] = "Resume"


class Retrying(Scheduled):
    type: Literal["Retrying"] = "Retrying"
    run_count: int | None = None


class Running(State):
    type: Literal["Running", "Cancelling"] = "Running"


class Cancelling(Running):
    """1.x only (added in Prefect 0.12.3)."""

    type: Literal["Cancelling"] = "Cancelling"


class Finished(State):
    type: Literal[
        "Finished",
        "Success",
        "Cached",
        "Mapped",
        "Skipped",
        "Looped",
        "Cancelled",
        "Failed",
        "TimedOut",
        "TriggerFailed",
        "ValidationFailed",
    ] = "Finished"


class Success(Finished):
    type: Literal["Success", "Cached", "Mapped", "Skipped"] = "Success"


class Cached(Success):
    type: Literal["Cached"] = "Cached"
    cached_parameters: StrictJSON = None
    cached_result_expiration: _WireTime | None = None
    hashed_inputs: dict[str, str] | None = None


class Mapped(Success):
    """Writes no ``_result``; its ``n_map_states`` children hold the results."""

    _writes_result: ClassVar[bool] = False

    type: Literal["Mapped"] = "Mapped"
    n_map_states: int = 0


class Skipped(Success):
    type: Literal["Skipped"] = "Skipped"


class Looped(Finished):
    """``loop_count`` may be absent, but not null (Prefect refuses a null one on load)."""

    type: Literal["Looped"] = "Looped"
    loop_count: int | None = None

    @field_validator("loop_count", mode="before")
    @classmethod
    def _loop_count_not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("loop_count may be omitted but not null")
        return value

    def to_wire(self, *, core_version: str = DEFAULT_CORE_VERSION) -> dict[str, Any]:
        wire = super().to_wire(core_version=core_version)
        if wire["loop_count"] is None:
            del wire["loop_count"]
        return wire


class Cancelled(Finished):
    type: Literal["Cancelled"] = "Cancelled"


class Failed(Finished):
    type: Literal["Failed", "TimedOut", "TriggerFailed", "ValidationFailed"] = "Failed"


class TimedOut(Failed):
    type: Literal["TimedOut"] = "TimedOut"


class TriggerFailed(Failed):
    type: Literal["TriggerFailed"] = "TriggerFailed"


class ValidationFailed(Failed):
    type: Literal["ValidationFailed"] = "ValidationFailed"


class _MetaState(State):
    """A state about another state (``state``): e.g. a run held back by a concurrency limit."""

    type: Literal["Queued", "Submitted", "ClientFailed"]
    state: "AnyState | None" = None

    def to_wire(self, *, core_version: str = DEFAULT_CORE_VERSION) -> dict[str, Any]:
        wire = super().to_wire(core_version=core_version)
        wire["state"] = (
            None if self.state is None else self.state.to_wire(core_version=core_version)
        )
        return wire


class Queued(_MetaState):
    type: Literal["Queued"] = "Queued"
    start_time: _WireTime | None = None


class Submitted(_MetaState):
    type: Literal["Submitted"] = "Submitted"


class ClientFailed(_MetaState):
    type: Literal["ClientFailed"] = "ClientFailed"


STATE_TYPES: frozenset[str] = frozenset(
    {
        "Cached",
        "Cancelled",
        "Cancelling",
        "ClientFailed",
        "Failed",
        "Finished",
        "Looped",
        "Mapped",
        "Paused",
        "Pending",
        "Queued",
        "Resume",
        "Retrying",
        "Running",
        "Scheduled",
        "Skipped",
        "Submitted",
        "Success",
        "TimedOut",
        "TriggerFailed",
        "ValidationFailed",
    }
)
"""The 21 ``type`` names a serialized state can have (1.x; 0.12 lacks ``Cancelling``)."""


def _state_tag(value: Any) -> str | None:
    if isinstance(value, State):
        return value.type
    tag = value.get("type") if isinstance(value, Mapping) else None
    return tag if isinstance(tag, str) else None


AnyState = TypeAliasType(
    "AnyState",
    Annotated[
        Union[  # noqa: UP007 - one Union of n members, not n-1 chained `|` unions
            Annotated[Cached, Tag("Cached")],
            Annotated[Cancelled, Tag("Cancelled")],
            Annotated[Cancelling, Tag("Cancelling")],
            Annotated[ClientFailed, Tag("ClientFailed")],
            Annotated[Failed, Tag("Failed")],
            Annotated[Finished, Tag("Finished")],
            Annotated[Looped, Tag("Looped")],
            Annotated[Mapped, Tag("Mapped")],
            Annotated[Paused, Tag("Paused")],
            Annotated[Pending, Tag("Pending")],
            Annotated[Queued, Tag("Queued")],
            Annotated[Resume, Tag("Resume")],
            Annotated[Retrying, Tag("Retrying")],
            Annotated[Running, Tag("Running")],
            Annotated[Scheduled, Tag("Scheduled")],
            Annotated[Skipped, Tag("Skipped")],
            Annotated[Submitted, Tag("Submitted")],
            Annotated[Success, Tag("Success")],
            Annotated[TimedOut, Tag("TimedOut")],
            Annotated[TriggerFailed, Tag("TriggerFailed")],
            Annotated[ValidationFailed, Tag("ValidationFailed")],
        ],
        Discriminator(
            _state_tag,
            custom_error_type="state_type",
            custom_error_message="a state must be an object with a known 'type'",
        ),
    ],
)
"""Any concrete state; the wire ``type`` picks the class.

A named type: pydantic generates it once per model that holds it, and refers to the
state classes' own validators once ``_state_adapter`` has built them.
"""


_PLAIN_STATES: tuple[type[State], ...] = (
    Pending,
    Scheduled,
    Paused,
    Resume,
    Retrying,
    Running,
    Cancelling,
    Finished,
    Success,
    Cached,
    Mapped,
    Skipped,
    Looped,
    Cancelled,
    Failed,
    TimedOut,
    TriggerFailed,
    ValidationFailed,
)
_META_STATES: tuple[type[State], ...] = (Queued, Submitted, ClientFailed)
_PLAIN_BY_TYPE: dict[str, type[AnyState]] = {cls.__name__: cls for cls in _PLAIN_STATES}  # type: ignore[misc]
"""States that hold no other state: validated by their own class, built on first use."""


@functools.cache
def _state_adapter() -> TypeAdapter[AnyState]:
    """Build every state and result model, each once, then the union over them.

    Called on first use, since building them at import would slow ``import``. Built one
    by one (results, then the states, then the meta states that hold a state), every
    later model holding a state (``_state_adapter``'s own union, ``FlowRunInfo``,
    generated results) reuses them instead of regenerating 21 classes inline.
    """
    in_build_order: tuple[type[_WireModel], ...] = (
        *_KNOWN_RESULTS,
        CustomResult,
        *_PLAIN_STATES,
        *_META_STATES,
    )
    for model in in_build_order:
        model.model_rebuild()
    return TypeAdapter(AnyState)


def parse_state(data: Mapping[str, Any]) -> AnyState:
    """Load a serialized state (a run's ``serialized_state``, or ``State.serialize()``).

    Raises ``InvalidStateError`` for a non-object, an unknown or missing ``type``, or a
    malformed field, naming it.
    """
    return _parse_state(data, None)


def state_from_answer(serialized: object) -> AnyState:
    """A run's ``serialized_state`` from an API answer; ``Pending`` for a run with none yet.

    Checked as ``parse_state`` checks, except that its JSON fields are JSON by
    construction and are taken as parsed (``ANSWER_CONTEXT``).
    """
    if serialized is None:
        return Pending()
    if type(serialized) is not dict and not isinstance(serialized, Mapping):
        raise InvalidStateError(
            "the API returned a serialized state that is not an object: "
            f"{type(serialized).__name__}"
        )
    return _parse_state(serialized, ANSWER_CONTEXT)


def _parse_state(data: Mapping[str, Any], context: dict[str, Any] | None) -> AnyState:
    if type(data) is not dict and not isinstance(data, Mapping):
        raise InvalidStateError(
            f"a serialized state must be a JSON object, got {type(data).__name__}"
        )
    plain = _PLAIN_BY_TYPE.get(data.get("type"))  # type: ignore[arg-type]
    try:
        if plain is not None:
            # Straight to the class the type names: a process that only meets a few
            # states builds only those models, not all 21 (issue 16's first call).
            validator = plain.__pydantic_validator__  # built on first use
            return validator.validate_python(data, context=context)  # type: ignore[no-any-return]
        return _state_adapter().validate_python(data, context=context)
    except ValidationError as err:
        state_type = data.get("type")
        what = f"{state_type} state" if state_type in STATE_TYPES else "state"
        explained = _explain(err, tagged_root=plain is None)
        raise InvalidStateError(f"invalid {what}: {explained}") from err
