"""Your own typed queries: from `prefect-gql init` to typed results through a Client.

An application lives in a temporary folder outside the repository. The real CLI
(a subprocess) scaffolds it, the application adds a query of its own, `generate`
compiles both, mypy --strict checks code using them, and the operations run sync
and async through prefect_gql clients against the embedded server in token mode,
and through a retrying client against pytest-httpx.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import FieldNode, OperationDefinitionNode, parse
from pytest_httpx import HTTPXMock

from prefect_gql import (
    APIStatusError,
    AsyncClient,
    AuthenticationError,
    Client,
    Failed,
    FlowSpec,
    Running,
    TaskSpec,
    schema_path,
)

from .conftest import REPOSITORY, SERVER_URL

server_module = pytest.importorskip("prefect_gql.server")
LocalServer = server_module.LocalServer
AuthConfig = server_module.AuthConfig
DEFAULT_TENANT_ID: str = server_module.DEFAULT_TENANT_ID

pytestmark = pytest.mark.e2e

CLI = Path(sys.executable).parent / "prefect-gql"
PACKAGE = "fleet_ops"
OTHER_TENANT_ID = "77777777-7777-4777-8777-777777777777"
EXAMPLE = REPOSITORY / "examples" / "your_own_queries"

OWN_QUERIES = """\
query FlowRunOverview($flow_run_id: uuid!) {
  flow_run_by_pk(id: $flow_run_id) {
    id
    name
    start_time
    parameters
    flow {
      id
      name
      project {
        name
      }
    }
  }
}

mutation RenameFlowRun($flow_run_id: UUID!, $name: String!) {
  set_flow_run_name(input: {flow_run_id: $flow_run_id, name: $name}) {
    success
  }
}
"""

APPLICATION = f"""\
from __future__ import annotations

from prefect_gql import AsyncClient, Client
from {PACKAGE} import AsyncOperations, Operations


def report(client: Client, run_id: str) -> None:
    operations = Operations(client)
    overview = operations.flow_run_overview(flow_run_id=run_id).flow_run_by_pk
    assert overview is not None
    reveal_type(overview.flow.project.name)
    reveal_type(overview.start_time)
    reveal_type(overview.flow.id)
    reveal_type(overview.parameters)
    failed = operations.recent_failed_flow_runs(limit=5).flow_run
    reveal_type(failed[0].flow.name)
    reveal_type(operations.rename_flow_run(flow_run_id=overview.id, name="x").set_flow_run_name)


async def report_async(client: AsyncClient, run_id: str) -> None:
    result = await AsyncOperations(client).flow_run_overview(flow_run_id=run_id)
    reveal_type(result)
"""


def run_cli(*arguments: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The installed ``prefect-gql`` command, as a user runs it."""
    return subprocess.run(  # noqa: S603 - our own entry point, fixed arguments
        [str(CLI), *arguments], cwd=cwd, capture_output=True, text=True, check=False
    )


def position_of(text: str, needle: str) -> tuple[int, int]:
    """1-based line and column of the first ``needle`` in ``text``."""
    before = text[: text.index(needle)]
    return before.count("\n") + 1, len(before) - before.rfind("\n")


@pytest.fixture(scope="module")
def application(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An application folder after `init`, its own query, and `generate`."""
    folder = tmp_path_factory.mktemp("application")
    assert REPOSITORY.resolve() not in folder.resolve().parents
    (folder / "pyproject.toml").write_text('[project]\nname = "fleet-ops"\nversion = "1.0"\n')
    initialized = run_cli("init", folder.name, "--package", PACKAGE, cwd=folder.parent)
    assert initialized.returncode == 0, initialized.stderr
    (folder / "queries" / "fleet.graphql").write_text(OWN_QUERIES)
    generated = run_cli("generate", cwd=folder)
    assert generated.returncode == 0, generated.stderr
    assert generated.stdout == f"generated {folder.resolve() / PACKAGE}\n"
    return folder


@pytest.fixture(scope="module")
def fleet_ops(application: Path) -> Iterator[Any]:
    """The generated package, imported as the application imports it."""
    sys.path.insert(0, str(application))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(application))
        for name in [name for name in sys.modules if name.partition(".")[0] == PACKAGE]:
            del sys.modules[name]


# --- init and generate ---------------------------------------------------------


def test_init_adds_a_portable_config_to_the_pyproject(application: Path) -> None:
    text = (application / "pyproject.toml").read_text()
    config = tomllib.loads(text)
    assert config["project"]["name"] == "fleet-ops"
    codegen = config["tool"]["ariadne-codegen"]
    assert codegen["target_package_name"] == PACKAGE
    assert codegen["schema_path"] == "prefect-gql:schema.graphql"
    assert codegen["base_client_file_path"] == "prefect-gql:base_operations.py"
    assert (
        "prefect_gql._tooling.codegen_support.sync_operations.SyncOperationsPlugin"
        in codegen["plugins"]
    )
    assert {name: scalar["type"] for name, scalar in codegen["scalars"].items()} == {
        "DateTime": "datetime.datetime",
        "timestamptz": "datetime.datetime",
        "UUID": "str",
        "uuid": "str",
        "JSON": "prefect_gql.types.JSONValue",
        "jsonb": "prefect_gql.types.JSONValue",
    }
    assert "/" not in text.replace("prefect-gql:", "").split("[tool.ariadne-codegen]")[1]
    assert (application / "queries" / "recent_failed_flow_runs.graphql").is_file()


def test_generated_files_name_no_machine_specific_path(application: Path) -> None:
    files = sorted((application / PACKAGE).glob("*.py"))
    assert {path.name for path in files} >= {"client.py", "base_operations.py", "__init__.py"}
    for path in files:
        text = path.read_text()
        assert text.startswith("# Generated by ariadne-codegen\n")
        for local in (str(application.resolve()), str(REPOSITORY), "site-packages"):
            assert local not in text, path
    header = (application / PACKAGE / "input_types.py").read_text().splitlines()[1]
    assert header == "# Source: prefect-gql:schema.graphql"


def test_check_in_the_application_finds_it_fresh(application: Path) -> None:
    result = run_cli("check", cwd=application)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"queries valid; {PACKAGE} is fresh\n"


def test_one_generation_gives_both_operation_classes(fleet_ops: Any) -> None:
    for name in ("Operations", "AsyncOperations"):
        operations = getattr(fleet_ops, name)
        for method in ("recent_failed_flow_runs", "flow_run_overview", "rename_flow_run"):
            assert callable(getattr(operations, method)), (name, method)


def test_models_expose_the_selected_fields_in_query_order(fleet_ops: Any) -> None:
    """What completion lists first on a result: its own fields, as the query selects them."""
    operation = parse(OWN_QUERIES).definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    root = operation.selection_set.selections[0]
    assert isinstance(root, FieldNode)
    assert root.selection_set is not None
    selected = [
        field.name.value for field in root.selection_set.selections if isinstance(field, FieldNode)
    ]
    model = fleet_ops.FlowRunOverviewFlowRunByPk
    assert list(model.model_fields) == selected
    own_names = {name for name in vars(model) if not name.startswith("_")}
    pydantic_names = {name for name in own_names if name.startswith("model_")}
    assert own_names - pydantic_names <= set(selected)


# --- typing ------------------------------------------------------------------


def test_application_code_type_checks_strictly_with_leaf_types(
    application: Path, tmp_path: Path
) -> None:
    (application / "app.py").write_text(APPLICATION)
    result = subprocess.run(  # noqa: S603 - our own interpreter and files
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--cache-dir",
            str(tmp_path / "mypy-cache"),
            "app.py",
        ],
        cwd=application,
        capture_output=True,
        text=True,
        check=False,
    )
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    assert errors == [], result.stdout
    revealed = [
        revealed_type.replace("builtins.", "")
        for revealed_type in re.findall(r'Revealed type is "(.*)"', result.stdout)
    ]
    assert len(revealed) == 7, result.stdout
    for revealed_type in revealed:
        assert "Any" not in revealed_type
    name, start_time, flow_id, parameters, flow_name, renamed, overview = revealed
    assert name == "str"
    assert start_time in ("datetime.datetime | None", "Union[datetime.datetime, None]")
    assert flow_id == "str"
    assert parameters.startswith("dict[str, ")
    assert parameters.endswith(" | None")
    assert flow_name == "str"
    assert renamed.startswith(f"{PACKAGE}.rename_flow_run.RenameFlowRunSetFlowRunName")
    assert overview == f"{PACKAGE}.flow_run_overview.FlowRunOverview"


# --- against the embedded server, token mode -----------------------------------


def record_requests(requests: list[httpx.Request]) -> dict[str, list[Any]]:
    def record(request: httpx.Request) -> None:
        requests.append(request)

    return {"request": [record]}


def record_requests_async(requests: list[httpx.Request]) -> dict[str, list[Any]]:
    async def record(request: httpx.Request) -> None:
        requests.append(request)

    return {"request": [record]}


def failed_run(client: Client, flow_name: str) -> str:
    """A flow run (of a new flow in a new project) that ran and failed; its id."""
    project = f"{flow_name}-project"
    client.create_project(project)
    flow = FlowSpec(name=flow_name, tasks=[TaskSpec(slug="t-1", name="t")])
    flow_id = client.register(flow, project_name=project, no_url=True)
    run_id = client.create_flow_run(flow_id=flow_id, parameters={"day": "2026-11-24"})
    client.set_flow_run_state(run_id, Running(), version=client.get_flow_run_info(run_id).version)
    client.set_flow_run_state(run_id, Failed(), version=client.get_flow_run_info(run_id).version)
    return run_id


def operation_name(request: httpx.Request) -> object:
    return json.loads(request.content).get("operationName")


def assert_sent_with_the_credentials(
    requests: list[httpx.Request], api_key: str, tenant_id: str
) -> None:
    assert requests
    for request in requests:
        assert request.headers["Authorization"] == f"Bearer {api_key}"
        assert request.headers["X-PREFECT-TENANT-ID"] == tenant_id


def test_operations_run_through_a_client_with_its_key_and_tenant(fleet_ops: Any) -> None:
    with LocalServer(auth=AuthConfig()) as server:
        api_key = server.issue_api_key(DEFAULT_TENANT_ID)
        requests: list[httpx.Request] = []
        with (
            httpx.Client(event_hooks=record_requests(requests)) as http,
            Client(
                server.url, api_key=api_key, tenant_id=DEFAULT_TENANT_ID, http_client=http
            ) as client,
        ):
            run_id = failed_run(client, "sync-etl")
            operations = fleet_ops.Operations(client)
            requests.clear()

            failed = operations.recent_failed_flow_runs(limit=5).flow_run
            overview = operations.flow_run_overview(flow_run_id=run_id).flow_run_by_pk
            renamed = operations.rename_flow_run(flow_run_id=run_id, name="renamed")

            assert [run.id for run in failed] == [run_id]
            assert failed[0].flow.name == "sync-etl"
            assert isinstance(failed[0].end_time, datetime)
            assert failed[0].end_time.tzinfo is not None
            assert overview.id == run_id
            assert overview.flow.project.name == "sync-etl-project"
            assert overview.parameters == {"day": "2026-11-24"}
            assert renamed.set_flow_run_name.success is True
            assert client.get_flow_run_info(run_id).name == "renamed"
            assert [operation_name(request) for request in requests[:3]] == [
                "RecentFailedFlowRuns",
                "FlowRunOverview",
                "RenameFlowRun",
            ]
            assert_sent_with_the_credentials(requests, api_key, DEFAULT_TENANT_ID)

        with (
            Client(server.url, api_key=api_key, tenant_id=OTHER_TENANT_ID) as wrong_tenant,
            pytest.raises(AuthenticationError),
        ):
            fleet_ops.Operations(wrong_tenant).recent_failed_flow_runs()

        other_key = server.issue_api_key(OTHER_TENANT_ID)
        with Client(server.url, api_key=other_key, tenant_id=OTHER_TENANT_ID) as other:
            assert fleet_ops.Operations(other).recent_failed_flow_runs().flow_run == []


async def test_async_operations_run_through_an_async_client(fleet_ops: Any) -> None:
    with LocalServer(auth=AuthConfig()) as server:
        api_key = server.issue_api_key(DEFAULT_TENANT_ID)
        with Client(server.url, api_key=api_key, tenant_id=DEFAULT_TENANT_ID) as setup:
            run_id = failed_run(setup, "async-etl")
        requests: list[httpx.Request] = []
        async with (
            httpx.AsyncClient(event_hooks=record_requests_async(requests)) as http,
            AsyncClient(
                server.url, api_key=api_key, tenant_id=DEFAULT_TENANT_ID, http_client=http
            ) as client,
        ):
            operations = fleet_ops.AsyncOperations(client)
            failed = (await operations.recent_failed_flow_runs()).flow_run
            overview = (await operations.flow_run_overview(flow_run_id=run_id)).flow_run_by_pk

        assert [run.id for run in failed] == [run_id]
        assert overview.flow.name == "async-etl"
        assert_sent_with_the_credentials(requests, api_key, DEFAULT_TENANT_ID)

        async with AsyncClient(server.url, backend="server") as anonymous:
            with pytest.raises(AuthenticationError):
                await fleet_ops.AsyncOperations(anonymous).recent_failed_flow_runs()


# --- retries -----------------------------------------------------------------


def test_a_query_is_retried_after_a_503_and_a_mutation_is_not(
    fleet_ops: Any, httpx_mock: HTTPXMock, no_retry_sleep: list[float]
) -> None:
    httpx_mock.add_response(url=SERVER_URL, status_code=503)
    httpx_mock.add_response(url=SERVER_URL, json={"data": {"flow_run": []}})
    httpx_mock.add_response(url=SERVER_URL, status_code=503)

    with Client(SERVER_URL, backend="server") as client:
        operations = fleet_ops.Operations(client)
        assert operations.recent_failed_flow_runs().flow_run == []
        with pytest.raises(APIStatusError) as refused:
            operations.rename_flow_run(flow_run_id=OTHER_TENANT_ID, name="x")

    assert refused.value.status_code == 503
    sent = [request.read() for request in httpx_mock.get_requests()]
    assert [b"RecentFailedFlowRuns" in body for body in sent] == [True, True, False]
    assert len(no_retry_sleep) == 1


# --- when the schema changes -------------------------------------------------


def test_schema_diff_names_the_application_file_a_change_breaks(
    application: Path, tmp_path: Path
) -> None:
    old = schema_path()
    new = tmp_path / "new.graphql"
    field = "  start_time: timestamptz\n"
    before, flow_run_type = old.read_text().split("\ntype flow_run {\n", 1)
    assert field in flow_run_type
    new.write_text(before + "\ntype flow_run {\n" + flow_run_type.replace(field, "", 1))

    result = run_cli("schema", "diff", str(old), str(new), cwd=application)

    assert result.returncode == 1, result.stdout + result.stderr
    line, column = position_of(OWN_QUERIES, "start_time")
    assert (
        f"queries/fleet.graphql:{line}:{column}:"
        " Cannot query field 'start_time' on type 'flow_run'." in result.stdout
    )
    assert "FIELD_REMOVED: flow_run.start_time was removed." in result.stdout
    checked = result.stdout.split("Query folders checked: ", 1)[1].splitlines()[0]
    assert checked.endswith(", queries")


# --- the README's runnable example ---------------------------------------------


def test_the_example_is_fresh() -> None:
    result = run_cli("check", cwd=EXAMPLE)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == "queries valid; fleet_report is fresh\n"


def test_the_example_runs_against_the_embedded_server(tmp_path: Path) -> None:
    with LocalServer(auth=AuthConfig()) as server:
        api_key = server.issue_api_key(DEFAULT_TENANT_ID)
        with Client(server.url, api_key=api_key, tenant_id=DEFAULT_TENANT_ID) as client:
            failed_run(client, "nightly-etl")
        environment = {
            **os.environ,
            "PREFECT__CLOUD__API": server.url,
            "PREFECT__CLOUD__API_KEY": api_key,
            "PREFECT__CLOUD__TENANT_ID": DEFAULT_TENANT_ID,
            "PREFECT__HOME_DIR": str(tmp_path / "home"),
        }
        result = subprocess.run(
            [sys.executable, "report.py"],
            cwd=EXAMPLE,
            env=environment,
            capture_output=True,
            text=True,
            check=False,
        )

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "1 recent failed flow run(s)"
    assert lines[1].startswith("  nightly-etl / ")
    assert " of nightly-etl in project nightly-etl-project: Failed" in lines[2]
    assert lines[-1] == "async: 1 recent failed flow run(s)"
