"""FlowSpec serialization and validation, Prefect's flow compression, registration helpers."""

from __future__ import annotations

import base64
import json
import zlib
from datetime import timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from prefect_gql._exceptions import InvalidInputError
from prefect_gql._model.flow import (
    EdgeSpec,
    FlowSpec,
    ParameterSpec,
    TaskSpec,
    batched,
    compress_flow,
    decompress_flow,
    split_for_registration,
)
from prefect_gql._model.validation import ensure_json

V = "1.4.1"
TRIGGER = {"fn": "prefect.triggers.all_successful", "kwargs": {}}
NEVER_USE = {"fn": "prefect.engine.cache_validators.never_use", "kwargs": {}}


def task_dict(slug: str, name: str, **changes: Any) -> dict[str, Any]:
    task: dict[str, Any] = {
        "type": "prefect.core.task.Task",
        "name": name,
        "slug": slug,
        "description": None,
        "tags": [],
        "max_retries": 0,
        "retry_delay": None,
        "inputs": {},
        "outputs": "typing.Any",
        "timeout": None,
        "trigger": TRIGGER,
        "skip_on_upstream_skip": True,
        "cache_for": None,
        "cache_key": None,
        "cache_validator": NEVER_USE,
        "auto_generated": False,
        "mapped": False,
        "__version__": V,
    }
    return task | changes


def etl() -> FlowSpec:
    return FlowSpec(
        name="etl",
        tasks=[
            TaskSpec(
                slug="extract-1",
                name="extract",
                tags=["db"],
                max_retries=2,
                retry_delay=timedelta(minutes=1),
                cache_key="k",
            ),
            TaskSpec(slug="load-1", name="load", timeout=30),
        ],
        edges=[
            EdgeSpec(upstream_task="day", downstream_task="extract-1", key="day"),
            EdgeSpec(upstream_task="extract-1", downstream_task="load-1", key="rows", mapped=True),
        ],
        parameters=[ParameterSpec(name="day", default="mon")],
        schedule={"type": "Schedule", "clocks": []},
        run_config={"type": "UniversalRun", "labels": ["x"]},
        description="nightly",
    )


def test_serialize_is_prefects_flow_schema_dump() -> None:
    assert etl().serialize() == {
        "name": "etl",
        "type": "prefect.core.flow.Flow",
        "version": None,
        "description": "nightly",
        "schedule": {"type": "Schedule", "clocks": []},
        "parameters": [
            {
                "type": "prefect.core.parameter.Parameter",
                "name": "day",
                "slug": "day",
                "default": "mon",
                "required": False,
                "description": None,
                "tags": [],
                "outputs": "typing.Any",
                "__version__": V,
            }
        ],
        "tasks": [
            task_dict("day", "day", type="prefect.core.parameter.Parameter"),
            task_dict(
                "extract-1",
                "extract",
                tags=["db"],
                max_retries=2,
                retry_delay=60,
                cache_key="k",
            ),
            task_dict("load-1", "load", timeout=30, mapped=True),
        ],
        "edges": [
            {
                "upstream_task": {"slug": "day", "__version__": V},
                "downstream_task": {"slug": "extract-1", "__version__": V},
                "key": "day",
                "mapped": False,
                "flattened": False,
                "__version__": V,
            },
            {
                "upstream_task": {"slug": "extract-1", "__version__": V},
                "downstream_task": {"slug": "load-1", "__version__": V},
                "key": "rows",
                "mapped": True,
                "flattened": False,
                "__version__": V,
            },
        ],
        "reference_tasks": [],
        "environment": None,
        "storage": None,
        "run_config": {"type": "UniversalRun", "labels": ["x"]},
        "__version__": V,
    }


def test_serialized_flow_is_plain_json() -> None:
    serialized = etl().serialize()
    assert json.loads(json.dumps(serialized)) == serialized


def test_task_options() -> None:
    task = TaskSpec(
        slug="t",
        name="t",
        retry_delay=90.5,
        max_retries=1,
        cache_for=timedelta(hours=1),
        trigger="prefect.triggers.all_finished",
        cache_validator=None,
        mapped=True,
        auto_generated=True,
        inputs={"x": {"required": True, "type": "<class 'int'>"}},
        outputs="<class 'str'>",
    ).serialize()
    assert task["retry_delay"] == 90
    assert task["cache_for"] == 3600
    assert task["trigger"] == {"fn": "prefect.triggers.all_finished", "kwargs": {}}
    assert task["cache_validator"] is None
    assert task["mapped"] is True
    assert task["auto_generated"] is True
    assert task["inputs"] == {"x": {"required": True, "type": "<class 'int'>"}}
    assert task["outputs"] == "<class 'str'>"


def test_a_parameter_slug_can_differ_from_its_name() -> None:
    flow = FlowSpec(
        name="f",
        parameters=[ParameterSpec(name="day", slug="day-param", required=True)],
        tasks=[TaskSpec(slug="a", name="a")],
        edges=[EdgeSpec(upstream_task="day-param", downstream_task="a", key="day")],
    ).serialize()
    assert flow["parameters"][0]["slug"] == "day-param"
    assert flow["parameters"][0]["required"] is True
    assert [task["slug"] for task in flow["tasks"]] == ["day-param", "a"]


def test_specs_accept_plain_dicts() -> None:
    flow = FlowSpec(
        name="f",
        tasks=[{"slug": "a", "name": "a"}, {"slug": "b", "name": "b"}],
        edges=[{"upstream_task": "a", "downstream_task": "b"}],
    )
    assert flow.tasks[1] == TaskSpec(slug="b", name="b")
    assert flow.serialize()["edges"][0]["downstream_task"]["slug"] == "b"


INVALID_FLOWS = [
    (
        {"tasks": [TaskSpec(slug="a", name="a"), TaskSpec(slug="a", name="b")]},
        "invalid FlowSpec: duplicate task slugs: 'a'",
    ),
    (
        {"parameters": [ParameterSpec(name="x")], "tasks": [TaskSpec(slug="x", name="x")]},
        "duplicate task slugs: 'x'",
    ),
    (
        {
            "tasks": [TaskSpec(slug="a", name="a")],
            "edges": [EdgeSpec(upstream_task="a", downstream_task="zz")],
        },
        r"edge 0 \('a' -> 'zz'\) refers to unknown task slug 'zz'",
    ),
    ({"tasks": [{"slug": "a"}]}, "tasks.0.name: Field required"),
    (
        {"schedule": {"clocks": {1, 2}}},
        r"schedule: the value\[.clocks.\] is a set, not a JSON value",
    ),
    ({"run_config": float("inf")}, "run_config: the value is inf, which JSON cannot hold"),
    ({"name": ""}, "name: String should have at least 1 character"),
    ({"owner": "me"}, "owner: Extra inputs are not permitted"),
    (
        {"tasks": [{"slug": "a", "name": "a", "max_retries": 3}]},
        "task 'a': max_retries > 0 needs a retry_delay",
    ),
    ({"tasks": [{"slug": "a", "name": "a", "max_retries": -1}]}, "tasks.0.max_retries: "),
]


@pytest.mark.parametrize(("changes", "message"), INVALID_FLOWS)
def test_invalid_flows_raise_invalid_input_error(changes: dict[str, Any], message: str) -> None:
    arguments: dict[str, Any] = {"name": "f"} | changes
    with pytest.raises(InvalidInputError, match=message) as raised:
        FlowSpec(**arguments)
    assert isinstance(raised.value.__cause__, ValidationError)


def test_specs_are_immutable() -> None:
    flow = etl()
    with pytest.raises(AttributeError, match="immutable"):
        flow.name = "other"  # type: ignore[misc]


def test_compress_flow_is_base64_of_zlib_of_json() -> None:
    serialized = etl().serialize()
    expected = base64.b64encode(zlib.compress(json.dumps(serialized).encode())).decode("utf-8")
    compressed = compress_flow(serialized)
    assert compressed == expected
    assert json.loads(zlib.decompress(base64.b64decode(compressed))) == serialized
    assert decompress_flow(compressed) == serialized


@pytest.mark.parametrize(
    ("compressed", "message"),
    [
        ("not base64 zlib!", "not a compressed serialized flow"),
        (base64.b64encode(b"plain text").decode(), "not a compressed serialized flow"),
        (base64.b64encode(zlib.compress(b"{nope")).decode(), "not a compressed serialized flow"),
        (base64.b64encode(zlib.compress(b"[1, 2]")).decode(), "must hold a JSON object, not list"),
    ],
)
def test_decompress_refuses_what_is_not_a_compressed_flow(compressed: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        decompress_flow(compressed)


def test_compress_refuses_non_json() -> None:
    with pytest.raises(InvalidInputError, match="must be JSON-serializable"):
        compress_flow({"tasks": {1, 2}})


def test_split_for_registration() -> None:
    serialized = etl().serialize()
    flow_only, tasks, edges = split_for_registration(serialized)
    assert flow_only["tasks"] == []
    assert flow_only["edges"] == []
    assert {k: v for k, v in flow_only.items() if k not in ("tasks", "edges")} == {
        k: v for k, v in serialized.items() if k not in ("tasks", "edges")
    }
    assert tasks == serialized["tasks"]
    assert edges == serialized["edges"]
    assert len(serialized["tasks"]) == 3


def test_split_a_flow_without_tasks_or_edges() -> None:
    assert split_for_registration({"name": "f"}) == (
        {"name": "f", "tasks": [], "edges": []},
        [],
        [],
    )


@pytest.mark.parametrize("tasks", ["abc", [1, 2], {"slug": "a"}])
def test_split_refuses_malformed_tasks(tasks: Any) -> None:
    with pytest.raises(InvalidInputError, match="'tasks' must be a list of objects"):
        split_for_registration({"name": "f", "tasks": tasks})


def test_batched() -> None:
    assert list(batched(range(5), 2)) == [[0, 1], [2, 3], [4]]
    assert [len(batch) for batch in batched(list(range(1001)))] == [500, 500, 1]
    assert list(batched([], 3)) == []
    with pytest.raises(InvalidInputError, match="at least 1"):
        list(batched([1], 0))


def test_ensure_json() -> None:
    ensure_json({"a": [1, 2.5, None, True, "x"]}, "parameters")
    with pytest.raises(InvalidInputError, match="parameters must be JSON-serializable") as raised:
        ensure_json({"x": object()}, "parameters")
    assert isinstance(raised.value, ValueError)
    with pytest.raises(InvalidInputError, match="context must be JSON-serializable"):
        ensure_json({"x": float("nan")}, "context")
