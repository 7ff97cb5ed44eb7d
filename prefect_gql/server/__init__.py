"""An embedded local Prefect API server, for development and tests.

A faithful local stand-in, **not Prefect Server**: it serves the project's
``schema/prefect.graphql`` (the Prefect Server API plus the Cloud fields the client
uses) with ariadne, keeps its state in SQLite, and implements with real semantics
every operation the Prefect 0.12/1.4 clients and prefect_gql send: projects, flows,
flow and task runs with version-locked states and idempotency keys, logs, secrets,
task tag limits, agents, artifacts, and Cloud's tenant tokens in token mode. It has
no scheduler, no agents of its own, no UI and no Hasura.
"""

from ._api import DEFAULT_TENANT_ID
from ._app import create_app
from ._auth import AuthConfig
from ._runner import LocalServer, serve

__all__ = ["DEFAULT_TENANT_ID", "AuthConfig", "LocalServer", "create_app", "serve"]
