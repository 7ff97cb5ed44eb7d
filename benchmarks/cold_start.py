"""Cold start: what a fresh process pays to import, build a client and make one typed call.

    python benchmarks/cold_start.py            # full run, writes its section of RESULTS.md
    python benchmarks/cold_start.py --smoke    # tiny counts, prints the table only (CI)

Short-lived processes (agents, flow runs) make a handful of calls, so start-up matters
as much as per-call overhead. Every program below runs in a fresh interpreter against
the canned loopback server of ``benchmarks/run.py``, and the programs take turns
(round after round, in a rotating order) so that a noisy machine slows them alike;
the table shows medians of the wall time from spawn to exit and their ratios, all
from one run. The floor is the least a typed client could cost: import httpx and
pydantic, one POST, ``json.loads``. Prefect 1.4.1's ``Client`` is measured the same
way when it is installed. This environment holds the test extras; the floor and the
Client are also measured as installed without them (``pip install prefect-gql``), where
``import httpx`` does not load httpx's own CLI. Numbers are reported, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import _results as results
import httpx
from run import (
    CANNED,
    RUN_ID,
    CannedServer,
    Row,
    interleaved_medians,
    interleaved_medians_async,
    table,
)

from prefect_gql import AsyncClient, Client
from prefect_gql._generated.documents import GET_FLOW_RUN_INFO_GQL

SECTION_TITLE = "## Cold start"
COLD_START_TARGET = 1.5
PREFECT_SPEEDUP_TARGET = 2.0
PER_CALL_TARGET = 1.1
PREFECT_VERSION = "1.4.1"

# Prefect 1.4.1 sends literal GraphQL without an operation name; the canned server picks
# answers by a name found in the request body, so its query is answered by its root field.
CANNED.setdefault(b"flow_run_by_pk", CANNED[b"GetFlowRunInfo"])

_INFO_BODY = (
    "{'query': "
    + repr(GET_FLOW_RUN_INFO_GQL)
    + ", 'operationName': 'GetFlowRunInfo', 'variables': {'id': RUN_ID}}"
)

# Each program reads the server URL and run id from argv, makes one call and checks the
# answer, so a program that silently did less cannot look fast.
FLOOR = f"""
import json, sys
import httpx, pydantic
URL, RUN_ID = sys.argv[1:3]
with httpx.Client() as http:
    data = json.loads(http.post(URL, json={_INFO_BODY}).content)
assert data["data"]["flow_run_by_pk"]["id"] == RUN_ID
"""

# The same, without loading the CA bundle (~30 ms): a plain-http client never needs it,
# and prefect_gql's own clients load it on their first TLS handshake only.
FLOOR_WITHOUT_TRUST_STORE = FLOOR.replace("httpx.Client()", "httpx.Client(verify=False)")

# The least any client returning pydantic models pays: the floor above plus one model
# defined and validated (pydantic's model machinery is imported on first use).
TYPED_FLOOR = FLOOR_WITHOUT_TRUST_STORE.replace(
    "assert data",
    "class Run(pydantic.BaseModel):\n    id: str\n"
    "run = Run.model_validate(data['data']['flow_run_by_pk'])\n"
    "assert run.id == RUN_ID\nassert data",
)

ASYNC_FLOOR = f"""
import asyncio, json, sys
import httpx, pydantic
URL, RUN_ID = sys.argv[1:3]
async def main():
    async with httpx.AsyncClient() as http:
        return json.loads((await http.post(URL, json={_INFO_BODY})).content)
data = asyncio.run(main())
assert data["data"]["flow_run_by_pk"]["id"] == RUN_ID
"""

PREFECT_GQL_CLIENT = """
import sys
from prefect_gql import Client
URL, RUN_ID = sys.argv[1:3]
with Client(URL, backend="server") as client:
    info = client.get_flow_run_info(RUN_ID)
assert info.id == RUN_ID and info.state.is_running()
"""

PREFECT_GQL_ASYNC_CLIENT = """
import asyncio, sys
from prefect_gql import AsyncClient
URL, RUN_ID = sys.argv[1:3]
async def main():
    async with AsyncClient(URL, backend="server") as client:
        return await client.get_flow_run_info(RUN_ID)
info = asyncio.run(main())
assert info.id == RUN_ID and info.state.is_running()
"""

# As after `pip install prefect-gql`, without extras: this environment has the test extra's
# click, rich and pygments, and with them installed every `import httpx` also imports
# httpx's own CLI (~45 ms), floor and client alike. Entries of None in sys.modules make
# an import fail as it does for a package that is not installed.
WITHOUT_EXTRAS = (
    "import sys\nfor name in ('click', 'rich', 'pygments'):\n    sys.modules[name] = None\n"
)

# The backend and endpoint come from the environment (see _prefect_environment).
PREFECT_CLIENT = """
import sys
from prefect import Client
URL, RUN_ID = sys.argv[1:3]
info = Client(api_server=URL).get_flow_run_info(RUN_ID)
assert info.id == RUN_ID and info.state.is_running()
"""


@dataclass(frozen=True)
class Program:
    """A fresh-interpreter program, with the environment it needs besides ``PREFECT__*``."""

    name: str
    code: str
    environment: tuple[tuple[str, str], ...] = ()


def prefect_installed() -> bool:
    """Whether Prefect 1.4.1 itself is importable here (it is a test dependency)."""
    try:
        return metadata.version("prefect") == PREFECT_VERSION
    except metadata.PackageNotFoundError:
        return False


def _prefect_environment(url: str) -> tuple[tuple[str, str], ...]:
    return (("PREFECT__BACKEND", "server"), ("PREFECT__SERVER__ENDPOINT", url.rstrip("/")))


def _clean_environment(home: str) -> dict[str, str]:
    """This machine's environment without ``PREFECT__*`` and with an empty Prefect home.

    Bytecode is written and reused, as in an installed package (pip compiles site-packages
    at install time): with ``PYTHONDONTWRITEBYTECODE`` set, every fresh process of an
    editable install would compile prefect_gql from source while httpx and pydantic load
    their cached bytecode, which measures the compiler, not a user's start.
    """
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("PREFECT__") and name != "PYTHONDONTWRITEBYTECODE"
    }
    environment["PREFECT__HOME_DIR"] = home
    return environment


def run_program(program: Program, url: str, home: str) -> float:
    """Wall time in ms of one fresh interpreter running ``program``, spawn to exit."""
    environment = _clean_environment(home) | dict(program.environment)
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", program.code, url, RUN_ID],
        env=environment,
        cwd=home,  # not the repository: ``-c`` puts the working directory on sys.path
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = (time.perf_counter() - started) * 1000
    if result.returncode != 0:
        raise RuntimeError(f"{program.name} failed:\n{result.stderr}")
    return elapsed


def cold_starts(programs: Sequence[Program], url: str, rounds: int) -> dict[str, float]:
    """Median wall time per program; each round runs every program once, rotating the order."""
    samples: dict[str, list[float]] = {program.name: [] for program in programs}
    with tempfile.TemporaryDirectory() as home:
        for program in programs:  # warm the OS file cache and write bytecode; not counted
            run_program(program, url, home)
        for round_index in range(rounds):
            shift = round_index % len(programs)
            for program in [*programs[shift:], *programs[:shift]]:
                samples[program.name].append(run_program(program, url, home))
    return {name: statistics.median(times) for name, times in samples.items()}


def cold_start_rows(url: str, rounds: int, *, with_prefect: bool) -> list[Row]:
    programs = [
        Program("floor", FLOOR),
        Program("floor without trust store", FLOOR_WITHOUT_TRUST_STORE),
        Program("typed floor", TYPED_FLOOR),
        Program("async floor", ASYNC_FLOOR),
        Program("Client", PREFECT_GQL_CLIENT),
        Program("AsyncClient", PREFECT_GQL_ASYNC_CLIENT),
        Program("floor, no extras", WITHOUT_EXTRAS + FLOOR),
        Program("typed floor, no extras", WITHOUT_EXTRAS + TYPED_FLOOR),
        Program("Client, no extras", WITHOUT_EXTRAS + PREFECT_GQL_CLIENT),
    ]
    if with_prefect:
        programs.append(Program("Prefect", PREFECT_CLIENT, _prefect_environment(url)))
    medians = cold_starts(programs, url, rounds)
    floor, async_floor = medians["floor"], medians["async floor"]
    rows = [
        Row(
            "cold start floor: import httpx + pydantic, one POST, json.loads",
            f"{floor:.0f} ms",
            f"async (httpx.AsyncClient in asyncio.run): {async_floor:.0f} ms",
        )
    ]
    lean_floor = medians["floor without trust store"]
    rows.append(
        Row(
            "cold start floor without loading the trust store (plain http needs none)",
            f"{lean_floor:.0f} ms",
            f"prefect_gql Client: {medians['Client'] / lean_floor:.2f}x this floor (it loads "
            "the CA bundle on its first TLS handshake, so a plain-http client never does)",
        )
    )
    typed_floor = medians["typed floor"]
    rows.append(
        Row(
            "cold start typed floor: the above + one pydantic model defined and validated",
            f"{typed_floor:.0f} ms",
            f"the least a client returning pydantic models can pay; prefect_gql Client: "
            f"{medians['Client'] / typed_floor:.2f}x this floor",
        )
    )
    for name, own_floor, floor_name in (
        ("Client", floor, "floor"),
        ("AsyncClient", async_floor, "async floor"),
    ):
        ratio = medians[name] / own_floor
        verdict = "within target" if ratio <= COLD_START_TARGET else "ABOVE target"
        value = f"{medians[name]:.0f} ms = {ratio:.2f}x {floor_name}"
        if own_floor != floor:
            value += f" ({medians[name] / floor:.2f}x the sync floor)"
        rows.append(
            Row(
                f"cold start prefect_gql {name}: import + construct + get_flow_run_info",
                value,
                f"target <= {COLD_START_TARGET}x: {verdict}",
            )
        )
    bare_floor, bare_client = medians["floor, no extras"], medians["Client, no extras"]
    rows.append(
        Row(
            "cold start as installed without extras (click, rich, pygments not importable): "
            "prefect_gql Client",
            f"{bare_client:.0f} ms = {bare_client / bare_floor:.2f}x this install's floor "
            f"({bare_floor:.0f} ms)",
            f"typed floor {medians['typed floor, no extras']:.0f} ms; with the test extras "
            "installed, floor and client also load httpx's own CLI",
        )
    )
    if with_prefect:
        prefect = medians["Prefect"]
        speedups = [prefect / medians[name] for name in ("Client", "Client, no extras")]
        verdicts = [
            "within target" if speedup >= PREFECT_SPEEDUP_TARGET else "BELOW target"
            for speedup in speedups
        ]
        rows.append(
            Row(
                f"cold start Prefect {PREFECT_VERSION} Client: same program",
                f"{prefect:.0f} ms = {prefect / floor:.2f}x floor; prefect_gql Client is "
                f"{speedups[0]:.2f}x faster ({speedups[1]:.2f}x installed without extras)",
                f"target >= {PREFECT_SPEEDUP_TARGET}x faster: {verdicts[0]} "
                f"({verdicts[1]} without extras)",
            )
        )
    return rows


def per_call_rows(server: CannedServer, count: int, *, with_prefect: bool) -> list[Row]:
    """Per-call cost, warm, of get_flow_run_info: prefect_gql and, in a run of its own,
    Prefect 1.4.1, each taking turns call by call with bare httpx.

    Prefect opens a connection per call (a new ``requests.Session``); taking turns with
    it, the next call pays for its teardown, so it gets its own run and the comparison
    is of the two ratios to bare httpx."""
    body: dict[str, Any] = {
        "query": GET_FLOW_RUN_INFO_GQL,
        "operationName": "GetFlowRunInfo",
        "variables": {"id": RUN_ID},
    }
    rows = []
    with httpx.Client() as bare, Client(server.url, backend="server") as client:

        def bare_call() -> object:
            return json.loads(bare.post(server.url, json=body).content)

        ours = interleaved_medians(
            {"bare": bare_call, "Client": lambda: client.get_flow_run_info(RUN_ID)}, count
        )
        theirs = (
            interleaved_medians({"bare": bare_call, "Prefect": _prefect_call(server.url)}, count)
            if with_prefect
            else None
        )
    rows.append(_per_call_row("Client", ours["Client"], ours["bare"]))
    rows.append(_async_per_call_row(server, count, body))
    if theirs is not None:
        prefect_ratio = theirs["Prefect"] / theirs["bare"]
        rows.append(
            Row(
                f"per call Prefect {PREFECT_VERSION} Client.get_flow_run_info (warm, median)",
                f"{theirs['Prefect']:.3f} ms vs bare httpx {theirs['bare']:.3f} ms"
                f" = {prefect_ratio:.2f}x",
                "prefect_gql Client is "
                f"{prefect_ratio / (ours['Client'] / ours['bare']):.2f}x faster per call",
            )
        )
    return rows


def _per_call_row(name: str, typed: float, bare: float) -> Row:
    ratio = typed / bare
    verdict = "within target" if ratio <= PER_CALL_TARGET else "ABOVE target"
    return Row(
        f"per call {name}.get_flow_run_info (warm, median)",
        f"{typed:.3f} ms vs bare httpx {bare:.3f} ms = {ratio:.2f}x",
        f"target <= {PER_CALL_TARGET}x: {verdict}",
    )


def _async_per_call_row(server: CannedServer, count: int, body: dict[str, Any]) -> Row:
    async def measure() -> dict[str, float]:
        async with (
            httpx.AsyncClient() as bare,
            AsyncClient(server.url, backend="server") as client,
        ):

            async def bare_call() -> object:
                return json.loads((await bare.post(server.url, json=body)).content)

            async def typed_call() -> object:
                return await client.get_flow_run_info(RUN_ID)

            return await interleaved_medians_async(
                {"bare": bare_call, "AsyncClient": typed_call}, count
            )

    medians = asyncio.run(measure())
    return _per_call_row("AsyncClient", medians["AsyncClient"], medians["bare"])


def _prefect_call(url: str) -> Callable[[], object]:
    """Prefect 1.4.1's ``Client.get_flow_run_info`` against ``url``, configured by env."""
    for name, value in _prefect_environment(url):
        os.environ[name] = value
    from prefect import Client as PrefectClient  # noqa: PLC0415 - optional, and slow to import

    prefect_client: Any = PrefectClient(api_server=url)
    return lambda: prefect_client.get_flow_run_info(RUN_ID)


def write_section(report: str) -> None:
    results.write_section(
        SECTION_TITLE.removeprefix("## "),
        "`python benchmarks/cold_start.py` (fresh interpreters taking turns against the "
        "canned loopback server; wall time from spawn to exit, medians)",
        report,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--smoke", action="store_true", help="tiny counts; do not write RESULTS.md")
    parser.add_argument(
        "--no-prefect",
        action="store_true",
        help=f"skip Prefect {PREFECT_VERSION} even if installed",
    )
    args = parser.parse_args()
    rounds, calls = (1, 20) if args.smoke else (25, 2_000)
    with_prefect = prefect_installed() and not args.no_prefect
    with CannedServer() as server:
        rows = cold_start_rows(server.url, rounds, with_prefect=with_prefect)
        rows += per_call_rows(server, calls, with_prefect=with_prefect)
        gc.collect()  # Prefect drops a requests.Session per call; close their sockets now
    report = table(rows)
    print(report)
    if not args.smoke:
        write_section(report)


if __name__ == "__main__":
    main()
