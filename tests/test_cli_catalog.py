"""The Prefect 1.x everyday verbs against the embedded server over HTTP: projects, flows,
agents, task runs, set-state, cancel and delete; their JSON keys, their tables at 80
columns, and one ``Error:`` line for whatever does not exist."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from graphql import parse, validate

from prefect_gql import Client, Failed, Running, Success, schema_path
from prefect_gql.cli._documents import DOCUMENTS
from prefect_gql.cli._output import STATE_NAMES, humanise
from prefect_gql.server import LocalServer

from .cli_helpers import assert_one_error_line, cli, cli_env, register_flow

pytestmark = pytest.mark.e2e

ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer() as running:
        yield running


@pytest.fixture
def client(server: LocalServer) -> Iterator[Client]:
    with Client(server.url, backend="server") as running:
        yield running


@pytest.fixture
def env(server: LocalServer) -> dict[str, str]:
    return cli_env(server.url)


def as_json(env: dict[str, str], *args: str) -> Any:
    done = cli(env, *args, "--output", "json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def assert_fits_80_columns_with_ids_whole(table: str, ids: list[str]) -> None:
    lines = table.splitlines()
    assert lines, "no table printed"
    assert max(len(line) for line in lines) <= 80, table
    for identifier in ids:
        assert any(identifier in line for line in lines), f"{identifier} cut in\n{table}"


def test_the_cli_documents_validate_against_the_bundled_schema() -> None:
    from graphql import build_schema  # noqa: PLC0415

    schema = build_schema(schema_path().read_text())
    for name, document in DOCUMENTS.items():
        assert validate(schema, parse(document)) == [], name


def test_projects_create_list_and_delete(env: dict[str, str]) -> None:
    name = f"p-{uuid.uuid4().hex[:8]}"
    created = as_json(env, "projects", "create", name, "--description", "nightly jobs")
    assert set(created) == {"id", "name", "description"}
    listed = {row["name"]: row for row in as_json(env, "projects", "list")}
    assert set(listed[name]) == {"id", "name", "description", "created", "flow_count"}
    assert (listed[name]["id"], listed[name]["description"], listed[name]["flow_count"]) == (
        created["id"],
        "nightly jobs",
        0,
    )
    table = cli(env, "projects", "list").stdout
    assert name in table
    assert_fits_80_columns_with_ids_whole(table, [])

    deleted = as_json(env, "projects", "delete", name)
    assert deleted == {"id": created["id"], "name": name, "deleted": True}
    assert name not in {row["name"] for row in as_json(env, "projects", "list")}
    assert_one_error_line(cli(env, "projects", "delete", name), f"no project named {name!r}")


def test_flows_list_shows_the_latest_version_unless_asked(
    client: Client, env: dict[str, str]
) -> None:
    first, project = register_flow(client, name="nc-etl")
    second, _ = register_flow(client, name="nc-etl", project=project)
    other, _ = register_flow(client, name="report", project=project)

    latest = as_json(env, "flows", "list", "--project", project)
    assert [(row["name"], row["id"], row["version"]) for row in latest] == [
        ("nc-etl", second, 2),
        ("report", other, 1),
    ]
    assert set(latest[0]) == {"id", "name", "version", "archived", "created", "project"}
    assert latest[0]["project"]["name"] == project
    every = as_json(env, "flows", "list", "--project", project, "--all-versions")
    assert [(row["id"], row["archived"]) for row in every] == [
        (second, False),
        (first, True),
        (other, False),
    ]
    table = cli(env, "flows", "list", "--project", project, "--all-versions").stdout
    assert_fits_80_columns_with_ids_whole(table, [first, second, other])
    assert_one_error_line(
        cli(env, "flows", "list", "--project", "nosuch"), "no project named 'nosuch'"
    )


def test_flow_describe_by_name_or_id(client: Client, env: dict[str, str]) -> None:
    flow_id, project = register_flow(client, name="describe-me", tasks=2)
    by_name = as_json(env, "flow", "describe", "describe-me")
    assert by_name == as_json(env, "flow", "describe", flow_id)
    assert (by_name["id"], by_name["project"]["name"], by_name["task_count"]) == (
        flow_id,
        project,
        3,
    )
    assert set(by_name) == {
        "id", "name", "version", "description", "project", "flow_group_id", "labels",
        "archived", "core_version", "created", "parameters", "run_config", "settings",
        "is_schedule_active", "task_count",
    }  # fmt: skip
    table = cli(env, "flow", "describe", "describe-me").stdout
    assert_fits_80_columns_with_ids_whole(table, [flow_id])
    assert 'day="monday"' in table

    register_flow(client, name="describe-me")  # the same name in another project
    assert_one_error_line(
        cli(env, "flow", "describe", "describe-me"), "is in projects"
    )  # which one?
    assert as_json(env, "flow", "describe", "describe-me", "--project", project)["id"] == flow_id
    assert_one_error_line(cli(env, "flow", "describe", "nosuch"), "no flow named 'nosuch'")
    assert_one_error_line(cli(env, "flow", "describe", str(uuid.uuid4())), "no flow with id")


def test_run_takes_a_flow_name_and_project(client: Client, env: dict[str, str]) -> None:
    flow_id, project = register_flow(client, name="by-name")
    register_flow(client, name="by-name")
    done = cli(env, "run", "by-name", "--project", project)
    assert done.returncode == 0, done.stderr
    run = client.get_flow_run_info(done.stdout.strip())
    assert run.flow_id == flow_id
    assert_one_error_line(cli(env, "run", "by-name"), "name one with --project")
    assert_one_error_line(
        cli(env, "run", "by-name", "--project", "nosuch"), "no project named 'nosuch'"
    )
    assert_one_error_line(cli(env, "run", "nc-nosuch"), "no flow named 'nc-nosuch'")


def test_task_runs_list(client: Client, env: dict[str, str]) -> None:
    flow_id, _ = register_flow(client, tasks=2)
    run_id = client.create_flow_run(flow_id=flow_id)
    task_runs = as_json(env, "task-runs", "list", run_id)
    assert sorted(row["task_slug"] for row in task_runs) == ["day", "task-0", "task-1"]
    assert set(task_runs[0]) == {
        "id", "name", "task_slug", "map_index", "state", "state_message", "start_time",
        "end_time", "duration_seconds",
    }  # fmt: skip
    table = cli(env, "task-runs", "list", run_id).stdout
    assert_fits_80_columns_with_ids_whole(table, [row["id"] for row in task_runs])


def test_agents_list(client: Client, env: dict[str, str]) -> None:
    agent_id = client.register_agent("LocalAgent", name="laptop", labels=["gpu", "eu"])
    agents = {row["id"]: row for row in as_json(env, "agents", "list")}
    assert set(agents[agent_id]) == {
        "id", "name", "type", "labels", "core_version", "created", "last_queried",
    }  # fmt: skip
    assert (agents[agent_id]["name"], sorted(agents[agent_id]["labels"])) == (
        "laptop",
        ["eu", "gpu"],
    )
    table = cli(env, "agents", "list").stdout
    assert_fits_80_columns_with_ids_whole(table, [agent_id])


def test_set_state_cancel_and_delete_a_flow_run(client: Client, env: dict[str, str]) -> None:
    run_id = client.create_flow_run(flow_id=register_flow(client)[0])
    assert as_json(env, "flow-run", "set-state", run_id, "running", "--message", "by hand") == {
        "id": run_id,
        "state": "Running",
        "message": "by hand",
    }
    state = client.get_flow_run_state(run_id)
    assert (state.type, state.message) == ("Running", "by hand")
    cancelled = as_json(env, "flow-run", "cancel", run_id)
    assert cancelled == {"id": run_id, "state": client.get_flow_run_state(run_id).type}
    assert cancelled["state"] in ("Cancelling", "Cancelled")

    assert as_json(env, "flow-run", "delete", run_id) == {"id": run_id, "deleted": True}
    assert_one_error_line(cli(env, "flow-run", "describe", run_id), "no flow run with id")


@pytest.mark.parametrize(
    "args",
    [
        ("logs", "{missing}"),
        ("logs", "{missing}", "--follow"),
        ("task-runs", "list", "{missing}"),
        ("flow-run", "describe", "{missing}"),
        ("flow-run", "set-state", "{missing}", "Success"),
        ("flow-run", "cancel", "{missing}"),
        ("flow-run", "delete", "{missing}"),
    ],
)
def test_an_unknown_flow_run_is_one_error_line(env: dict[str, str], args: tuple[str, ...]) -> None:
    missing = str(uuid.UUID(int=0))
    done = cli(env, *(arg.format(missing=missing) for arg in args))
    assert_one_error_line(done, f"no flow run with id {missing}")
    assert done.stdout == ""


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("Sucess", "unknown state 'Sucess'; did you mean Success?"),
        ("runing", "unknown state 'runing'; did you mean Running?"),
        ("nonsense", "unknown state 'nonsense' (one of Pending, Scheduled"),
    ],
)
def test_an_unknown_state_is_one_error_line_with_the_nearest_name(
    client: Client, env: dict[str, str], given: str, message: str
) -> None:
    run_id = client.create_flow_run(flow_id=register_flow(client)[0])
    assert_one_error_line(cli(env, "flow-runs", "list", "--state", given), message)
    assert_one_error_line(cli(env, "flow-run", "set-state", run_id, given), message)
    assert client.get_flow_run_state(run_id).type == "Scheduled"


def test_state_names_are_the_21_and_matched_in_any_case(
    client: Client, env: dict[str, str]
) -> None:
    assert len(set(STATE_NAMES)) == 21
    flow_id, project = register_flow(client)
    run_id = client.create_flow_run(flow_id=flow_id)
    client.set_flow_run_state(run_id, Success())
    for spelling in ("success", "SUCCESS", "Success"):
        runs = as_json(env, "flow-runs", "list", "--project", project, "--state", spelling)
        assert [run["id"] for run in runs] == [run_id]


def test_tables_colour_states_by_kind_and_humanise_durations(
    client: Client, env: dict[str, str]
) -> None:
    flow_id, project = register_flow(client)
    ended = {}
    for final in (Success(), Failed()):
        run_id = client.create_flow_run(flow_id=flow_id)
        client.set_flow_run_state(run_id, Running())
        client.set_flow_run_state(run_id, final)
        ended[final.type] = run_id
    waiting = client.create_flow_run(flow_id=flow_id)

    coloured = cli({**env, "FORCE_COLOR": "1"}, "flow-runs", "list", "--project", project).stdout
    cells = dict(re.findall(r"\x1b\[([0-9;]+)m(Success|Failed|Scheduled)\x1b\[0m", coloured))
    assert {state: codes for codes, state in cells.items()} == {
        "Success": "32",
        "Failed": "1;31",
        "Scheduled": "33",
    }
    plain = cli(env, "flow-runs", "list", "--project", project).stdout
    assert "\x1b[" not in plain
    assert_fits_80_columns_with_ids_whole(plain, [*ended.values(), waiting])
    assert not re.search(r"\d:\d\d:\d\d\.\d+", plain)  # no raw timedelta
    assert re.search(r"\d+ms|\d+\.\ds", plain)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.8503, "850ms"),
        (2.132369, "2.1s"),
        (184, "3m 04s"),
        (3720, "1h 02m"),
        (183600, "2d 03h"),
    ],
)
def test_durations_are_humanised(seconds: float, text: str) -> None:
    assert humanise(timedelta(seconds=seconds)) == text
    assert humanise(None) == ""


def test_api_before_or_after_the_command(client: Client, server: LocalServer) -> None:
    flow_id, project = register_flow(client)
    no_endpoint = cli_env(None)
    before = cli(
        no_endpoint, "--api", server.url, "flows", "list", "--project", project, "-o", "json"
    )
    after = cli(
        no_endpoint, "flows", "list", "--project", project, "--api", server.url, "-o", "json"
    )
    assert before.returncode == after.returncode == 0, before.stderr + after.stderr
    assert json.loads(before.stdout) == json.loads(after.stdout)
    assert json.loads(before.stdout)[0]["id"] == flow_id
    unreachable = cli(
        cli_env(server.url), "--api", "http://127.0.0.1:9", "flows", "list", "-o", "json"
    )
    assert_one_error_line(unreachable, "127.0.0.1:9")


def test_flow_runs_list_by_flow_name_covers_every_version(
    client: Client, env: dict[str, str]
) -> None:
    first, project = register_flow(client, name="versions")
    old_run = client.create_flow_run(flow_id=first)
    second, _ = register_flow(client, name="versions", project=project)
    new_run = client.create_flow_run(flow_id=second)
    by_name = as_json(env, "flow-runs", "list", "--flow", "versions", "--project", project)
    assert [run["id"] for run in by_name] == [new_run, old_run]
    by_id = as_json(env, "flow-runs", "list", "--flow", first)
    assert [run["id"] for run in by_id] == [old_run]
    assert_one_error_line(cli(env, "flow-runs", "list", "--flow", "nosuch"), "no flow named")
    assert_one_error_line(
        cli(env, "flow-runs", "list", "--flow", str(uuid.uuid4())), "no flow with id"
    )
