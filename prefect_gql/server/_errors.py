"""Errors the API answers with, and the ``extensions.code`` each carries.

A resolver raises ``APIError``; graphql-core copies its ``extensions`` into the
response, so the code reaches the client the way Prefect's Apollo gateway sends it.
The codes are the ones the Prefect clients and prefect_gql react to: ``NOT_FOUND``,
``VERSION_LOCKING_ERROR``, ``UNAUTHENTICATED``. Bad input is ``BAD_USER_INPUT``,
never ``API_ERROR``: the Prefect clients retry ``API_ERROR`` six times, which is
right for a flaky backend and wrong for a uniqueness violation. A valid credential
that may not do what it asks gets ``FORBIDDEN``; requests over the server's limits
(``_limits``) get ``BAD_REQUEST``, ``PAYLOAD_TOO_LARGE`` or ``QUERY_TOO_COMPLEX``; a
root field of the schema the local server does not implement, ``NOT_IMPLEMENTED``.
"""

from __future__ import annotations

from typing import Any

from ._tables import Row

__all__ = [
    "BAD_REQUEST",
    "BAD_USER_INPUT",
    "FORBIDDEN",
    "NOT_FOUND",
    "NOT_IMPLEMENTED",
    "PAYLOAD_TOO_LARGE",
    "QUERY_TOO_COMPLEX",
    "UNAUTHENTICATED",
    "VERSION_LOCKING_ERROR",
    "APIError",
    "ForbiddenError",
    "UnauthenticatedError",
    "not_found",
    "require",
]

BAD_REQUEST = "BAD_REQUEST"
BAD_USER_INPUT = "BAD_USER_INPUT"
FORBIDDEN = "FORBIDDEN"
NOT_FOUND = "NOT_FOUND"
NOT_IMPLEMENTED = "NOT_IMPLEMENTED"
PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
UNAUTHENTICATED = "UNAUTHENTICATED"
VERSION_LOCKING_ERROR = "VERSION_LOCKING_ERROR"


class APIError(Exception):
    """An answer, not a fault: the request cannot be done as asked."""

    def __init__(self, message: str, code: str = BAD_USER_INPUT) -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    @property
    def extensions(self) -> dict[str, Any]:
        return {"code": self.code}


class UnauthenticatedError(APIError):
    """Missing, unknown or expired credentials. The message never names the credential."""

    def __init__(self) -> None:
        super().__init__(UNAUTHENTICATED, UNAUTHENTICATED)


class ForbiddenError(APIError):
    """A known caller asking for something its credential does not allow."""

    def __init__(self, message: str) -> None:
        super().__init__(message, FORBIDDEN)


def not_found(what: str, row_id: object) -> APIError:
    return APIError(f"{what} {row_id} not found", NOT_FOUND)


def require(row: Row | None, what: str, row_id: object) -> Row:
    """``row``, which a lookup of ``what`` by ``row_id`` found; else a ``NOT_FOUND`` answer."""
    if row is None:
        raise not_found(what, row_id)
    return row
