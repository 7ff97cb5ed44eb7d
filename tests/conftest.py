"""Shared fixtures: an isolated Prefect home, and one behaviour suite for both clients."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

import httpx
import pytest
from hypothesis import HealthCheck, settings
from pytest_httpx import HTTPXMock

from prefect_gql import AsyncClient, Client

# No verdict depends on the machine's speed: hypothesis's per-example deadline and its
# too-slow health check are wall-clock limits, off for the whole suite. In CI the examples
# are derived from each test's name, so a verdict does not depend on the draw either: new
# examples are explored on developers' machines, where a failure is replayed from
# .hypothesis/ until fixed.
settings.register_profile(
    "speed-independent",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=bool(os.environ.get("CI")),
)
settings.load_profile("speed-independent")

P = ParamSpec("P")
T = TypeVar("T")

REPOSITORY = Path(__file__).parents[1]
SERVER_URL = "http://prefect.test:4200"
CLOUD_URL = "https://api.prefect.test"
TENANT_ID = "11111111-1111-1111-1111-111111111111"
FLOW_ID = "22222222-2222-2222-2222-222222222222"
FLOW_RUN_ID = "33333333-3333-3333-3333-333333333333"
TASK_ID = "44444444-4444-4444-4444-444444444444"
TASK_RUN_ID = "55555555-5555-5555-5555-555555555555"
PROJECT_ID = "66666666-6666-6666-6666-666666666666"
LIMIT_ID = "88888888-8888-8888-8888-888888888888"
SECRET_SENTINEL = "sEcReT-SENTINEL-7f3a9c"


@pytest.fixture(scope="session", autouse=True)
def isolated_home_for_the_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Module- and session-scoped fixtures, set up before ``isolated_prefect_home``, never
    see the real home or PREFECT__* variables either."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        for name in list(os.environ):
            if name.upper().startswith("PREFECT__"):
                monkeypatch.delenv(name)
        monkeypatch.setenv("HOME", str(tmp_path_factory.mktemp("session-home")))
        yield


@pytest.fixture(autouse=True)
def isolated_prefect_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """No test reads or writes the real home or sees PREFECT__* variables of the machine.

    ``HOME`` is a fresh folder (not inside ``tmp_path``, which stays the test's own), so
    the default ``~/.prefect`` (returned) lies inside it.
    """
    for name in list(os.environ):
        if name.upper().startswith("PREFECT__"):
            monkeypatch.delenv(name)
    user_home = tmp_path_factory.mktemp("user-home")
    monkeypatch.setenv("HOME", str(user_home))
    return user_home / ".prefect"


@pytest.fixture(autouse=True)
def no_retry_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Retry backoff is recorded instead of slept."""
    slept: list[float] = []

    def record(seconds: float) -> None:
        slept.append(seconds)

    async def record_async(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(Client, "_sleep", staticmethod(record))
    monkeypatch.setattr(AsyncClient, "_sleep", staticmethod(record_async))
    return slept


class ApiCaller:
    """Calls one method on a ``Client`` or an ``AsyncClient`` (awaited), typed:
    ``await api(Client.create_flow_run, flow_id=...)`` is checked by mypy as the method is.
    """

    def __init__(self, client: Client | AsyncClient) -> None:
        self.client = client

    async def __call__(
        self, method: Callable[Concatenate[Client, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        if isinstance(self.client, AsyncClient):
            result: T = await getattr(self.client, method.__name__)(*args, **kwargs)
            return result
        return method(self.client, *args, **kwargs)


Api = ApiCaller


ClientFactory = Callable[..., Api]


@pytest.fixture(params=["sync", "async"])
async def make_api(request: pytest.FixtureRequest) -> AsyncIterator[ClientFactory]:
    """Build a ``Client`` or an ``AsyncClient`` (the test runs once with each)."""
    created: list[Client | AsyncClient] = []

    def factory(**kwargs: Any) -> Api:
        kwargs.setdefault("api_server", SERVER_URL)
        kwargs.setdefault("backend", "server")
        client: Client | AsyncClient = (
            Client(**kwargs) if request.param == "sync" else AsyncClient(**kwargs)
        )
        created.append(client)
        return ApiCaller(client)

    yield factory
    for client in created:
        if isinstance(client, AsyncClient):
            await client.aclose()
        else:
            client.close()


@pytest.fixture
async def api(make_api: ClientFactory) -> Api:
    """A Prefect Server client without credentials."""
    return make_api()


def graphql_body(request: httpx.Request) -> dict[str, Any]:
    body = json.loads(request.content)
    assert isinstance(body, dict)
    return body


def add_graphql(
    httpx_mock: HTTPXMock,
    data: dict[str, Any] | None = None,
    *,
    errors: list[dict[str, Any]] | None = None,
    url: str = SERVER_URL,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> None:
    """Queue one GraphQL answer."""
    payload: dict[str, Any] = {"data": data}
    if errors is not None:
        payload["errors"] = errors
    httpx_mock.add_response(
        url=url, method="POST", json=payload, status_code=status_code, headers=headers
    )


def sent_operations(httpx_mock: HTTPXMock) -> list[tuple[str, dict[str, Any]]]:
    """(operationName, variables) of every GraphQL request sent, in order."""
    return [
        (body.get("operationName", ""), body["variables"])
        for body in map(graphql_body, httpx_mock.get_requests())
    ]


def copy_project(destination: Path, *names: str) -> Path:
    """Copy these top-level files and folders of the repository into ``destination``."""
    for name in names:
        source = REPOSITORY / name
        if source.is_dir():
            shutil.copytree(
                source, destination / name, ignore=shutil.ignore_patterns("__pycache__")
            )
        else:
            destination.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, destination / name)
    return destination
