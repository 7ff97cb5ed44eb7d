"""Every tunable number and default of the client, in one place.

Exported from ``prefect_gql`` where a user may want to read or pass them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

__all__ = [
    "CACHED_STATES_LIMIT",
    "DEFAULT_CORE_VERSION",
    "DEFAULT_DEADLINE",
    "DEFAULT_LIMITS",
    "DEFAULT_MAX_CONNECTIONS",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "INITIAL_RETRY_DELAY",
    "LOG_BATCH_SIZE",
    "MAX_RESPONSE_BYTES",
    "MAX_RETRY_AFTER",
    "MAX_RETRY_DELAY",
    "QUEUE_INTERVAL",
    "REGISTRATION_BATCH_SIZE",
]

DEFAULT_CORE_VERSION = "1.4.1"
"""Sent as ``X-PREFECT-CORE-VERSION`` and as the ``__version__`` of serialized states."""

DEFAULT_MAX_RETRIES = 3
"""Retries after the first attempt."""
INITIAL_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 8.0
MAX_RETRY_AFTER = 60.0
"""Cap on a server's ``Retry-After``."""

DEFAULT_TIMEOUT_SECONDS = 15.0
DEFAULT_CONNECT_TIMEOUT_SECONDS = 5.0
DEFAULT_TIMEOUT: httpx.Timeout
"""``httpx.Timeout(15, connect=5)``, per phase of one attempt (connect, write, each read);
one attempt, body included, also ends once the longest of them has passed."""
DEFAULT_DEADLINE = 120.0
"""Seconds one method call may take in all: every attempt, retry wait and body read."""
MAX_RESPONSE_BYTES = 64 * 1024 * 1024
"""The largest answer read into memory; a larger one is an ``APIResponseError``."""
DEFAULT_MAX_CONNECTIONS = 20
"""Connections a client opens at most; all are kept alive, so bursts reuse them."""
DEFAULT_LIMITS: httpx.Limits
"""``DEFAULT_MAX_CONNECTIONS`` connections, all kept alive."""

LOG_BATCH_SIZE = 1000
"""Log entries per ``write_run_logs`` request."""
REGISTRATION_BATCH_SIZE = 500
"""Tasks or edges per registration request, as Prefect 1.4.1 sends them."""
CACHED_STATES_LIMIT = 100
"""Cached states ``get_latest_cached_states`` reads at most."""
QUEUE_INTERVAL = timedelta(seconds=30)
"""How long a run the API queued waits before trying again (Prefect's default)."""


def __getattr__(name: str) -> Any:
    """The httpx-typed defaults, made on first use: states and flow specs import this
    module and must not pay for importing httpx."""
    if name not in ("DEFAULT_TIMEOUT", "DEFAULT_LIMITS"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import httpx  # noqa: PLC0415

    made: dict[str, Any] = {
        "DEFAULT_TIMEOUT": httpx.Timeout(
            DEFAULT_TIMEOUT_SECONDS, connect=DEFAULT_CONNECT_TIMEOUT_SECONDS
        ),
        "DEFAULT_LIMITS": httpx.Limits(
            max_connections=DEFAULT_MAX_CONNECTIONS,
            max_keepalive_connections=DEFAULT_MAX_CONNECTIONS,
        ),
    }
    globals()[name] = made[name]
    return made[name]
