"""The I/O-free core shared by ``Client`` and ``AsyncClient``.

Every client method is written once, as a *plan*: a generator that yields effects and
receives their outcomes. The clients are thin drivers that perform them:

- ``Send``: send one ``httpx.Request`` and return the ``httpx.Response``;
- ``Sleep``: wait before a retry (or between polls);
- ``Emit``: hand one item to the caller (streaming plans only, see ``ClientStream``).

Plans run generated operations with ``answer = yield from config.operations.x(...)``
(the codegen plugin's ``PlanOperations``), so nothing is dispatched by name. A failure
of an effect is thrown into the plan at its ``yield``: plans use ordinary ``try``.

``ClientMethod`` turns a plan into a method of both clients: ``Client.x(...)`` runs
the plan and returns its result, ``AsyncClient.x(...)`` returns an awaitable of it.
Signature and docstring are the plan's, minus its first (``config``) parameter.
``Stepper`` owns the control flow both drivers share, so each driver only performs an
effect.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable, Coroutine, Generator, Iterator
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import (
    TYPE_CHECKING,
    Any,
    Concatenate,
    Generic,
    ParamSpec,
    Self,
    TypeVar,
    cast,
    overload,
)

import httpx
from prefect_gql_generated.client import PlanOperations

from .._config.backend import Backend
from .._constants import DEFAULT_DEADLINE, MAX_RESPONSE_BYTES
from .._exceptions import PrefectGQLError
from .auth import TokenState
from .retry import RetryPolicy

if TYPE_CHECKING:
    from .._async.client import AsyncClient
    from .._sync.client import Client

__all__ = [
    "EFFECT_FAILURES",
    "ClientConfig",
    "ClientMethod",
    "ClientStream",
    "Effect",
    "Emit",
    "Plan",
    "Send",
    "Sleep",
    "Stepper",
    "Stream",
]

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
P = ParamSpec("P")


@dataclass(frozen=True, slots=True)
class Send:
    request: httpx.Request


@dataclass(frozen=True, slots=True)
class Sleep:
    seconds: float


@dataclass(frozen=True, slots=True)
class Emit:
    """One item of a streaming plan (``ClientStream``) handed to the caller."""

    item: Any


Effect = Send | Sleep | Emit
Plan = Generator[Effect, Any, T]
Stream = Generator[Effect, Any, None]
"""A plan that emits items (pages, state changes, log lines) instead of returning one."""
EFFECT_FAILURES = (httpx.RequestError, PrefectGQLError)
"""What performing an effect may raise that its plan should see."""


class Stepper(Generic[T]):
    """Advances a plan one effect at a time; the drivers only perform the effects.

    ``pending()`` gives the effects to perform in order: the driver hands each outcome
    back with ``resume`` (a failure listed in ``EFFECT_FAILURES`` goes into the plan at
    its ``yield``; any other exception is a bug and propagates), and passes each ``Emit``
    item to its caller (the plan resumes when the next effect is asked for).
    ``finish`` gives the plan's result once it returned.
    """

    __slots__ = ("_plan", "effect", "result")

    def __init__(self, plan: Plan[T]) -> None:
        self._plan = plan
        self.effect: Effect | None = None
        self.result: T | None = None
        self._advance(plan.send, None)

    def pending(self) -> Iterator[Effect]:
        while self.effect is not None:
            effect = self.effect
            yield effect
            if isinstance(effect, Emit) and self.effect is effect:
                self._advance(self._plan.send, None)

    def resume(self, outcome: Any) -> None:
        """Continue the plan with an effect's outcome, or the failure it raised."""
        if isinstance(outcome, EFFECT_FAILURES):
            self._advance(self._plan.throw, outcome)
        else:
            self._advance(self._plan.send, outcome)

    def finish(self, config: ClientConfig, after: AfterHook | None) -> T:
        """The plan's result, once ``after`` (the shell's local work) has run with it."""
        if self.effect is not None:
            raise TypeError("a plan run for its result emitted an item")
        result = cast(T, self.result)
        if after is not None:
            after(config, result)
        return result

    def _advance(self, step: Callable[[Any], Effect], value: Any) -> None:
        try:
            self.effect = step(value)
        except StopIteration as done:
            self.effect = None
            self.result = done.value


@dataclass(frozen=True)
class ClientConfig:
    """Everything a plan needs to know about its client; ``with_options`` copies it.

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

    def base_headers(self) -> dict[str, str]:
        return {"X-PREFECT-CORE-VERSION": self.core_version, **self.headers}

    @cached_property
    def api_url(self) -> httpx.URL:
        """``api_server`` parsed once, not again for every GraphQL request."""
        return httpx.URL(self.api_server)

    @cached_property
    def operations(self) -> PlanOperations:
        """The generated operations as plans sent with this configuration."""
        from .exchange import graphql_exchange  # noqa: PLC0415 - _exchange imports this module

        def exchange(
            query: str, operation_name: str, variables: dict[str, Any], **options: Any
        ) -> Plan[dict[str, Any]]:
            return graphql_exchange(self, query, operation_name, variables, **options)

        return PlanOperations(exchange)


AfterHook = Callable[[ClientConfig, Any], None]
"""Local work after a plan succeeded, done by the shell (e.g. writing a credential file)."""


class _PlanMember:
    """What ``ClientMethod`` and ``ClientStream`` share: the plan's name, docstring and
    signature on the descriptor and on every method it binds.

    The signature is worked out on first use (a bound method, ``inspect.signature``), not
    when the class is defined: ``inspect.signature`` of every plan slowed ``import``.
    """

    def __init__(self, plan: Callable[..., Any]) -> None:
        self._plan = plan
        self.__doc__ = plan.__doc__
        self.__name__ = plan.__name__
        self.__wrapped__ = plan

    def _returns(self, returns: Any) -> object:
        """What the method returns, given what the plan's signature says (``returns``)."""
        raise NotImplementedError

    @cached_property
    def _method_signature(self) -> inspect.Signature:
        """The plan's signature as its method shows it: without ``config``."""
        signature = inspect.signature(self._plan)
        return signature.replace(
            parameters=list(signature.parameters.values())[1:],
            return_annotation=self._returns(signature.return_annotation),
        )

    @cached_property
    def __signature__(self) -> inspect.Signature:
        """``Client.method``'s signature: the method's, after ``self``."""
        client = inspect.Parameter("self", inspect.Parameter.POSITIONAL_ONLY)
        return self._method_signature.replace(
            parameters=[client, *self._method_signature.parameters.values()]
        )

    def __call__(self, client: Any, /, *args: Any, **kwargs: Any) -> Any:
        """``Client.method(client, ...)``, as a plain function defined in the class allows."""
        return self._bind(client, type(client))(*args, **kwargs)

    def _bind(self, client: Any, owner: type[Any]) -> Callable[..., Any]:
        """The method of ``client``, named and signed like the plan."""
        raise NotImplementedError

    def _named(self, method: Callable[..., Any], owner: type[Any]) -> Callable[..., Any]:
        method.__name__ = self.__name__
        method.__qualname__ = f"{owner.__name__}.{self.__name__}"
        method.__doc__ = self.__doc__
        method.__signature__ = self._method_signature  # type: ignore[attr-defined]
        return method


class ClientMethod(_PlanMember, Generic[P, T_co]):
    """A plan as a method of ``Client`` (returns ``T``) and ``AsyncClient`` (awaits ``T``).

    ``after`` runs in the shell once the plan succeeded: plans themselves do no I/O.
    """

    def __init__(
        self,
        plan: Callable[Concatenate[ClientConfig, P], Plan[T_co]],
        *,
        after: Callable[[ClientConfig, T_co], None] | None = None,
    ) -> None:
        super().__init__(plan)
        self._after = after

    def _returns(self, returns: Any) -> object:
        if isinstance(returns, str) and returns.startswith("Plan[") and returns.endswith("]"):
            return returns.removeprefix("Plan[").removesuffix("]")
        return returns

    @overload
    def __get__(self, client: None, owner: type[Any]) -> Self: ...
    @overload
    def __get__(
        self, client: AsyncClient, owner: type[Any]
    ) -> Callable[P, Coroutine[Any, Any, T_co]]: ...
    @overload
    def __get__(self, client: Client, owner: type[Any]) -> Callable[P, T_co]: ...
    def __get__(self, client: Any, owner: type[Any]) -> Any:
        return self if client is None else self._bind(client, owner)

    def _bind(self, client: Any, owner: type[Any]) -> Callable[..., Any]:
        plan = self._plan
        after = self._after

        def method(*args: Any, **kwargs: Any) -> Any:
            return client._run(plan(client._config, *args, **kwargs), after)

        return self._named(method, owner)


class ClientStream(_PlanMember, Generic[P, T_co]):
    """A streaming plan as a method: ``Client.x(...)`` is an iterator of its items,
    ``AsyncClient.x(...)`` an async iterator. The plan emits items with ``Emit``.

    ``item`` names the items' type (a class, or a function returning it for a union),
    which a streaming plan's own return type does not carry.
    """

    def __init__(
        self, plan: Callable[Concatenate[ClientConfig, P], Stream], item: Callable[..., T_co]
    ) -> None:
        super().__init__(plan)
        self._item = item

    def _returns(self, returns: Any) -> object:
        item = self._item
        named = inspect.signature(item).return_annotation if inspect.isfunction(item) else None
        return f"Iterator[{named or getattr(item, '__name__', item)}]"

    @overload
    def __get__(self, client: None, owner: type[Any]) -> Self: ...
    @overload
    def __get__(
        self, client: AsyncClient, owner: type[Any]
    ) -> Callable[P, AsyncIterator[T_co]]: ...
    @overload
    def __get__(self, client: Client, owner: type[Any]) -> Callable[P, Iterator[T_co]]: ...
    def __get__(self, client: Any, owner: type[Any]) -> Any:
        return self if client is None else self._bind(client, owner)

    def _bind(self, client: Any, owner: type[Any]) -> Callable[..., Any]:
        plan = self._plan

        def method(*args: Any, **kwargs: Any) -> Any:
            return client._iterate(Stepper(plan(client._config, *args, **kwargs)))

        return self._named(method, owner)
