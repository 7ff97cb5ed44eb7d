"""``from_answer``: the facade's fast ``model_construct``, held to what pydantic's does."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from prefect_gql._models import FlowRunInfo, ProjectInfo, TaskRunInfo, _Frozen, from_answer
from prefect_gql._states import Running, Success

TASK_RUN: dict[str, Any] = {
    "id": "t1",
    "task_id": "k1",
    "task_slug": "say-1",
    "version": 2,
    "state": Success(message="done"),
}
FLOW_RUN: dict[str, Any] = {
    "id": "r1",
    "name": "nice-run",
    "flow_id": "f1",
    "project": ProjectInfo.model_construct(id="p1", name="p"),
    "parameters": {"x": [1, 2]},
    "context": {},
    "version": 3,
    "scheduled_start_time": datetime(2020, 6, 17, tzinfo=UTC),
    "state": Running(),
    "task_runs": [TaskRunInfo.model_construct(**TASK_RUN)],
}
CASES: list[tuple[type[_Frozen], dict[str, Any]]] = [
    (TaskRunInfo, TASK_RUN),
    (FlowRunInfo, FLOW_RUN),
    (ProjectInfo, {"id": "p1", "name": "p"}),
    # A field left out takes its default, as model_construct gives it.
    (TaskRunInfo, {key: value for key, value in TASK_RUN.items() if key != "task_slug"}),
]


@pytest.mark.parametrize(("model", "fields"), CASES)
def test_from_answer_builds_what_model_construct_builds(
    model: type[_Frozen], fields: dict[str, Any]
) -> None:
    built = from_answer(model, **fields)
    expected = model.model_construct(**fields)
    assert type(built) is model
    assert built == expected
    assert built.model_fields_set == expected.model_fields_set
    assert built.__pydantic_extra__ == expected.__pydantic_extra__
    assert built.__pydantic_private__ == expected.__pydantic_private__
    assert built.model_dump() == expected.model_dump()
    assert built._asdict() == expected._asdict()


def test_models_from_answers_stay_immutable_and_copyable() -> None:
    info = from_answer(TaskRunInfo, **TASK_RUN)
    with pytest.raises(ValueError, match="frozen"):
        info.version = 5  # type: ignore[misc]
    assert info.model_copy(update={"version": 5}).version == 5
    assert info.version == 2


def test_from_answer_does_not_keep_a_field_it_does_not_know() -> None:
    """A misspelt field is dropped as ``model_construct`` drops it, never stored."""
    built = from_answer(ProjectInfo, id="p1", name="p", nmae="typo")
    assert "nmae" not in built.__dict__
    assert built == ProjectInfo.model_construct(id="p1", name="p")
