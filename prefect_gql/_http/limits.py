"""Bounds on one attempt's answer: how long its body may take and how large it may be.

``_exchange`` puts a ``ReadLimits`` on each request; the auth flow, which reads every
response, reads the body through ``bounded_stream`` so that a trickling or endless
answer ends the attempt instead of holding the call. No I/O of its own.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx

from .._exceptions import APIResponseError

__all__ = ["READ_LIMITS_EXTENSION", "ReadLimits", "bound_response"]

READ_LIMITS_EXTENSION = "prefect_gql.read_limits"


@dataclass(frozen=True, slots=True)
class ReadLimits:
    deadline: float
    """``time.monotonic()`` by which the whole body must have arrived."""
    max_bytes: int


class _BoundedStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    def __init__(self, inner: httpx.SyncByteStream | httpx.AsyncByteStream, limits: ReadLimits):
        self._inner = inner
        self._limits = limits
        self._size = 0

    def _check(self, chunk: bytes) -> bytes:
        self._size += len(chunk)
        if self._size > self._limits.max_bytes:
            raise APIResponseError(
                f"the answer is larger than {self._limits.max_bytes:,} bytes "
                "(max_response_size); not read"
            )
        if time.monotonic() > self._limits.deadline:
            raise httpx.ReadTimeout("the answer's body did not arrive in time")
        return chunk

    def __iter__(self) -> Iterator[bytes]:
        assert isinstance(self._inner, httpx.SyncByteStream)
        for chunk in self._inner:
            yield self._check(chunk)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        assert isinstance(self._inner, httpx.AsyncByteStream)
        async for chunk in self._inner:
            yield self._check(chunk)

    def close(self) -> None:
        assert isinstance(self._inner, httpx.SyncByteStream)
        self._inner.close()

    async def aclose(self) -> None:
        assert isinstance(self._inner, httpx.AsyncByteStream)
        await self._inner.aclose()


def bound_response(response: httpx.Response) -> httpx.Response:
    """Make reading ``response`` stop at its request's limits (a no-op without them)."""
    limits = response.request.extensions.get(READ_LIMITS_EXTENSION)
    if isinstance(limits, ReadLimits):
        length = response.headers.get("content-length", "")
        if length.isdigit() and int(length) > limits.max_bytes:
            raise APIResponseError(
                f"the answer is larger than {limits.max_bytes:,} bytes "
                f"(max_response_size): Content-Length {int(length):,}; not read"
            )
        response.stream = _BoundedStream(response.stream, limits)
    return response
