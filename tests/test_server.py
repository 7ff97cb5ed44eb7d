"""The embedded server on its own: the real clients' documents, token mode, filters."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import parse, validate

from prefect_gql._schema_tools import load_schema
from prefect_gql.server import DEFAULT_TENANT_ID, AuthConfig, LocalServer
from prefect_gql.server._filters import apply_read_arguments, matches

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).parents[1]
CAPTURED = json.loads((Path(__file__).parent / "fixtures" / "captured_operations.json").read_text())
"""Every operation the real prefect 0.12.0 and 1.4.1 clients send (shared/reference)."""

REJECTED_BY_SERVER_SCHEMA = {
    ("0.12.0", "create_project"),
    ("0.12.0", "register(compressed=True)"),
    ("0.12.0", "register(compressed=False)"),
}
"""Known: 0.12 sends no tenant_id / a null project_id, which Prefect Server 2022 rejects too."""
EXPECTED_CODES = {"NOT_FOUND", "BAD_USER_INPUT", "UNAUTHENTICATED"}
API_KEY = "server-test-key"
USER_TOKEN = "server-test-user-token"
SECRET = "s3cret-value-never-shown"


def post(url: str, query: str, variables: Any = None, **headers: str) -> httpx.Response:
    return httpx.post(url, json={"query": query, "variables": variables}, headers=headers)


@pytest.fixture(scope="module")
def open_server() -> Iterator[LocalServer]:
    with LocalServer() as server:
        yield server


@pytest.fixture
def token_server() -> Iterator[LocalServer]:
    auth = AuthConfig(
        api_keys={API_KEY: DEFAULT_TENANT_ID},
        api_tokens=frozenset({USER_TOKEN}),
        access_token_ttl=0.5,
    )
    with LocalServer(auth=auth) as server:
        yield server


def test_every_captured_document_validates() -> None:
    schema = load_schema(ROOT / "schema" / "prefect.graphql")
    for operation in CAPTURED:
        errors = validate(schema, parse(operation["query"]))
        assert errors == [], (operation["version"], operation["method"], errors)


def test_every_captured_document_executes(open_server: LocalServer) -> None:
    for operation in CAPTURED:
        response = post(open_server.url, operation["query"], json.dumps(operation["variables"]))
        body = response.json()
        key = (operation["version"], operation["method"])
        if response.status_code == 400:
            assert key in REJECTED_BY_SERVER_SCHEMA, body
            continue
        assert response.status_code == 200, body
        for error in body.get("errors", []):
            assert error["extensions"]["code"] in EXPECTED_CODES, (key, error)


def test_health_and_paths(open_server: LocalServer) -> None:
    assert httpx.get(f"{open_server.url}/health").json() == {"status": "ok"}
    for path in ("/", "/graphql", "/graphql/alpha"):
        answer = post(open_server.url + path, "{ tenant { slug } }").json()
        assert answer == {"data": {"tenant": [{"slug": "default"}]}}


def test_bad_requests_are_400(open_server: LocalServer) -> None:
    not_json = httpx.post(
        open_server.url, content=b"{", headers={"content-type": "application/json"}
    )
    bad_variables = httpx.post(open_server.url, json={"query": "{ hello }", "variables": "{"})
    unknown_field = post(open_server.url, "{ tenant { nope } }")
    assert [r.status_code for r in (not_json, bad_variables, unknown_field)] == [400, 400, 400]
    assert "Cannot query field 'nope'" in unknown_field.json()["errors"][0]["message"]


def test_bad_uuid_is_refused(open_server: LocalServer) -> None:
    answer = post(
        open_server.url, "query($id: uuid!) { flow_run_by_pk(id: $id) { id } }", {"id": "x"}
    )
    assert answer.status_code == 400
    assert "invalid UUID" in answer.text


def test_filters_order_and_pages(open_server: LocalServer) -> None:
    for slug in ("b-team", "a-team", "c-team"):
        post(
            open_server.url,
            "mutation($i: create_tenant_input!) { create_tenant(input: $i) { id } }",
            {"i": {"name": slug, "slug": slug}},
        )
    query = """query { tenant(where: {
                                      _or: [{slug: {_like: "x"}},
                                            {slug: {_in: ["a-team", "c-team", "b-team"]}}],
                                      _not: {slug: {_eq: "b-team"}}},
                              order_by: {slug: desc}, limit: 1, offset: 1) { slug } }"""
    answer = post(open_server.url, query).json()
    assert answer["errors"][0]["message"] == "unsupported filter operator _like"
    query = query.replace('{slug: {_like: "x"}},', "")
    assert post(open_server.url, query).json() == {"data": {"tenant": [{"slug": "a-team"}]}}


def test_filter_engine() -> None:
    rows = [{"id": str(i), "n": i, "tag": None if i % 2 else "x"} for i in range(6)]
    assert matches(rows[0], {"n": {"_gte": 0, "_lt": 1}, "tag": {"_is_null": False}})
    assert not matches(rows[1], {"tag": {"_is_null": False}})
    assert matches(rows[2], {"n": {"_eq": None}})
    assert [
        r["n"]
        for r in apply_read_arguments(
            rows, where={"n": {"_nin": [0, 1]}}, order_by=[{"n": "desc"}], limit=2
        )
    ] == [5, 4]
    assert [
        r["n"]
        for r in apply_read_arguments(rows, where={"_and": [{"n": {"_gt": 1}}, {"n": {"_lte": 3}}]})
    ] == [2, 3]
    with pytest.raises(ValueError, match="cannot filter on 'missing'"):
        matches(rows[0], {"missing": {"nested": {"_eq": 1}}})


def test_token_mode_requires_a_known_credential(token_server: LocalServer) -> None:
    url = token_server.url
    for headers in (
        {},
        {"Authorization": "Bearer wrong"},
        {
            "Authorization": f"Bearer {API_KEY}",
            "X-PREFECT-TENANT-ID": "11111111-1111-1111-1111-111111111111",
        },
    ):
        answer = post(url, "{ tenant { id } }", **headers).json()
        assert answer["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert "wrong" not in json.dumps(answer)
    with_key = post(url, "{ auth_info { tenant_id } }", Authorization=f"Bearer {API_KEY}").json()
    assert with_key == {"data": {"auth_info": {"tenant_id": DEFAULT_TENANT_ID}}}


def test_switch_tenant_refresh_and_expiry(token_server: LocalServer) -> None:
    url = token_server.url
    switch = (
        "mutation($i: switch_tenant_input!) "
        "{ switch_tenant(input: $i) { access_token expires_at refresh_token } }"
    )
    refresh = (
        "mutation($i: refresh_token_input!) "
        "{ refresh_token(input: $i) { access_token refresh_token } }"
    )
    refused = post(
        url, switch, {"i": {"tenant_id": DEFAULT_TENANT_ID}}, Authorization=f"Bearer {API_KEY}"
    ).json()
    assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

    tokens = post(
        url, switch, {"i": {"tenant_id": DEFAULT_TENANT_ID}}, Authorization=f"Bearer {USER_TOKEN}"
    ).json()["data"]["switch_tenant"]
    access = tokens["access_token"]
    assert (
        post(url, "{ auth_info { tenant_id } }", Authorization=f"Bearer {access}").json()["data"][
            "auth_info"
        ]["tenant_id"]
        == DEFAULT_TENANT_ID
    )

    renewed = post(
        url,
        refresh,
        {"i": {"access_token": access}},
        Authorization=f"Bearer {tokens['refresh_token']}",
    ).json()
    assert renewed["data"]["refresh_token"]["access_token"] != access
    reused = post(
        url,
        refresh,
        {"i": {"access_token": access}},
        Authorization=f"Bearer {tokens['refresh_token']}",
    ).json()
    assert reused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

    time.sleep(0.6)
    expired = post(
        url,
        "{ tenant { id } }",
        Authorization=f"Bearer {renewed['data']['refresh_token']['access_token']}",
    ).json()
    assert expired.get("errors"), expired
    assert expired["errors"][0]["message"] == "UNAUTHENTICATED"


def test_secrets_are_never_returned_or_logged(
    open_server: LocalServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    answer = post(
        open_server.url,
        "mutation($i: set_secret_input!) { set_secret(input: $i) { success } }",
        {"i": {"name": "PW", "value": SECRET}},
    )
    assert answer.json() == {"data": {"set_secret": {"success": True}}}
    assert SECRET not in caplog.text


def test_token_mode_scopes_reads_to_the_callers_tenant() -> None:
    other_tenant = "22222222-0000-4000-8000-000000000002"
    auth = AuthConfig(api_keys={API_KEY: DEFAULT_TENANT_ID, "other-key": other_tenant})
    create = "mutation($i: create_project_input!) { create_project(input: $i) { id } }"
    with LocalServer(auth=auth) as server:
        mine = post(
            server.url,
            create,
            {"i": {"tenant_id": DEFAULT_TENANT_ID, "name": "mine"}},
            Authorization=f"Bearer {API_KEY}",
        ).json()["data"]["create_project"]["id"]
        seen_by_owner = post(
            server.url, "{ project { id } tenant { id } }", Authorization=f"Bearer {API_KEY}"
        )
        seen_by_other = post(
            server.url, "{ project { id } tenant { id } }", Authorization="Bearer other-key"
        )
        by_pk = post(
            server.url,
            f'{{ project_by_pk(id: "{mine}") {{ id }} }}',
            Authorization="Bearer other-key",
        )
    assert seen_by_owner.json()["data"] == {
        "project": [{"id": mine}],
        "tenant": [{"id": DEFAULT_TENANT_ID}],
    }
    assert seen_by_other.json()["data"] == {"project": [], "tenant": [{"id": other_tenant}]}
    assert by_pk.json()["data"] == {"project_by_pk": None}
