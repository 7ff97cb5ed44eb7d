"""How flow and task runs take and answer states: one rule for both kinds of run."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from .._constants import QUEUE_INTERVAL
from .._exceptions import InvalidInputError, InvalidStateError
from .prefect_compat import PrefectSerializable, is_prefect_state, state_from_prefect
from .states import Queued, State
from .validation import valid_uuid

__all__ = [
    "StateArgument",
    "answered_state",
    "state_and_version",
    "state_update",
]

StateArgument = State | PrefectSerializable | int | None
"""What the state-or-version positions take: a state (ours or a ``prefect.engine.state``
one), or 0.12's version in front of it."""


def _ours(value: StateArgument) -> StateArgument:
    if value is None or isinstance(value, State | int):
        return value
    return state_from_prefect(value) if is_prefect_state(value) else value


def state_and_version(first: StateArgument, second: StateArgument) -> tuple[State, int | None]:
    """Read 1.x's ``(state, version=None)`` or 0.12's ``(version, state)``.

    ``(None, state)``, as 0.12 code passes an unknown version, is the 0.12 order too.
    Prefect's own states become prefect_gql states.
    """
    first, second = _ours(first), _ours(second)
    if isinstance(second, State) or (first is None and second is not None):
        first, second = second, first
    state, version = first, second
    if not isinstance(state, State):
        if state is None:
            raise TypeError("missing required argument: 'state'")
        raise InvalidStateError(
            f"state must be a prefect_gql State (e.g. Running()), got {type(state).__name__}"
        )
    if version is not None and (not isinstance(version, int) or isinstance(version, bool)):
        raise InvalidInputError(f"version must be an integer, got {type(version).__name__}")
    return state, version


def state_update(
    core_version: str, id_field: str, run_id: str, state: State, version: int | None
) -> dict[str, Any]:
    """The fields of one ``set_*_run_state_input``."""
    return {
        id_field: valid_uuid(run_id, id_field),
        "version": version,
        "state": state.to_wire(core_version=core_version),
    }


def answered_state(requested: State, answers: Sequence[Any] | None) -> State:
    """The state to consider the run in: a QUEUED answer means wait and retry later."""
    answer = answers[0] if answers else None
    if answer is not None and answer.status == "QUEUED":
        return Queued(
            message=answer.message,
            state=requested,
            start_time=datetime.now(UTC) + QUEUE_INTERVAL,
        )
    return requested
