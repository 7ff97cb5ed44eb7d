"""Regenerating ``generated/`` and checking that it is fresh.

ariadne-codegen reads ``codegen.toml``; its relative paths are relative to the
project root. ``generate`` can write into another folder (the freshness check
regenerates into a temporary one and compares it byte for byte with ``generated/``).
"""

from __future__ import annotations

import difflib
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

import tomli_w

__all__ = [
    "CodegenError",
    "FreshnessReport",
    "check_fresh",
    "find_project_root",
    "generate",
    "sources",
]

DEFAULT_CONFIG = "codegen.toml"
DIFF_LINES_SHOWN = 40


class CodegenError(Exception):
    """ariadne-codegen could not run or failed; the message holds its output."""


def find_project_root(start: Path | None = None) -> Path:
    """The nearest folder, from ``start`` (the working directory) up, holding codegen.toml."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / DEFAULT_CONFIG).is_file():
            return folder
    raise CodegenError(f"no {DEFAULT_CONFIG} in {here} or any folder above it")


def _codegen_settings(config_path: Path) -> dict[str, object]:
    try:
        data = tomllib.loads(config_path.read_text())
        settings = data["tool"]["ariadne-codegen"]
    except (OSError, tomllib.TOMLDecodeError, KeyError) as err:
        raise CodegenError(f"cannot read [tool.ariadne-codegen] from {config_path}: {err}") from err
    if not isinstance(settings, dict):
        raise CodegenError(f"[tool.ariadne-codegen] in {config_path} is not a table")
    return settings


def sources(config_path: Path) -> tuple[Path, Path]:
    """The schema file and the queries folder the config compiles."""
    settings = _codegen_settings(config_path)
    root = config_path.parent
    return root / str(settings["schema_path"]), root / str(settings["queries_path"])


def package_dir(config_path: Path) -> Path:
    """Where the config writes the generated package."""
    settings = _codegen_settings(config_path)
    root = config_path.parent
    return root / str(settings["target_package_path"]) / str(settings["target_package_name"])


def generate(config_path: Path, *, target_dir: Path | None = None) -> Path:
    """Run ariadne-codegen with ``config_path``; returns the generated package's folder.

    With ``target_dir`` the package is written there instead of the configured place.
    """
    config_path = config_path.resolve()
    root = config_path.parent
    config_to_use = config_path
    settings = _codegen_settings(config_path)
    (root / str(settings["target_package_path"])).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="prefect-gql-codegen-") as scratch:
        if target_dir is not None:
            target_dir.mkdir(parents=True, exist_ok=True)
            data = tomllib.loads(config_path.read_text())
            data["tool"]["ariadne-codegen"]["target_package_path"] = str(target_dir.resolve())
            config_to_use = Path(scratch) / "codegen.toml"
            config_to_use.write_text(tomli_w.dumps(data))
        result = subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
            [sys.executable, "-m", "ariadne_codegen", "--config", str(config_to_use)],
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
        )
    if result.returncode != 0:
        output = (result.stderr or result.stdout).strip().splitlines()
        raise CodegenError(f"ariadne-codegen failed: {output[-1] if output else 'no output'}")
    base = target_dir if target_dir is not None else root / str(settings["target_package_path"])
    return base / str(settings["target_package_name"])


def _files(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


@dataclass(frozen=True)
class FreshnessReport:
    missing: list[str]
    extra: list[str]
    changed: dict[str, str]

    @property
    def fresh(self) -> bool:
        return not (self.missing or self.extra or self.changed)

    def describe(self) -> str:
        lines = [f"missing from generated/: {name}" for name in self.missing]
        lines += [f"not produced by codegen: {name}" for name in self.extra]
        for name, diff in self.changed.items():
            lines.append(f"differs: {name}\n{diff}")
        return "\n".join(lines) or "generated/ is fresh"


def check_fresh(config_path: Path) -> FreshnessReport:
    """Regenerate into a temporary folder and compare it with the committed package."""
    committed = _files(package_dir(config_path.resolve()))
    with tempfile.TemporaryDirectory(prefix="prefect-gql-fresh-") as scratch:
        fresh = _files(generate(config_path, target_dir=Path(scratch)))
    changed = {}
    for name in sorted(committed.keys() & fresh.keys()):
        if committed[name] != fresh[name]:
            diff = difflib.unified_diff(
                committed[name].decode(errors="replace").splitlines(),
                fresh[name].decode(errors="replace").splitlines(),
                f"generated/{name}",
                f"regenerated/{name}",
                lineterm="",
            )
            changed[name] = "\n".join(list(diff)[:DIFF_LINES_SHOWN])
    return FreshnessReport(
        missing=sorted(fresh.keys() - committed.keys()),
        extra=sorted(committed.keys() - fresh.keys()),
        changed=changed,
    )
