"""FlowSpec serialization, validation and Prefect's flow compression."""

from __future__ import annotations

import base64
import json
import zlib

import pytest
from pydantic import ValidationError

from prefect_gql import (
    EdgeSpec,
    FlowSpec,
    InvalidInputError,
    ParameterSpec,
    TaskSpec,
    compress_flow,
    decompress_flow,
)
from prefect_gql._flow import batched, split_for_registration


def test_serialize_has_prefects_flow_shape() -> None:
    flow = FlowSpec(
        name="etl",
        tasks=[TaskSpec(slug="a-1", name="a", tags=["db"]), TaskSpec(slug="b-1", name="b")],
        edges=[EdgeSpec(upstream_task="a-1", downstream_task="b-1", key="x")],
        parameters=[ParameterSpec(name="day", default="mon", required=False)],
        schedule={"type": "Schedule"},
    )
    serialized = flow.serialize()
    assert serialized["type"] == "prefect.core.flow.Flow"
    assert [task["slug"] for task in serialized["tasks"]] == ["day", "a-1", "b-1"]
    assert serialized["tasks"][1]["tags"] == ["db"]
    assert serialized["edges"][0]["upstream_task"]["slug"] == "a-1"
    assert serialized["edges"][0]["key"] == "x"
    assert serialized["parameters"][0]["default"] == "mon"
    json.dumps(serialized)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"tasks": [TaskSpec(slug="a", name="a"), TaskSpec(slug="a", name="b")]},
            "duplicate task slugs: a",
        ),
        ({"edges": [EdgeSpec(upstream_task="x", downstream_task="y")]}, "unknown task slug 'x'"),
    ],
)
def test_invalid_flows_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        FlowSpec(name="f", **kwargs)


def test_compression_is_prefects() -> None:
    flow = {"name": "f", "tasks": [{"slug": "a"}]}
    compressed = compress_flow(flow)
    expected = base64.b64encode(zlib.compress(json.dumps(flow).encode())).decode()
    assert compressed == expected
    assert decompress_flow(compressed) == flow


def test_bad_compressed_input() -> None:
    with pytest.raises(InvalidInputError):
        decompress_flow("not base64 zlib")
    with pytest.raises(InvalidInputError, match="JSON-serializable"):
        compress_flow({"x": {1, 2}})


def test_split_and_batches() -> None:
    flow_only, tasks, edges = split_for_registration(
        {"name": "f", "tasks": [1, 2, 3], "edges": [4]}
    )
    assert flow_only == {"name": "f", "tasks": [], "edges": []}
    assert tasks == [1, 2, 3]
    assert edges == [4]
    assert list(batched(list(range(5)), 2)) == [[0, 1], [2, 3], [4]]
    with pytest.raises(InvalidInputError):
        list(batched([1], 0))
