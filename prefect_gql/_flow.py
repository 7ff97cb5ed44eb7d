"""``FlowSpec``: a flow described as data, for ``register``.

There is no Prefect ``Flow`` class here. A ``FlowSpec`` serializes to the JSON
Prefect's ``FlowSchema`` wrote (what ``create_flow`` stores), and ``register`` sends
it as 1.4.1 did: the flow without tasks and edges, then tasks and edges in batches.
A serialized flow dict (``flow.serialize()`` from Prefect) is accepted as well.
"""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, TypeVar

from prefect_gql_generated.json_value import JSONValue
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ._exceptions import InvalidInputError

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
T = TypeVar("T")


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class TaskSpec(_Spec):
    slug: str
    name: str
    type: str = "prefect.core.task.Task"
    description: str | None = None
    tags: list[str] = Field(default_factory=list)
    max_retries: int = Field(default=0, ge=0)
    retry_delay: float | None = Field(default=None, ge=0, description="seconds")
    timeout: int | None = None
    mapped: bool = False
    auto_generated: bool = False
    cache_key: str | None = None
    trigger: str | None = None
    skip_on_upstream_skip: bool = True
    inputs: dict[str, JSONValue] = Field(default_factory=dict)
    outputs: JSONValue = None

    def serialize(self) -> dict[str, Any]:
        task = self.model_dump(mode="json")
        task["retry_delay"] = self.retry_delay
        task["__version__"] = SERIALIZER_VERSION
        return task


class EdgeSpec(_Spec):
    upstream_task: str
    downstream_task: str
    key: str | None = None
    mapped: bool = False

    def serialize(self) -> dict[str, Any]:
        return {
            "upstream_task": {"slug": self.upstream_task, "__version__": SERIALIZER_VERSION},
            "downstream_task": {"slug": self.downstream_task, "__version__": SERIALIZER_VERSION},
            "key": self.key,
            "mapped": self.mapped,
            "flattened": False,
            "__version__": SERIALIZER_VERSION,
        }


class ParameterSpec(_Spec):
    name: str
    default: JSONValue = None
    required: bool = False

    def serialize(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "slug": self.name,
            "default": self.default,
            "required": self.required,
            "type": "prefect.core.parameter.Parameter",
            "tags": [],
            "outputs": "typing.Any",
            "__version__": SERIALIZER_VERSION,
        }


class FlowSpec(_Spec):
    """A flow: its tasks, the edges between them, and its run-time settings as JSON."""

    name: str
    tasks: list[TaskSpec] = Field(default_factory=list)
    edges: list[EdgeSpec] = Field(default_factory=list)
    parameters: list[ParameterSpec] = Field(default_factory=list)
    schedule: JSONValue = None
    environment: JSONValue = None
    storage: JSONValue = None
    run_config: JSONValue = None
    description: str | None = None

    @model_validator(mode="after")
    def _edges_join_known_tasks(self) -> FlowSpec:
        slugs = [task.slug for task in self.tasks] + [p.name for p in self.parameters]
        duplicates = sorted({slug for slug in slugs if slugs.count(slug) > 1})
        if duplicates:
            raise ValueError(f"duplicate task slugs: {', '.join(duplicates)}")
        for edge in self.edges:
            for end in (edge.upstream_task, edge.downstream_task):
                if end not in slugs:
                    raise ValueError(f"edge refers to unknown task slug {end!r}")
        return self

    def serialize(self) -> dict[str, Any]:
        """The JSON Prefect's ``FlowSchema`` dumps for this flow."""
        return {
            "name": self.name,
            "type": "prefect.core.flow.Flow",
            "description": self.description,
            "schedule": self.schedule,
            "parameters": [parameter.serialize() for parameter in self.parameters],
            "tasks": [parameter.serialize() for parameter in self.parameters]
            + [task.serialize() for task in self.tasks],
            "edges": [edge.serialize() for edge in self.edges],
            "reference_tasks": [],
            "environment": self.environment,
            "storage": self.storage,
            "run_config": self.run_config,
            "__version__": SERIALIZER_VERSION,
        }


def compress_flow(serialized: Mapping[str, Any]) -> str:
    """Prefect's ``compression.compress``: base64 of zlib of the JSON text."""
    try:
        text = json.dumps(serialized)
    except (TypeError, ValueError) as err:
        raise InvalidInputError(f"the serialized flow is not JSON-serializable: {err}") from err
    return base64.b64encode(zlib.compress(text.encode())).decode("utf-8")


def decompress_flow(compressed: str) -> dict[str, Any]:
    try:
        value = json.loads(zlib.decompress(base64.b64decode(compressed)))
    except (ValueError, zlib.error) as err:
        raise InvalidInputError(f"not a compressed serialized flow: {err}") from err
    if not isinstance(value, dict):
        raise InvalidInputError("a compressed flow must hold a JSON object")
    return value


def split_for_registration(
    serialized: Mapping[str, Any],
) -> tuple[dict[str, Any], list[Any], list[Any]]:
    """The flow without tasks and edges, then its tasks, then its edges (1.4.1's ``register``)."""
    tasks = list(serialized.get("tasks") or [])
    edges = list(serialized.get("edges") or [])
    flow_only = {**serialized, "tasks": [], "edges": []}
    return flow_only, tasks, edges


def batched(items: Sequence[T], size: int) -> Iterator[list[T]]:
    if size < 1:
        raise InvalidInputError(f"batch size must be >= 1, got {size}")
    for start in range(0, len(items), size):
        yield list(items[start : start + size])
