"""``Client``: the synchronous driver of the shared plans (see ``_core``)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx
from prefect_gql_generated.client import Operations

from .._base_client import BaseClient
from .._constants import DEFAULT_LIMITS
from .._http.config import EFFECT_FAILURES, AfterHook, Emit, Plan, Send, Sleep, Stepper
from .._http.tls import lazy_verifying_context

__all__ = ["Client"]

T = TypeVar("T")


class Client(BaseClient[httpx.Client, Operations]):
    """A typed client for the Prefect 1.x API (Server and Cloud v1).

    Arguments not given are read from the environment and ``~/.prefect`` (see
    ``Settings``). ``http_client`` lets you bring your own ``httpx.Client`` (proxies,
    certificates, transports); the client does not close one it did not create.
    """

    _operations_class = Operations

    _sleep = staticmethod(time.sleep)
    """How retries wait; tests replace it to count delays instead of sleeping."""

    def _new_http_client(self) -> httpx.Client:
        return httpx.Client(limits=DEFAULT_LIMITS, verify=lazy_verifying_context())

    def _run(self, plan: Plan[T], after: AfterHook | None = None) -> T:
        stepper = Stepper(plan)
        for _ in self._iterate(stepper):
            break
        return stepper.finish(self._config, after)

    def _iterate(self, stepper: Stepper[Any]) -> Iterator[Any]:
        """Perform the plan's effects; ``Emit`` items are yielded to the caller."""
        for effect in stepper.pending():
            if isinstance(effect, Emit):
                yield effect.item
            else:
                stepper.resume(self._perform(effect))

    def _perform(self, effect: Send | Sleep) -> Any:
        """The effect's outcome, or the failure its plan should see."""
        try:
            if isinstance(effect, Send):
                return self._http.send(effect.request, auth=self._auth)
            return self._sleep(effect.seconds)
        except EFFECT_FAILURES as failure:
            return failure

    def close(self) -> None:
        """Close the connections, unless the ``httpx.Client`` was passed in."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
