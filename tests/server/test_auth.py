"""Token mode: API keys (1.x), USER API tokens and the tenant tokens they mint (0.12)."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from prefect_gql.server import DEFAULT_TENANT_ID, AuthConfig, LocalServer

from .conftest import (
    GraphQL,
    build_world,
    create_flow_run,
    create_project,
    mutation,
    set_state,
)

API_KEY = "key-for-the-default-tenant"
USER_TOKEN = "user-scoped-api-token"
TTL = 600.0
SWITCH = mutation("switch_tenant", "access_token expires_at refresh_token")
REFRESH = mutation("refresh_token", "access_token expires_at refresh_token")
AUTH_INFO = "{ auth_info { tenant_id } }"


class TokenClock:
    """The clock the server's access tokens expire by, moved by the tests (a token
    never expires by itself while a loaded machine runs a test)."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def token_clock() -> TokenClock:
    return TokenClock()


@pytest.fixture(scope="module")
def token_server(token_clock: TokenClock) -> Iterator[LocalServer]:
    auth = AuthConfig(
        api_keys={API_KEY: DEFAULT_TENANT_ID}, api_tokens=[USER_TOKEN], access_token_ttl=TTL
    )
    server = LocalServer(auth=auth)
    server._api.credentials.clock = token_clock
    with server:
        yield server


@pytest.fixture
def anonymous(token_server: LocalServer) -> Iterator[GraphQL]:
    client = GraphQL(token_server.url)
    yield client
    client.close()


def tenant_of(gql: GraphQL, headers: dict[str, str]) -> str | None:
    """The tenant ``auth_info`` says these headers act for."""
    tenant_id: str | None = gql.data(AUTH_INFO, headers=headers)["auth_info"]["tenant_id"]
    return tenant_id


def bearer(token: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **headers}


def assert_unauthenticated(answer: dict[str, object], *secrets: str) -> None:
    errors = answer["errors"]
    assert isinstance(errors, list)
    assert errors[0]["message"] == "UNAUTHENTICATED"
    assert errors[0]["extensions"] == {"code": "UNAUTHENTICATED"}
    assert not any(secret in str(answer) for secret in secrets)


def test_without_a_known_credential_nothing_is_answered(anonymous: GraphQL) -> None:
    for headers in (
        {},
        bearer("not-a-known-token"),
        {"Authorization": f"Token {API_KEY}"},
        bearer(API_KEY, **{"X-PREFECT-TENANT-ID": "11111111-1111-1111-1111-111111111111"}),
        bearer(API_KEY, **{"X-PREFECT-TENANT-ID": "not-a-uuid"}),
    ):
        for document in ("{ tenant { id } }", mutation("create_tenant", "id")):
            response = anonymous.post(document, {"i": {"name": "x", "slug": "x"}}, headers=headers)
            assert response.status_code == 200
            assert_unauthenticated(response.json(), "not-a-known-token")
    assert anonymous.data("{ __schema { queryType { name } } }")


def test_an_api_key_acts_for_its_tenant(anonymous: GraphQL) -> None:
    for headers in (bearer(API_KEY), bearer(API_KEY, **{"X-PREFECT-TENANT-ID": DEFAULT_TENANT_ID})):
        assert tenant_of(anonymous, headers) == DEFAULT_TENANT_ID
    refused = anonymous(SWITCH, {"i": {"tenant_id": DEFAULT_TENANT_ID}}, headers=bearer(API_KEY))
    assert_unauthenticated(refused)


def test_tenant_tokens_are_minted_refreshed_and_expire(
    anonymous: GraphQL, caplog: pytest.LogCaptureFixture, token_clock: TokenClock
) -> None:
    caplog.set_level(logging.DEBUG)
    user = bearer(USER_TOKEN)
    assert tenant_of(anonymous, user) is None
    assert {"slug": "default"} in anonymous.data("{ tenant { slug } }", headers=user)["tenant"]

    tokens = anonymous.data(SWITCH, {"i": {"tenant_id": DEFAULT_TENANT_ID}}, headers=user)
    tokens = tokens["switch_tenant"]
    expires_at = datetime.fromisoformat(tokens["expires_at"])
    assert expires_at == datetime.fromtimestamp(token_clock.now + TTL, UTC)
    assert expires_at.tzinfo is not None
    access, refresh = tokens["access_token"], tokens["refresh_token"]
    assert len({access, refresh, USER_TOKEN}) == 3
    assert tenant_of(anonymous, bearer(access)) == DEFAULT_TENANT_ID
    assert_unauthenticated(anonymous(AUTH_INFO, headers=bearer(refresh)), refresh)
    assert_unauthenticated(anonymous(REFRESH, {"i": {"access_token": access}}, headers=user))
    assert_unauthenticated(
        anonymous(REFRESH, {"i": {"access_token": "another"}}, headers=bearer(refresh)), refresh
    )

    token_clock.now += TTL
    assert_unauthenticated(anonymous(AUTH_INFO, headers=bearer(access)), access)
    renewed = anonymous.data(REFRESH, {"i": {"access_token": access}}, headers=bearer(refresh))
    renewed = renewed["refresh_token"]
    assert renewed["access_token"] not in (access, refresh)
    assert anonymous.data(AUTH_INFO, headers=bearer(renewed["access_token"]))
    reused = anonymous(REFRESH, {"i": {"access_token": access}}, headers=bearer(refresh))
    assert_unauthenticated(reused, access, refresh)
    for token in (USER_TOKEN, API_KEY, access, refresh, renewed["access_token"]):
        assert token not in caplog.text


def test_reads_and_writes_stay_in_the_callers_tenant(token_server: LocalServer) -> None:
    other_tenant = "22222222-0000-4000-8000-000000000002"
    other_key = token_server.issue_api_key(other_tenant)
    mine, theirs = (
        GraphQL(token_server.url, bearer(API_KEY)),
        GraphQL(token_server.url, bearer(other_key)),
    )
    world = build_world(mine)
    their_project = create_project(theirs, "theirs", other_tenant)

    assert theirs.data("{ tenant { id } }") == {"tenant": [{"id": other_tenant}]}
    assert theirs.data("{ project { id } flow_run { id } }") == {
        "project": [{"id": their_project}],
        "flow_run": [],
    }
    by_pk = theirs.data(f'{{ flow_run_by_pk(id: "{world.flow_run_id}") {{ id }} }}')
    assert by_pk == {"flow_run_by_pk": None}
    moved = set_state(theirs, "flow_run", world.flow_run_id, {"type": "Running"})
    assert moved["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    foreign = theirs.error(
        mutation("create_project", "id"), {"i": {"name": "x", "tenant_id": DEFAULT_TENANT_ID}}
    )
    assert foreign["extensions"]["code"] == "NOT_FOUND"
    assert their_project not in str(mine.data("{ project { id } }"))
    mine.close()
    theirs.close()


def test_credentials_issued_while_running(token_server: LocalServer, anonymous: GraphQL) -> None:
    token = token_server.issue_api_token()
    assert tenant_of(anonymous, bearer(token)) is None
    key = token_server.issue_api_key()
    assert tenant_of(anonymous, bearer(key)) == DEFAULT_TENANT_ID
    with LocalServer() as open_server, pytest.raises(RuntimeError, match="open mode"):
        open_server.issue_api_key()


def test_auth_config_checks_and_hides_its_credentials() -> None:
    config = AuthConfig(api_keys={"k-secret": DEFAULT_TENANT_ID.upper()}, api_tokens=("t-secret",))
    assert config.api_keys == {"k-secret": DEFAULT_TENANT_ID}
    assert config.api_tokens == frozenset({"t-secret"})
    assert "secret" not in repr(config)
    with pytest.raises(ValueError, match="UUID"):
        AuthConfig(api_keys={"k": "tenant-one"})
    with pytest.raises(ValueError, match="positive"):
        AuthConfig(access_token_ttl=0)


def test_open_mode_needs_no_credentials_but_mints_tenant_tokens(gql: GraphQL) -> None:
    assert tenant_of(gql, {}) == DEFAULT_TENANT_ID
    assert tenant_of(gql, bearer("anything")) == DEFAULT_TENANT_ID
    tokens = gql.data(SWITCH, {"i": {"tenant_id": DEFAULT_TENANT_ID}})["switch_tenant"]
    renewed = gql.data(
        REFRESH,
        {"i": {"access_token": tokens["access_token"]}},
        headers=bearer(tokens["refresh_token"]),
    )
    assert renewed["refresh_token"]["access_token"]
    unknown = gql.error(SWITCH, {"i": {"tenant_id": "00000000-0000-4000-8000-00000000dead"}})
    assert unknown["extensions"]["code"] == "NOT_FOUND"
    assert gql.data("{ user { default_membership { tenant { slug } } } }") == {
        "user": [{"default_membership": {"tenant": {"slug": "default"}}}]
    }


def test_a_user_token_reads_and_writes_in_its_default_tenant(token_server: LocalServer) -> None:
    """A USER API token lists every tenant, but runs, flows and projects only in the
    user's default tenant; another tenant's it reaches through ``switch_tenant``."""
    other_tenant = str(uuid.uuid4())
    theirs = GraphQL(token_server.url, bearer(token_server.issue_api_key(other_tenant)))
    user = GraphQL(token_server.url, bearer(USER_TOKEN))
    their_world = build_world(theirs, other_tenant)
    their_run = their_world.flow_run_id
    my_run = create_flow_run(user, build_world(user).flow_id)

    runs = {run["id"] for run in user.data("{ flow_run { id } }")["flow_run"]}
    assert my_run in runs
    assert their_run not in runs
    assert user.data(f'{{ flow_run_by_pk(id: "{their_run}") {{ id }} }}')["flow_run_by_pk"] is None
    rename = mutation("set_flow_run_name", "success")
    renamed = user.error(rename, {"i": {"flow_run_id": their_run, "name": "taken-over"}})
    assert renamed["extensions"]["code"] == "NOT_FOUND"
    assert theirs.data(f'{{ flow_run_by_pk(id: "{their_run}") {{ name }} }}') != {
        "flow_run_by_pk": {"name": "taken-over"}
    }
    assert their_world.project_id not in str(user.data("{ project { id } }"))

    tenants = {t["id"] for t in user.data("{ tenant { id } }")["tenant"]}
    assert {DEFAULT_TENANT_ID, other_tenant} <= tenants
    memberships = user.data("{ user { memberships { tenant { id } } } }")["user"][0]
    assert {m["tenant"]["id"] for m in memberships["memberships"]} >= {other_tenant}
    tokens = user.data(SWITCH, {"i": {"tenant_id": other_tenant}})["switch_tenant"]
    switched = GraphQL(token_server.url, bearer(tokens["access_token"]))
    assert switched.data(f'{{ flow_run_by_pk(id: "{their_run}") {{ id }} }}') == {
        "flow_run_by_pk": {"id": their_run}
    }
    for client in (theirs, user, switched):
        client.close()


def test_creating_a_tenant_needs_a_user_token(token_server: LocalServer) -> None:
    user = GraphQL(token_server.url, bearer(USER_TOKEN))
    tokens = user.data(SWITCH, {"i": {"tenant_id": DEFAULT_TENANT_ID}})["switch_tenant"]
    create = mutation("create_tenant", "id")
    for credential in (API_KEY, tokens["access_token"]):
        with_key = GraphQL(token_server.url, bearer(credential))
        slug = f"by-key-{uuid.uuid4().hex[:6]}"
        refused = with_key.error(create, {"i": {"name": slug, "slug": slug}})
        assert refused["extensions"]["code"] == "FORBIDDEN"
        assert "USER API token" in refused["message"]
        assert slug not in str(user.data("{ tenant { slug } }"))
        with_key.close()
    slug = f"by-user-{uuid.uuid4().hex[:6]}"
    created = user.data(create, {"i": {"name": slug, "slug": slug}})["create_tenant"]["id"]
    assert {"id": created, "slug": slug} in user.data("{ tenant { id slug } }")["tenant"]
    user.close()


def test_tenants_of_api_keys_with_ids_made_in_the_same_minute_are_both_created() -> None:
    """Version-7 ids made together share their first twelve digits."""
    made_together = ["01a24cef-a533-7caf-b92f-f61d0524acb7", "01a24cef-a533-7d00-8000-000000000001"]
    with LocalServer(auth=AuthConfig(api_keys={"k-1": made_together[0]})) as server:
        server.issue_api_key(made_together[1])
        slugs = [row["slug"] for row in server._api.store.rows("tenant")]
    assert f"tenant-{made_together[0]}" in slugs
    assert f"tenant-{made_together[1]}" in slugs
