"""The ``prefect-gql`` command line (``[project.scripts] prefect-gql = prefect_gql.cli:main``).

Importing this package does not import click: ``main`` names the ``cli`` extra when it is
missing. The commands live in private modules: ``_app`` (the group, server, schema and
codegen commands), ``_runs`` (flow runs, logs, run, query, auth) and ``_catalog`` (flows,
projects, agents).
"""

from ._console import MISSING_CLICK, main

__all__ = ["MISSING_CLICK", "main"]
