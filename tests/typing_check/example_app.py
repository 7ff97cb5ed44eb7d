"""A small application using prefect_gql results; type-checked by tests/test_typing.py.

It is never run: mypy --strict reads it, and the ``reveal_type`` lines pin that the
results are the named models, not ``Any`` or ``dict``.
"""

from __future__ import annotations

from typing import reveal_type

from prefect_gql import AsyncClient, Client, Running, State
from prefect_gql.types import GetFlowRunLogsLog


def sync_app(client: Client, run_id: str, task_id: str) -> str:
    run = client.get_flow_run_info(run_id)
    reveal_type(run)
    reveal_type(run.state)
    reveal_type(run.task_runs[0])
    reveal_type(run.task_runs[0].state)
    tenants = client.get_available_tenants()
    reveal_type(tenants[0])
    logs = client.operations.get_flow_run_logs(flow_run_id=run.id).log
    reveal_type(logs[0])
    first_log: GetFlowRunLogsLog = logs[0]
    reveal_type(run.parameters)
    info = client.get_task_run_info(run_id, task_id)
    new_state: State = client.set_task_run_state(info.id, Running(), version=info.version)
    return f"{run.state.type} {new_state.message} {first_log.message}"


async def async_app(client: AsyncClient, run_id: str) -> str:
    run = await client.get_flow_run_info(run_id)
    reveal_type(run)
    reveal_type(run.task_runs[0].state)
    state = await client.get_flow_run_state(run_id)
    reveal_type(state)
    return state.type
