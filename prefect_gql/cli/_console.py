"""The ``prefect-gql`` console script.

click is the ``cli`` extra (as in ``httpx[cli]``): installed, every ``import httpx``
imports it for httpx's own CLI, ~13 ms in every process that only uses the client.
Without it, the command says which extra to install instead of a traceback.
"""

from __future__ import annotations

import sys

__all__ = ["main"]

MISSING_CLICK = (
    "Error: the prefect-gql command needs the cli extra (click is missing):"
    " pip install 'prefect-gql[cli]'"
)


def main() -> None:
    """Console entry point (``[project.scripts] prefect-gql``)."""
    try:
        import click  # noqa: F401, PLC0415 - the one module that may be absent
    except ImportError:
        print(MISSING_CLICK, file=sys.stderr)
        raise SystemExit(1) from None
    from ._commands import main as run_command  # noqa: PLC0415 - imports click

    run_command()
