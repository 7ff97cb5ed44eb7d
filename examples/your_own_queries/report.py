"""An application's own typed queries, run through prefect_gql's Client.

This folder is what three commands make (README, "Your own typed queries"):

    prefect-gql init --package fleet_report     # config in pyproject.toml, queries/ example
    # ... add queries/flow_run_overview.graphql ...
    prefect-gql generate                        # queries/ -> fleet_report/ (typed)

Run it against any Prefect 1.x API; the settings come from the usual places
(PREFECT__CLOUD__API, PREFECT__CLOUD__API_KEY, PREFECT__CLOUD__TENANT_ID, ...):

    PREFECT__BACKEND=server PREFECT__CLOUD__API=http://localhost:4200 python report.py

It prints the most recent failed flow runs, then an overview of the newest one.
"""

from __future__ import annotations

import asyncio

from prefect_gql import AsyncClient, Client

from fleet_report import AsyncOperations, FlowRunOverviewFlowRunByPk, Operations


def print_overview(run: FlowRunOverviewFlowRunByPk) -> None:
    print(f"{run.name} of {run.flow.name} in project {run.flow.project.name}: {run.state}")
    for task_run in run.task_runs:
        print(f"  task {task_run.task.name} [{task_run.map_index}]: {task_run.state}")


def main() -> None:
    with Client() as client:
        operations = Operations(client)  # runs through the client: auth, tenant, retries
        failed = operations.recent_failed_flow_runs(limit=20).flow_run
        print(f"{len(failed)} recent failed flow run(s)")
        for run in failed:
            ended = f"{run.end_time:%Y-%m-%d %H:%M:%S}" if run.end_time else "not ended"
            print(f"  {run.flow.name} / {run.name}: {ended}")
        if not failed:
            return
        # Ids are str in your results and in the facade's alike.
        overview = operations.flow_run_overview(flow_run_id=failed[0].id).flow_run_by_pk
        if overview is not None:
            print_overview(overview)


async def count_failed_async() -> int:
    """The same operations with an AsyncClient."""
    async with AsyncClient() as client:
        result = await AsyncOperations(client).recent_failed_flow_runs(limit=20)
        return len(result.flow_run)


if __name__ == "__main__":
    main()
    print(f"async: {asyncio.run(count_failed_async())} recent failed flow run(s)")
