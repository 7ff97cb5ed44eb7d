"""README's terminal transcript is a test: its ``etl.py`` and every ``$`` command run in bash,
in order, against the embedded server started by the transcript's own ``prefect-gql server``
line, with Prefect 1.4.1's ``flow.register()`` and local agent. Each command's output must match
the lines the README shows under it (``...`` stands for any text, or on a line of its own for
any lines; runs of spaces and of box-drawing rules count as one) and its exit code must be 0, or
1 where the README shows an ``Error:`` line."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

README = Path(__file__).parents[1] / "README.md"
SECTION = "## From the terminal"
README_URL = "http://127.0.0.1:4200"
TRANSCRIPT_TIMEOUT = 600.0
"""Seconds the whole transcript may take (it starts Prefect's agent and a flow run)."""
HEALTH_POLLS = 600
"""Polls of ``/health`` (0.1 s apart) before the transcript's server counts as not started."""
MARKER = "@@@README"


def terminal_section() -> str:
    text = README.read_text()
    start = text.index(SECTION)
    end = text.index("\n## ", start + len(SECTION))
    return text[start:end]


def fenced(section: str, language: str) -> str:
    found = re.search(rf"```{language}\n(.*?)```", section, re.DOTALL)
    assert found is not None, f"no {language} block in the README's terminal section"
    return found.group(1)


def transcript(console: str) -> list[tuple[str, list[str]]]:
    """``(command, expected output lines)`` for each ``$`` line of the console block."""
    steps: list[tuple[str, list[str]]] = []
    for line in console.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        else:
            steps[-1][1].append(line)
    return steps


def normalized(line: str) -> str:
    line = re.sub(r"─+", "─", re.sub(r"━+", "━", line))
    return " ".join(line.split())


def matches(expected: list[str], actual: list[str]) -> bool:
    pattern = "".join(
        r"(?:[^\n]*\n)*?"
        if line == "..."
        else re.escape(normalized(line)).replace(r"\.\.\.", ".*?") + r"\n"
        for line in expected
    )
    text = "".join(f"{normalized(line)}\n" for line in actual if line.strip())
    return re.fullmatch(pattern, text) is not None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


WAIT_FOR_HEALTH = f"""python - <<'PY'
import time, httpx
for _ in range({HEALTH_POLLS}):
    try:
        if httpx.get("{{url}}/health", timeout=5).status_code == 200:
            break
    except httpx.TransportError:
        pass
    time.sleep(0.1)
else:
    raise SystemExit("the README's server never answered /health")
PY
"""


def script(steps: list[tuple[str, list[str]]], url: str, port: int) -> str:
    """Bash running each command, its output framed by markers, background jobs ended at exit."""
    lines = ["trap 'kill $(jobs -p) 2>/dev/null' EXIT"]
    for index, (shown, _) in enumerate(steps):
        command = shown.replace(README_URL, url)
        if command.startswith("prefect-gql server "):
            lines.append(
                command.replace("prefect-gql server ", f"prefect-gql server --port {port} ")
            )
            lines.append(WAIT_FOR_HEALTH.format(url=url))
        elif re.search(r"&\s*(#.*)?$", command):
            lines.append(command)
        else:
            lines += [f"echo {MARKER} {index}", "{", command, "} 2>&1", f"echo {MARKER} rc $?"]
    return "\n".join(lines) + "\n"


def test_the_readme_terminal_transcript_runs_as_shown(tmp_path: Path) -> None:
    section = terminal_section()
    (tmp_path / "etl.py").write_text(fenced(section, "python"))
    steps = transcript(fenced(section, "console"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **{name: value for name, value in os.environ.items() if not name.startswith("PREFECT")},
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(tmp_path / "home"),
        "COLUMNS": "80",
    }
    done = subprocess.run(  # noqa: S603 - the README's own commands
        ["bash", "-c", script(steps, url, port)],  # noqa: S607 - bash from PATH
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=TRANSCRIPT_TIMEOUT,
        check=False,
    )
    outputs: dict[int, tuple[list[str], int]] = {}
    current: int | None = None
    for line in done.stdout.splitlines():
        if line.startswith(f"{MARKER} rc "):
            assert current is not None
            outputs[current] = (outputs[current][0], int(line.split()[-1]))
        elif line.startswith(f"{MARKER} "):
            current = int(line.split()[-1])
            outputs[current] = ([], -1)
        elif current is not None:
            outputs[current][0].append(line)
    agent_log = (tmp_path / "agent.log").read_text() if (tmp_path / "agent.log").exists() else ""
    for index, (command, expected) in enumerate(steps):
        if index not in outputs:
            continue  # the server and background lines
        actual, exit_code = outputs[index]
        shown = [line.replace(README_URL, url) for line in expected]
        context = f"$ {command}\n" + "\n".join(actual) + f"\n(stderr: {done.stderr})\n{agent_log}"
        wanted_code = 1 if shown and shown[0].startswith("Error:") else 0
        assert exit_code == wanted_code, context
        assert matches(shown, actual), context
    ran = {command for index, (command, _) in enumerate(steps) if index in outputs}
    assert len(ran) >= 10, done.stdout + done.stderr
