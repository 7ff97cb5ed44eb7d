"""Facade result models: ``from_answer`` held to pydantic's ``model_construct``, and the
models validated straight from answers held to the generated models of their queries."""

from __future__ import annotations

import typing
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import AliasPath, BaseModel, ValidationError
from pydantic.fields import FieldInfo

from prefect_gql._generated.get_flow_run_info import GetFlowRunInfoFlowRunByPk
from prefect_gql._model.results import (
    FlowRunInfo,
    ProjectInfo,
    TaskRunInfo,
    _Frozen,
    from_answer,
    validate_answer,
)
from prefect_gql._model.states import Pending, Running, Success

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


def _answer_key_path(field: FieldInfo, name: str) -> tuple[str, ...]:
    alias = field.validation_alias
    if isinstance(alias, AliasPath):
        return tuple(str(part) for part in alias.path)
    return (alias,) if isinstance(alias, str) else (name,)


def _model_inside(annotation: object) -> type[BaseModel] | None:
    """The model a field holds, through ``Optional``, ``list`` and ``Annotated``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in typing.get_args(annotation):
        if (model := _model_inside(argument)) is not None:
            return model
    return None


def _generated_field(model: type[BaseModel], key: str) -> FieldInfo:
    model.model_rebuild()
    found = [f for name, f in model.model_fields.items() if (f.alias or name) == key]
    assert found, f"{model.__name__} has no field {key!r} in its answer"
    return found[0]


def _assert_mirrors(facade: type[BaseModel], generated: type[BaseModel]) -> None:
    """Every facade field is read from where the query's answer has it, and every answered
    field is read by the facade (nothing fetched for nothing)."""
    read: set[str] = set()
    for name, field in facade.model_fields.items():
        path = _answer_key_path(field, name)
        read.add(path[0])
        holder, answered = generated, _generated_field(generated, path[0])
        for key in path[1:]:
            inner = _model_inside(answered.annotation)
            assert inner is not None, f"{holder.__name__}.{answered.alias} holds no object"
            holder, answered = inner, _generated_field(inner, key)
        nested = _model_inside(field.annotation)
        if nested is not None:
            answered_model = _model_inside(answered.annotation)
            assert answered_model is not None, f"{facade.__name__}.{name}"
            _assert_mirrors(nested, answered_model)
    assert read == {f.alias or name for name, f in generated.model_fields.items()}


def test_flow_run_info_reads_the_get_flow_run_info_answer_where_the_query_puts_it() -> None:
    _assert_mirrors(FlowRunInfo, GetFlowRunInfoFlowRunByPk)


def test_flow_run_info_from_an_answer_equals_one_built_from_the_generated_model() -> None:
    answer = {
        "id": "r1",
        "name": None,
        "flow_id": "f1",
        "parameters": {"x": [1, {"y": None}]},
        "context": None,
        "version": 3,
        "scheduled_start_time": "2020-06-17T00:00:00+00:00",
        "serialized_state": {"type": "Running", "message": "go"},
        "task_runs": [
            {
                "id": "t1",
                "version": 1,
                "serialized_state": None,
                "task": {"id": "k1", "slug": "extract"},
            }
        ],
        "flow": {"project": {"id": "p1", "name": "etl"}},
    }
    run = GetFlowRunInfoFlowRunByPk.model_validate(answer)
    expected = FlowRunInfo(
        id=run.id,
        name=run.name,
        flow_id=run.flow_id,
        project=ProjectInfo(id=run.flow.project.id, name=run.flow.project.name),
        parameters={"x": [1, {"y": None}]},
        context={},
        version=run.version,
        scheduled_start_time=run.scheduled_start_time,
        state=Running(message="go"),
        task_runs=[
            TaskRunInfo(id="t1", task_id="k1", task_slug="extract", version=1, state=Pending())
        ],
    )
    assert validate_answer(FlowRunInfo, answer, "GetFlowRunInfo") == expected


def test_facade_models_built_by_callers_still_check_their_states() -> None:
    """Only answers skip the JSON re-check: a caller's dict is parsed as ``parse_state`` does."""
    with pytest.raises(ValidationError, match="JSON cannot hold"):
        TaskRunInfo(
            id="t1",
            task_id="k1",
            version=1,
            state={"type": "Running", "context": {"x": float("nan")}},
        )
    info = TaskRunInfo(id="t1", task_id="k1", version=1, state={"type": "Success"})
    assert isinstance(info.state, Success)
