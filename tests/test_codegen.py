"""generated/ is exactly what the codegen config produces, and every query validates."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from prefect_gql._codegen import CodegenError, check_fresh, find_project_root, sources
from prefect_gql._schema_tools import load_schema, validate_queries

ROOT = Path(__file__).parents[1]
CONFIG = ROOT / "codegen.toml"


def test_generated_package_is_a_fresh_regeneration() -> None:
    report = check_fresh(CONFIG)
    assert report.fresh, report.describe()


def test_every_query_validates_against_the_schema() -> None:
    schema_path, queries_dir = sources(CONFIG)
    assert sorted(queries_dir.glob("*.graphql"))
    assert validate_queries(load_schema(schema_path), queries_dir) == []


def test_a_hand_edit_of_generated_code_is_detected(tmp_path: Path) -> None:
    copy = tmp_path / "project"
    for name in ("codegen.toml", "schema", "queries", "codegen", "generated"):
        source = ROOT / name
        target = copy / name
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source.read_bytes())
    edited = copy / "generated" / "prefect_gql_generated" / "get_task_tag_limit.py"
    edited.write_text(edited.read_text() + "\n# hand edit\n")
    (copy / "generated" / "prefect_gql_generated" / "stray.py").write_text("")

    report = check_fresh(copy / "codegen.toml")

    assert not report.fresh
    assert list(report.changed) == ["get_task_tag_limit.py"]
    assert "+# hand edit" not in report.changed["get_task_tag_limit.py"]
    assert "-# hand edit" in report.changed["get_task_tag_limit.py"]
    assert report.extra == ["stray.py"]


def test_project_root_is_found_from_a_subfolder() -> None:
    assert find_project_root(ROOT / "prefect_gql") == ROOT


def test_no_project_root_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CodegenError, match=r"no codegen\.toml"):
        find_project_root(tmp_path)
