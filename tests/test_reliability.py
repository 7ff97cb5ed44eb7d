"""Retries, timeouts, typed errors for bad answers, and secrets kept out of sight."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from functools import partial
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from pytest_httpx import HTTPXMock

from prefect_gql import (
    DEFAULT_MAX_RETRIES,
    APIConnectionError,
    APIResponseError,
    APIStatusError,
    APITimeoutError,
    BadRequestError,
    Client,
    ClientError,
    ConfigurationError,
    PrefectGQLError,
    Running,
)
from prefect_gql._retry import RetryPolicy, parse_retry_after

from .conftest import (
    CLOUD_URL,
    FLOW_ID,
    FLOW_RUN_ID,
    SECRET_SENTINEL,
    SERVER_URL,
    TENANT_ID,
    Api,
    ApiCaller,
    ClientFactory,
    add_graphql,
    graphql_body,
)

DOCUMENTED_OUTCOMES = {
    "FlowRunInfo",
    "APIResponseError",
    "ClientError",
    "NotFoundError",
    "InvalidStateError",
    "AuthenticationError",
    "VersionLockError",
}
API_ERROR = [{"message": "temporary", "extensions": {"code": "API_ERROR"}}]


async def test_503_during_create_flow_run_resends_the_same_idempotency_key(
    api: Api, httpx_mock: HTTPXMock, no_retry_sleep: list[float]
) -> None:
    httpx_mock.add_response(url=SERVER_URL, status_code=503)
    add_graphql(httpx_mock, {"create_flow_run": {"id": FLOW_RUN_ID}})

    assert await api(Client.create_flow_run, flow_id=FLOW_ID) == FLOW_RUN_ID

    keys = [
        graphql_body(r)["variables"]["input"]["idempotency_key"] for r in httpx_mock.get_requests()
    ]
    assert len(keys) == 2
    assert keys[0] == keys[1]
    assert len(no_retry_sleep) == 1


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
async def test_retryable_statuses_are_retried_for_queries(
    api: Api, httpx_mock: HTTPXMock, status: int, no_retry_sleep: list[float]
) -> None:
    httpx_mock.add_response(url=SERVER_URL, status_code=status)
    add_graphql(httpx_mock, {"task_tag_limit": [{"limit": 1}]})

    assert await api(Client.get_task_tag_limit, "db") == 1
    assert len(httpx_mock.get_requests()) == 2
    assert len(no_retry_sleep) == 1


async def test_retries_stop_after_max_retries(
    api: Api, httpx_mock: HTTPXMock, no_retry_sleep: list[float]
) -> None:
    httpx_mock.add_response(
        url=SERVER_URL, status_code=502, text="<html>bad gateway</html>", is_reusable=True
    )
    with pytest.raises(APIStatusError, match="HTTP 502") as raised:
        await api(Client.get_task_tag_limit, "db")
    assert raised.value.status_code == 502
    assert len(httpx_mock.get_requests()) == DEFAULT_MAX_RETRIES + 1
    assert len(no_retry_sleep) == DEFAULT_MAX_RETRIES


async def test_non_idempotent_mutation_is_not_retried_after_a_5xx(
    make_api: ClientFactory, httpx_mock: HTTPXMock
) -> None:
    api = make_api(tenant_id=TENANT_ID)
    httpx_mock.add_response(url=SERVER_URL, status_code=503)
    with pytest.raises(APIStatusError):
        await api(Client.create_project, "etl")
    assert len(httpx_mock.get_requests()) == 1


async def test_429_is_retried_even_for_non_idempotent_mutations(
    make_api: ClientFactory, httpx_mock: HTTPXMock, no_retry_sleep: list[float]
) -> None:
    api = make_api(tenant_id=TENANT_ID)
    httpx_mock.add_response(url=SERVER_URL, status_code=429, headers={"Retry-After": "7"})
    add_graphql(httpx_mock, {"create_project": {"id": FLOW_ID}})

    assert await api(Client.create_project, "etl") == FLOW_ID
    assert no_retry_sleep == [7.0]


async def test_retry_after_http_date_is_honoured_and_capped(
    api: Api, httpx_mock: HTTPXMock, no_retry_sleep: list[float]
) -> None:
    far = format_datetime(datetime.now(UTC) + timedelta(hours=1), usegmt=True)
    httpx_mock.add_response(url=SERVER_URL, status_code=503, headers={"Retry-After": far})
    add_graphql(httpx_mock, {"task_tag_limit": []})

    await api(Client.get_task_tag_limit, "db")
    assert no_retry_sleep == [60.0]


async def test_api_error_is_retried_for_queries_only(
    make_api: ClientFactory, httpx_mock: HTTPXMock
) -> None:
    api = make_api(tenant_id=TENANT_ID)
    add_graphql(httpx_mock, errors=API_ERROR)
    add_graphql(httpx_mock, {"task_tag_limit": []})
    add_graphql(httpx_mock, errors=API_ERROR)

    assert await api(Client.get_task_tag_limit, "db") is None
    with pytest.raises(ClientError) as raised:
        await api(Client.create_project, "etl")
    assert raised.value.code == "API_ERROR"
    assert len(httpx_mock.get_requests()) == 3


async def test_connection_errors_are_retried_then_typed(
    api: Api, httpx_mock: HTTPXMock, no_retry_sleep: list[float]
) -> None:
    httpx_mock.add_exception(httpx.ConnectError("refused"), is_reusable=True)
    with pytest.raises(APIConnectionError, match="ConnectError") as raised:
        await api(Client.get_task_tag_limit, "db")
    assert isinstance(raised.value.__cause__, httpx.ConnectError)
    assert len(httpx_mock.get_requests()) == DEFAULT_MAX_RETRIES + 1


async def test_a_timeout_is_an_api_timeout_error(
    make_api: ClientFactory, httpx_mock: HTTPXMock
) -> None:
    api = make_api(max_retries=0)
    httpx_mock.add_exception(httpx.ReadTimeout("slow"))
    with pytest.raises(APITimeoutError, match="timed out"):
        await api(Client.get_task_tag_limit, "db")


async def test_read_timeout_of_a_non_idempotent_mutation_is_not_retried(
    make_api: ClientFactory, httpx_mock: HTTPXMock
) -> None:
    api = make_api(tenant_id=TENANT_ID)
    httpx_mock.add_exception(httpx.ReadTimeout("slow"))
    with pytest.raises(APITimeoutError):
        await api(Client.create_project, "etl")
    assert len(httpx_mock.get_requests()) == 1


async def test_with_options_changes_retries_and_timeout_for_one_call(
    api: Api, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_response(url=SERVER_URL, status_code=503)
    strict = ApiCaller(api.client.with_options(max_retries=0, timeout=2.5))

    assert strict.client.max_retries == 0
    assert api.client.max_retries == DEFAULT_MAX_RETRIES
    with pytest.raises(APIStatusError):
        await strict(Client.get_task_tag_limit, "db")
    assert len(httpx_mock.get_requests()) == 1
    assert httpx_mock.get_requests()[0].extensions["timeout"]["read"] == 2.5


def test_default_timeout_is_set_on_requests(httpx_mock: HTTPXMock) -> None:
    add_graphql(httpx_mock, {"task_tag_limit": []})
    with Client(SERVER_URL, backend="server") as client:
        client.get_task_tag_limit("db")
    timeout = httpx_mock.get_requests()[0].extensions["timeout"]
    assert timeout == {"connect": 5.0, "read": 15.0, "write": 15.0, "pool": 15.0}


def test_retry_policy_backoff_grows_and_is_capped() -> None:
    policy = RetryPolicy(initial_delay=1.0, max_delay=4.0)
    for retry_number, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (6, 4.0)]:
        delay = policy.backoff(retry_number)
        assert ceiling / 2 <= delay <= ceiling


def test_parse_retry_after() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_retry_after("3") == 3.0
    assert (
        parse_retry_after(format_datetime(now + timedelta(seconds=10), usegmt=True), now=now)
        == 10.0
    )
    assert parse_retry_after("garbage") is None
    assert parse_retry_after(None) is None
    assert parse_retry_after("-5") == 0.0


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (401, {"message": "Unauthorized"}, "HTTP 401 .*Unauthorized"),
        (400, {"message": "no errors list"}, "HTTP 400 .*no errors list"),
        (404, "<html><h1>Not found</h1></html>", "HTTP 404"),
    ],
)
async def test_http_errors_are_readable(
    api: Api, httpx_mock: HTTPXMock, status: int, body: Any, expected: str
) -> None:
    if isinstance(body, str):
        httpx_mock.add_response(url=SERVER_URL, status_code=status, text=body)
    else:
        httpx_mock.add_response(url=SERVER_URL, status_code=status, json=body)
    with pytest.raises(APIStatusError, match=expected):
        await api(Client.get_task_tag_limit, "db")


async def test_graphql_errors_with_http_400_are_a_bad_request_error(
    api: Api, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_response(
        url=SERVER_URL,
        status_code=400,
        json={"errors": [{"message": "Variable '$input' got invalid value"}]},
    )
    with pytest.raises(BadRequestError, match="invalid value") as raised:
        await api(Client.get_task_tag_limit, "db")
    assert raised.value.status_code == 400
    assert raised.value.errors[0].message == "Variable '$input' got invalid value"
    assert len(httpx_mock.get_requests()) == 1


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"<html>maintenance</html>", "expected a JSON body"),
        (b"[1, 2]", "expected a JSON object"),
        (b'{"errors": null}', "no 'data' object"),
        (b'{"data": {"task_tag_limit": "nope"}}', "does not match the schema"),
        (b"\xff\xfe", "expected a JSON body"),
    ],
)
async def test_bad_bodies_are_api_response_errors(
    api: Api, httpx_mock: HTTPXMock, content: bytes, expected: str
) -> None:
    httpx_mock.add_response(url=SERVER_URL, content=content)
    with pytest.raises(APIResponseError, match=expected):
        await api(Client.get_task_tag_limit, "db")


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=12,
)
state_like = st.fixed_dictionaries(
    {"type": st.sampled_from(["Running", "Success", "Nope", "Cached"])},
    optional={"message": json_values, "_result": json_values, "start_time": json_values},
)
run_bodies = st.fixed_dictionaries(
    {
        "data": st.one_of(
            json_values,
            st.fixed_dictionaries(
                {
                    "flow_run_by_pk": st.one_of(
                        st.none(),
                        json_values,
                        st.fixed_dictionaries(
                            {
                                "id": st.sampled_from([FLOW_RUN_ID, "x", 3]),
                                "flow_id": st.sampled_from([FLOW_ID, None]),
                                "version": st.one_of(st.integers(), st.text(max_size=3)),
                                "scheduled_start_time": st.sampled_from(
                                    ["2020-06-17T00:00:00+00:00", "yesterday", None]
                                ),
                                "serialized_state": st.one_of(state_like, json_values),
                                "task_runs": st.lists(json_values, max_size=2),
                                "flow": json_values,
                            },
                            optional={"name": json_values, "parameters": json_values},
                        ),
                    )
                }
            ),
        )
    },
    optional={"errors": json_values},
)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=st.one_of(run_bodies, json_values), raw=st.binary(max_size=40))
def test_fuzzed_answers_raise_only_documented_errors(
    httpx_mock: HTTPXMock, body: Any, raw: bytes
) -> None:
    outcomes: list[str] = []
    with Client(SERVER_URL, backend="server", max_retries=0) as client:
        for content in (None, raw):
            httpx_mock.reset()
            if content is None:
                httpx_mock.add_response(url=SERVER_URL, json=body)
            else:
                httpx_mock.add_response(url=SERVER_URL, content=content)
            try:
                info = client.get_flow_run_info(FLOW_RUN_ID)
            except PrefectGQLError as err:
                outcomes.append(type(err).__name__)
            else:
                outcomes.append(type(info).__name__)
    assert set(outcomes) <= DOCUMENTED_OUTCOMES


def _secret_clients() -> list[Client]:
    return [
        Client(CLOUD_URL, api_key=SECRET_SENTINEL, tenant_id=TENANT_ID, backend="cloud"),
        Client(CLOUD_URL, SECRET_SENTINEL, backend="cloud"),
    ]


@pytest.mark.parametrize(
    "answer",
    [
        {"status_code": 500, "text": "oops"},
        {"status_code": 400, "json": {"errors": [{"message": "bad"}]}},
        {"status_code": 200, "text": "<html>"},
        {"status_code": 200, "json": {"errors": [{"message": "UNAUTHENTICATED"}]}},
        {"status_code": 200, "json": {"data": {"flow_run_by_pk": {"id": 1}}}},
    ],
)
def test_secrets_never_appear_in_errors_logs_or_reprs(
    httpx_mock: HTTPXMock, caplog: pytest.LogCaptureFixture, answer: dict[str, Any]
) -> None:
    caplog.set_level(logging.DEBUG)
    httpx_mock.add_response(url=CLOUD_URL, is_reusable=True, **answer)
    httpx_mock.add_exception(
        httpx.ConnectError("refused"), url="https://down.test/x", is_reusable=True
    )
    for client in _secret_clients():
        with client:
            calls: list[Callable[[], object]] = [
                partial(client.get_flow_run_info, FLOW_RUN_ID),
                partial(client.set_flow_run_state, FLOW_RUN_ID, Running()),
                partial(client.get, "x", server="https://down.test"),
            ]
            for call in calls:
                with pytest.raises(PrefectGQLError) as raised:
                    call()
                chain: BaseException | None = raised.value
                while chain is not None:
                    assert SECRET_SENTINEL not in str(chain)
                    assert SECRET_SENTINEL not in repr(chain)
                    chain = chain.__cause__ or chain.__context__
            assert SECRET_SENTINEL not in repr(client)
    assert httpx_mock.get_requests()[0].headers["Authorization"] == f"Bearer {SECRET_SENTINEL}"
    for record in caplog.records:
        assert SECRET_SENTINEL not in record.getMessage()


def test_debug_log_shows_method_url_operation_status_and_duration(
    httpx_mock: HTTPXMock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="prefect_gql")
    add_graphql(httpx_mock, {"task_tag_limit": []}, url=CLOUD_URL)
    with Client(CLOUD_URL, api_key=SECRET_SENTINEL, backend="cloud", tenant_id=TENANT_ID) as client:
        client.get_task_tag_limit("db")
    lines = [r.getMessage() for r in caplog.records if "GetTaskTagLimit" in r.getMessage()]
    assert len(lines) == 1
    assert lines[0].startswith(f"POST {CLOUD_URL} GetTaskTagLimit -> 200 in ")
    assert lines[0].endswith("ms")


async def test_an_undecodable_body_is_an_api_response_error(
    api: Api, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_exception(httpx.DecodingError("bad gzip"))
    with pytest.raises(APIResponseError, match="unusable answer \\(DecodingError\\)") as raised:
        await api(Client.get_task_tag_limit, "db")
    assert isinstance(raised.value.__cause__, httpx.DecodingError)


def test_with_options_removes_or_keeps_the_deadline() -> None:
    with Client(SERVER_URL, backend="server", deadline=30) as client:
        assert client.with_options(deadline=None)._config.deadline is None
        assert client.with_options(max_retries=1)._config.deadline == 30
        assert client.with_options(deadline=5)._config.deadline == 5
        with pytest.raises(ConfigurationError, match="deadline"):
            client.with_options(deadline=0)
