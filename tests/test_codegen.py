"""generated/ is exactly what the codegen config produces, and every query validates."""

from __future__ import annotations

import importlib.util
import re
import shutil
import tomllib
from importlib.machinery import ModuleSpec
from pathlib import Path

import pytest
from prefect_gql_codegen.unasync import transform

from prefect_gql import _bundled, schema_path
from prefect_gql._tooling import codegen as _codegen
from prefect_gql._tooling.codegen import (
    EXAMPLE_QUERY_FILE,
    CodegenError,
    check_fresh,
    compare_packages,
    find_config,
    find_project_root,
    generate,
    init_project,
    package_dir,
    resolve_bundled,
    sources,
)
from prefect_gql._tooling.schema_tools import load_schema, validate_queries

from .conftest import copy_project

ROOT = Path(__file__).parents[1]
CONFIG = ROOT / "codegen.toml"
PACKAGE = "_generated"


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


def test_the_sync_client_is_a_fresh_generation_of_the_async_one(regenerated: Path) -> None:
    """``prefect_gql/_sync/`` is what the transform makes of ``prefect_gql/_async/`` today."""
    sync_folder = regenerated.parent / "_sync"
    assert sorted(path.name for path in sync_folder.glob("*.py")) == sorted(
        path.name for path in (ROOT / "prefect_gql" / "_async").glob("*.py")
    )
    report = compare_packages(ROOT / "prefect_gql" / "_sync", sync_folder)
    assert report.fresh, (
        "prefect_gql/_sync/ differs from a generation of prefect_gql/_async/; edit _async/, "
        "run `prefect-gql generate` and commit:\n" + report.describe()
    )


def test_a_hand_edit_of_the_sync_client_is_reported(tmp_path: Path) -> None:
    project = copy_project(
        tmp_path / "p", "codegen.toml", "schema", "queries", "codegen", "prefect_gql"
    )
    edited = project / "prefect_gql" / "_sync" / "flow_runs.py"
    edited.write_text(edited.read_text().replace("def cancel_flow_run", "def cancel_run"))

    report = check_fresh(project / "codegen.toml")

    assert list(report.changed) == ["prefect_gql/_sync/flow_runs.py"]
    assert "-    def cancel_run(" in report.changed["prefect_gql/_sync/flow_runs.py"]


def test_the_transform_turns_async_source_into_sync_source() -> None:
    source = (
        "import anyio\n"
        "from collections.abc import AsyncIterator\n"
        "class AsyncClient(AsyncClientBase):\n"
        "    async def watch(self) -> AsyncIterator[int]:\n"
        "        async with self._lock:\n"
        "            await anyio.sleep(1)\n"
        "        async for item in self._items():\n"
        "            yield await self.operations.x(item)\n"
        "    async def aclose(self) -> None:\n"
        "        await self._http.aclose()  # httpx.AsyncClient\n"
    )
    assert transform(source) == (
        "import threading\nimport time\n"
        "from collections.abc import Iterator\n"
        "class Client(ClientBase):\n"
        "    def watch(self) -> Iterator[int]:\n"
        "        with self._lock:\n"
        "            time.sleep(1)\n"
        "        for item in self._items():\n"
        "            yield self.operations.x(item)\n"
        "    def close(self) -> None:\n"
        "        self._http.close()  # httpx.Client\n"
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
    assert not (project / "prefect_gql").exists(), "a failed run leaves no partial package"


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


# --- an application's config: prefect-gql init, bundled files ------------------


def test_init_writes_codegen_toml_and_an_example_when_there_is_no_pyproject(
    tmp_path: Path,
) -> None:
    written = init_project(tmp_path / "app", "my_queries")

    config = tmp_path / "app" / "codegen.toml"
    example = tmp_path / "app" / "queries" / EXAMPLE_QUERY_FILE
    assert written == [config, example]
    assert find_config(tmp_path / "app" / "queries") == config
    schema_file, queries_dir = sources(config)
    assert schema_file == schema_path()
    assert validate_queries(load_schema(schema_file), queries_dir) == []
    assert package_dir(config) == tmp_path / "app" / "my_queries"


def test_init_keeps_existing_queries_and_the_rest_of_the_pyproject(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('# mine\n[project]\nname = "app"\n\n[tool.other]\nkeep = true\n')
    (tmp_path / "queries").mkdir()
    (tmp_path / "queries" / "mine.graphql").write_text("query Mine { api { version } }\n")

    assert init_project(tmp_path, "app_queries") == [pyproject]

    text = pyproject.read_text()
    assert text.startswith('# mine\n[project]\nname = "app"\n\n[tool.other]\nkeep = true\n\n')
    assert tomllib.loads(text)["tool"]["ariadne-codegen"]["target_package_name"] == "app_queries"
    assert sorted(path.name for path in (tmp_path / "queries").iterdir()) == ["mine.graphql"]
    assert find_config(tmp_path) == pyproject


@pytest.mark.parametrize(
    ("package", "message"),
    [
        ("my-queries", "is not a Python identifier"),
        ("class", "is not a Python identifier"),
        ("prefect_gql", "is taken by prefect-gql"),
    ],
)
def test_init_refuses_unusable_package_names(tmp_path: Path, package: str, message: str) -> None:
    with pytest.raises(CodegenError, match=message):
        init_project(tmp_path, package)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("codegen.toml", "", "already exists; nothing written"),
        ("pyproject.toml", "[tool.ariadne-codegen]\n", "already has [tool.ariadne-codegen]"),
        ("pyproject.toml", "[tool.ariadne-codegen.scalars]\n", "already has"),
        ("pyproject.toml", "[tool]\nariadne-codegen = 1\n", "cannot add [tool.ariadne-codegen]"),
    ],
)
def test_init_refuses_a_configured_folder(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    (tmp_path / name).write_text(text)
    with pytest.raises(CodegenError, match=re.escape(message)):
        init_project(tmp_path, "my_queries")
    assert [path.name for path in tmp_path.iterdir()] == [name]
    assert (tmp_path / name).read_text() == text


def test_find_config_skips_a_pyproject_without_the_table(tmp_path: Path) -> None:
    (tmp_path / "codegen.toml").write_text("[tool.ariadne-codegen]\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    assert find_config(tmp_path / "sub") == tmp_path / "codegen.toml"


def test_bundled_files_resolve_and_unknown_ones_are_clear_errors() -> None:
    assert resolve_bundled("schema/prefect.graphql") is None
    assert resolve_bundled("prefect-gql:schema.graphql") == schema_path()
    base = resolve_bundled("prefect-gql:base_operations.py")
    assert base is not None
    assert (
        base.read_text()
        == (
            ROOT / "prefect_gql" / "_tooling" / "codegen_support" / "base_operations.py"
        ).read_text()
    )
    with pytest.raises(CodegenError, match=r"unknown bundled file 'prefect-gql:nope.py'; known: "):
        resolve_bundled("prefect-gql:nope.py")
    with pytest.raises(CodegenError, match="unknown bundled file"):
        resolve_bundled("prefect-gql:../pyproject.toml")


def test_the_installed_layout_is_preferred(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    packaged_schema, packaged_queries = tmp_path / "schema.graphql", tmp_path / "queries"
    monkeypatch.setattr(_bundled, "_PACKAGED_SCHEMA", packaged_schema)
    monkeypatch.setattr(_bundled, "_PACKAGED_QUERIES", packaged_queries)
    assert _bundled.schema_path() == ROOT / "schema" / "prefect.graphql"
    assert _bundled.library_queries_path() == ROOT / "queries"
    packaged_schema.write_text("type Query { a: Int }\n")
    packaged_queries.mkdir()
    assert _bundled.schema_path() == packaged_schema
    assert _bundled.library_queries_path() == packaged_queries
    monkeypatch.setattr(_bundled, "_REPOSITORY", tmp_path / "nowhere")
    packaged_schema.unlink()
    packaged_queries.rmdir()
    with pytest.raises(FileNotFoundError, match="has no schema"):
        _bundled.schema_path()
    with pytest.raises(FileNotFoundError, match="has no queries"):
        _bundled.library_queries_path()


@pytest.mark.parametrize(
    "package",
    [
        "prefect_gql/_generated",
        "examples/your_own_queries/fleet_report",
        "prefect_gql/_sync",
    ],
)
def test_every_generated_module_says_it_is_generated(package: str) -> None:
    """Including the modules other plugins write themselves (extract-operations' documents)."""
    modules = sorted((Path(__file__).parents[1] / package).glob("*.py"))
    assert len(modules) > 3
    unmarked = [
        module.name
        for module in modules
        if "# generated by prefect-gql generate - do not edit" not in module.read_text()[:300]
    ]
    assert unmarked == []


def test_answers_keep_parsed_json_as_is_while_inputs_check_theirs() -> None:
    """Result models take an answer's JSON values as parsed (JSON by construction, so
    not checked and copied again); input models still refuse what is not JSON."""
    from pydantic import ValidationError  # noqa: PLC0415

    from prefect_gql._generated.get_flow_run_state import GetFlowRunState  # noqa: PLC0415
    from prefect_gql._generated.input_types import create_flow_run_input  # noqa: PLC0415

    state = {"type": "Running", "context": {"nested": [1, 2.5, None]}}
    answer = GetFlowRunState.model_validate({"flow_run_by_pk": {"serialized_state": state}})
    assert answer.flow_run_by_pk is not None
    assert answer.flow_run_by_pk.serialized_state is state
    with pytest.raises(ValidationError, match="parameters"):
        create_flow_run_input(flow_id="f", parameters={"not json": object()})
