"""The State/Result wire format: every real example round-trips; bad input is refused clearly."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from prefect_gql import (
    Cached,
    Cancelling,
    CustomResult,
    Failed,
    Finished,
    InvalidStateError,
    LocalResult,
    Mapped,
    NoResultType,
    Paused,
    Pending,
    PrefectResult,
    Queued,
    Retrying,
    Running,
    Scheduled,
    Submitted,
    Success,
    TimedOut,
    parse_state,
)
from prefect_gql._states import STATE_TYPES

FIXTURES = Path(__file__).parent / "fixtures"


def examples() -> list[tuple[str, str, dict[str, Any]]]:
    """The states the real prefect 0.12.0 and 1.4.1 serialized (shared/reference)."""
    found = []
    for name in ("states_0.12.0.json", "states_1.4.1.json"):
        data = json.loads((FIXTURES / name).read_text())
        found += [(data["version"], title, example) for title, example in data["examples"].items()]
    return found


EXAMPLES = examples()


@pytest.mark.parametrize(("version", "title", "wire"), EXAMPLES, ids=lambda v: str(v)[:30])
def test_real_examples_round_trip(version: str, title: str, wire: dict[str, Any]) -> None:
    state = parse_state(wire)
    assert state.type == wire["type"]
    assert state.to_wire(core_version="9.9.9") == wire


def test_every_example_file_was_read() -> None:
    assert len(EXAMPLES) == 35


def test_the_21_state_types() -> None:
    assert len(STATE_TYPES) == 21
    for name in STATE_TYPES:
        state = parse_state({"type": name})
        assert type(state).__name__ == name
        assert state.to_wire()["type"] == name


def test_hierarchy_and_predicates() -> None:
    assert isinstance(TimedOut(), Failed)
    assert TimedOut().is_failed()
    assert TimedOut().is_finished()
    assert Retrying().is_scheduled()
    assert Retrying().is_pending()
    assert isinstance(Paused(), Scheduled)
    assert Cached().is_successful()
    assert Cached().is_cached()
    assert Mapped().is_mapped()
    assert Cancelling().is_running()
    assert Queued().is_meta_state()
    assert not Running().is_finished()
    assert isinstance(Success(), Finished)


def test_minimal_server_state_loads_with_defaults() -> None:
    state = parse_state({"type": "Pending", "message": "Task run created"})
    assert isinstance(state, Pending)
    assert isinstance(state.result, NoResultType)
    assert state.context == {}
    assert state.to_wire(core_version="1.4.1") == {
        "type": "Pending",
        "message": "Task run created",
        "context": {},
        "cached_inputs": {},
        "_result": {"type": "NoResultType", "__version__": "1.4.1"},
        "__version__": "1.4.1",
    }


def test_meta_states_wrap_a_state() -> None:
    start = datetime(2020, 6, 17, 12, tzinfo=UTC)
    queued = Queued(state=Running(), start_time=start)
    wire = queued.to_wire(core_version="1.4.1")
    assert wire["state"]["type"] == "Running"
    assert wire["start_time"] == "2020-06-17T12:00:00+00:00"
    loaded = parse_state(wire)
    assert isinstance(loaded, Queued)
    assert isinstance(loaded.state, Running)
    assert isinstance(parse_state({"type": "Submitted", "state": None}), Submitted)


def test_mapped_has_no_result_on_the_wire() -> None:
    wire = Mapped(n_map_states=3).to_wire()
    assert "_result" not in wire
    assert wire["n_map_states"] == 3


def test_results() -> None:
    success = parse_state(
        {"type": "Success", "_result": {"type": "LocalResult", "dir": "/d", "location": "/d/x"}}
    )
    assert success.result == LocalResult(dir="/d", location="/d/x")
    assert Success(result=PrefectResult(location="42")).to_wire()["_result"] == {
        "type": "PrefectResult",
        "location": "42",
        "__version__": "1.4.1",
    }


def test_an_unknown_result_type_is_kept() -> None:
    wire = {"type": "Success", "_result": {"type": "FooResult", "location": "x", "extra": 1}}
    state = parse_state(wire)
    assert isinstance(state.result, CustomResult)
    assert state.to_wire()["_result"] == {
        "type": "FooResult",
        "location": "x",
        "extra": 1,
        "__version__": "1.4.1",
    }


@pytest.mark.parametrize(
    ("wire", "message"),
    [
        ({"type": "Exploded"}, "unknown state type 'Exploded'"),
        ({"message": "no type"}, "unknown state type None"),
        ({"type": "Retrying", "run_count": "many"}, "malformed Retrying state: run_count"),
        ({"type": "Scheduled", "start_time": "2020-06-17T12:00:00"}, "timezone"),
        ({"type": "Running", "cached_inputs": {"x": 3}}, "malformed Running state"),
    ],
)
def test_bad_states_are_invalid_state_errors(wire: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidStateError, match=message) as raised:
        parse_state(wire)
    assert isinstance(raised.value, ValueError)


def test_a_non_object_is_refused() -> None:
    with pytest.raises(InvalidStateError, match="must be an object"):
        parse_state(["Running"])  # type: ignore[arg-type]


def test_naive_datetimes_are_refused_by_constructors() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        Scheduled(start_time=datetime(2020, 1, 1))


def test_cached_fields_round_trip() -> None:
    expiry = datetime(2020, 6, 18, 12, tzinfo=UTC)
    cached = Cached(
        cached_parameters={"p": 1},
        cached_result_expiration=expiry,
        hashed_inputs={"x": "deadbeef"},
        cached_inputs={"x": PrefectResult(location="1")},
    )
    loaded = parse_state(cached.to_wire())
    assert isinstance(loaded, Cached)
    assert loaded.cached_result_expiration == expiry
    assert loaded.cached_inputs["x"] == PrefectResult(location="1", __version__="1.4.1")
