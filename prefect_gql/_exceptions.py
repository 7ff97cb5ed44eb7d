"""Every error prefect_gql raises, as one tree.

::

    PrefectGQLError                      base of everything below
    ├── ClientError                      the API answered, but not with what was asked for:
    │   │                                GraphQL ``errors``, or an answer that says no
    │   ├── AuthenticationError          UNAUTHENTICATED, revoked or expired credentials
    │   │                                (also importable as ``AuthorizationError``, Prefect's name)
    │   ├── VersionLockError             VERSION_LOCKING_ERROR: a stale run ``version``
    │   │                                (also importable as ``VersionLockMismatchSignal``,
    │   │                                Prefect 1.4.1's name)
    │   ├── BadRequestError              HTTP 400 with GraphQL ``errors``: the API refused the
    │   │                                document before running it (unknown field, bad variable)
    │   ├── NotFoundError                the object asked for does not exist (an error or an
    │   │                                empty answer; also importable as ``ObjectNotFoundError``,
    │   │                                Prefect 1.4.1's name)
    │   └── OperationFailedError         the API answered ``success: false`` (also a ValueError)
    ├── APIStatusError                   any other non-2xx HTTP status
    ├── APIConnectionError               the request never got an answer
    │   └── APITimeoutError              ... because it timed out
    ├── APIResponseError                 an answer that is not a valid GraphQL response
    │                                    (HTML error page, not JSON, missing ``data``, wrong types)
    ├── FlowRunTimeoutError              a flow run did not finish within ``timeout``
    │                                    (``wait_for_flow_run``; also a TimeoutError)
    ├── LogWriteError                    ``write_run_logs`` could not write some entries
    │                                    (also a ValueError, as the Prefect Client documented)
    ├── ConfigurationError               conflicting or missing settings (also a ValueError)
    └── InvalidInputError                bad arguments, refused before any request (a ValueError)
        └── InvalidStateError            an unknown or malformed serialized State

``ClientError`` keeps the name the Prefect ``Client`` used, so ``except ClientError``
keeps working for migrating users, as do Prefect's other names for the errors its client
raised: ``AuthorizationError`` (0.12's ``prefect.utilities.exceptions``),
``VersionLockMismatchSignal`` and ``ObjectNotFoundError`` (1.4.1's ``prefect.exceptions``).
Unlike Prefect 1.4.1's signal, ``VersionLockMismatchSignal`` here is an ``Exception``, as
every error of the tree. ``errors`` is empty when the API answered without
GraphQL errors but the answer says the object is missing or the operation failed.
Messages never contain tokens, API keys or JWTs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import ValidationError

__all__ = [
    "APIConnectionError",
    "APIResponseError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "AuthorizationError",
    "BadRequestError",
    "ClientError",
    "ConfigurationError",
    "FlowRunTimeoutError",
    "GraphQLErrorDetail",
    "InvalidInputError",
    "InvalidStateError",
    "LogWriteError",
    "NotFoundError",
    "ObjectNotFoundError",
    "OperationFailedError",
    "PrefectGQLError",
    "VersionLockError",
    "VersionLockMismatchSignal",
]


class PrefectGQLError(Exception):
    """Base class of every error raised by prefect_gql."""


class GraphQLErrorDetail:
    """One entry of a GraphQL response's ``errors`` list."""

    __slots__ = ("code", "extensions", "message", "path")

    def __init__(
        self,
        message: str,
        path: Sequence[str | int] | None = None,
        extensions: Mapping[str, Any] | None = None,
    ) -> None:
        self.message = message
        self.path: tuple[str | int, ...] = tuple(path or ())
        self.extensions: dict[str, Any] = dict(extensions or {})
        code = self.extensions.get("code")
        self.code: str | None = code if isinstance(code, str) else None

    def __repr__(self) -> str:
        return (
            f"GraphQLErrorDetail(message={self.message!r}, path={self.path!r}, code={self.code!r})"
        )


class ClientError(PrefectGQLError):
    """The API answered, but not with what was asked for.

    ``errors`` holds every GraphQL error (message, path, ``extensions.code``), empty when
    the answer itself said no; ``data`` holds whatever partial data came with them;
    ``status_code`` is the HTTP status they came with.
    """

    def __init__(
        self,
        message: str,
        *,
        errors: Sequence[GraphQLErrorDetail] = (),
        data: Mapping[str, Any] | None = None,
        operation_name: str | None = None,
        status_code: int = 200,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.errors: tuple[GraphQLErrorDetail, ...] = tuple(errors)
        self.data = data
        self.operation_name = operation_name
        self.status_code = status_code

    @property
    def code(self) -> str | None:
        """``extensions.code`` of the first error that has one."""
        return next((error.code for error in self.errors if error.code), None)


class AuthenticationError(ClientError):
    """The credentials were refused (missing, revoked, expired or malformed)."""


AuthorizationError = AuthenticationError
"""Prefect's name for the same error: ``except AuthorizationError`` keeps working."""


class BadRequestError(ClientError):
    """The API refused the document before running it (HTTP 400 with GraphQL ``errors``),
    as Prefect Server does for an unknown field or a variable of the wrong type."""


class VersionLockError(ClientError):
    """A run state was set with a ``version`` that is no longer the current one."""


class NotFoundError(ClientError):
    """The object asked for does not exist (or is not visible to these credentials)."""


ObjectNotFoundError = NotFoundError
"""Prefect 1.4.1's name (``prefect.exceptions``): ``except ObjectNotFoundError`` keeps working."""

VersionLockMismatchSignal = VersionLockError
"""Prefect 1.4.1's name (``prefect.exceptions``): ``except VersionLockMismatchSignal`` keeps
working."""


class OperationFailedError(ClientError, ValueError):
    """The API ran the mutation but reported it unsuccessful.

    A ``ValueError`` too, as the Prefect ``Client`` documented for failed secret,
    tag-limit and deletion calls.
    """


class APIStatusError(PrefectGQLError):
    """The API answered with a non-2xx HTTP status."""

    def __init__(self, message: str, *, status_code: int, body_excerpt: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.body_excerpt = body_excerpt


class APIConnectionError(PrefectGQLError):
    """The request got no answer: connection refused, reset, DNS failure..."""


class APITimeoutError(APIConnectionError):
    """The request timed out."""


class APIResponseError(PrefectGQLError):
    """The answer was not a usable GraphQL response for this operation."""

    @classmethod
    def from_validation_error(cls, model_name: str, err: ValidationError) -> APIResponseError:
        """An answer whose shape does not match the generated model ``model_name``."""
        from ._validation import describe_validation_error  # noqa: PLC0415 - error path only

        return cls(
            f"the answer to {model_name} does not match the schema: "
            f"{describe_validation_error(err)}"
        )


class FlowRunTimeoutError(PrefectGQLError, TimeoutError):
    """A flow run was still unfinished when ``timeout`` ran out; ``state`` is its last state."""

    def __init__(self, message: str, *, flow_run_id: str, state: object) -> None:
        super().__init__(message)
        self.flow_run_id = flow_run_id
        self.state = state


class LogWriteError(PrefectGQLError, ValueError):
    """Some log entries could not be written; ``unwritten`` lists them, in order."""

    def __init__(self, message: str, *, unwritten: Sequence[Mapping[str, Any]]) -> None:
        super().__init__(message)
        self.unwritten: list[Mapping[str, Any]] = list(unwritten)


class ConfigurationError(PrefectGQLError, ValueError):
    """The settings conflict or lack something this call needs."""


class InvalidInputError(PrefectGQLError, ValueError):
    """An argument is invalid; raised before any request is sent.

    A ``ValueError`` too, as the Prefect ``Client`` documented for bad UUIDs and limits.
    """


class InvalidStateError(InvalidInputError):
    """A serialized State is of an unknown type or malformed."""
