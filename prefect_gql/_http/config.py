"""``ClientConfig``: what sending a request needs to know about its client. No I/O."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import httpx

from .._config.backend import Backend
from .._constants import DEFAULT_DEADLINE, MAX_RESPONSE_BYTES
from .auth import TokenState
from .retry import RetryPolicy

__all__ = ["ClientConfig"]


@dataclass(frozen=True)
class ClientConfig:
    """Everything sending a request needs to know about its client; ``with_options`` copies it.

    ``tokens`` and ``headers`` are shared by the copies: logging in to a tenant or
    attaching a header on one is seen by all.
    """

    api_server: str
    backend: Backend
    tokens: TokenState
    home_dir: Path
    core_version: str
    retry: RetryPolicy
    timeout: httpx.Timeout
    headers: dict[str, str] = field(default_factory=dict)
    ui_endpoint: str = "http://localhost:8080"
    """The Prefect Server UI, for links (``server.ui.endpoint``)."""
    deadline: float | None = DEFAULT_DEADLINE
    """Seconds one API request may take in all, retries included (``None``: no bound
    beyond the timeouts)."""
    max_response_bytes: int = MAX_RESPONSE_BYTES

    def with_changes(self, **changes: Any) -> ClientConfig:
        return replace(self, **changes)

    @cached_property
    def api_url(self) -> httpx.URL:
        """``api_server`` parsed once, not again for every GraphQL request."""
        return httpx.URL(self.api_server)
