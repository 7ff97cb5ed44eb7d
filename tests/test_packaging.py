"""What an installed prefect-gql publishes: its extras, never a test-only pin."""

from __future__ import annotations

import tomllib
from importlib.metadata import metadata

from packaging.requirements import Requirement

from .conftest import REPOSITORY


def test_the_metadata_publishes_the_extras_and_no_test_dependency() -> None:
    """Test-only dependencies (prefect==1.4.1 among them) are a PEP 735 dependency group."""
    published = metadata("prefect-gql")
    assert set(published.get_all("Provides-Extra") or []) == {"cli", "codegen", "server"}
    required = {Requirement(text).name for text in published.get_all("Requires-Dist") or []}
    assert "prefect" not in required
    assert "pytest" not in required

    project = tomllib.loads((REPOSITORY / "pyproject.toml").read_text())
    group = {Requirement(text).name for text in project["dependency-groups"]["test"]}
    assert {"prefect", "pytest", "pytest-httpx", "hypothesis"} <= group
