"""``prefect-gql`` commands for people following runs: flow runs, task runs, logs, run,
query and auth.

Registered on ``_app.app`` when ``_app`` imports this module. The server and credentials
come from the same settings as ``Client`` (``PREFECT__*`` variables, ``~/.prefect``);
``--api`` before or after the command overrides the server. ``--output json`` prints
stable keys for scripts. Any prefect_gql error, and any unknown run, flow, project or
state, is one ``Error:`` line and exit code 1; a run that does not succeed under
``run --watch`` (or outlives ``--timeout``) exits 1.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import click

from prefect_gql import FlowRunTimeoutError

from ._app import app
from ._catalog import require_flow_name, require_flow_run, require_project, resolve_flow
from ._documents import AGENTS, DELETE_FLOW_RUN
from ._output import (
    api_option,
    api_time,
    client_for,
    humanise,
    is_uuid,
    new_state,
    output_option,
    print_json,
    print_table,
    require_rich,
    state_name,
    time_text,
)

if TYPE_CHECKING:
    from rich.console import Console

    from prefect_gql import Client, FlowRunSummary, LogLine, TaskRunView

__all__ = ["flow_run_json", "log_json", "task_run_json"]

_DURATION = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
AGENT_WAIT = 15.0
"""Seconds ``run --watch`` waits for an agent before saying none has picked the run up
(Prefect 1.x's CLI waits as long), then again every ``AGENT_REPEAT``."""
AGENT_REPEAT = 30.0
HEALTHY_AGENT_AGE = timedelta(minutes=1)
"""An agent that asked for work this recently is healthy (as Prefect's CLI counts it)."""


def _pairs(values: Sequence[str], what: str) -> dict[str, Any]:
    """``k=v`` options: ``v`` as JSON when it parses (``n=3``, ``ok=true``), else a string."""
    parsed: dict[str, Any] = {}
    for value in values:
        key, equals, text = value.partition("=")
        if not equals or not key:
            raise click.BadParameter(f"expected KEY=VALUE, got {value!r}", param_hint=what)
        try:
            parsed[key] = json.loads(text)
        except json.JSONDecodeError:
            parsed[key] = text
    return parsed


def _moment(value: str | None) -> datetime | None:
    """``--since``: an ISO 8601 time (UTC if it has no zone) or an age such as ``30m``, ``2d``."""
    if value is None:
        return None
    age = _DURATION.match(value.strip())
    if age:
        return datetime.now(UTC) - timedelta(**{_UNITS[age.group(2)]: int(age.group(1))})
    try:
        return api_time(value)
    except ValueError:
        raise click.BadParameter(
            f"expected an ISO 8601 time or an age like 30m, 12h, 7d; got {value!r}",
            param_hint="--since",
        ) from None


def _seconds(value: timedelta | None) -> float | None:
    return round(value.total_seconds(), 3) if value is not None else None


def flow_run_json(run: FlowRunSummary) -> dict[str, Any]:
    """A flow run as ``--output json`` prints it (stable keys)."""
    return {
        "id": run.id,
        "name": run.name,
        "flow": {"id": run.flow.id, "name": run.flow.name, "version": run.flow.version},
        "project": {"id": run.flow.project.id, "name": run.flow.project.name},
        "state": run.state.type,
        "state_message": run.state.message,
        "labels": run.labels,
        "parameters": run.parameters,
        "created": time_text(run.created),
        "scheduled_start_time": time_text(run.scheduled_start_time),
        "start_time": time_text(run.start_time),
        "end_time": time_text(run.end_time),
        "duration_seconds": _seconds(run.duration),
    }


def task_run_json(task_run: TaskRunView) -> dict[str, Any]:
    return {
        "id": task_run.id,
        "name": task_run.name,
        "task_slug": task_run.task_slug,
        "map_index": task_run.map_index,
        "state": task_run.state.type,
        "state_message": task_run.state.message,
        "start_time": time_text(task_run.start_time),
        "end_time": time_text(task_run.end_time),
        "duration_seconds": _seconds(task_run.duration),
    }


def log_json(line: LogLine) -> dict[str, Any]:
    return {
        "timestamp": time_text(line.timestamp),
        "level": line.level,
        "name": line.name,
        "message": line.message,
        "task_run_id": line.task_run_id,
    }


def _log_text(line: LogLine) -> str:
    level, name, message = line.level or "-", line.name or "-", line.message or ""
    return f"{line.timestamp:%Y-%m-%d %H:%M:%S} {level:<8} {name} | {message}"


# -- flow runs ------------------------------------------------------------------------------


@app.group("flow-runs")
def flow_runs() -> None:
    """List flow runs."""


@flow_runs.command("list")
@click.option("--flow", "flow", default=None, help="Flow id or name.")
@click.option("--project", default=None, help="Project name.")
@click.option("--state", "states", multiple=True, help="State name, e.g. Running (repeatable).")
@click.option("--label", "labels", multiple=True, help="Only runs with this label (repeatable).")
@click.option("--since", default=None, help="Created since: ISO 8601 time or age (30m, 2d).")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(min=0))
@output_option
@api_option
def flow_runs_list(
    flow: str | None,
    project: str | None,
    states: tuple[str, ...],
    labels: tuple[str, ...],
    since: str | None,
    limit: int,
    output: str,
    api: str | None,
) -> None:
    """Flow runs, newest first (with --flow NAME: of every version of that flow)."""
    checked_states = [state_name(state, "--state") for state in states]
    flow_id, flow_name = (flow, None) if flow is not None and is_uuid(flow) else (None, flow)
    with client_for(api) as client:
        if flow_id is not None:
            resolve_flow(client, flow_id, project)
        elif flow_name is not None:
            require_flow_name(client, flow_name, project)
        if project is not None:
            require_project(client, project)
        runs = list(
            client.iter_flow_runs(
                flow_id=flow_id,
                flow_name=flow_name,
                project=project,
                states=checked_states or None,
                labels=labels or None,
                since=_moment(since),
                limit=limit,
                page_size=min(max(limit, 1), 100),
            )
        )
    if output == "json":
        print_json([flow_run_json(run) for run in runs])
        return
    print_table(
        "Flow runs",
        [
            ("id", "id"),
            ("flow", "text"),
            ("state", "state"),
            ("age", "age"),
            ("duration", "duration"),
        ],
        [(run.id, run.flow.name, run.state.type, run.created, run.duration) for run in runs],
    )


@app.group("flow-run")
def flow_run() -> None:
    """Look at one flow run, set its state, cancel or delete it."""


@flow_run.command("describe")
@click.argument("flow_run_id")
@output_option
@api_option
def flow_run_describe(flow_run_id: str, output: str, api: str | None) -> None:
    """A flow run: flow, project, labels, parameters, state history and task runs."""
    with client_for(api) as client:
        require_flow_run(client, flow_run_id)
        view = client.get_flow_run_view(flow_run_id)
        task_runs = list(client.iter_task_runs(view.id))
    if output == "json":
        described = flow_run_json(view)
        described["states"] = [
            {
                "state": change.state.type,
                "message": change.state.message,
                "timestamp": time_text(change.timestamp),
            }
            for change in view.states
        ]
        described["task_runs"] = [task_run_json(task_run) for task_run in task_runs]
        print_json(described)
        return
    print_table(
        f"Flow run {view.name or view.id}",
        [("field", "text"), ("value", "text")],
        [
            ("id", view.id),
            ("flow", f"{view.flow.name} (v{view.flow.version}, {view.flow.id})"),
            ("project", view.flow.project.name),
            ("state", f"{view.state.type}: {view.state.message or ''}"),
            ("labels", ", ".join(view.labels)),
            ("parameters", json.dumps(view.parameters)),
            ("start / end", f"{time_text(view.start_time)} / {time_text(view.end_time)}"),
            ("duration", humanise(view.duration)),
            ("task runs", f"{view.finished_task_run_count}/{view.task_run_count} finished"),
        ],
    )
    print_table(
        "State history",
        [("timestamp", "time"), ("state", "state"), ("message", "text")],
        [(change.timestamp, change.state.type, change.state.message) for change in view.states],
    )
    _task_run_table(task_runs)


def _task_run_table(task_runs: Sequence[TaskRunView]) -> None:
    print_table(
        "Task runs",
        [
            ("id", "id"),
            ("task", "text"),
            ("map index", "text"),
            ("state", "state"),
            ("duration", "duration"),
        ],
        [
            (
                task_run.id,
                task_run.task_slug,
                task_run.map_index if task_run.map_index >= 0 else "",
                task_run.state.type,
                task_run.duration,
            )
            for task_run in task_runs
        ],
    )


@flow_run.command("set-state")
@click.argument("flow_run_id")
@click.argument("state")
@click.option("--message", "-m", default=None, help="The state's message.")
@output_option
@api_option
def flow_run_set_state(
    flow_run_id: str, state: str, message: str | None, output: str, api: str | None
) -> None:
    """Put a flow run in STATE (one of Prefect's 21 state names, any case)."""
    name = state_name(state)
    with client_for(api) as client:
        require_flow_run(client, flow_run_id)
        client.set_flow_run_state(flow_run_id, new_state(name, message))
    if output == "json":
        print_json({"id": flow_run_id, "state": name, "message": message})
        return
    click.echo(f"flow run {flow_run_id} set to {name}")


@flow_run.command("cancel")
@click.argument("flow_run_id")
@output_option
@api_option
def flow_run_cancel(flow_run_id: str, output: str, api: str | None) -> None:
    """Cancel a flow run (Cancelling while an agent runs it, else Cancelled)."""
    with client_for(api) as client:
        require_flow_run(client, flow_run_id)
        client.cancel_flow_run(flow_run_id)
        now = client.get_flow_run_state(flow_run_id).type
    if output == "json":
        print_json({"id": flow_run_id, "state": now})
        return
    click.echo(f"flow run {flow_run_id} is {now}")


@flow_run.command("delete")
@click.argument("flow_run_id")
@output_option
@api_option
def flow_run_delete(flow_run_id: str, output: str, api: str | None) -> None:
    """Delete a flow run with its task runs, states and logs."""
    with client_for(api) as client:
        require_flow_run(client, flow_run_id)
        answer = client.graphql(DELETE_FLOW_RUN, variables={"id": flow_run_id})
    payload = answer["data"]["delete_flow_run"] or {}
    if not payload.get("success"):
        reason = payload.get("error") or "no reason given"
        raise click.ClickException(f"the API did not delete flow run {flow_run_id}: {reason}")
    if output == "json":
        print_json({"id": flow_run_id, "deleted": True})
        return
    click.echo(f"deleted flow run {flow_run_id}")


@app.group("task-runs")
def task_runs_group() -> None:
    """List the task runs of a flow run."""


@task_runs_group.command("list")
@click.argument("flow_run_id")
@output_option
@api_option
def task_runs_list(flow_run_id: str, output: str, api: str | None) -> None:
    """Every task run of a flow run (mapped children included), in creation order."""
    with client_for(api) as client:
        require_flow_run(client, flow_run_id)
        task_runs = list(client.iter_task_runs(flow_run_id))
    if output == "json":
        print_json([task_run_json(task_run) for task_run in task_runs])
        return
    _task_run_table(task_runs)


# -- logs and runs --------------------------------------------------------------------------


@app.command("logs")
@click.argument("flow_run_id")
@click.option("--follow", "-f", is_flag=True, help="Keep printing new lines until the run ends.")
@click.option("--since", default=None, help="Lines since: ISO 8601 time or age (30m, 2d).")
@output_option
@api_option
def logs(flow_run_id: str, follow: bool, since: str | None, output: str, api: str | None) -> None:
    """A flow run's log lines (with -o json: one JSON object per line)."""
    from prefect_gql import LogLine  # noqa: PLC0415

    def emit(line: LogLine) -> None:
        click.echo(
            json.dumps(log_json(line), sort_keys=True) if output == "json" else _log_text(line)
        )

    with client_for(api) as client:
        require_flow_run(client, flow_run_id)
        if not follow:
            for line in client.iter_flow_run_logs(flow_run_id, since=_moment(since)):
                emit(line)
            return
        cut = _moment(since)
        for event in client.watch_flow_run(flow_run_id):
            if isinstance(event, LogLine) and (cut is None or event.timestamp >= cut):
                emit(event)


@app.command("run")
@click.argument("flow")
@click.option("--project", default=None, help="The flow's project, when FLOW is a name.")
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="KEY=VALUE",
    help="A parameter (repeatable; JSON values).",
)
@click.option("--label", "labels", multiple=True, help="A run label (repeatable).")
@click.option("--name", "run_name", default=None, help="The run's name.")
@click.option("--watch", is_flag=True, help="Follow the run; exit 0 only if it succeeds.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    metavar="SECONDS",
    help="With --watch: give up (exit 1) after this many seconds.",
)
@click.option(
    "--agent-wait",
    type=click.FloatRange(min=0),
    default=AGENT_WAIT,
    metavar="SECONDS",
    show_default=True,
    help="With --watch: seconds before saying that no agent has picked the run up.",
)
@api_option
def run(
    flow: str,
    project: str | None,
    params: tuple[str, ...],
    labels: tuple[str, ...],
    run_name: str | None,
    watch: bool,
    timeout: float | None,
    agent_wait: float,
    api: str | None,
) -> None:
    """Create a run of FLOW (an id, or a name: its latest version) and print the run's id;
    with --watch, follow it to the end."""
    parameters = _pairs(params, "--param")
    if timeout is not None and not watch:
        raise click.UsageError("--timeout bounds --watch: pass both or neither")
    with client_for(api) as client:
        flow_id = resolve_flow(client, flow, project)
        run_id = client.create_flow_run(
            flow_id=flow_id, parameters=parameters, labels=list(labels) or None, run_name=run_name
        )
        click.echo(run_id)
        if not watch:
            return
        succeeded = _watch_with_progress(client, run_id, timeout=timeout, agent_wait=agent_wait)
    if not succeeded:
        raise click.exceptions.Exit(1)


def _watch_with_progress(
    client: Client, run_id: str, *, timeout: float | None, agent_wait: float
) -> bool:
    """Print state changes and log lines under a live ``finished/total`` task-run line."""
    require_rich()
    from rich.console import Console  # noqa: PLC0415 - people-facing output only
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn  # noqa: PLC0415

    from prefect_gql import LogLine, StateChange, TaskRunProgress  # noqa: PLC0415

    console = Console(stderr=True)
    final = None
    watchdog = _AgentWatchdog(client, run_id, console, first=agent_wait, every=AGENT_REPEAT)
    with Progress(
        TextColumn("task runs"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        console=console,
        transient=False,
    ) as progress:
        bar = progress.add_task("", total=None)
        watchdog.start()
        try:
            for event in client.watch_flow_run(run_id, timeout=timeout):
                if isinstance(event, StateChange):
                    final = event.state
                    progress.console.print(
                        f"state: {event.state.type} {event.state.message or ''}".rstrip(),
                        markup=False,
                        highlight=False,
                        soft_wrap=True,
                    )
                    progress.update(bar, description=event.state.type)
                elif isinstance(event, LogLine):
                    progress.console.print(
                        _log_text(event), markup=False, highlight=False, soft_wrap=True
                    )
                elif isinstance(event, TaskRunProgress):
                    progress.update(bar, completed=event.finished, total=event.total)
        except FlowRunTimeoutError as err:
            raise click.ClickException(str(err)) from err
        finally:
            watchdog.stop()
    if final is None:
        final = client.get_flow_run_state(run_id)
    console.print(
        f"flow run {run_id} finished: {final.type}", markup=False, highlight=False, soft_wrap=True
    )
    return final.is_successful()


_WAITING_FOR_AN_AGENT = frozenset({"Pending", "Scheduled", "Resume", "Retrying", "Queued"})


class _AgentWatchdog:
    """While ``run --watch`` waits: after ``first`` seconds, and every ``every`` seconds
    after that, says so if no agent has picked the run up yet, which agents could, and how
    to start one against this API (as Prefect 1.x's ``prefect run --watch`` does)."""

    def __init__(
        self, client: Client, run_id: str, console: Console, *, first: float, every: float
    ) -> None:
        self._client = client
        self._run_id = run_id
        self._console = console
        self._delays = (first, every)
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="agent-watchdog", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join()

    def _watch(self) -> None:
        from prefect_gql import PrefectGQLError  # noqa: PLC0415

        waited, delay = 0.0, self._delays[0]
        while not self._stopped.wait(delay):
            waited += delay
            delay = self._delays[1]
            try:
                run = require_flow_run(self._client, self._run_id)
                if run["state"] not in _WAITING_FOR_AN_AGENT:
                    return
                message = no_agent_message(self._client, self._run_id, run["labels"], waited)
            except (PrefectGQLError, click.ClickException):
                continue  # the watch itself reports a failing API
            self._console.print(
                message, style="yellow", markup=False, highlight=False, soft_wrap=True
            )


def no_agent_message(client: Client, run_id: str, labels: Sequence[str], waited: float) -> str:
    """What ``run --watch`` says when no agent has picked a run up: which agents could, and
    the command that starts one for this run against this API."""
    wanted = set(labels)
    labels_blurb = f"labels {', '.join(sorted(wanted))}" if wanted else "no labels"
    now = datetime.now(UTC)
    agents = client.graphql(AGENTS)["data"]["agent"]
    seen = [(agent, api_time(agent["last_queried"])) for agent in agents if agent["last_queried"]]

    def matching(agent: Mapping[str, Any]) -> bool:
        theirs = set(agent["labels"] or [])
        return wanted <= theirs if wanted else not theirs

    healthy = [agent for agent, at in seen if now - at <= HEALTHY_AGENT_AGE]
    fits_healthy = [agent for agent in healthy if matching(agent)]
    fits_stale = [agent for agent, at in seen if matching(agent) and agent not in healthy]
    if fits_healthy:
        agent = fits_healthy[0]
        advice = (
            f"Agent {agent['name'] or agent['id']} has matching labels and asked for work"
            " within the last minute: it should pick the run up."
        )
    elif fits_stale:
        advice = (
            f"{len(fits_stale)} agent(s) with matching labels have not asked for work in the"
            " last minute and look unhealthy."
        )
    elif healthy:
        advice = f"{len(healthy)} healthy agent(s), but none takes runs with {labels_blurb}."
    else:
        advice = "No agent has asked this API for work in the last minute."
    return (
        f"It has been {humanise(timedelta(seconds=waited))} and no agent has picked up flow run"
        f" {run_id}. {advice} Start one for this run: {start_agent_command(client, labels)}"
    )


def start_agent_command(client: Client, labels: Sequence[str]) -> str:
    """A Prefect 1.x local agent for runs with ``labels`` against this client's API."""
    from prefect_gql._model.view_answers import start_agent_command as command  # noqa: PLC0415

    return command(
        client.api_server,
        backend=client.backend,
        uses_api_key=client.credential_kind == "api_key",
        labels=labels,
    )


# -- raw queries and auth ---------------------------------------------------------------------


@app.command("query")
@click.argument("source", type=click.File("r"))
@click.option(
    "--var",
    "variables",
    multiple=True,
    metavar="KEY=VALUE",
    help="A variable (repeatable; JSON values).",
)
@api_option
def query(source: Any, variables: tuple[str, ...], api: str | None) -> None:
    """Send a GraphQL document from FILE (or - for stdin); prints the JSON answer."""
    document = source.read()
    with client_for(api) as client:
        answer = client.graphql(document, variables=_pairs(variables, "--var"))
    print_json(dict(answer))


@app.group("auth")
def auth() -> None:
    """API keys, kept in ~/.prefect/auth.toml as Prefect 1.4 keeps them."""


@auth.command("login")
@click.option("--key", "-k", required=True, help="A Prefect 1.x API key.")
@click.option(
    "--tenant", default=None, help="Tenant id or slug (default: the key's default tenant)."
)
@api_option
def auth_login(key: str, tenant: str | None, api: str | None) -> None:
    """Check an API key against the API (the one Client() would use) and save it to disk."""
    with client_for(api, api_key=key) as client:
        if tenant is not None:
            _switch(client, tenant)
        tenant_id = client.get_tenant_id()
        client.save_auth_to_disk()
    click.echo(f"logged in to {client.api_server} (tenant {tenant_id})")


def _switch(client: Client, tenant: str) -> str:
    if is_uuid(tenant):
        return client.switch_tenant(tenant_id=tenant)
    return client.switch_tenant(tenant_slug=tenant)


@auth.command("status")
@click.option(
    "--output", "-o", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@api_option
def auth_status(output: str, api: str | None) -> None:
    """Which API and credentials commands use (never the credential itself)."""
    with client_for(api) as client:
        status: Mapping[str, Any] = {
            "api": client.api_server,
            "backend": client.backend,
            "credential": client.credential_kind,
            "tenant_id": client.tenant_id,
        }
    if output == "json":
        print_json(dict(status))
        return
    for key, value in status.items():
        click.echo(f"{key}: {value if value is not None else '-'}")


@auth.command("logout")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@api_option
def auth_logout(yes: bool, api: str | None) -> None:
    """Remove the API key saved for this API (the one Client() would use) from disk."""
    import os  # noqa: PLC0415

    with client_for(api) as client:
        saved = client.load_auth_from_disk()
        server = client.api_server
    if "api_key" not in saved:
        if os.environ.get("PREFECT__CLOUD__API_KEY"):
            raise click.ClickException(
                "the API key comes from PREFECT__CLOUD__API_KEY, not from disk: unset it to log out"
            )
        raise click.ClickException(f"no API key is saved for {server}")
    if not yes:
        click.confirm(f"Remove the API key saved for {server}?", abort=True)
    forget_saved_key(server)
    click.echo(f"logged out of {server}")


def forget_saved_key(api_server: str) -> None:
    """Remove ``api_server``'s table from ``auth.toml`` (the file stays, mode 0600)."""
    from prefect_gql import load_settings  # noqa: PLC0415 - pydantic-settings: slow to import
    from prefect_gql._config.disk import (  # noqa: PLC0415 - the one internal module used here
        AUTH_FILE_HEADER,
        auth_file_path,
        auth_table_key,
        read_toml_file,
        write_private_toml,
    )

    path = auth_file_path(load_settings().home_dir)
    contents = read_toml_file(path)
    contents.pop(auth_table_key(api_server), None)
    write_private_toml(path, contents, header=AUTH_FILE_HEADER)


@auth.command("switch-tenant")
@click.argument("tenant")
@api_option
def auth_switch_tenant(tenant: str, api: str | None) -> None:
    """Act for another tenant (id or slug) from now on; saved with the API key."""
    with client_for(api) as client:
        tenant_id = _switch(client, tenant)
        client.save_auth_to_disk()
    click.echo(f"switched to tenant {tenant_id}")
