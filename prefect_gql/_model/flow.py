"""``FlowSpec``: a flow described as data, for ``Client.register``.

There is no Prefect ``Flow`` class here. A ``FlowSpec`` lists the tasks, parameters and
edges of a flow and its schedule, environment, storage and run config as JSON, and
``serialize()`` writes what Prefect 1.4.1's ``FlowSchema`` dumps for such a flow (what
``create_flow`` stores as ``serialized_flow``). Parameters are tasks too, as in Prefect:
they appear under ``parameters`` and again under ``tasks``.

``register`` sends a serialized flow as 1.4.1 did: ``split_for_registration`` gives the
flow without its tasks and edges, then the tasks and edges, sent in ``batched`` groups of
500; ``compress_flow`` is Prefect's ``compression.compress`` for
``create_flow_from_compressed_string``.

A spec is checked when built: task and parameter slugs are unique and every edge joins
known slugs; otherwise, and for fields of the wrong type, ``InvalidInputError`` is raised
naming the problem. Specs are immutable.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from datetime import timedelta
from typing import Any, TypeVar

from pydantic import (
    ConfigDict,
    Field,
    model_validator,
)

from .._constants import REGISTRATION_BATCH_SIZE
from .._exceptions import InvalidInputError
from .validation import ImmutableInputModel, StrictJSON

__all__ = [
    "EdgeSpec",
    "FlowSpec",
    "ParameterSpec",
    "TaskSpec",
    "batched",
    "compress_flow",
    "decompress_flow",
    "split_for_registration",
]

SERIALIZER_VERSION = "1.4.1"
FLOW_TYPE = "prefect.core.flow.Flow"
TASK_TYPE = "prefect.core.task.Task"
PARAMETER_TYPE = "prefect.core.parameter.Parameter"
DEFAULT_TRIGGER = "prefect.triggers.all_successful"
DEFAULT_CACHE_VALIDATOR = "prefect.engine.cache_validators.never_use"
ANY_OUTPUT = "typing.Any"

T = TypeVar("T")


def _seconds(value: timedelta | None) -> int | None:
    """Prefect's ``fields.TimeDelta``: whole seconds."""
    return None if value is None else int(value.total_seconds())


def _function_reference(name: str | None) -> dict[str, Any] | None:
    """1.x's ``StatefulFunctionReference``: ``{"fn": name, "kwargs": {}}``."""
    return None if name is None else {"fn": name, "kwargs": {}}


class _Spec(ImmutableInputModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class TaskSpec(_Spec):
    """One task. ``retry_delay``/``cache_for``/``timeout`` take seconds or a timedelta.

    ``trigger`` and ``cache_validator`` are qualified function names, as Prefect writes
    them (``prefect.triggers.all_successful``).
    """

    slug: str = Field(min_length=1)
    name: str
    type: str = TASK_TYPE
    description: str | None = None
    tags: list[str] = Field(default_factory=list)
    max_retries: int = Field(default=0, ge=0)
    retry_delay: timedelta | None = None
    timeout: int | None = Field(default=None, ge=0)
    trigger: str | None = DEFAULT_TRIGGER
    skip_on_upstream_skip: bool = True
    cache_for: timedelta | None = None
    cache_key: str | None = None
    cache_validator: str | None = DEFAULT_CACHE_VALIDATOR
    mapped: bool = False
    auto_generated: bool = False
    inputs: dict[str, StrictJSON] = Field(default_factory=dict)
    outputs: StrictJSON = ANY_OUTPUT

    @model_validator(mode="after")
    def _retries_have_a_delay(self) -> TaskSpec:
        if self.max_retries > 0 and self.retry_delay is None:
            raise ValueError(f"task {self.slug!r}: max_retries > 0 needs a retry_delay")
        return self

    def serialize(self) -> dict[str, Any]:
        """The task as Prefect 1.4.1's ``TaskSchema`` dumps it (plus ``mapped``)."""
        return {
            "type": self.type,
            "name": self.name,
            "slug": self.slug,
            "description": self.description,
            "tags": list(self.tags),
            "max_retries": self.max_retries,
            "retry_delay": _seconds(self.retry_delay),
            "inputs": dict(self.inputs),
            "outputs": self.outputs,
            "timeout": self.timeout,
            "trigger": _function_reference(self.trigger),
            "skip_on_upstream_skip": self.skip_on_upstream_skip,
            "cache_for": _seconds(self.cache_for),
            "cache_key": self.cache_key,
            "cache_validator": _function_reference(self.cache_validator),
            "auto_generated": self.auto_generated,
            "mapped": self.mapped,
            "__version__": SERIALIZER_VERSION,
        }


class EdgeSpec(_Spec):
    """Data flowing from one task to another, by slug; ``key`` is the downstream argument."""

    upstream_task: str
    downstream_task: str
    key: str | None = None
    mapped: bool = False
    flattened: bool = False

    def serialize(self) -> dict[str, Any]:
        """The edge as Prefect 1.4.1's ``EdgeSchema`` dumps it (tasks as ``{"slug": ...}``)."""
        return {
            "upstream_task": {"slug": self.upstream_task, "__version__": SERIALIZER_VERSION},
            "downstream_task": {"slug": self.downstream_task, "__version__": SERIALIZER_VERSION},
            "key": self.key,
            "mapped": self.mapped,
            "flattened": self.flattened,
            "__version__": SERIALIZER_VERSION,
        }


class ParameterSpec(_Spec):
    """A flow parameter; its ``slug`` is its ``name`` unless given."""

    name: str = Field(min_length=1)
    slug: str | None = None
    default: StrictJSON = None
    required: bool = False
    description: str | None = None
    tags: list[str] = Field(default_factory=list)

    @property
    def task_slug(self) -> str:
        return self.slug if self.slug is not None else self.name

    def serialize(self) -> dict[str, Any]:
        """The parameter as Prefect 1.4.1's ``ParameterSchema`` dumps it."""
        return {
            "type": PARAMETER_TYPE,
            "name": self.name,
            "slug": self.task_slug,
            "default": self.default,
            "required": self.required,
            "description": self.description,
            "tags": list(self.tags),
            "outputs": ANY_OUTPUT,
            "__version__": SERIALIZER_VERSION,
        }

    def as_task(self) -> TaskSpec:
        """The parameter as a task of the flow (Prefect lists parameters under ``tasks``)."""
        return TaskSpec(
            slug=self.task_slug,
            name=self.name,
            type=PARAMETER_TYPE,
            description=self.description,
            tags=self.tags,
        )


class FlowSpec(_Spec):
    """A flow: its tasks, parameters and edges, and its run-time settings as JSON."""

    name: str = Field(min_length=1)
    tasks: list[TaskSpec] = Field(default_factory=list)
    edges: list[EdgeSpec] = Field(default_factory=list)
    parameters: list[ParameterSpec] = Field(default_factory=list)
    schedule: StrictJSON = None
    environment: StrictJSON = None
    storage: StrictJSON = None
    run_config: StrictJSON = None
    version: str | None = None
    description: str | None = None

    @model_validator(mode="after")
    def _edges_join_known_tasks(self) -> FlowSpec:
        slugs = [parameter.task_slug for parameter in self.parameters]
        slugs += [task.slug for task in self.tasks]
        duplicates = sorted(slug for slug, count in Counter(slugs).items() if count > 1)
        if duplicates:
            raise ValueError(f"duplicate task slugs: {', '.join(map(repr, duplicates))}")
        known = set(slugs)
        for index, edge in enumerate(self.edges):
            unknown = [s for s in (edge.upstream_task, edge.downstream_task) if s not in known]
            if unknown:
                raise ValueError(
                    f"edge {index} ({edge.upstream_task!r} -> {edge.downstream_task!r}) "
                    f"refers to unknown task slug {unknown[0]!r}"
                )
        return self

    def serialize(self) -> dict[str, Any]:
        """The JSON Prefect 1.4.1's ``FlowSchema`` dumps for this flow.

        A task is marked ``mapped`` if its spec says so or an edge into it is mapped,
        as the Server computes it.
        """
        mapped_into = {edge.downstream_task for edge in self.edges if edge.mapped}
        tasks = [parameter.as_task().serialize() for parameter in self.parameters]
        for task in self.tasks:
            serialized = task.serialize()
            serialized["mapped"] = task.mapped or task.slug in mapped_into
            tasks.append(serialized)
        return {
            "name": self.name,
            "type": FLOW_TYPE,
            "version": self.version,
            "description": self.description,
            "schedule": self.schedule,
            "parameters": [parameter.serialize() for parameter in self.parameters],
            "tasks": tasks,
            "edges": [edge.serialize() for edge in self.edges],
            "reference_tasks": [],
            "environment": self.environment,
            "storage": self.storage,
            "run_config": self.run_config,
            "__version__": SERIALIZER_VERSION,
        }


def compress_flow(serialized: Mapping[str, Any]) -> str:
    """Prefect's ``compression.compress``: base64 of zlib of the JSON text, as a str."""
    try:
        text = json.dumps(serialized)
    except (TypeError, ValueError, RecursionError) as err:
        raise InvalidInputError(f"the serialized flow must be JSON-serializable: {err}") from err
    return base64.b64encode(zlib.compress(text.encode())).decode("utf-8")


def decompress_flow(compressed: str) -> dict[str, Any]:
    """The serialized flow ``compress_flow`` (or Prefect) compressed."""
    try:
        value = json.loads(zlib.decompress(base64.b64decode(compressed, validate=True)))
    except (binascii.Error, zlib.error, ValueError, TypeError) as err:
        raise InvalidInputError(f"not a compressed serialized flow: {err}") from err
    if not isinstance(value, dict):
        raise InvalidInputError(
            f"a compressed flow must hold a JSON object, not {type(value).__name__}"
        )
    return value


def _objects(serialized: Mapping[str, Any], key: str) -> list[dict[str, Any]]:
    items = serialized.get(key)
    if items is None:
        return []
    if not isinstance(items, list | tuple) or not all(isinstance(i, Mapping) for i in items):
        raise InvalidInputError(f"the serialized flow's {key!r} must be a list of objects")
    return [dict(item) for item in items]


def split_for_registration(
    serialized: Mapping[str, Any],
) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    """The flow with empty ``tasks`` and ``edges``, then its tasks, then its edges.

    1.4.1's ``register`` creates the flow this way and adds the tasks and edges after.
    """
    tasks = _objects(serialized, "tasks")
    edges = _objects(serialized, "edges")
    flow_only = {**serialized, "tasks": [], "edges": []}
    return flow_only, tasks, edges


def batched(items: Iterable[T], size: int = REGISTRATION_BATCH_SIZE) -> Iterator[list[T]]:
    """``items`` in lists of ``size`` (the last one shorter)."""
    if size < 1:
        raise InvalidInputError(f"batch size must be at least 1, got {size}")
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch
