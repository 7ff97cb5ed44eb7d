"""RESULTS.md is shared: each benchmark replaces its own ``## `` section and nothing else."""

from __future__ import annotations

import os
import platform
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).with_name("RESULTS.md")
TITLE = "# Benchmark results"


def machine() -> str:
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {platform.platform()}"
    )


def write_section(heading: str, how: str, report: str, path: Path = RESULTS) -> None:
    """Replace (or append) the section under ``## heading``: when, where, how, the table."""
    title = f"## {heading}"
    section = (
        f"{title}\n\nMeasured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}, "
        f"with {how}.\n\n{report.rstrip()}\n"
    )
    text = path.read_text() if path.exists() else f"{TITLE}\n"
    start = text.find(f"\n{title}\n")
    if start >= 0:
        following = text.find("\n## ", start + 1)
        rest = text[following:] if following >= 0 else "\n"
        text = text[:start].rstrip("\n") + "\n\n" + section + rest
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text)
