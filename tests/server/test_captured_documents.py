"""Every document the real 0.12.0 and 1.4.1 clients send validates against schema/ and
executes on the server, answered at most with the errors dummy ids deserve."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import parse, validate

from prefect_gql._tooling.schema_tools import load_schema
from prefect_gql.server import LocalServer

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).parents[2]
CAPTURED: list[dict[str, Any]] = json.loads(
    (ROOT / "tests" / "fixtures" / "captured_operations.json").read_text()
)
REJECTED_BY_SERVER_SCHEMA = {
    ("0.12.0", "create_project"),
    ("0.12.0", "register(compressed=True)"),
    ("0.12.0", "register(compressed=False)"),
}
"""Known: 0.12 sends no tenant_id / a null project_id, which Prefect Server 2022 rejects too."""
EXPECTED_CODES = {"NOT_FOUND", "BAD_USER_INPUT", "UNAUTHENTICATED"}


@pytest.fixture(scope="module")
def open_server() -> Iterator[LocalServer]:
    with LocalServer() as server:
        yield server


def test_every_captured_document_validates() -> None:
    schema = load_schema(ROOT / "schema" / "prefect.graphql")
    for operation in CAPTURED:
        errors = validate(schema, parse(operation["query"]))
        assert errors == [], (operation["version"], operation["method"], errors)


def test_every_captured_document_executes(open_server: LocalServer) -> None:
    for operation in CAPTURED:
        response = httpx.post(
            open_server.url,
            json={"query": operation["query"], "variables": json.dumps(operation["variables"])},
        )
        body = response.json()
        key = (operation["version"], operation["method"])
        if response.status_code == 400:
            assert key in REJECTED_BY_SERVER_SCHEMA, body
            continue
        assert response.status_code == 200, body
        for error in body.get("errors", []):
            assert error["extensions"]["code"] in EXPECTED_CODES, (key, error)
