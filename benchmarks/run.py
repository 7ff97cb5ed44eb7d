"""Benchmarks: what the typed client costs over raw httpx, measured side by side.

    python benchmarks/run.py            # full run, writes benchmarks/RESULTS.md
    python benchmarks/run.py --smoke    # tiny sizes, prints the table only (CI runs this)

A minimal asyncio HTTP/1.1 server on loopback answers every request with a canned
body chosen by operation name, so server time does not hide client time; it also
counts the connections it accepts. Numbers are reported, never asserted: this is
not a timed test.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import subprocess
import sys
import threading
import time
import tracemalloc
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import _results as results
import httpx

from prefect_gql import AsyncClient, Client, Running
from prefect_gql._constants import DEFAULT_MAX_CONNECTIONS
from prefect_gql._generated.documents import GET_FLOW_RUN_INFO_GQL, SET_FLOW_RUN_STATES_GQL

RUN_ID = "33333333-3333-3333-3333-333333333333"
OVERHEAD_TARGET = 1.1
IMPORT_TARGET_MS = 150.0

_RUNNING = Running(message="go").to_wire()
CANNED: dict[bytes, bytes] = {
    b"GetFlowRunInfo": json.dumps(
        {
            "data": {
                "flow_run_by_pk": {
                    "id": RUN_ID,
                    "name": "bench",
                    "flow_id": "22222222-2222-2222-2222-222222222222",
                    "parameters": {"x": 1},
                    "context": {},
                    "version": 3,
                    "scheduled_start_time": "2020-06-17T00:00:00+00:00",
                    "serialized_state": _RUNNING,
                    "task_runs": [
                        {
                            "id": f"55555555-5555-5555-5555-55555555555{i}",
                            "version": 1,
                            "serialized_state": _RUNNING,
                            "task": {
                                "id": f"44444444-4444-4444-4444-44444444444{i}",
                                "slug": f"t{i}",
                            },
                        }
                        for i in range(3)
                    ],
                    "flow": {
                        "project": {"id": "66666666-6666-6666-6666-666666666666", "name": "p"}
                    },
                }
            }
        }
    ).encode(),
    b"SetFlowRunStates": json.dumps(
        {
            "data": {
                "set_flow_run_states": {
                    "states": [{"id": RUN_ID, "status": "SUCCESS", "message": None}]
                }
            }
        }
    ).encode(),
    b"UpdateFlowRunHeartbeat": b'{"data": {"update_flow_run_heartbeat": {"success": true}}}',
    b"WriteRunLogs": b'{"data": {"write_run_logs": {"success": true}}}',
}


class CannedServer:
    """HTTP/1.1 keep-alive server on a free loopback port, in a thread; counts connections."""

    def __init__(self) -> None:
        self.connections = 0
        self.requests = 0
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def __enter__(self) -> CannedServer:
        self._thread.start()
        self._ready.wait(5)
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(
            asyncio.start_server(self._serve, "127.0.0.1", 0, backlog=2048)
        )
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        pending = asyncio.all_tasks(self._loop)
        for task in pending:
            task.cancel()
        self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        server.close()
        self._loop.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                body = await reader.readexactly(length)
                self.requests += 1
                answer = next(
                    (v for k, v in CANNED.items() if k in body[:400] or k in body[-200:]),
                    b'{"data": {}}',
                )
                writer.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: "
                    + str(len(answer)).encode()
                    + b"\r\n\r\n"
                    + answer
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()
        except asyncio.CancelledError:  # shutdown with the client's keep-alive still open
            writer.close()


def _turns(names: Sequence[str], count: int) -> Iterator[list[str]]:
    """``count`` rounds of every name once, the order rotating from round to round."""
    for round_index in range(count):
        shift = round_index % len(names)
        yield [*names[shift:], *names[:shift]]


def interleaved_medians(calls: Mapping[str, Callable[[], object]], count: int) -> dict[str, float]:
    """Median ms per call of each callable; they take turns call by call (in a rotating
    order) so that a noisy machine's load hits them alike, and ratios come from one run."""
    for _ in range(min(50, count)):
        for call in calls.values():
            call()
    samples: dict[str, list[int]] = {name: [] for name in calls}
    for turn in _turns(list(calls), count):
        for name in turn:
            started = time.perf_counter_ns()
            calls[name]()
            samples[name].append(time.perf_counter_ns() - started)
    return {name: statistics.median(times) / 1e6 for name, times in samples.items()}


async def interleaved_medians_async(
    calls: Mapping[str, Callable[[], Awaitable[object]]], count: int
) -> dict[str, float]:
    """``interleaved_medians`` for coroutine functions, in the running event loop."""
    for _ in range(min(50, count)):
        for call in calls.values():
            await call()
    samples: dict[str, list[int]] = {name: [] for name in calls}
    for turn in _turns(list(calls), count):
        for name in turn:
            started = time.perf_counter_ns()
            await calls[name]()
            samples[name].append(time.perf_counter_ns() - started)
    return {name: statistics.median(times) / 1e6 for name, times in samples.items()}


@dataclass
class Row:
    what: str
    value: str
    note: str = ""


def overhead(server: CannedServer, count: int) -> list[Row]:
    info_body = {
        "query": GET_FLOW_RUN_INFO_GQL,
        "operationName": "GetFlowRunInfo",
        "variables": {"id": RUN_ID},
    }
    state_body = {
        "query": SET_FLOW_RUN_STATES_GQL,
        "operationName": "SetFlowRunStates",
        "variables": {
            "input": {"states": [{"flow_run_id": RUN_ID, "version": 3, "state": _RUNNING}]}
        },
    }
    running = Running(message="go")  # in hand on both sides, as _RUNNING is for the bare call
    rows = []
    with httpx.Client() as bare, Client(server.url, backend="server") as client:
        cases = [
            ("get_flow_run_info", lambda: client.get_flow_run_info(RUN_ID), info_body),
            (
                "set_flow_run_state",
                lambda: client.set_flow_run_state(RUN_ID, running, version=3),
                state_body,
            ),
        ]
        for name, typed_call, body in cases:

            def raw_call(body: dict[str, Any] = body) -> object:
                return json.loads(bare.post(server.url, json=body).content)

            medians = interleaved_medians({"typed": typed_call, "raw": raw_call}, count)
            rows.append(_ratio_row(f"Client.{name}", medians["typed"], medians["raw"]))

    async def async_cases() -> None:
        async with (
            httpx.AsyncClient() as bare_async,
            AsyncClient(server.url, backend="server") as aclient,
        ):
            cases = [
                ("get_flow_run_info", lambda: aclient.get_flow_run_info(RUN_ID), info_body),
                (
                    "set_flow_run_state",
                    lambda: aclient.set_flow_run_state(RUN_ID, running, version=3),
                    state_body,
                ),
            ]
            for name, typed_call, body in cases:

                async def raw_call(body: dict[str, Any] = body) -> object:
                    return json.loads((await bare_async.post(server.url, json=body)).content)

                medians = await interleaved_medians_async(
                    {"typed": typed_call, "raw": raw_call}, count
                )
                rows.append(_ratio_row(f"AsyncClient.{name}", medians["typed"], medians["raw"]))

    asyncio.run(async_cases())
    return rows


def _ratio_row(what: str, typed: float, raw: float) -> Row:
    ratio = typed / raw
    verdict = "within target" if ratio <= OVERHEAD_TARGET else "ABOVE target"
    return Row(
        f"{what}: median per call",
        f"{typed:.3f} ms vs bare httpx {raw:.3f} ms = {ratio:.2f}x",
        f"target <= {OVERHEAD_TARGET}x: {verdict}",
    )


def connection_reuse(server: CannedServer, count: int) -> Row:
    before = server.connections
    with Client(server.url, backend="server") as client:
        for _ in range(count):
            client.get_flow_run_info(RUN_ID)
    opened = server.connections - before
    return Row(f"{count} sequential calls", f"{opened} connection(s) opened", "target: 1")


def heartbeat_throughput(server: CannedServer, count: int) -> Row:
    async def run() -> tuple[float, int, int]:
        connections, requests = server.connections, server.requests
        async with AsyncClient(server.url, backend="server") as client:
            started = time.perf_counter()
            await asyncio.gather(*(client.update_flow_run_heartbeat(RUN_ID) for _ in range(count)))
            elapsed = time.perf_counter() - started
        return elapsed, server.connections - connections, server.requests - requests

    elapsed, opened, answered = asyncio.run(run())
    return Row(
        f"{count} concurrent update_flow_run_heartbeat (AsyncClient)",
        f"{count / elapsed:,.0f} calls/s",
        f"{elapsed:.2f} s, {answered} requests answered, {opened} connections "
        f"(at most {DEFAULT_MAX_CONNECTIONS} in flight)",
    )


def log_throughput(server: CannedServer, count: int) -> list[Row]:
    gc.collect()
    tracemalloc.start()
    baseline = tracemalloc.get_traced_memory()[0]
    now = datetime.now(UTC)
    entries = [
        {
            "flow_run_id": RUN_ID,
            "timestamp": now,
            "level": "INFO",
            "name": "bench",
            "message": f"log line {i}",
        }
        for i in range(count)
    ]
    size = tracemalloc.get_traced_memory()[0] - baseline
    with Client(server.url, backend="server") as client:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        started = time.perf_counter()
        client.write_run_logs(entries)
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1] - before
    tracemalloc.stop()
    ratio = peak / size
    return [
        Row(
            f"write_run_logs of {count:,} entries (batches of 1,000)",
            f"{count / elapsed:,.0f} entries/s",
            f"{elapsed:.2f} s",
        ),
        Row(
            "write_run_logs peak extra memory",
            f"{peak / 1e6:.1f} MB for {size / 1e6:.1f} MB of entries = {ratio:.2f}x",
            f"target < 2x: {'within target' if ratio < 2 else 'ABOVE target'}",
        ),
    ]


def import_times(repeats: int) -> list[Row]:
    def measure(statement: str) -> float:
        code = (
            f"import time; t = time.perf_counter(); {statement}; "
            "print((time.perf_counter() - t) * 1000)"
        )
        runs = [
            float(
                subprocess.run(
                    [sys.executable, "-c", code], capture_output=True, text=True, check=True
                ).stdout
            )
            for _ in range(repeats)
        ]
        return statistics.median(runs)

    cumulative = []
    for _ in range(repeats):
        trace = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", "import prefect_gql"],
            capture_output=True,
            text=True,
            check=True,
        ).stderr.splitlines()
        cumulative.append(int(trace[-1].split("|")[1]) / 1000)
    client = measure("from prefect_gql import Client")
    floor = measure("import httpx, pydantic; from pydantic import BaseModel")
    return [
        Row(
            "python -X importtime -c 'import prefect_gql' (cumulative)",
            f"{statistics.median(cumulative):.1f} ms",
            f"target < {IMPORT_TARGET_MS:.0f} ms (public names are lazy)",
        ),
        Row(
            "from prefect_gql import Client (wall time)",
            f"{client:.1f} ms",
            f"of which httpx + pydantic alone: {floor:.1f} ms",
        ),
    ]


def table(rows: list[Row]) -> str:
    lines = ["| measure | result | note |", "|---|---|---|"]
    lines += [f"| {row.what} | {row.value} | {row.note} |" for row in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--smoke", action="store_true", help="tiny sizes; do not write RESULTS.md")
    args = parser.parse_args()
    calls, sequential, concurrent, logs, repeats = (
        (20, 50, 50, 2_000, 1) if args.smoke else (2_000, 1_000, 1_000, 100_000, 7)
    )
    with CannedServer() as server:
        rows = overhead(server, calls)
        rows.append(connection_reuse(server, sequential))
        rows.append(heartbeat_throughput(server, concurrent))
        rows += log_throughput(server, logs)
    rows += import_times(repeats)
    report = table(rows)
    print(report)
    if not args.smoke:
        results.write_section(
            "Client overhead, throughput, memory, import",
            "`python benchmarks/run.py` (loopback, canned-answer server, one process; "
            "typed and bare calls taking turns)",
            report,
        )


if __name__ == "__main__":
    main()
