"""The JSON shapes Prefect clients send inside ``JSON`` arguments, checked where they
enter storage.

A ``JSON`` argument (a serialized state, flow, task or edge) passes GraphQL
validation whatever it holds; the members the server stores in typed columns or
computes with must have the type Prefect gives them, or the request is answered
``BAD_USER_INPUT`` naming the member. Members the server keeps as JSON documents
(a state's ``_result``, a flow's ``storage``) may hold any JSON value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._errors import APIError

__all__ = [
    "checked_edge",
    "checked_flow",
    "checked_run_config",
    "checked_state",
    "checked_task",
]

_KINDS = {
    str: "text",
    bool: "true or false",
    int: "an integer",
    Mapping: "a JSON object",
    list: "a JSON list",
}


def _kind_of(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    for kind, name in _KINDS.items():
        if isinstance(value, kind):
            return name
    return "a number" if isinstance(value, float) else type(value).__name__


def _refuse(what: str, expected: str, value: object) -> APIError:
    return APIError(f"{what} must be {expected}, not {_kind_of(value)}")


def _optional(value: object, kind: type, what: str) -> None:
    """``value`` is null or of ``kind`` (an integer is never a bool here)."""
    if value is None:
        return
    if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
        return
    raise _refuse(what, f"{_KINDS[kind]} or null", value)


def _text_list(value: object, what: str) -> None:
    """``value`` is null or a list of texts (labels, tags)."""
    if value is None:
        return
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _refuse(what, "a list of texts or null", value)


def checked_state(state: Any, state_types: frozenset[str]) -> Mapping[str, Any]:
    """A serialized Prefect state: an object with a known ``type`` and a text ``message``."""
    if not isinstance(state, Mapping):
        raise _refuse("state", "a serialized Prefect State (a JSON object)", state)
    kind = state.get("type")
    if not isinstance(kind, str) or kind not in state_types:
        given = repr(kind) if isinstance(kind, str) else _kind_of(kind)
        raise APIError(
            f"state must be a serialized Prefect State with a known type, not type {given}"
        )
    _optional(state.get("message"), str, "a state's message")
    return state


def checked_run_config(run_config: Any, what: str = "run_config") -> None:
    """A run config (or a flow's environment): an object whose ``labels`` are texts."""
    _optional(run_config, Mapping, what)
    if isinstance(run_config, Mapping):
        _text_list(run_config.get("labels"), f"{what}.labels")


def checked_flow(flow: Any) -> Mapping[str, Any]:
    """A serialized flow (``flow.serialize()``): the members registration reads."""
    if not isinstance(flow, Mapping):
        raise _refuse("serialized_flow", "a JSON object with a name", flow)
    if not isinstance(flow.get("name"), str):
        raise _refuse("serialized_flow.name", "text", flow.get("name"))
    _optional(flow.get("__version__"), str, "serialized_flow.__version__")
    for member in ("storage", "schedule"):
        _optional(flow.get(member), Mapping, f"serialized_flow.{member}")
    schedule = flow.get("schedule")
    if isinstance(schedule, Mapping):
        clocks = schedule.get("clocks")
        _optional(clocks, list, "serialized_flow.schedule.clocks")
        for clock in clocks or []:
            _optional(clock, Mapping, "each clock of serialized_flow.schedule")
            if clock is not None:
                _optional(clock.get("parameter_defaults"), Mapping, "a clock's parameter_defaults")
    for member in ("run_config", "environment"):
        checked_run_config(flow.get(member), f"serialized_flow.{member}")
    for member in ("parameters", "tasks", "edges", "reference_tasks"):
        _optional(flow.get(member), list, f"serialized_flow.{member}")
    for parameter in flow.get("parameters") or []:
        if not isinstance(parameter, Mapping) or not isinstance(parameter.get("name"), str):
            raise _refuse("each of serialized_flow.parameters", "an object with a name", parameter)
    return flow


def checked_task(task: Any) -> Mapping[str, Any]:
    """A serialized task: a text ``slug`` and the typed members a task row keeps."""
    if not isinstance(task, Mapping) or not isinstance(task.get("slug"), str):
        raise APIError("every serialized task needs a slug")
    for member in ("name", "type", "description", "cache_key"):
        _optional(task.get(member), str, f"a task's {member}")
    _optional(task.get("max_retries"), int, "a task's max_retries")
    _text_list(task.get("tags"), "a task's tags")
    trigger = task.get("trigger")
    if isinstance(trigger, Mapping):
        _optional(trigger.get("fn"), str, "a task's trigger.fn")
    else:
        _optional(trigger, str, "a task's trigger")
    return task


def checked_edge(edge: Any) -> Mapping[str, Any]:
    """A serialized edge: its ``key`` is text or null."""
    if not isinstance(edge, Mapping):
        raise APIError("every serialized edge must be a JSON object")
    _optional(edge.get("key"), str, "an edge's key")
    return edge
