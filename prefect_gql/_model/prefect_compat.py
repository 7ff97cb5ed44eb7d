"""Prefect's own objects (states, flows, run configs) as what prefect_gql sends.

Code migrating from ``prefect.Client`` passes Prefect objects: ``prefect.engine.state``
states to ``set_flow_run_state``, a ``Flow`` to ``register``, a ``RunConfig`` to
``create_flow_run``. Each is converted the way Prefect 1.4.1's client converted it, by the
object's own ``serialize()``, so what goes on the wire is what Prefect sent.

Prefect is never imported by this module: an object is recognised by the modules of its
classes (``prefect.engine.state.State`` and subclasses, user subclasses included), so
Prefect is only used when one of its objects is passed, and is then already loaded.

Errors are ours: ``InvalidStateError`` for a state, ``InvalidInputError`` for the rest,
naming the object, with Prefect's exception as the cause. Warnings Prefect emits while
serializing (marshmallow deprecations) are left to the caller's warning filters.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from .._exceptions import InvalidInputError, InvalidStateError

if TYPE_CHECKING:
    from .states import AnyState

__all__ = [
    "PrefectSerializable",
    "defined_in_prefect",
    "flow_from_prefect",
    "is_prefect_flow",
    "is_prefect_object",
    "is_prefect_run_config",
    "is_prefect_state",
    "run_config_from_prefect",
    "state_from_prefect",
]

T = TypeVar("T")

_STATE_CLASS = ("prefect.engine.state", "State")
_FLOW_CLASS = ("prefect.core.flow", "Flow")
_RUN_CONFIG_CLASS = ("prefect.run_configs.base", "RunConfig")


class PrefectSerializable(Protocol):
    """What Prefect's ``State``, ``Flow`` and ``RunConfig`` objects share, for signatures
    that accept them (Prefect ships type hints, so its objects are checked as this)."""

    def serialize(self) -> Any: ...


def _is_prefect_module(module: object) -> bool:
    return isinstance(module, str) and (module == "prefect" or module.startswith("prefect."))


def defined_in_prefect(value: object) -> bool:
    """Whether ``value``'s own class is defined in Prefect (no import of Prefect needed)."""
    return _is_prefect_module(type(value).__module__)


def is_prefect_object(value: object) -> bool:
    """Whether ``value`` is an instance of a Prefect class (or of a subclass of one)."""
    return any(_is_prefect_module(cls.__module__) for cls in type(value).__mro__)


def _derives_from(value: object, defining_class: tuple[str, str]) -> bool:
    module, name = defining_class
    return any(cls.__module__ == module and cls.__qualname__ == name for cls in type(value).__mro__)


def is_prefect_state(value: object) -> bool:
    """Whether ``value`` is a ``prefect.engine.state.State``."""
    return _derives_from(value, _STATE_CLASS)


def is_prefect_flow(value: object) -> bool:
    """Whether ``value`` is a ``prefect.core.flow.Flow``."""
    return _derives_from(value, _FLOW_CLASS)


def is_prefect_run_config(value: object) -> bool:
    """Whether ``value`` is a ``prefect.run_configs.RunConfig``."""
    return _derives_from(value, _RUN_CONFIG_CLASS)


def _describe(value: object) -> str:
    kind = type(value)
    return f"{kind.__module__}.{kind.__qualname__}"


def _prefect_call(
    action: Callable[[], T], error: type[InvalidInputError], failure: str, hint: str = ""
) -> T:
    """Run a call into Prefect; its failure becomes ``error`` saying ``failure`` (and ``hint``)."""
    try:
        return action()
    except Warning:
        raise
    # Prefect's serializers raise marshmallow errors, ValueErrors and whatever the user's
    # objects raise; all of them mean the object cannot be sent.
    except Exception as err:
        raise error(f"{failure}: {type(err).__name__}: {err}{hint}") from err


def _serialized(
    serialize: Callable[[], object], error: type[InvalidInputError], what: str, hint: str = ""
) -> dict[str, Any]:
    """``serialize()`` as plain JSON dicts and lists (Prefect dumps ``OrderedDict``s).

    Prefect's ``OneOfSchema`` answers a class it does not know with ``(None, errors)``
    instead of raising; that is refused too.
    """
    failure = f"Prefect cannot serialize {what}"
    value = _prefect_call(serialize, error, failure, hint)
    if not isinstance(value, dict):
        raise error(f"{failure}: it returned {value!r}{hint}")
    try:
        plain: dict[str, Any] = json.loads(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError, RecursionError) as err:
        raise error(f"{failure}: the result is not JSON: {err}") from err
    return plain


def state_from_prefect(state: object) -> AnyState:
    """The prefect_gql state for a ``prefect.engine.state`` state, as its ``serialize()`` says.

    1.4.1's client sends ``state.serialize()``, so only the result's location (and type)
    travels: ``Success(result=42)`` arrives as a ``Result`` with no location, as in Prefect.
    Raises ``InvalidStateError`` for anything else, or a state Prefect cannot serialize
    (the abstract ``State``, a context that is not JSON).
    """
    from .states import parse_state  # noqa: PLC0415 - the DSL imports this module too

    if not is_prefect_state(state):
        raise InvalidStateError(f"expected a prefect.engine.state.State, got {_describe(state)}")
    prefect_state: Any = state
    name = type(state).__name__
    wire = _serialized(prefect_state.serialize, InvalidStateError, f"the {name} state")
    try:
        return parse_state(wire)
    except InvalidStateError as err:
        raise InvalidStateError(f"the Prefect {name} state cannot be read: {err}") from err


def _check_schedulable(flow: Any) -> None:
    """1.4.1 refused to register a scheduled flow whose clocks leave a required parameter unset."""
    schedule = flow.schedule
    required = {parameter.name for parameter in flow.parameters() if parameter.required}
    if schedule is None or not required:
        return
    for clock in schedule.clocks:
        missing = required - set(clock.parameter_defaults or {})
        if missing:
            raise InvalidInputError(
                f"flow {flow.name!r} cannot be scheduled automatically: its schedule has a "
                f"clock without defaults for the required parameters {sorted(missing)}"
            )


def flow_from_prefect(flow: object, build: bool = True) -> dict[str, Any]:
    """The serialized flow 1.4.1's ``Client.register`` sends for a Prefect ``Flow``.

    As there: a scheduled flow must give its required parameters defaults in every clock;
    ``flow.serialize(build=build)`` (``build=True`` builds the flow's storage, and needs
    one); the result must load back with Prefect's ``FlowSchema``. The dict still holds
    ``tasks`` and ``edges``: registration splits them off. Raises ``InvalidInputError``.
    """
    if not is_prefect_flow(flow):
        raise InvalidInputError(f"expected a prefect Flow, got {_describe(flow)}")
    prefect_flow: Any = flow
    name = prefect_flow.name
    _check_schedulable(prefect_flow)
    needs_storage = build and prefect_flow.storage is None
    hint = "; give it storage (e.g. prefect.storage.Local()) or pass build=False"
    serialized = _serialized(
        lambda: prefect_flow.serialize(build=build),
        InvalidInputError,
        f"the flow {name!r}",
        hint if needs_storage else "",
    )
    flow_schema: Any = importlib.import_module("prefect.serialization.flow").FlowSchema
    _prefect_call(
        lambda: flow_schema().load(serialized),
        InvalidInputError,
        f"the serialized flow {name!r} does not load back in Prefect",
    )
    return serialized


def run_config_from_prefect(run_config: object) -> dict[str, Any]:
    """The JSON 1.4.1's ``create_flow_run`` sends for a ``RunConfig`` (``RunConfigSchema``).

    Raises ``InvalidInputError`` for anything else, or a run config Prefect cannot dump.
    """
    if not is_prefect_run_config(run_config):
        raise InvalidInputError(f"expected a prefect RunConfig, got {_describe(run_config)}")
    prefect_run_config: Any = run_config
    name = type(run_config).__name__
    return _serialized(prefect_run_config.serialize, InvalidInputError, f"the {name} run config")
