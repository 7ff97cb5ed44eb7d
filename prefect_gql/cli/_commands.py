"""Every ``prefect-gql`` command on one group: ``_app``'s, ``_catalog``'s and ``_runs``'s.

The modules add their commands to ``_app.app`` when imported; importing them all here,
and nowhere else, keeps the CLI's imports free of cycles.
"""

from __future__ import annotations

from . import _catalog, _runs  # noqa: F401 - imported for their commands
from ._app import app

__all__ = ["app", "main"]


def main() -> None:
    """Console entry point (``[project.scripts] prefect-gql``)."""
    app(prog_name="prefect-gql")
