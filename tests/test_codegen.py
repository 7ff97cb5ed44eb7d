"""generated/ is exactly what the codegen config produces, and every query validates."""

from __future__ import annotations

import importlib.util
import shutil
from importlib.machinery import ModuleSpec
from pathlib import Path

import pytest

from prefect_gql import _codegen
from prefect_gql._codegen import (
    CodegenError,
    compare_packages,
    find_project_root,
    generate,
    package_dir,
    sources,
)
from prefect_gql._schema_tools import load_schema, validate_queries

from .conftest import copy_project

ROOT = Path(__file__).parents[1]
CONFIG = ROOT / "codegen.toml"
PACKAGE = "prefect_gql_generated"


@pytest.fixture(scope="session")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One regeneration of this repository into a temporary folder, shared by the tests.

    The folder already holds a package with a file codegen does not write, as
    after an operation was deleted from queries/.
    """
    target = tmp_path_factory.mktemp("regenerated")
    (target / PACKAGE).mkdir()
    (target / PACKAGE / "deleted_operation.py").write_text("")
    return generate(CONFIG, target_dir=target)


def test_generated_package_is_a_fresh_regeneration(regenerated: Path) -> None:
    report = compare_packages(package_dir(CONFIG), regenerated)
    assert report.fresh, (
        "generated/ differs from a regeneration; run `prefect-gql generate` and commit:\n"
        + report.describe()
    )


def test_every_query_validates_against_the_schema() -> None:
    schema_path, queries_dir = sources(CONFIG)
    assert sorted(queries_dir.glob("*.graphql"))
    problems = validate_queries(load_schema(schema_path), queries_dir)
    assert problems == [], "\n".join(map(str, problems))


def test_generate_writes_into_the_target_and_drops_files_codegen_no_longer_writes(
    regenerated: Path,
) -> None:
    assert regenerated.name == PACKAGE
    assert (regenerated / "client.py").is_file()
    assert not (regenerated / "deleted_operation.py").exists()


def test_hand_edits_stray_and_missing_files_are_reported(tmp_path: Path, regenerated: Path) -> None:
    committed = tmp_path / PACKAGE
    shutil.copytree(regenerated, committed)
    edited = committed / "get_task_tag_limit.py"
    edited.write_text(edited.read_text() + "\n# hand edit\n")
    (committed / "stray.py").write_text("")
    (committed / "enums.py").unlink()
    (committed / "__pycache__").mkdir()
    (committed / "__pycache__" / "client.cpython-311.pyc").write_bytes(b"\0")

    report = compare_packages(committed, regenerated)

    assert not report.fresh
    assert list(report.changed) == ["get_task_tag_limit.py"]
    assert "-# hand edit" in report.changed["get_task_tag_limit.py"]
    assert "+# hand edit" not in report.changed["get_task_tag_limit.py"]
    assert report.extra == ["stray.py"]
    assert report.missing == ["enums.py"]
    description = report.describe()
    assert "differs: get_task_tag_limit.py\n--- committed/get_task_tag_limit.py" in description
    assert "stale (a regeneration no longer writes it): stray.py" in description
    assert "missing (a regeneration writes it): enums.py" in description


def test_a_long_diff_is_cut_to_an_excerpt(tmp_path: Path, regenerated: Path) -> None:
    committed = tmp_path / PACKAGE
    shutil.copytree(regenerated, committed)
    (committed / "client.py").write_text("")

    diff = compare_packages(committed, regenerated).changed["client.py"]

    assert len(diff.splitlines()) == _codegen.DIFF_LINES_SHOWN + 1
    assert diff.splitlines()[-1].endswith(" diff lines)")


def test_an_invalid_query_fails_codegen_naming_file_and_position(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "p", "codegen.toml", "schema", "queries", "codegen")
    (project / "queries" / "broken.graphql").write_text("query Broken {\n  tenant { nope }\n}\n")

    with pytest.raises(CodegenError) as raised:
        generate(project / "codegen.toml")

    message = str(raised.value)
    assert message.startswith("ariadne-codegen failed")
    assert "broken.graphql:2:12: Cannot query field 'nope' on type 'tenant'." in message
    assert not (project / "generated").exists(), "a failed run leaves no partial package"


def test_without_ariadne_codegen_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    find_spec = importlib.util.find_spec

    def without_codegen(name: str, package: str | None = None) -> ModuleSpec | None:
        return None if name == "ariadne_codegen" else find_spec(name, package)

    monkeypatch.setattr(importlib.util, "find_spec", without_codegen)
    with pytest.raises(CodegenError, match=r"pip install 'prefect-gql\[codegen\]'"):
        generate(CONFIG)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (None, "cannot read"),
        ("[tool.other]\n", r"has no \[tool.ariadne-codegen\] table"),
        ("[tool.ariadne-codegen\n", "cannot read"),
        ('[tool.ariadne-codegen]\nschema_path = "s.graphql"\n', "has no queries_path"),
    ],
)
def test_unusable_configs_are_clear_errors(tmp_path: Path, text: str | None, message: str) -> None:
    config = tmp_path / "codegen.toml"
    if text is not None:
        config.write_text(text)
    with pytest.raises(CodegenError, match=message):
        sources(config)


def test_project_root_is_found_from_a_subfolder() -> None:
    assert find_project_root(ROOT / "prefect_gql") == ROOT


def test_no_project_root_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CodegenError, match=r"no codegen\.toml"):
        find_project_root(tmp_path)


def test_a_codegen_crash_is_summarised_by_its_exception_message() -> None:
    stderr = (
        "Traceback (most recent call last):\n"
        '  File "ariadne_codegen/main.py", line 64, in _generate_package\n'
        "    plugins_types=get_plugins_types(settings.plugins),\n"
        "                  ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n"
        "ariadne_codegen.exceptions.PluginImportError: Incorrect module.\n"
        "Cannot import from nope\n"
    )
    assert _codegen._failure_summary(stderr) == (
        "ariadne_codegen.exceptions.PluginImportError: Incorrect module.\nCannot import from nope"
    )
    assert _codegen._failure_summary("") == "no output"
