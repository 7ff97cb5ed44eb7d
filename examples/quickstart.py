"""The main job: register a flow, run it through Running -> Success, print typed results.

Runs against the API named by PREFECT__CLOUD__API (scripts/demo.sh starts the
embedded local server and points this script at it).
"""

from __future__ import annotations

from datetime import UTC, datetime

from prefect_gql import Client, EdgeSpec, FlowSpec, Running, Success, TaskSpec


def main() -> None:
    flow = FlowSpec(
        name="quickstart-etl",
        tasks=[
            TaskSpec(slug="extract-1", name="extract"),
            TaskSpec(slug="load-1", name="load"),
        ],
        edges=[EdgeSpec(upstream_task="extract-1", downstream_task="load-1")],
    )
    with Client() as client:
        client.create_project("quickstart")
        flow_id = client.register(flow, project_name="quickstart", no_url=True)
        run_id = client.create_flow_run(flow_id=flow_id, run_name="quickstart-run")

        run = client.get_flow_run_info(run_id)
        client.set_flow_run_state(run_id, Running(message="started"), version=run.version)
        for task_run in run.task_runs:
            info = client.get_task_run_info(run_id, task_run.task_id)
            client.set_task_run_state(info.id, Running(), version=info.version)
            client.set_task_run_state(info.id, Success(message="done"), version=info.version + 1)
            client.write_run_logs(
                [
                    {
                        "flow_run_id": run_id,
                        "task_run_id": info.id,
                        "timestamp": datetime.now(UTC),
                        "level": "INFO",
                        "name": "quickstart",
                        "message": f"{task_run.task_slug} finished",
                    }
                ]
            )
        run = client.get_flow_run_info(run_id)
        client.set_flow_run_state(run_id, Success(message="all tasks done"), version=run.version)

        final = client.get_flow_run_info(run_id)
        logs = client.operations.get_flow_run_logs(flow_run_id=final.id).log
        print(f"flow run {final.name} ({final.id}): {final.state.type} - {final.state.message}")
        for task_run in final.task_runs:
            print(
                f"  task run {task_run.task_slug}: {task_run.state.type}"
                f" (version {task_run.version})"
            )
        for log in logs:
            print(f"  log {log.timestamp:%H:%M:%S} {log.level} {log.name}: {log.message}")


if __name__ == "__main__":
    main()
