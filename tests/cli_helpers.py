"""What the CLI tests share: the command as a subprocess, and a registered flow."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

from prefect_gql import Client, FlowSpec, ParameterSpec, TaskSpec

COMMAND_TIMEOUT = 60.0
"""Seconds any one command may take before the test fails."""

CLI = [sys.executable, "-c", "from prefect_gql.cli import main; main()"]


def cli_env(url: str | None, **extra: str) -> dict[str, str]:
    """The CLI finds the server through the same settings as Client (``url`` None: no
    endpoint set, so only ``--api`` names it); tables 80 columns wide."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("PREFECT__") and name not in ("FORCE_COLOR", "NO_COLOR")
    }
    env.update({"PREFECT__BACKEND": "server", "COLUMNS": "80", **extra})
    if url is not None:
        env["PREFECT__SERVER__ENDPOINT"] = url
    return env


def cli(
    env: dict[str, str], *args: str, stdin: str | None = None, cwd: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``prefect-gql ARGS`` with ``env`` as its whole environment: in this process
    (click's runner, so coverage sees the commands), or as a subprocess with ``cwd``."""
    if cwd is not None:
        return subprocess.run(  # noqa: S603 - our own command line
            [*CLI, *args],
            env=env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
            check=False,
            cwd=cwd,
        )
    from click.testing import CliRunner  # noqa: PLC0415

    from prefect_gql.cli._commands import app  # noqa: PLC0415

    unset: dict[str, str | None] = {name: None for name in os.environ if name not in env}
    result = CliRunner().invoke(
        app, list(args), input=stdin, env={**unset, **env}, prog_name="prefect-gql"
    )
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return subprocess.CompletedProcess(
        ["prefect-gql", *args], result.exit_code, result.stdout, result.stderr
    )


def register_flow(
    client: Client, tasks: int = 1, *, name: str = "etl", project: str | None = None
) -> tuple[str, str]:
    """A registered flow's id and its project's name (a fresh project unless given)."""
    if project is None:
        project = f"cli-{uuid.uuid4().hex[:8]}"
        client.create_project(project)
    spec = FlowSpec(
        name=name,
        tasks=[TaskSpec(slug=f"task-{index}", name=f"task{index}") for index in range(tasks)],
        parameters=[ParameterSpec(name="day", default="monday")],
    )
    return client.register(spec, project_name=project, no_url=True), project


def assert_one_error_line(done: subprocess.CompletedProcess[str], message: str) -> None:
    """Exit 1 and one ``Error:`` line on stderr that contains ``message``; no traceback."""
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("Error: "), done.stderr
    assert message in lines[0], done.stderr
