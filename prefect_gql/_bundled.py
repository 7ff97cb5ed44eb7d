"""Files that ship inside prefect_gql: the API schema and the library's own operations.

Installed from a wheel they are package data (``prefect_gql/server/schema.graphql``,
the file the embedded server serves, and ``prefect_gql/queries/``); in a checkout
they are the repository's ``schema/prefect.graphql`` and ``queries/``. Applications
compile their own operations against this schema (``prefect-gql init``) and check a
new API schema against both sets of operations (``prefect-gql schema diff``).

Nothing here imports more than the standard library: ``prefect_gql.schema_path()``
stays cheap.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["library_queries_path", "schema_path"]

_PACKAGE = Path(__file__).resolve().parent
_REPOSITORY = _PACKAGE.parent
_PACKAGED_SCHEMA = _PACKAGE / "server" / "schema.graphql"
_PACKAGED_QUERIES = _PACKAGE / "queries"


def schema_path() -> Path:
    """The Prefect API schema (SDL) this version of prefect_gql is generated from.

    Point your own codegen or tools at it; ``prefect-gql schema path`` prints it.
    """
    for candidate in (_PACKAGED_SCHEMA, _REPOSITORY / "schema" / "prefect.graphql"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f"this installation of prefect_gql has no schema: neither {_PACKAGED_SCHEMA}"
        " nor a repository checkout's schema/prefect.graphql exists"
    )


def library_queries_path() -> Path:
    """The folder of the operations prefect_gql itself sends (its ``queries/``)."""
    for candidate in (_PACKAGED_QUERIES, _REPOSITORY / "queries"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        f"this installation of prefect_gql has no queries: neither {_PACKAGED_QUERIES}"
        " nor a repository checkout's queries/ exists"
    )
