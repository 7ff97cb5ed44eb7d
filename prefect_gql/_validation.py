"""pydantic's validation errors, said once: as one readable line, and as our own exceptions.

Every input model of the facade (states, flow specs, settings, generated inputs) reports
a bad value the same way: ``field.path: problem; other.field: problem``, never the
raw input (it may be a credential), and as an exception of this package rather than
pydantic's ``ValidationError``.
"""

import math
import re
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, TypeVar

from prefect_gql_generated.json_value import JSONValue
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)
from pydantic_core import ErrorDetails

from ._exceptions import InvalidInputError
from ._times import naive_as_utc

__all__ = [
    "ANSWER_CONTEXT",
    "ImmutableInputModel",
    "StrictJSON",
    "UTCDatetime",
    "aware",
    "build_input",
    "describe_validation_error",
    "ensure_json",
    "json_field",
    "json_problem",
    "problem_text",
    "valid_uuid",
]

ModelT = TypeVar("ModelT", bound=BaseModel)


_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def valid_uuid(value: object, what: str) -> str:
    """``value`` as a canonical UUID string, or ``InvalidInputError`` naming ``what``."""
    if type(value) is str and _CANONICAL_UUID.fullmatch(value):
        return value
    if isinstance(value, uuid.UUID):
        return str(value)
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise InvalidInputError(f"{what} must be a UUID, got {value!r}") from None


UTCDatetime = Annotated[datetime, AfterValidator(naive_as_utc)]
"""A datetime or ISO-8601 string a user passes; a naive one is UTC (``naive_as_utc``)."""


def aware(value: datetime, what: str) -> datetime:
    """A datetime argument to send, a naive one taken as UTC (``naive_as_utc``)."""
    if not isinstance(value, datetime):
        raise InvalidInputError(f"{what} must be a datetime, got {type(value).__name__}")
    return naive_as_utc(value)


def json_problem(value: object, path: str = "the value") -> str | None:
    """What keeps ``value`` from being plain JSON (a set, an object, NaN, a non-string key),
    with where it is, or ``None``. Tuples pass as lists, as ``json.dumps`` sends them."""
    if value is None or isinstance(value, str | bool | int):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else f"{path} is {value!r}, which JSON cannot hold"
    if isinstance(value, list | tuple):
        return next(
            (p for i, item in enumerate(value) if (p := json_problem(item, f"{path}[{i}]"))),
            None,
        )
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return f"{path} has a non-string key {key!r}"
            if problem := json_problem(item, f"{path}[{key!r}]"):
                return problem
        return None
    return f"{path} is a {type(value).__name__}, not a JSON value"


def _json_problem(value: object) -> str | None:
    try:
        return json_problem(value)
    except RecursionError:
        return "it is nested too deeply (or contains itself)"


def ensure_json(value: object, what: str) -> None:
    """Refuse what is not plain JSON (sets, objects, NaN, infinities) with ``InvalidInputError``.

    The one JSON check of the package: states, flows and every argument sent as JSON.
    """
    problem = _json_problem(value)
    if problem is not None:
        raise InvalidInputError(f"{what} must be JSON-serializable: {problem}")


ANSWER_CONTEXT: dict[str, Any] = {"source": "an API answer"}
"""Validation context (by identity) of data parsed from an API answer: its JSON fields are
JSON by construction, so ``json_field`` takes them as parsed instead of checking them."""


def json_field(
    value: Any,
    handler: ValidatorFunctionWrapHandler,
    info: ValidationInfo,
    *,
    object_only: bool = False,
) -> Any:
    """``ensure_json`` as a pydantic wrap validator of a JSON-typed field (``object_only``:
    of a field typed as a JSON object).

    Under ``ANSWER_CONTEXT`` a value of the right shape is kept as parsed: the check and
    pydantic's own walk of the JSON type were most of the cost of reading a state from
    an answer.
    """
    if info.context is ANSWER_CONTEXT and (not object_only or type(value) is dict):
        return value
    problem = _json_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return handler(value)


StrictJSON = Annotated[JSONValue, WrapValidator(json_field)]
"""A model field holding plain JSON, checked by ``json_field``."""


def build_input(model: type[ModelT], what: str, **fields: Any) -> ModelT:
    """A generated input model from ``fields`` (``None`` means not given).

    Bad values become ``InvalidInputError`` before anything is sent.
    """
    try:
        return model(**{name: value for name, value in fields.items() if value is not None})
    except ValidationError as err:
        raise InvalidInputError(
            f"invalid {what}: {describe_validation_error(err, root=what)}"
        ) from err


def problem_text(error: ErrorDetails) -> str:
    """What is wrong with one value: a validator's own words rather than pydantic's prefix."""
    if error["type"] == "value_error":
        return str(error.get("ctx", {}).get("error", error["msg"]))
    return error["msg"]


def _dotted(loc: Sequence[int | str]) -> str:
    return ".".join(str(part) for part in loc)


def describe_validation_error(
    err: ValidationError,
    *,
    path: Callable[[Sequence[int | str]], str] = _dotted,
    problem: Callable[[ErrorDetails], str] = problem_text,
    root: str = "",
    include_input: bool = False,
) -> str:
    """``path: problem`` for each distinct error, joined by ``; `` (``root`` names an empty path).

    ``include_input`` only for models whose inputs are never secret (states quote a bad
    type name or timestamp).
    """
    lines: list[str] = []
    for error in err.errors(include_input=include_input, include_url=False):
        where = path(error["loc"]) or root
        line = f"{where}: {problem(error)}" if where else problem(error)
        if line not in lines:
            lines.append(line)
    return "; ".join(lines)


class ImmutableInputModel(BaseModel):
    """A frozen model whose constructor raises ``invalid_error``, not ``ValidationError``.

    Subclasses set ``invalid_error`` and may refine ``describe`` (how paths read).
    """

    model_config = ConfigDict(frozen=True, defer_build=True)
    invalid_error: ClassVar[type[Exception]] = InvalidInputError

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as err:
            message = f"invalid {type(self).__name__}: {self.describe(err)}"
            raise self.invalid_error(message) from err

    # Marks this __init__ as pydantic's own (as RootModel does): validation of nested
    # models then skips it, so only the outermost constructor translates the error.
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    @classmethod
    def describe(cls, err: ValidationError) -> str:
        return describe_validation_error(err)

    if not TYPE_CHECKING:  # type checkers already refuse assignments to frozen models

        def __setattr__(self, name: str, value: Any) -> None:
            raise AttributeError(
                f"{type(self).__name__} is immutable; use model_copy(update={{{name!r}: ...}})"
            )
