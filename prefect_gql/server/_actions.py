"""Prefect Server's Python-layer mutations beyond running flows: deleting flows and
runs, labels, names, descriptions, flow group settings, messages and cloud hooks.

Each follows its resolver in Prefect Server (``graphql/*.py``) and the function of
``api/`` it calls: what it checks, what it writes, and what it answers (a
``success_payload`` is ``success: false``, not an error, where Server answers so).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._context import RequestContext
from ._store import Row

__all__ = ["ACTIONS"]

Input = dict[str, Any]
Action = Callable[[RequestContext, Input], Any]


def _success(value: bool) -> Row:
    return {"success": value}


def _delete_flow_run(ctx: RequestContext, input: Input) -> Row:
    """The run with its task runs, states and logs; ``success: false`` for a run the
    caller cannot see, as Server answers an id that deletes nothing."""
    return _success(ctx.store.delete("flow_run", input["flow_run_id"]))


def _delete_flow(ctx: RequestContext, input: Input) -> Row:
    """The flow with its tasks, edges and runs (and theirs); the flow group and the
    other versions stay."""
    return _success(ctx.store.delete("flow", input["flow_id"]))


ACTIONS: dict[str, Action] = {
    "delete_flow_run": _delete_flow_run,
    "delete_flow": _delete_flow,
}
"""Mutation name -> what it does with the request's context and its ``input``."""
