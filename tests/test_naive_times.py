"""One rule for every time a Prefect user passes: a naive datetime or ISO string is UTC.

Prefect code passes ``datetime.utcnow()`` and naive ISO strings (its own client sent
both); the tests below do so on purpose, so they silence ``utcnow``'s deprecation
warning (Python 3.12+) locally.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pytest_httpx import HTTPXMock

from prefect_gql import Cached, Client, Queued, Scheduled, parse_state, with_args

from .conftest import FLOW_ID, FLOW_RUN_ID, TASK_ID, Api, add_graphql, sent_operations

utcnow_on_purpose = pytest.mark.filterwarnings(
    "ignore:datetime.datetime.utcnow\\(\\) is deprecated:DeprecationWarning"
)

NAIVE_TEXT = "2026-01-01T00:00:00"
AS_UTC = datetime(2026, 1, 1, tzinfo=UTC)


def sent_time(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    assert moment.utcoffset() is not None, text
    return moment


@utcnow_on_purpose
async def test_log_timestamps(api: Api, httpx_mock: HTTPXMock) -> None:
    add_graphql(httpx_mock, {"write_run_logs": {"success": True}})
    now = datetime.utcnow()

    await api(
        Client.write_run_logs,
        [
            {"flow_run_id": FLOW_RUN_ID, "message": "a", "timestamp": now},
            {"flow_run_id": FLOW_RUN_ID, "message": "b", "timestamp": NAIVE_TEXT},
        ],
    )

    ((_, variables),) = sent_operations(httpx_mock)
    first, second = variables["input"]["logs"]
    assert sent_time(first["timestamp"]) == now.replace(tzinfo=UTC)
    assert sent_time(second["timestamp"]) == AS_UTC


@utcnow_on_purpose
async def test_scheduled_start_time_and_created_after(api: Api, httpx_mock: HTTPXMock) -> None:
    add_graphql(httpx_mock, {"create_flow_run": {"id": FLOW_RUN_ID}})
    add_graphql(httpx_mock, {"task_run": []})
    now = datetime.utcnow()

    await api(Client.create_flow_run, FLOW_ID, scheduled_start_time=now)
    await api(Client.get_latest_cached_states, TASK_ID, None, now)

    (_, created), (_, cached) = sent_operations(httpx_mock)
    assert sent_time(created["input"]["scheduled_start_time"]) == now.replace(tzinfo=UTC)
    assert sent_time(cached["created_after"]) == now.replace(tzinfo=UTC)


@utcnow_on_purpose
def test_state_times() -> None:
    now = datetime.utcnow()
    assert Scheduled(start_time=now).start_time == now.replace(tzinfo=UTC)
    assert Queued(start_time=NAIVE_TEXT).start_time == AS_UTC
    expiring = Cached(cached_result_expiration=now)
    assert expiring.cached_result_expiration == now.replace(tzinfo=UTC)
    loaded = parse_state({"type": "Scheduled", "start_time": NAIVE_TEXT})
    assert isinstance(loaded, Scheduled)
    assert loaded.to_wire()["start_time"] == "2026-01-01T00:00:00+00:00"


@utcnow_on_purpose
def test_dict_dsl() -> None:
    now = datetime.utcnow()
    document = with_args("flow_run", {"where": {"created": {"_gte": now}}})
    assert now.replace(tzinfo=UTC).isoformat() in document
