"""An embedded local Prefect 1.x API server, for development and tests.

A faithful local stand-in, **not Prefect Server**: it serves the project's
``schema/prefect.graphql`` (Prefect Server's API plus the Cloud fields the clients
use) with ariadne and uvicorn, keeps its state in SQLite, and gives every operation
the Prefect 0.12/1.4 clients and prefect_gql send its real semantics: tenants,
projects, flow registration and versions, flow and task runs with version-locked
states and idempotency keys, logs, secrets, task tag limits, agents, artifacts,
Hasura's filters, and Cloud's API keys and tenant tokens (token mode). Agents get
their run queue as from Prefect Server, and the server runs Server's scheduler,
Lazarus and zombie killer in background threads (``ServiceIntervals``). It has no
UI and no Hasura; secrets are stored in plain text in its database.

    with LocalServer() as server:                     # open mode, like Prefect Server
        httpx.post(server.url, json={"query": "{ tenant { id } }"})
    serve(port=4200, db="prefect.sqlite")             # blocks; `prefect-gql server`
"""

from ._app import create_app
from ._auth import AuthConfig
from ._registry import DEFAULT_TENANT_ID
from ._runner import LocalServer, serve
from ._schema import load_sdl
from ._services import ServiceIntervals

__all__ = [
    "DEFAULT_TENANT_ID",
    "AuthConfig",
    "LocalServer",
    "ServiceIntervals",
    "create_app",
    "load_sdl",
    "serve",
]
