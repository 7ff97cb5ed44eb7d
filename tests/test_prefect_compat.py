"""Prefect 1.4.1's own objects converted as its client sent them, with the real Prefect.

States, flows and run configs are built with Prefect and converted by
``prefect_gql._model.prefect_compat``; the result must be exactly the JSON Prefect itself
serializes, and a converted flow must register on the embedded server.
"""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from prefect_gql import Client
from prefect_gql._exceptions import InvalidInputError, InvalidStateError
from prefect_gql._model import states as ours
from prefect_gql._model.flow import compress_flow, decompress_flow, split_for_registration
from prefect_gql._model.prefect_compat import (
    flow_from_prefect,
    is_prefect_flow,
    is_prefect_object,
    is_prefect_run_config,
    is_prefect_state,
    run_config_from_prefect,
    state_from_prefect,
)
from prefect_gql.server import LocalServer

with warnings.catch_warnings():
    # Prefect 1.4.1 warns about its own dependencies when imported (mypy_extensions'
    # TypedDict, a marshmallow 4 deprecation): Prefect's warnings, not ours.
    warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"prefect\.")
    import prefect
    from prefect import Flow, Parameter, task
    from prefect.engine import (
        result as prefect_result,
        results as prefect_results,
        state as prefect_state,
    )
    from prefect.run_configs import DockerRun, KubernetesRun, LocalRun, UniversalRun
    from prefect.schedules import Schedule
    from prefect.schedules.clocks import CronClock, IntervalClock
    from prefect.storage import Local
    from prefect.utilities.graphql import EnumValue as PrefectEnumValue

# marshmallow 3 warns, while Prefect's schemas dump, about options marshmallow 4 drops.
pytestmark = pytest.mark.filterwarnings("ignore::marshmallow.warnings.RemovedInMarshmallow4Warning")

START = datetime(2020, 6, 17, 12, 0, tzinfo=UTC)


def wire(prefect_object: Any) -> Any:
    """What Prefect's client puts in the request: ``serialize()`` as JSON."""
    return json.loads(json.dumps(prefect_object.serialize()))


# -- states -------------------------------------------------------------------------------


def prefect_state_classes() -> list[type[prefect_state.State]]:
    """Every concrete state class Prefect 1.4.1 defines (State and _MetaState are abstract)."""
    return sorted(
        (
            cls
            for cls in vars(prefect_state).values()
            if inspect.isclass(cls)
            and issubclass(cls, prefect_state.State)
            and cls not in (prefect_state.State, prefect_state._MetaState)
        ),
        key=lambda cls: cls.__name__,
    )


def class_specific_arguments(cls: type[prefect_state.State]) -> dict[str, Any]:
    arguments: dict[str, Any] = {}
    if issubclass(cls, prefect_state.Scheduled | prefect_state.Queued):
        arguments["start_time"] = START
    if issubclass(cls, prefect_state.Retrying):
        arguments["run_count"] = 2
    if issubclass(cls, prefect_state._MetaState):
        arguments["state"] = prefect_state.Running(message="inner")
    if issubclass(cls, prefect_state.Looped):
        arguments["loop_count"] = 3
    if issubclass(cls, prefect_state.Mapped):
        arguments["map_states"] = [prefect_state.Success(), prefect_state.Failed()]
    if issubclass(cls, prefect_state.Cached):
        arguments.update(
            cached_parameters={"p": 1},
            cached_result_expiration=START + timedelta(days=1),
            hashed_inputs={"x": "deadbeef"},
        )
    return arguments


PREDICATES = [
    "is_pending",
    "is_running",
    "is_finished",
    "is_successful",
    "is_failed",
    "is_skipped",
    "is_scheduled",
    "is_retrying",
    "is_cached",
    "is_mapped",
    "is_looped",
    "is_queued",
    "is_submitted",
    "is_meta_state",
]


def test_prefect_141_has_the_21_state_classes_we_model() -> None:
    names = {cls.__name__ for cls in prefect_state_classes()}
    assert names == set(ours.STATE_TYPES)


@pytest.mark.parametrize("cls", prefect_state_classes(), ids=lambda cls: cls.__name__)
def test_every_prefect_state_converts_to_the_json_prefect_sends(
    cls: type[prefect_state.State],
) -> None:
    theirs = cls(
        message=f"{cls.__name__} message",
        context={"task_name": "t", "n": [1, 2]},
        cached_inputs={"x": prefect_results.PrefectResult(location="1")},
        **class_specific_arguments(cls),
    )
    converted = state_from_prefect(theirs)

    assert type(converted).__name__ == cls.__name__
    assert isinstance(converted, ours.State)
    assert converted.to_wire() == wire(theirs)


@pytest.mark.parametrize("cls", prefect_state_classes(), ids=lambda cls: cls.__name__)
def test_converted_states_answer_the_is_predicates_as_prefects_do(
    cls: type[prefect_state.State],
) -> None:
    theirs = cls(**class_specific_arguments(cls))
    converted = state_from_prefect(theirs)
    answers = {name: getattr(converted, name)() for name in PREDICATES}
    assert answers == {name: getattr(theirs, name)() for name in PREDICATES}


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        # 1.4.1 never sends the value: an unpersisted one is a Result without location.
        (42, {"type": "Result", "location": None}),
        (
            prefect_results.PrefectResult(value=42, location="42"),
            {"type": "PrefectResult", "location": "42"},
        ),
        (
            prefect_results.LocalResult(dir="/srv/results", location="/srv/results/a.prefect"),
            {"type": "LocalResult", "dir": "/srv/results", "location": "/srv/results/a.prefect"},
        ),
        (
            prefect_results.S3Result(bucket="bucket", location="key"),
            {"type": "S3Result", "bucket": "bucket", "location": "key"},
        ),
        (
            prefect_results.GCSResult(bucket="bucket", location="key"),
            {"type": "GCSResult", "bucket": "bucket", "location": "key"},
        ),
        (
            prefect_results.AzureResult(container="box", location="key"),
            {"type": "AzureResult", "container": "box", "location": "key"},
        ),
        (prefect_results.ConstantResult(value=3), {"type": "ConstantResult", "location": None}),
        (prefect_result.NoResult, {"type": "NoResultType"}),
    ],
    ids=lambda value: type(value).__name__,
)
def test_results_travel_as_prefect_serializes_them(result: Any, expected: dict[str, Any]) -> None:
    theirs = prefect_state.Success(message="done", result=result)
    converted = state_from_prefect(theirs)
    assert converted.to_wire() == wire(theirs)
    assert converted.to_wire()["_result"] == {**expected, "__version__": prefect.__version__}


class ProjectResult(prefect_result.Result):
    """A user's own Result subclass: Prefect writes it as a CustomResult."""


def test_a_custom_result_subclass_is_a_custom_result() -> None:
    theirs = prefect_state.Success(result=ProjectResult(location="somewhere"))
    converted = state_from_prefect(theirs)
    assert isinstance(converted.result, ours.CustomResult)
    assert converted.to_wire() == wire(theirs)


def test_cached_keeps_its_inputs_parameters_expiration_and_hashes() -> None:
    theirs = prefect_state.Cached(
        message="Cached",
        result=prefect_results.PrefectResult(value=42, location="42"),
        cached_inputs={"x": prefect_results.PrefectResult(location="1")},
        cached_parameters={"p": 1},
        cached_result_expiration=START,
        hashed_inputs={"x": "deadbeef"},
    )
    converted = state_from_prefect(theirs)
    assert isinstance(converted, ours.Cached)
    assert converted.cached_inputs.keys() == {"x"}
    assert isinstance(converted.cached_inputs["x"], ours.PrefectResult)
    assert converted.cached_inputs["x"].location == "1"
    assert converted.cached_parameters == {"p": 1}
    assert converted.cached_result_expiration == START
    assert converted.hashed_inputs == {"x": "deadbeef"}
    assert converted.to_wire() == wire(theirs)


def test_meta_states_keep_the_state_they_wrap() -> None:
    theirs = prefect_state.Submitted(
        message="submitted", state=prefect_state.Scheduled(start_time=START)
    )
    converted = state_from_prefect(theirs)
    assert isinstance(converted, ours.Submitted)
    assert isinstance(converted.state, ours.Scheduled)
    assert converted.state.start_time == START


def test_a_prefect_state_subclass_of_a_user_is_recognised() -> None:
    class Deferred(prefect_state.Scheduled):
        pass

    assert is_prefect_state(Deferred())
    # Prefect's StateSchema only knows its own classes: the user class cannot be sent.
    with pytest.raises(
        InvalidStateError,
        match=r"Prefect cannot serialize the Deferred state: .*Unsupported object type: Deferred",
    ):
        state_from_prefect(Deferred())


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            prefect_state.State(),
            "Prefect cannot serialize the State state: .*Unsupported object type: State",
        ),
        (
            prefect_state.Success(context={"handle": object()}),
            "Prefect cannot serialize the Success state: ValidationError: .*JSON compatible",
        ),
        (
            ours.Success(),
            "expected a prefect.engine.state.State, got prefect_gql._model.states.Success",
        ),
        ({"type": "Success"}, "expected a prefect.engine.state.State, got builtins.dict"),
        (None, "got builtins.NoneType"),
    ],
    ids=["abstract State", "context not JSON", "our state", "a dict", "None"],
)
def test_what_is_not_a_sendable_prefect_state_is_refused(value: object, message: str) -> None:
    with pytest.raises(InvalidStateError, match=message) as caught:
        state_from_prefect(value)
    if "ValidationError" in message:
        assert type(caught.value.__cause__).__name__ == "ValidationError"


# -- flows --------------------------------------------------------------------------------


@task
def extract(day: str) -> list[int]:
    return [1, 2, 3]


@task
def double(x: int) -> int:
    return 2 * x


@task
def load(values: list[int]) -> None:
    return None


@task
def notify() -> None:
    return None


def build_flow(name: str, *, scheduled: bool = True, storage_dir: Path | None = None) -> Flow:
    """A flow with keyed, mapped and upstream-only edges, two parameters and a schedule."""
    # Prefect annotates these as not optional, though it defaults them to None.
    options: dict[str, Any] = {
        "run_config": KubernetesRun(labels=["k8s"], env={"MODE": "test"}),
        "schedule": None,
        "storage": None if storage_dir is None else Local(directory=str(storage_dir)),
    }
    if scheduled:
        options["schedule"] = Schedule(
            clocks=[
                IntervalClock(
                    interval=timedelta(hours=1), start_date=START, parameter_defaults={"day": "mon"}
                ),
                CronClock("0 6 * * *", parameter_defaults={"day": "tue", "limit": 3}),
            ]
        )
    with Flow(name, **options) as flow:
        day = Parameter("day")
        limit = Parameter("limit", default=10)
        values = extract(day)
        doubled = double.map(values)
        loaded = load(doubled, upstream_tasks=[limit])
        notify(upstream_tasks=[loaded])
    return flow


def test_a_flow_converts_to_what_prefect_serializes(tmp_path: Path) -> None:
    flow = build_flow("etl", storage_dir=tmp_path)
    serialized = flow_from_prefect(flow, build=False)

    assert serialized == wire(flow)
    assert serialized["name"] == "etl"
    assert {p["name"]: p["required"] for p in serialized["parameters"]} == {
        "day": True,
        "limit": False,
    }
    assert len(serialized["tasks"]) == len(flow.tasks) == 6
    assert len(serialized["edges"]) == len(flow.edges)
    assert any(edge["mapped"] for edge in serialized["edges"])
    assert serialized["run_config"] == wire(flow.run_config)
    assert len(serialized["schedule"]["clocks"]) == 2
    assert serialized["storage"]["type"] == "Local"
    assert serialized["storage"]["flows"] == {}  # not built


def test_build_builds_the_flows_storage(tmp_path: Path) -> None:
    flow = build_flow("built", storage_dir=tmp_path)
    serialized = flow_from_prefect(flow, build=True)

    stored = serialized["storage"]["flows"]["built"]
    assert Path(stored).is_relative_to(tmp_path)
    assert Path(stored).is_file()


def test_a_converted_flow_splits_and_compresses_for_registration(tmp_path: Path) -> None:
    flow = build_flow("split", storage_dir=tmp_path)
    serialized = flow_from_prefect(flow, build=False)
    flow_only, tasks, edges = split_for_registration(serialized)

    assert flow_only["tasks"] == flow_only["edges"] == []
    assert {t["slug"] for t in tasks} == set(flow.slugs.values())
    assert len(edges) == len(flow.edges)
    assert decompress_flow(compress_flow(flow_only)) == flow_only


def test_a_converted_flow_registers_and_runs_on_the_embedded_server(tmp_path: Path) -> None:
    flow = build_flow("registered", storage_dir=tmp_path)
    serialized = flow_from_prefect(flow, build=True)
    with LocalServer() as server, Client(server.url, backend="server") as client:
        client.create_project("compat")
        flow_id = client.register(serialized, project_name="compat", no_url=True)
        run_id = client.create_flow_run(flow_id=flow_id, parameters={"day": "wed"})
        info = client.get_flow_run_info(run_id)
        slugs = {task_run.task_slug for task_run in info.task_runs}
        assert slugs == set(flow.slugs.values())
        running = state_from_prefect(prefect_state.Running(message="started"))
        client.set_flow_run_state(run_id, running, version=info.version)
        assert client.get_flow_run_info(run_id).state.to_wire() == running.to_wire()


def test_build_without_storage_is_refused_as_prefect_refused_it() -> None:
    flow = build_flow("no storage")
    with pytest.raises(InvalidInputError, match=r"no storage to build; give it storage") as caught:
        flow_from_prefect(flow, build=True)
    assert isinstance(caught.value.__cause__, ValueError)
    assert flow_from_prefect(flow, build=False)["storage"] is None


def test_a_schedule_that_leaves_a_required_parameter_unset_is_refused() -> None:
    with Flow(
        "unschedulable", schedule=Schedule(clocks=[IntervalClock(timedelta(hours=1))])
    ) as flow:
        extract(Parameter("day"))
    with pytest.raises(InvalidInputError, match=r"required parameters \['day'\]"):
        flow_from_prefect(flow, build=False)


def test_an_invalid_flow_is_refused_naming_prefects_reason() -> None:
    flow = Flow("cyclic")
    first, second = double.copy(), double.copy()
    flow.add_edge(first, second, key="x", validate=False)
    flow.add_edge(second, first, key="x", validate=False)
    with pytest.raises(
        InvalidInputError, match=r"cannot serialize the flow 'cyclic': ValueError: Cycle found"
    ):
        flow_from_prefect(flow, build=False)


@pytest.mark.parametrize("value", [{"name": "dict"}, None, UniversalRun()])
def test_what_is_not_a_prefect_flow_is_refused(value: object) -> None:
    with pytest.raises(InvalidInputError, match="expected a prefect Flow, got"):
        flow_from_prefect(value)


# -- run configs ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "run_config",
    [
        UniversalRun(),
        UniversalRun(labels=["b", "a"], env={"X": "1"}),
        LocalRun(working_dir="/srv/work", labels=["local"], env={"PATH": "/bin"}),
        KubernetesRun(
            labels=["k8s", "gpu"],
            env={"MODE": "prod"},
            image="org/image:1",
            cpu_limit=2,
            memory_request="1Gi",
            image_pull_secrets=["registry"],
        ),
        DockerRun(image="org/image:1", labels=["docker"]),
    ],
    ids=lambda run_config: type(run_config).__name__,
)
def test_run_configs_convert_as_prefects_create_flow_run_sent_them(run_config: Any) -> None:
    converted = run_config_from_prefect(run_config)
    assert converted == wire(run_config)
    assert converted["type"] == type(run_config).__name__
    assert converted["labels"] == sorted(run_config.labels)
    assert type(converted) is dict


@pytest.mark.parametrize("value", [{"type": "UniversalRun"}, build_flow("f", scheduled=False)])
def test_what_is_not_a_prefect_run_config_is_refused(value: object) -> None:
    with pytest.raises(InvalidInputError, match="expected a prefect RunConfig"):
        run_config_from_prefect(value)


# -- recognising Prefect objects ----------------------------------------------------------


def test_prefect_objects_are_recognised_by_their_classes() -> None:
    flow = build_flow("recognised", scheduled=False)
    assert is_prefect_object(prefect_state.Success())
    assert is_prefect_object(flow)
    assert is_prefect_object(PrefectEnumValue("asc"))
    assert is_prefect_flow(flow)
    assert is_prefect_run_config(LocalRun())
    assert is_prefect_state(prefect_state.Cached())
    assert not is_prefect_state(flow)
    assert not is_prefect_flow(prefect_state.Success())
    assert not is_prefect_run_config(flow)


@pytest.mark.parametrize(
    "value",
    [ours.Success(), {"type": "Success"}, None, "prefect", prefect_state.Success],
    ids=["our state", "dict", "None", "str", "a Prefect class"],
)
def test_our_objects_and_plain_values_are_not_prefect_objects(value: object) -> None:
    assert not is_prefect_object(value)
    assert not is_prefect_state(value)


def test_importing_the_compat_modules_does_not_import_prefect() -> None:
    code = (
        "import sys\n"
        "import prefect_gql, prefect_gql._model.prefect_compat, prefect_gql._model.graphql_dsl\n"
        "loaded = sorted(m for m in sys.modules if m == 'prefect' or m.startswith('prefect.'))\n"
        "assert not loaded, loaded\n"
    )
    completed = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stderr
