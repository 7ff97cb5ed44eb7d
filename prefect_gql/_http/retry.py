"""When to retry a request, and how long to wait first. No I/O here.

Retried, with exponential backoff and full jitter, at most ``max_retries`` times:

- connection failures before the request reached the server: always;
- timeouts, other transport errors, HTTP 408, 429 and 5xx: when the operation is safe
  to repeat (every query, and the mutations listed in ``RETRY_SAFE_MUTATIONS``);
  a 429 is retried for every operation, since a rate-limited request was not run;
- GraphQL errors with ``extensions.code == "API_ERROR"``: when safe to repeat.

A ``Retry-After`` header (seconds or an HTTP date) replaces the computed delay, up to
``MAX_RETRY_AFTER``. A mutation that is not safe to repeat is never retried after it may
have reached the server: ``create_flow_run`` is safe because it always carries an
idempotency key.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from .._constants import DEFAULT_MAX_RETRIES, INITIAL_RETRY_DELAY, MAX_RETRY_AFTER, MAX_RETRY_DELAY

__all__ = [
    "RETRYABLE_STATUS_CODES",
    "RETRY_SAFE_MUTATIONS",
    "RetryPolicy",
    "is_retry_safe",
]

RETRYABLE_STATUS_CODES = frozenset({408, 429})
RETRYABLE_GRAPHQL_CODES = frozenset({"API_ERROR"})

RETRY_SAFE_MUTATIONS = frozenset(
    {
        "CreateFlowRun",
        "CreateFlow",
        "CreateFlowFromCompressedString",
        "GetOrCreateTaskRunInfo",
        "SetScheduleActive",
        "SetScheduleInactive",
        "SetFlowRunName",
        "SetTaskRunName",
        "SetSecret",
        "UpdateTaskTagLimit",
        "UpdateFlowRunHeartbeat",
        "UpdateTaskRunHeartbeat",
        "WriteRunLogs",
        "SwitchTenant",
    }
)
"""Mutations whose repetition leaves the same result as one run.

Creations carry an idempotency key the server deduplicates on; the others set a value.
``WriteRunLogs`` is here by choice: a duplicated log line beats a lost one.
"""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_retries: int = DEFAULT_MAX_RETRIES
    initial_delay: float = INITIAL_RETRY_DELAY
    max_delay: float = MAX_RETRY_DELAY
    max_retry_after: float = MAX_RETRY_AFTER

    def backoff(self, retry_number: int) -> float:
        """Full-jitter exponential delay before retry ``retry_number`` (1-based)."""
        ceiling = min(self.max_delay, self.initial_delay * 2 ** (retry_number - 1))
        return random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not crypto

    def delay_after_response(
        self, response: httpx.Response, retry_number: int, *, retry_safe: bool
    ) -> float | None:
        """Seconds to wait before retrying after this HTTP response, or ``None``."""
        if retry_number > self.max_retries:
            return None
        status = response.status_code
        retryable = status in RETRYABLE_STATUS_CODES or status >= 500
        if not retryable or (not retry_safe and status != 429):
            return None
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        if retry_after is not None:
            return min(retry_after, self.max_retry_after)
        return self.backoff(retry_number)

    def delay_after_error(
        self, error: httpx.TransportError, retry_number: int, *, retry_safe: bool
    ) -> float | None:
        """Seconds to wait before retrying after a transport error, or ``None``."""
        if retry_number > self.max_retries:
            return None
        never_sent = isinstance(error, httpx.ConnectError | httpx.ConnectTimeout)
        if not (never_sent or retry_safe):
            return None
        return self.backoff(retry_number)

    def delay_after_graphql_error(
        self, code: str | None, retry_number: int, *, retry_safe: bool
    ) -> float | None:
        """Seconds to wait before retrying after GraphQL ``errors``, or ``None``."""
        if retry_number > self.max_retries or not retry_safe:
            return None
        if code not in RETRYABLE_GRAPHQL_CODES:
            return None
        return self.backoff(retry_number)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """A ``Retry-After`` value in seconds: delta-seconds or an HTTP date; ``None`` if unusable."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return max(seconds, 0.0)


_OPERATION_KEYWORD = re.compile(r"^\s*(?:#[^\n]*\n\s*)*(query|mutation|subscription|\{)")


def is_retry_safe(document: str, operation_name: str | None) -> bool:
    """Queries are safe to repeat; mutations only when listed as idempotent."""
    match = _OPERATION_KEYWORD.match(document)
    if match is None or match.group(1) in ("query", "{"):
        return True
    return operation_name in RETRY_SAFE_MUTATIONS
