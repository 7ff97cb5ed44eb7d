"""The UI's flow and run mutations sent by Prefect 1.4.1's own client to the embedded server."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from prefect_gql.server import LocalServer

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"prefect\.")
    import prefect
    from prefect import Flow, task
    from prefect.backend import FlowRunView
    from prefect.exceptions import ClientError
    from prefect.storage import Local
    from prefect.utilities.configuration import set_temporary_config
    from prefect.utilities.graphql import with_args

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore::marshmallow.warnings.RemovedInMarshmallow4Warning"),
]


@task
def one() -> int:
    return 1


@pytest.fixture
def prefect_client(tmp_path: Path) -> Iterator[prefect.Client]:
    with LocalServer() as server:
        config = {"backend": "server", "server.endpoint": server.url, "cloud.api": server.url}
        with set_temporary_config({**config, "home_dir": str(tmp_path)}):
            yield prefect.Client(api_server=server.url)


def mutate(client: prefect.Client, field: str, **input: Any) -> Any:
    answer = client.graphql({"mutation": {with_args(field, {"input": input}): {"success"}}})
    return answer["data"][field]["success"]


def test_prefects_client_labels_archives_and_deletes_flows_and_runs(
    prefect_client: prefect.Client, tmp_path: Path
) -> None:
    prefect_client.create_project("real")
    with Flow("f", storage=Local(directory=str(tmp_path))) as flow:
        one()
    flow_id = flow.register("real", add_default_labels=False, no_url=True)
    assert flow_id is not None
    group_id = prefect_client.graphql(
        {"query": {with_args("flow_by_pk", {"id": flow_id}): {"flow_group_id"}}}
    )["data"]["flow_by_pk"]["flow_group_id"]
    assert mutate(prefect_client, "set_flow_group_labels", flow_group_id=group_id, labels=["gpu"])
    run_id = prefect_client.create_flow_run(flow_id=flow_id)
    assert FlowRunView.from_flow_run_id(run_id).labels == ["gpu"]
    assert mutate(prefect_client, "set_flow_run_labels", flow_run_id=run_id, labels=["cpu"])
    assert mutate(prefect_client, "delete_flow_run", flow_run_id=run_id) is True
    assert mutate(prefect_client, "delete_flow_run", flow_run_id=run_id) is False
    assert mutate(prefect_client, "archive_flow", flow_id=flow_id) is True
    with pytest.raises(ClientError, match="archived"):
        prefect_client.create_flow_run(flow_id=flow_id)
    assert mutate(prefect_client, "delete_flow", flow_id=flow_id) is True
    assert prefect_client.delete_project("real") is True
