"""Auth on the wire: API keys and tenants (1.x), API tokens and tenant JWTs (0.12)."""

from __future__ import annotations

import asyncio
import json
import stat
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from prefect_gql_generated import documents
from pytest_httpx import HTTPXMock

from prefect_gql import AsyncClient, AuthenticationError, Client, ConfigurationError

from .conftest import (
    CLOUD_URL,
    SECRET_SENTINEL,
    TENANT_ID,
    Api,
    ClientFactory,
    add_graphql,
    graphql_body,
    sent_operations,
)

OTHER_TENANT = "12121212-1212-1212-1212-121212121212"


def _expiry(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()


def _tokens(access: str, refresh: str, expires_in: float) -> dict[str, Any]:
    return {"access_token": access, "refresh_token": refresh, "expires_at": _expiry(expires_in)}


def cloud_api(make_api: ClientFactory, **kwargs: Any) -> Api:
    return make_api(api_server=CLOUD_URL, backend="cloud", **kwargs)


async def test_api_key_sends_bearer_and_tenant_header(
    make_api: ClientFactory, httpx_mock: HTTPXMock
) -> None:
    api = cloud_api(make_api, api_key="KEY", tenant_id=TENANT_ID)
    add_graphql(httpx_mock, {"task_tag_limit": []}, url=CLOUD_URL)

    await api(Client.get_task_tag_limit, "db")

    headers = httpx_mock.get_requests()[0].headers
    assert headers["Authorization"] == "Bearer KEY"
    assert headers["X-PREFECT-TENANT-ID"] == TENANT_ID


async def test_cloud_default_tenant_comes_from_auth_info(
    make_api: ClientFactory, httpx_mock: HTTPXMock
) -> None:
    api = cloud_api(make_api, api_key="KEY")
    add_graphql(httpx_mock, {"auth_info": {"tenant_id": TENANT_ID}}, url=CLOUD_URL)

    assert await api(Client.get_tenant_id) == TENANT_ID
    assert api.client.tenant_id == TENANT_ID
    assert graphql_body(httpx_mock.get_requests()[0])["query"] == documents.GET_AUTH_TENANT_GQL


async def test_api_token_passed_as_key_is_a_clear_error(
    make_api: ClientFactory, httpx_mock: HTTPXMock
) -> None:
    api = cloud_api(make_api, api_key="OLD-TOKEN")
    add_graphql(httpx_mock, {"auth_info": {"tenant_id": None}}, url=CLOUD_URL)
    with pytest.raises(AuthenticationError, match="old API token"):
        await api(Client.get_tenant_id)


async def test_switch_tenant_by_slug_checks_the_key(
    make_api: ClientFactory, httpx_mock: HTTPXMock
) -> None:
    api = cloud_api(make_api, api_key="KEY", tenant_id=TENANT_ID)
    add_graphql(httpx_mock, {"tenant": [{"id": OTHER_TENANT}]}, url=CLOUD_URL)
    add_graphql(httpx_mock, {"auth_info": {"tenant_id": OTHER_TENANT}}, url=CLOUD_URL)

    assert await api(Client.switch_tenant, tenant_slug="other") == OTHER_TENANT

    assert api.client.tenant_id == OTHER_TENANT
    assert sent_operations(httpx_mock)[0] == ("FindTenantId", {"slug": "other", "id": None})
    assert httpx_mock.get_requests()[1].headers["X-PREFECT-TENANT-ID"] == OTHER_TENANT


async def test_switch_tenant_refused_keeps_the_old_tenant(
    make_api: ClientFactory, httpx_mock: HTTPXMock
) -> None:
    api = cloud_api(make_api, api_key="KEY", tenant_id=TENANT_ID)
    add_graphql(httpx_mock, {"auth_info": {"tenant_id": TENANT_ID}}, url=CLOUD_URL)
    with pytest.raises(AuthenticationError, match="cannot act for tenant"):
        await api(Client.switch_tenant, tenant_id=OTHER_TENANT)
    assert api.client.tenant_id == TENANT_ID


async def test_switch_tenant_rejects_a_bad_uuid(
    make_api: ClientFactory, httpx_mock: HTTPXMock
) -> None:
    api = cloud_api(make_api, api_key="KEY")
    with pytest.raises(ValueError, match="tenant_id must be a UUID"):
        await api(Client.switch_tenant, tenant_id="nope")
    assert httpx_mock.get_requests() == []


async def login(api: Api, httpx_mock: HTTPXMock, expires_in: float) -> None:
    add_graphql(httpx_mock, {"tenant": [{"id": TENANT_ID}]}, url=CLOUD_URL)
    add_graphql(
        httpx_mock, {"switch_tenant": _tokens("ACCESS-1", "REFRESH-1", expires_in)}, url=CLOUD_URL
    )
    assert await api(Client.login_to_tenant, tenant_slug="team") is True


async def test_login_to_tenant_uses_the_api_token_then_the_jwt(
    make_api: ClientFactory, httpx_mock: HTTPXMock, isolated_prefect_home: Path
) -> None:
    api = cloud_api(make_api, api_token="USER-TOKEN")
    await login(api, httpx_mock, expires_in=600)
    add_graphql(httpx_mock, {"task_tag_limit": []}, url=CLOUD_URL)

    await api(Client.get_task_tag_limit, "db")

    find, switch, query = httpx_mock.get_requests()
    assert find.headers["Authorization"] == "Bearer USER-TOKEN"
    assert graphql_body(switch)["query"] == documents.SWITCH_TENANT_GQL
    assert graphql_body(switch)["variables"] == {"input": {"tenant_id": TENANT_ID}}
    assert switch.headers["Authorization"] == "Bearer USER-TOKEN"
    assert query.headers["Authorization"] == "Bearer ACCESS-1"
    assert "X-PREFECT-TENANT-ID" not in query.headers
    settings = isolated_prefect_home / "client" / "https-api.prefect.test" / "settings.toml"
    assert tomllib.loads(settings.read_text()) == {
        "api_token": "USER-TOKEN",
        "active_tenant_id": TENANT_ID,
    }
    assert stat.S_IMODE(settings.stat().st_mode) == 0o600


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({}, "tenant_slug or tenant_id"), ({"tenant_id": "nope"}, "tenant_id must be a UUID")],
)
async def test_login_to_tenant_bad_arguments(
    make_api: ClientFactory, httpx_mock: HTTPXMock, kwargs: dict[str, str], message: str
) -> None:
    api = cloud_api(make_api, api_token="USER-TOKEN")
    with pytest.raises(ValueError, match=message):
        await api(Client.login_to_tenant, **kwargs)


async def test_login_to_unknown_tenant(make_api: ClientFactory, httpx_mock: HTTPXMock) -> None:
    api = cloud_api(make_api, api_token="USER-TOKEN")
    add_graphql(httpx_mock, {"tenant": []}, url=CLOUD_URL)
    with pytest.raises(ValueError, match="no tenant matches slug 'x'"):
        await api(Client.login_to_tenant, tenant_slug="x")


async def test_token_inside_the_refresh_window_is_refreshed_first(
    make_api: ClientFactory, httpx_mock: HTTPXMock
) -> None:
    api = cloud_api(make_api, api_token="USER-TOKEN")
    await login(api, httpx_mock, expires_in=20)
    add_graphql(httpx_mock, {"refresh_token": _tokens("ACCESS-2", "REFRESH-2", 600)}, url=CLOUD_URL)
    add_graphql(httpx_mock, {"task_tag_limit": []}, url=CLOUD_URL)

    await api(Client.get_task_tag_limit, "db")

    refresh, query = httpx_mock.get_requests()[2:]
    assert graphql_body(refresh)["query"] == documents.REFRESH_TOKEN_GQL
    assert graphql_body(refresh)["variables"] == {"input": {"access_token": "ACCESS-1"}}
    assert refresh.headers["Authorization"] == "Bearer REFRESH-1"
    assert query.headers["Authorization"] == "Bearer ACCESS-2"


async def test_token_outside_the_refresh_window_is_not_refreshed(
    make_api: ClientFactory, httpx_mock: HTTPXMock
) -> None:
    api = cloud_api(make_api, api_token="USER-TOKEN")
    await login(api, httpx_mock, expires_in=45)
    add_graphql(httpx_mock, {"task_tag_limit": []}, url=CLOUD_URL)

    await api(Client.get_task_tag_limit, "db")

    assert httpx_mock.get_requests()[2].headers["Authorization"] == "Bearer ACCESS-1"


async def test_get_auth_token_refreshes_in_the_window(
    make_api: ClientFactory, httpx_mock: HTTPXMock
) -> None:
    api = cloud_api(make_api, api_token="USER-TOKEN")
    assert await api(Client.get_auth_token) == "USER-TOKEN"
    await login(api, httpx_mock, expires_in=10)
    add_graphql(httpx_mock, {"refresh_token": _tokens("ACCESS-2", "REFRESH-2", 600)}, url=CLOUD_URL)

    assert await api(Client.get_auth_token) == "ACCESS-2"
    assert httpx_mock.get_requests()[-1].headers["Authorization"] == "Bearer REFRESH-1"


async def test_revoked_jwt_gets_one_refresh_and_one_retry(
    make_api: ClientFactory, httpx_mock: HTTPXMock
) -> None:
    api = cloud_api(make_api, api_token="USER-TOKEN")
    await login(api, httpx_mock, expires_in=600)
    unauthenticated = [{"message": "UNAUTHENTICATED", "extensions": {"code": "UNAUTHENTICATED"}}]
    answers = [
        {"errors": unauthenticated},
        {"data": {"refresh_token": _tokens("ACCESS-2", "REFRESH-2", 600)}},
        {"data": {"task_tag_limit": [{"limit": 2}]}},
    ]
    auths: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        auths.append(request.headers["Authorization"])
        return httpx.Response(200, json=answers[len(auths) - 1])

    httpx_mock.add_callback(answer, url=CLOUD_URL, is_reusable=True)

    assert await api(Client.get_task_tag_limit, "db") == 2
    assert auths == ["Bearer ACCESS-1", "Bearer REFRESH-1", "Bearer ACCESS-2"]


async def test_jwt_rejected_after_refresh_is_an_authentication_error(
    make_api: ClientFactory, httpx_mock: HTTPXMock
) -> None:
    api = cloud_api(make_api, api_token="USER-TOKEN")
    await login(api, httpx_mock, expires_in=600)
    unauthenticated = [{"message": "UNAUTHENTICATED", "extensions": {"code": "UNAUTHENTICATED"}}]
    add_graphql(httpx_mock, errors=unauthenticated, url=CLOUD_URL)
    add_graphql(httpx_mock, {"refresh_token": _tokens("ACCESS-2", "REFRESH-2", 600)}, url=CLOUD_URL)
    add_graphql(httpx_mock, errors=unauthenticated, url=CLOUD_URL)

    with pytest.raises(AuthenticationError):
        await api(Client.get_task_tag_limit, "db")
    assert len(httpx_mock.get_requests()) == 5


async def test_expired_refresh_token_is_a_clear_error(
    make_api: ClientFactory, httpx_mock: HTTPXMock
) -> None:
    api = cloud_api(make_api, api_token="USER-TOKEN")
    await login(api, httpx_mock, expires_in=1)
    add_graphql(
        httpx_mock,
        errors=[{"message": "UNAUTHENTICATED", "extensions": {"code": "UNAUTHENTICATED"}}],
        url=CLOUD_URL,
    )
    with pytest.raises(AuthenticationError, match="log in to the tenant again"):
        await api(Client.get_task_tag_limit, "db")


async def test_concurrent_calls_with_an_expiring_jwt_refresh_once(
    httpx_mock: HTTPXMock,
) -> None:
    client = AsyncClient(CLOUD_URL, "USER-TOKEN", backend="cloud")
    api_calls = 100

    def answer(request: httpx.Request) -> httpx.Response:
        body = graphql_body(request)
        if body.get("operationName") == "FindTenantId":
            return httpx.Response(200, json={"data": {"tenant": [{"id": TENANT_ID}]}})
        if body.get("operationName") == "SwitchTenant":
            return httpx.Response(200, json={"data": {"switch_tenant": _tokens("A1", "R1", 5)}})
        if body.get("operationName") == "RefreshToken":
            return httpx.Response(200, json={"data": {"refresh_token": _tokens("A2", "R2", 600)}})
        assert request.headers["Authorization"] == "Bearer A2"
        return httpx.Response(200, json={"data": {"task_tag_limit": []}})

    httpx_mock.add_callback(answer, url=CLOUD_URL, is_reusable=True)
    async with client:
        await client.login_to_tenant(tenant_id=TENANT_ID)
        await asyncio.gather(*(client.get_task_tag_limit("db") for _ in range(api_calls)))

    names = [graphql_body(request).get("operationName") for request in httpx_mock.get_requests()]
    assert names.count("RefreshToken") == 1
    assert names.count("GetTaskTagLimit") == api_calls


def test_mixing_api_key_and_api_token_is_an_error() -> None:
    with pytest.raises(ConfigurationError, match="not both"):
        Client(CLOUD_URL, "TOKEN", api_key="KEY")


async def test_logout_goes_back_to_the_api_token(
    make_api: ClientFactory, httpx_mock: HTTPXMock, isolated_prefect_home: Path
) -> None:
    api = cloud_api(make_api, api_token="USER-TOKEN")
    await login(api, httpx_mock, expires_in=600)
    add_graphql(httpx_mock, {"task_tag_limit": []}, url=CLOUD_URL)

    api.client.logout_from_tenant()
    await api(Client.get_task_tag_limit, "db")

    assert httpx_mock.get_requests()[-1].headers["Authorization"] == "Bearer USER-TOKEN"
    settings = isolated_prefect_home / "client" / "https-api.prefect.test" / "settings.toml"
    assert tomllib.loads(settings.read_text()) == {"api_token": "USER-TOKEN"}


def test_save_api_token_and_reload(isolated_prefect_home: Path) -> None:
    Client(CLOUD_URL, "USER-TOKEN", backend="cloud").save_api_token()
    settings = isolated_prefect_home / "client" / "https-api.prefect.test" / "settings.toml"
    assert stat.S_IMODE(settings.stat().st_mode) == 0o600

    reloaded = Client(CLOUD_URL, backend="cloud")
    assert reloaded._config.tokens.api_token is not None
    assert reloaded._config.tokens.api_token.get_secret_value() == "USER-TOKEN"


def test_save_auth_to_disk_is_private_and_reloadable(
    isolated_prefect_home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    client = Client(CLOUD_URL, api_key=SECRET_SENTINEL, tenant_id=TENANT_ID, backend="cloud")

    client.save_auth_to_disk()

    path = isolated_prefect_home / "auth.toml"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    text = path.read_text()
    assert text.startswith("# This file is auto-generated")
    assert tomllib.loads(text) == {
        "api.prefect.test": {"api_key": SECRET_SENTINEL, "tenant_id": TENANT_ID}
    }
    reloaded = Client(CLOUD_URL, backend="cloud")
    assert reloaded.tenant_id == TENANT_ID
    assert reloaded.load_auth_from_disk()["api_key"] == SECRET_SENTINEL
    assert SECRET_SENTINEL not in caplog.text
    assert SECRET_SENTINEL not in repr(client)


async def test_without_credentials_requests_go_without_authorization(
    make_api: ClientFactory, httpx_mock: HTTPXMock
) -> None:
    """As Prefect did: the API, not the client, decides whether credentials are needed."""
    api = cloud_api(make_api)
    add_graphql(httpx_mock, {"task_tag_limit": []}, url=CLOUD_URL)

    assert await api(Client.get_task_tag_limit, "db") is None

    (request,) = httpx_mock.get_requests()
    assert "Authorization" not in request.headers
    assert "X-PREFECT-TENANT-ID" not in request.headers


def test_token_file_json_is_never_in_repr() -> None:
    client = Client(CLOUD_URL, SECRET_SENTINEL, backend="cloud")
    assert SECRET_SENTINEL not in repr(client)
    assert SECRET_SENTINEL not in repr(client._config)
    assert SECRET_SENTINEL not in json.dumps(repr(client._config.tokens))


async def test_cloud_url_uses_the_default_tenant_slug(
    make_api: ClientFactory, httpx_mock: HTTPXMock
) -> None:
    api = make_api(api_server="https://api.prefect.io", backend="cloud", api_token="USER-TOKEN")
    add_graphql(
        httpx_mock,
        {"user": [{"default_membership": {"tenant": {"slug": "my-team"}}}]},
        url="https://api.prefect.io",
    )
    add_graphql(
        httpx_mock,
        {"tenant": [{"id": TENANT_ID, "slug": "runner-team"}]},
        url="https://api.prefect.io",
    )

    assert (
        await api(Client.get_cloud_url, "flow-run", "abc")
        == "https://cloud.prefect.io/my-team/flow-run/abc"
    )
    assert await api(Client.get_default_tenant_slug, as_user=False) == "runner-team"
    names = [graphql_body(r)["operationName"] for r in httpx_mock.get_requests()]
    assert names == ["GetUserDefaultTenantSlug", "ListTenantSlugs"]


async def test_a_failed_refresh_never_carries_the_token(
    make_api: ClientFactory, httpx_mock: HTTPXMock
) -> None:
    api = cloud_api(make_api, api_token="USER-TOKEN")
    await login(api, httpx_mock, expires_in=5)
    httpx_mock.add_response(
        url=CLOUD_URL,
        status_code=400,
        json={
            "errors": [
                {"message": "Variable '$input' got invalid value {'access_token': 'ACCESS-1'}"}
            ]
        },
    )
    with pytest.raises(AuthenticationError, match="HTTP 400") as raised:
        await api(Client.get_task_tag_limit, "db")
    assert "ACCESS-1" not in str(raised.value)
    assert raised.value.__cause__ is None


async def test_headers_attached_later_reach_login_and_refresh_requests(
    make_api: ClientFactory, httpx_mock: HTTPXMock, isolated_prefect_home: Path
) -> None:
    """The auth flow reads the client's headers when it sends, not a copy from construction."""
    settings = isolated_prefect_home / "client" / "https-api.prefect.test" / "settings.toml"
    settings.parent.mkdir(parents=True)
    settings.write_text(f'api_token = "USER-TOKEN"\nactive_tenant_id = "{TENANT_ID}"\n')
    api = cloud_api(make_api)
    api.client.attach_headers({"X-PREFECT-AGENT-ID": "agent-1"})
    add_graphql(httpx_mock, {"switch_tenant": _tokens("ACCESS-1", "REFRESH-1", 20)}, url=CLOUD_URL)
    add_graphql(httpx_mock, {"refresh_token": _tokens("ACCESS-2", "REFRESH-2", 600)}, url=CLOUD_URL)
    add_graphql(httpx_mock, {"task_tag_limit": []}, url=CLOUD_URL)

    await api(Client.get_task_tag_limit, "db")

    login_request, refresh, query = httpx_mock.get_requests()
    assert graphql_body(login_request)["query"] == documents.SWITCH_TENANT_GQL
    assert graphql_body(refresh)["query"] == documents.REFRESH_TOKEN_GQL
    for request in (login_request, refresh, query):
        assert request.headers["X-PREFECT-AGENT-ID"] == "agent-1"
