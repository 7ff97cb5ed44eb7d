"""The State/Result wire format: real Prefect output round-trips; bad input is refused clearly."""

from __future__ import annotations

import json
import typing
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from prefect_gql import _states
from prefect_gql._exceptions import InvalidInputError, InvalidStateError
from prefect_gql._states import (
    STATE_TYPES,
    AzureResult,
    Cached,
    Cancelling,
    ClientFailed,
    ConstantResult,
    CustomResult,
    Failed,
    Finished,
    GCSResult,
    LocalResult,
    Looped,
    Mapped,
    NoResultType,
    Pending,
    PrefectResult,
    Queued,
    Result,
    ResultHandlerResult,
    Retrying,
    Running,
    S3Result,
    SafeResult,
    Scheduled,
    SecretResult,
    State,
    Submitted,
    Success,
    TimedOut,
    parse_state,
    state_from_answer,
)

FIXTURES = Path(__file__).parent / "fixtures"
REFERENCES = {
    version: json.loads((FIXTURES / f"states_{version}.json").read_text())
    for version in ("0.12.0", "1.4.1")
}
EXAMPLES = [
    pytest.param(example, id=f"{version}-{title}")
    for version, reference in REFERENCES.items()
    for title, example in reference["examples"].items()
]
PREDICATES = (
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
)
NOON = datetime(2020, 6, 17, 12, tzinfo=UTC)


def without_versions(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: without_versions(v) for k, v in value.items() if k != "__version__"}
    return value


def test_the_reference_files_hold_the_expected_examples() -> None:
    assert len(REFERENCES["0.12.0"]["examples"]) == 17
    assert len(REFERENCES["1.4.1"]["examples"]) == 18
    assert len(EXAMPLES) == 35


@pytest.mark.parametrize("wire", EXAMPLES)
def test_real_examples_round_trip_exactly(wire: dict[str, Any]) -> None:
    state = parse_state(wire)
    assert type(state).__name__ == wire["type"]
    assert state.type == wire["type"]
    assert state.to_wire(core_version="9.9.9") == wire


@pytest.mark.parametrize("wire", EXAMPLES)
def test_missing_versions_are_filled_with_core_version(wire: dict[str, Any]) -> None:
    version = wire["__version__"]
    assert parse_state(without_versions(wire)).to_wire(core_version=version) == wire


def test_the_21_types_are_prefects() -> None:
    assert set(REFERENCES["1.4.1"]["schema_type_names"]) == STATE_TYPES
    assert set(REFERENCES["0.12.0"]["schema_type_names"]) == STATE_TYPES - {"Cancelling"}
    for name in STATE_TYPES:
        state = parse_state({"type": name})
        assert type(state).__name__ == name
        assert state.to_wire()["type"] == name


@pytest.mark.parametrize("version", ["0.12.0", "1.4.1"])
def test_class_hierarchy_matches_prefect(version: str) -> None:
    classes: dict[str, list[str]] = REFERENCES[version]["classes"]
    for name, prefect_bases in classes.items():
        ours = getattr(_states, name)
        bases = [cls.__name__ for cls in ours.__mro__[1:] if cls.__name__ in classes]
        assert bases == prefect_bases, name


def test_each_type_field_names_the_class_and_its_subclasses() -> None:
    for name in STATE_TYPES | {"_MetaState"}:
        cls = getattr(_states, name)
        allowed = set(typing.get_args(cls.model_fields["type"].annotation))
        family = {other for other in STATE_TYPES if issubclass(getattr(_states, other), cls)}
        assert allowed == family, name


EXPECTED_PREDICATES = {
    "Pending": {"is_pending"},
    "Scheduled": {"is_pending", "is_scheduled"},
    "Paused": {"is_pending", "is_scheduled"},
    "Resume": {"is_pending", "is_scheduled"},
    "Retrying": {"is_pending", "is_scheduled", "is_retrying"},
    "Running": {"is_running"},
    "Cancelling": {"is_running"},
    "Finished": {"is_finished"},
    "Success": {"is_finished", "is_successful"},
    "Cached": {"is_finished", "is_successful", "is_cached"},
    "Mapped": {"is_finished", "is_successful", "is_mapped"},
    "Skipped": {"is_finished", "is_successful", "is_skipped"},
    "Looped": {"is_finished", "is_looped"},
    "Cancelled": {"is_finished"},
    "Failed": {"is_finished", "is_failed"},
    "TimedOut": {"is_finished", "is_failed"},
    "TriggerFailed": {"is_finished", "is_failed"},
    "ValidationFailed": {"is_finished", "is_failed"},
    "Queued": {"is_meta_state", "is_queued", "is_scheduled"},
    "Submitted": {"is_meta_state", "is_submitted"},
    "ClientFailed": {"is_meta_state"},
}


@pytest.mark.parametrize(("name", "expected"), EXPECTED_PREDICATES.items())
def test_predicates(name: str, expected: set[str]) -> None:
    state = parse_state({"type": name})
    assert {predicate for predicate in PREDICATES if getattr(state, predicate)()} == expected


def test_isinstance_follows_prefects_hierarchy() -> None:
    assert isinstance(TimedOut(), Failed)
    assert isinstance(TimedOut(), Finished)
    assert isinstance(Retrying(), Scheduled)
    assert isinstance(Retrying(), Pending)
    assert isinstance(Cancelling(), Running)
    assert not isinstance(Cancelling(), Finished)
    assert not isinstance(Queued(), Pending)


def test_minimal_server_inserted_state() -> None:
    state = parse_state({"type": "Pending", "message": "Task run created"})
    assert isinstance(state, Pending)
    assert state.message == "Task run created"
    assert state.result == NoResultType()
    assert state.context == {}
    assert state.cached_inputs == {}
    assert state.version is None
    assert state.to_wire(core_version="1.4.1") == {
        "type": "Pending",
        "__version__": "1.4.1",
        "message": "Task run created",
        "context": {},
        "cached_inputs": {},
        "_result": {"type": "NoResultType", "__version__": "1.4.1"},
    }


def test_null_context_and_cached_inputs_load_as_empty() -> None:
    state = parse_state({"type": "Running", "context": None, "cached_inputs": None})
    assert state.context == {}
    assert state.to_wire()["cached_inputs"] == {}


def test_constructors_write_the_wire_format() -> None:
    success = Success(message="ok", result=PrefectResult(location="42"))
    assert success.to_wire() == {
        "type": "Success",
        "__version__": "1.4.1",
        "message": "ok",
        "context": {},
        "cached_inputs": {},
        "_result": {"type": "PrefectResult", "location": "42", "__version__": "1.4.1"},
    }
    assert Running(message="go").to_wire(core_version="0.12.0")["__version__"] == "0.12.0"


def test_own_versions_win_over_core_version() -> None:
    state = Success(version="0.12.0", result=PrefectResult(location="1"))
    wire = state.to_wire(core_version="1.4.1")
    assert wire["__version__"] == "0.12.0"
    assert wire["_result"]["__version__"] == "1.4.1"
    result = PrefectResult(location="1", version="0.13.0")
    assert Success(result=result).to_wire()["_result"]["__version__"] == "0.13.0"


def test_meta_states_wrap_a_state() -> None:
    queued = Queued(message="wait", state=Running(message="go"), start_time=NOON)
    wire = queued.to_wire(core_version="1.4.1")
    assert wire["start_time"] == "2020-06-17T12:00:00+00:00"
    assert wire["state"] == Running(message="go").to_wire(core_version="1.4.1")

    loaded = parse_state(wire)
    assert isinstance(loaded, Queued)
    assert isinstance(loaded.state, Running)
    assert loaded.state.message == "go"
    assert loaded.start_time == NOON

    failed = parse_state(ClientFailed(state=Failed(message="boom")).to_wire())
    assert isinstance(failed, ClientFailed)
    assert isinstance(failed.state, Failed)
    assert failed.is_meta_state()
    assert not failed.is_failed()


def test_meta_state_without_inner_state() -> None:
    submitted = parse_state({"type": "Submitted", "state": None})
    assert isinstance(submitted, Submitted)
    assert submitted.state is None
    assert submitted.to_wire()["state"] is None


def test_nested_meta_state_from_the_reference_keeps_its_versions() -> None:
    wire = REFERENCES["0.12.0"]["examples"]["Submitted"]
    submitted = parse_state(wire)
    assert isinstance(submitted, Submitted)
    assert isinstance(submitted.state, Scheduled)
    assert submitted.state.start_time == NOON
    assert submitted.state.version == "0.12.0"


def test_mapped_writes_no_result() -> None:
    wire = Mapped(message="mapped", n_map_states=3).to_wire()
    assert "_result" not in wire
    assert wire["n_map_states"] == 3
    loaded = parse_state(wire)
    assert isinstance(loaded, Mapped)
    assert loaded.n_map_states == 3
    assert loaded.result == NoResultType()
    assert parse_state({"type": "Mapped"}).to_wire()["n_map_states"] == 0


def test_looped_count_may_be_absent_but_not_null() -> None:
    assert "loop_count" not in parse_state({"type": "Looped"}).to_wire()
    assert Looped(loop_count=2).to_wire()["loop_count"] == 2
    with pytest.raises(InvalidStateError, match="loop_count may be omitted but not null"):
        parse_state({"type": "Looped", "loop_count": None})


def test_cached_fields_round_trip() -> None:
    expiry = datetime(2020, 6, 18, 12, tzinfo=UTC)
    cached = Cached(
        cached_parameters={"p": 1},
        cached_result_expiration=expiry,
        hashed_inputs={"x": "deadbeef"},
        cached_inputs={"x": PrefectResult(location="1")},
    )
    wire = cached.to_wire()
    assert wire["cached_result_expiration"] == "2020-06-18T12:00:00+00:00"
    loaded = parse_state(wire)
    assert isinstance(loaded, Cached)
    assert loaded.cached_parameters == {"p": 1}
    assert loaded.cached_result_expiration == expiry
    assert loaded.hashed_inputs == {"x": "deadbeef"}
    assert loaded.cached_inputs == {"x": PrefectResult(location="1", version="1.4.1")}


def test_datetimes_keep_their_offset() -> None:
    plus_two = datetime(2020, 6, 17, 14, tzinfo=timezone(timedelta(hours=2)))
    assert Scheduled(start_time=plus_two).to_wire()["start_time"] == "2020-06-17T14:00:00+02:00"
    from_z = parse_state({"type": "Scheduled", "start_time": "2020-06-17T12:00:00Z"})
    assert from_z.to_wire()["start_time"] == "2020-06-17T12:00:00+00:00"


def test_malformed_datetimes_are_refused() -> None:
    with pytest.raises(InvalidStateError, match=r"start_time"):
        parse_state({"type": "Scheduled", "start_time": "not a time"})
    with pytest.raises(InvalidStateError, match="cached_result_expiration"):
        parse_state({"type": "Cached", "cached_result_expiration": 12})


ALL_RESULTS = [
    NoResultType(),
    Result(location=None),
    PrefectResult(location="42"),
    LocalResult(dir="/srv", location="/srv/a.prefect"),
    S3Result(bucket="b", location="k"),
    GCSResult(bucket="b", location="k"),
    AzureResult(container="c", location="k"),
    ConstantResult(location="3"),
    SecretResult(location="NAME", secret_type="PrefectSecret"),
    SafeResult(value={"a": [1, 2]}, result_handler={"type": "JSONResultHandler"}),
    ResultHandlerResult(location="x", result_handler_type="S3ResultHandler"),
]


@pytest.mark.parametrize("result", ALL_RESULTS, ids=lambda r: r.type)
def test_every_result_type_round_trips(result: Any) -> None:
    wire = Success(result=result, cached_inputs={"x": result}).to_wire()
    assert wire["_result"]["type"] == result.type
    loaded = parse_state(wire)
    assert type(loaded.result) is type(result)
    assert loaded.result == result.model_copy(update={"version": "1.4.1"})
    assert loaded.cached_inputs["x"] == loaded.result
    assert loaded.to_wire() == wire


def test_an_unknown_result_type_is_kept_whole() -> None:
    result = {
        "type": "FooResult",
        "location": "x",
        "extra": [1, {"k": "v"}],
        "__version__": "1.2.0",
    }
    state = parse_state({"type": "Success", "_result": result, "cached_inputs": {"a": result}})
    assert isinstance(state.result, CustomResult)
    assert state.result.type == "FooResult"
    assert state.result.location == "x"
    assert state.to_wire()["_result"] == result
    assert state.to_wire()["cached_inputs"] == {"a": result}


def test_custom_result_round_trips() -> None:
    wire = Success(result=CustomResult(location="s3://x")).to_wire()
    assert wire["_result"] == {"type": "CustomResult", "location": "s3://x", "__version__": "1.4.1"}
    assert isinstance(parse_state(wire).result, CustomResult)


BAD_STATES = [
    ({"type": "Exploded"}, r"invalid state: unknown state type 'Exploded'; expected one of Cached"),
    ({"message": "no type"}, "invalid state: the state has no 'type'"),
    ({"type": 3}, "the state 'type' must be a string, got int"),
    ({"type": "Retrying", "run_count": "many"}, "invalid Retrying state: run_count: "),
    ({"type": "Scheduled", "start_time": 1592395200}, "start_time: expected an ISO-8601"),
    ({"type": "Running", "message": 5}, "invalid Running state: message: "),
    ({"type": "Running", "context": ["a"]}, "context: Input should be a valid dictionary"),
    ({"type": "Running", "context": {"x": float("nan")}}, "context: the value.*JSON cannot hold"),
    ({"type": "Running", "cached_inputs": {"x": 3}}, "cached_inputs.x: expected a serialized"),
    (
        {"type": "Running", "cached_inputs": {"x": {"type": "PrefectResult", "location": 5}}},
        "cached_inputs.x.location: Input should be a valid string",
    ),
    ({"type": "Success", "_result": None}, "_result: expected a serialized result object"),
    ({"type": "Success", "_result": {"location": "x"}}, "_result: the result has no 'type'"),
    ({"type": "Queued", "state": {"type": "Nope"}}, "state: unknown state type 'Nope'"),
    ({"type": "Queued", "state": 7}, "state: expected a serialized state object, got int"),
    (
        {"type": "Submitted", "state": {"type": "Retrying", "run_count": "x"}},
        "invalid Submitted state: state.run_count: ",
    ),
    ({"type": "Cached", "hashed_inputs": {"x": 1}}, "hashed_inputs.x: "),
    ({"type": "Mapped", "n_map_states": None}, "n_map_states: "),
]


@pytest.mark.parametrize(("wire", "message"), BAD_STATES)
def test_malformed_states_raise_invalid_state_error(wire: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidStateError, match=message) as raised:
        parse_state(wire)
    assert isinstance(raised.value, InvalidInputError)
    assert isinstance(raised.value, ValueError)
    assert isinstance(raised.value.__cause__, ValidationError)


# What only a Python caller can pass: an answer never holds these, so it may skip them.
_NOT_FROM_A_JSON_PARSER = ("JSON cannot hold",)


@pytest.mark.parametrize(
    ("wire", "message"),
    [case for case in BAD_STATES if not any(part in case[1] for part in _NOT_FROM_A_JSON_PARSER)],
)
def test_states_from_answers_are_checked_like_any_other(wire: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidStateError, match=message):
        state_from_answer(wire)


def test_states_from_answers_keep_their_parsed_json_as_is() -> None:
    """An answer's JSON fields are JSON by construction: not walked and copied again."""
    context = {"tags": ["a"], "nested": {"deep": [1, 2.5, None]}}
    cached = {"x": {"type": "Cached", "cached_parameters": {"p": [1]}}}
    from_answer = state_from_answer({"type": "Running", "context": context})
    assert from_answer.context is context
    meta = state_from_answer({"type": "Queued", "state": cached["x"]})
    assert isinstance(meta, Queued)
    assert isinstance(meta.state, Cached)
    assert meta.state.cached_parameters is cached["x"]["cached_parameters"]
    # A caller's dict is checked and copied: the state cannot change behind its back.
    from_caller = parse_state({"type": "Running", "context": context})
    assert from_caller.context == context
    assert from_caller.context is not context


@pytest.mark.parametrize("data", [["Running"], "Running", None, 42])
def test_non_objects_are_refused(data: Any) -> None:
    with pytest.raises(InvalidStateError, match="must be a JSON object, got"):
        parse_state(data)


def test_constructors_raise_invalid_state_error() -> None:
    with pytest.raises(InvalidStateError, match="invalid Retrying: run_count") as raised:
        Retrying(run_count="many")
    assert isinstance(raised.value.__cause__, ValidationError)
    with pytest.raises(InvalidStateError, match="invalid PrefectResult: location"):
        PrefectResult(location=42)
    with pytest.raises(InvalidStateError, match="context: the value\\['x'\\] is a set"):
        Running(context={"x": {1, 2}})
    with pytest.raises(InvalidStateError, match="state: unknown state type 'X'"):
        Queued(state={"type": "X"})


def test_the_type_field_cannot_lie() -> None:
    with pytest.raises(InvalidStateError, match="a Finished's type is 'Finished', not 'Success'"):
        Finished(type="Success")
    with pytest.raises(InvalidStateError, match="type: Field required"):
        State()  # type: ignore[call-arg]


def test_states_are_immutable() -> None:
    state = Running(message="go")
    with pytest.raises(AttributeError, match="immutable"):
        state.message = "stop"  # type: ignore[misc]
    changed = state.model_copy(update={"message": "stop"})
    assert changed.message == "stop"
    assert state.message == "go"
