"""``prefect-gql`` commands for what is registered: projects, flows and agents.

Registered on ``_app.app`` when ``_app`` imports this module. Also the lookups the run
commands share: a flow by id or name (``resolve_flow``), a project and a flow run that
must exist. An unknown name or id is one ``Error:`` line and exit 1.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

from ._app import app
from ._documents import AGENTS, FLOW_RUN, FLOWS, PROJECTS
from ._output import (
    api_option,
    api_time,
    client_for,
    is_uuid,
    output_option,
    print_json,
    print_table,
    time_text,
)

if TYPE_CHECKING:
    from prefect_gql import Client

__all__ = ["require_flow_name", "require_flow_run", "require_project", "resolve_flow"]


def _rows(client: Client, document: str, root: str, **equal: Any) -> list[dict[str, Any]]:
    """The rows of ``root`` whose fields equal ``equal``'s values (``project`` compares the
    project's name; a None value does not filter)."""
    where: dict[str, Any] = {
        field: {"name": {"_eq": value}} if field == "project" else {"_eq": value}
        for field, value in equal.items()
        if value is not None
    }
    answer = client.graphql(document, variables={"where": where})
    rows: list[dict[str, Any]] = answer["data"][root]
    return rows


def _parsed_time(value: str | None) -> datetime | None:
    if value is None:
        return None
    return api_time(value)


def require_project(client: Client, name: str) -> dict[str, Any]:
    """The project named ``name``, or a one-line error."""
    projects = _rows(client, PROJECTS, "project", name=name)
    if not projects:
        raise click.ClickException(f"no project named {name!r}")
    return projects[0]


def require_flow_run(client: Client, flow_run_id: str) -> dict[str, Any]:
    """The flow run ``flow_run_id`` (id, name, labels, state), or a one-line error."""
    if not is_uuid(flow_run_id):
        raise click.ClickException(f"flow run id must be a UUID, got {flow_run_id!r}")
    run: dict[str, Any] | None = client.graphql(FLOW_RUN, variables={"id": flow_run_id})["data"][
        "flow_run_by_pk"
    ]
    if run is None:
        raise click.ClickException(f"no flow run with id {flow_run_id}")
    return run


def resolve_flow(client: Client, flow: str, project: str | None) -> str:
    """A flow's id from its id, or from its name (the newest unarchived version; with
    ``project`` only that project's)."""
    if is_uuid(flow):
        if not _rows(client, FLOWS, "flow", id=flow):
            raise click.ClickException(f"no flow with id {flow}")
        return flow
    if project is not None:
        require_project(client, project)
    flows = [
        row
        for row in _rows(client, FLOWS, "flow", name=flow, project=project)
        if not row["archived"]
    ]
    if not flows:
        where = f" in project {project!r}" if project is not None else ""
        raise click.ClickException(f"no flow named {flow!r}{where}")
    projects = sorted({row["project"]["name"] for row in flows})
    if len(projects) > 1:
        raise click.ClickException(
            f"flow {flow!r} is in projects {', '.join(projects)}: name one with --project"
        )
    flow_id: str = flows[0]["id"]
    return flow_id


def require_flow_name(client: Client, name: str, project: str | None) -> None:
    """A one-line error unless a flow named ``name`` (in ``project``, if given) exists."""
    if project is not None:
        require_project(client, project)
    if not _rows(client, FLOWS, "flow", name=name, project=project):
        where = f" in project {project!r}" if project is not None else ""
        raise click.ClickException(f"no flow named {name!r}{where}")


# -- projects -------------------------------------------------------------------------------


@app.group("projects")
def projects() -> None:
    """List, create and delete projects."""


@projects.command("list")
@output_option
@api_option
def projects_list(output: str, api: str | None) -> None:
    """Every project, with how many flows it has (latest versions, unarchived)."""
    with client_for(api) as client:
        rows = _rows(client, PROJECTS, "project")
    listed = [
        {
            "id": row["id"],
            "name": row["name"],
            "description": row["description"],
            "created": row["created"],
            "flow_count": len({flow["name"] for flow in row["flows"]}),
        }
        for row in rows
    ]
    if output == "json":
        print_json(listed)
        return
    print_table(
        "Projects",
        [("name", "text"), ("flows", "text"), ("age", "age"), ("description", "text")],
        [
            (row["name"], row["flow_count"], _parsed_time(row["created"]), row["description"])
            for row in listed
        ],
    )


@projects.command("create")
@click.argument("name")
@click.option("--description", "-d", default=None, help="What the project is for.")
@output_option
@api_option
def projects_create(name: str, description: str | None, output: str, api: str | None) -> None:
    """Create a project."""
    with client_for(api) as client:
        project_id = client.create_project(name, project_description=description)
    if output == "json":
        print_json({"id": project_id, "name": name, "description": description})
        return
    click.echo(f"created project {name} ({project_id})")


@projects.command("delete")
@click.argument("name")
@output_option
@api_option
def projects_delete(name: str, output: str, api: str | None) -> None:
    """Delete a project, with its flows and their runs."""
    with client_for(api) as client:
        project = require_project(client, name)
        if not client.delete_project(name):
            raise click.ClickException(f"the API did not delete project {name!r}")
    if output == "json":
        print_json({"id": project["id"], "name": name, "deleted": True})
        return
    click.echo(f"deleted project {name} ({project['id']})")


# -- flows ----------------------------------------------------------------------------------


def _flow_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "version": row["version"],
        "archived": row["archived"],
        "created": row["created"],
        "project": {"id": row["project"]["id"], "name": row["project"]["name"]},
    }


@app.group("flows")
def flows() -> None:
    """List registered flows."""


@flows.command("list")
@click.option("--project", default=None, help="Only this project's flows.")
@click.option(
    "--all-versions", is_flag=True, help="Every version, archived ones too (default: the latest)."
)
@output_option
@api_option
def flows_list(project: str | None, all_versions: bool, output: str, api: str | None) -> None:
    """Registered flows by name: the latest unarchived version of each, or every version."""
    with client_for(api) as client:
        if project is not None:
            require_project(client, project)
        rows = _rows(client, FLOWS, "flow", project=project)
    if not all_versions:
        latest: dict[tuple[str, str], dict[str, Any]] = {}
        for row in rows:
            if not row["archived"]:
                latest.setdefault((row["project"]["id"], row["name"]), row)
        rows = list(latest.values())
    listed = [_flow_json(row) for row in rows]
    if output == "json":
        print_json(listed)
        return
    print_table(
        "Flows",
        [
            ("id", "id"),
            ("name", "text"),
            ("version", "text"),
            ("project", "text"),
            ("age", "age"),
        ],
        [
            (
                row["id"],
                row["name"] + (" (archived)" if row["archived"] else ""),
                row["version"],
                row["project"]["name"],
                _parsed_time(row["created"]),
            )
            for row in listed
        ],
    )


@app.group("flow")
def flow() -> None:
    """Look at one registered flow."""


@flow.command("describe")
@click.argument("flow")
@click.option("--project", default=None, help="The flow's project, when its name is in several.")
@output_option
@api_option
def flow_describe(flow: str, project: str | None, output: str, api: str | None) -> None:
    """A flow by id or name (its latest version): project, labels, parameters, schedule."""
    with client_for(api) as client:
        view = client.get_flow_view(resolve_flow(client, flow, project))
    described = {
        "id": view.id,
        "name": view.name,
        "version": view.version,
        "description": view.description,
        "project": {"id": view.project.id, "name": view.project.name},
        "flow_group_id": view.flow_group_id,
        "labels": view.labels,
        "archived": view.archived,
        "core_version": view.core_version,
        "created": time_text(view.created),
        "parameters": view.parameters,
        "run_config": view.run_config,
        "settings": view.settings,
        "is_schedule_active": view.is_schedule_active,
        "task_count": view.task_count,
    }
    if output == "json":
        print_json(described)
        return
    print_table(
        f"Flow {view.name}",
        [("field", "text"), ("value", "text")],
        [
            ("id", view.id),
            ("version", view.version),
            ("project", view.project.name),
            ("description", view.description),
            ("labels", ", ".join(view.labels)),
            ("parameters", _parameters_text(view.parameters)),
            ("archived", view.archived),
            ("core version", view.core_version),
            ("created", f"{view.created:%Y-%m-%d %H:%M:%S}"),
            ("schedule active", view.is_schedule_active),
            ("tasks", view.task_count),
        ],
    )


def _parameters_text(parameters: object) -> str:
    """A flow's parameters as ``name=default`` (``name (required)``), else its JSON."""
    if not isinstance(parameters, list) or not all(isinstance(p, dict) for p in parameters):
        return json.dumps(parameters)
    return ", ".join(
        f"{parameter.get('name')} (required)"
        if parameter.get("required")
        else f"{parameter.get('name')}={json.dumps(parameter.get('default'))}"
        for parameter in parameters
    )


# -- agents ---------------------------------------------------------------------------------


@app.group("agents")
def agents() -> None:
    """List the agents that have registered with the API."""


@agents.command("list")
@output_option
@api_option
def agents_list(output: str, api: str | None) -> None:
    """Agents, oldest first, with their labels and when each last asked for work."""
    with client_for(api) as client:
        rows = _rows(client, AGENTS, "agent")
    listed = [
        {
            key: row[key]
            for key in ("id", "name", "type", "labels", "core_version", "created", "last_queried")
        }
        for row in rows
    ]
    if output == "json":
        print_json(listed)
        return
    print_table(
        "Agents",
        [
            ("id", "id"),
            ("name", "text"),
            ("type", "text"),
            ("labels", "text"),
            ("queried", "age"),
        ],
        [
            (
                row["id"],
                row["name"],
                row["type"],
                ", ".join(row["labels"] or []),
                _parsed_time(row["last_queried"]),
            )
            for row in listed
        ],
    )
