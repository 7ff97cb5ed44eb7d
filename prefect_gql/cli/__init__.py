"""The ``prefect-gql`` command line (``[project.scripts] prefect-gql = prefect_gql.cli:main``).

Importing this package does not import click: ``main`` names the ``cli`` extra when it is
missing. The commands live in private modules: ``_app`` (the group, server, schema and
codegen commands), ``_runs`` (flow runs, task runs, logs, run, query, auth) and ``_catalog``
(projects, flows, agents); ``_commands`` puts them together, ``_output`` and ``_documents``
are what they share.
"""

from ._console import MISSING_CLICK, main

__all__ = ["MISSING_CLICK", "main"]
