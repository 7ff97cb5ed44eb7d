"""Keeping credentials out of error text, including text a server echoed back. No I/O.

Every error leaving an exchange passes through ``redacted``: the client's API key,
API token, tenant JWTs and a per-call ``token`` are replaced wherever they appear in
its message, its GraphQL error details and its body excerpt, as is anything sent as
``Bearer <value>``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, TypeVar

from .._exceptions import APIStatusError, ClientError, GraphQLErrorDetail, PrefectGQLError

if TYPE_CHECKING:
    from .config import ClientConfig

__all__ = ["REDACTED", "redact_text", "redacted"]

REDACTED = "[redacted]"
_BEARER = re.compile(r"(?i)(bearer\s+)[^\s\"',;]+")
ErrorT = TypeVar("ErrorT", bound=PrefectGQLError)


def redact_text(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret and secret in text:
            text = text.replace(secret, REDACTED)
    return _BEARER.sub(rf"\g<1>{REDACTED}", text)


def redacted(error: ErrorT, config: ClientConfig, token: str | None = None) -> ErrorT:
    """``error`` with every credential of ``config`` (and ``token``) removed from its text."""
    secrets = [token, *config.tokens.secrets()] if token else config.tokens.secrets()
    error.args = tuple(
        redact_text(arg, secrets) if isinstance(arg, str) else arg for arg in error.args
    )
    if isinstance(error, ClientError | APIStatusError):
        error.message = redact_text(error.message, secrets)
    if isinstance(error, ClientError):
        error.errors = tuple(
            GraphQLErrorDetail(redact_text(detail.message, secrets), detail.path, detail.extensions)
            for detail in error.errors
        )
    if isinstance(error, APIStatusError):
        error.body_excerpt = redact_text(error.body_excerpt, secrets)
    return error
