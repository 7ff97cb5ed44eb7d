"""Prefect's dict DSL and GraphQLResult, checked against Prefect 1.4.1's own.

Every document is rendered by our ``parse_graphql`` and by
``prefect.utilities.graphql.parse_graphql``; both must parse with graphql-core and print
the same AST. Documents are built with our helpers and with Prefect's (``with_args``,
``EnumValue``, ``LiteralSetValue``, ``GQLObject``), and Prefect's objects are also passed
to our functions.
"""

from __future__ import annotations

import copy
import json
import pickle
import string
import uuid
import warnings
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from enum import Enum, IntEnum
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import graphql
import pytest
from hypothesis import given, settings, strategies as st

from prefect_gql._exceptions import InvalidInputError
from prefect_gql._model.graphql_dsl import (
    EnumValue,
    GraphQLResult,
    LiteralSetValue,
    MissingFieldError,
    parse_graphql,
    with_args,
)

with warnings.catch_warnings():
    # Prefect 1.4.1 warns about its own dependencies when imported (mypy_extensions'
    # TypedDict, a marshmallow 4 deprecation): Prefect's warnings, not ours.
    warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"prefect\.")
    from prefect.utilities import graphql as prefect_graphql


SCHEMA_PATH = Path(__file__).parents[1] / "schema" / "prefect.graphql"
RUN_ID = "33333333-3333-3333-3333-333333333333"

OURS = SimpleNamespace(
    with_args=with_args, EnumValue=EnumValue, LiteralSetValue=LiteralSetValue, name="ours"
)
PREFECTS = SimpleNamespace(
    with_args=prefect_graphql.with_args,
    EnumValue=prefect_graphql.EnumValue,
    LiteralSetValue=prefect_graphql.LiteralSetValue,
    name="prefect",
)


def printed(document: str) -> str:
    """The document as graphql-core prints it: fails unless it is valid GraphQL."""
    return graphql.print_ast(graphql.parse(document))


def _sorted_selections(node: Any) -> None:
    selection_set = getattr(node, "selection_set", None)
    if selection_set is not None:
        for selection in selection_set.selections:
            _sorted_selections(selection)
        selection_set.selections = tuple(sorted(selection_set.selections, key=graphql.print_ast))
    for definition in getattr(node, "definitions", ()):
        _sorted_selections(definition)


def canonical(document: str) -> str:
    """The printed AST with fields in sorted order: equal for documents differing only
    in the iteration order of sets built separately."""
    tree = graphql.parse(document)
    _sorted_selections(tree)
    return graphql.print_ast(tree)


# Documents as Prefect users and Prefect's own client wrote them; `d` is the helper set.
DOCUMENTS: dict[str, Callable[[SimpleNamespace], object]] = {
    "flow run by id": lambda d: {
        "query": {d.with_args("flow_run", {"where": {"id": {"_eq": RUN_ID}}}): {"id", "state"}}
    },
    "project lookup (register)": lambda d: {
        "query": {d.with_args("project", {"where": {"name": {"_eq": "my project"}}}): {"id": True}}
    },
    "state mutation (set_flow_run_state)": lambda d: {
        "mutation($input: set_flow_run_states_input!)": {
            "set_flow_run_states(input: $input)": {"states": {"id", "status", "message"}}
        }
    },
    "flow run info": lambda d: {
        "query": {
            d.with_args("flow_run_by_pk", {"id": RUN_ID}): {
                "id": True,
                "name": True,
                "version": ...,
                "serialized_state": True,
                d.with_args("task_runs", {"where": {"map_index": {"_eq": -1}}}): {
                    "id": True,
                    "task": {"id": True, "slug": True},
                    "version": True,
                },
                "flow": {"project": {"name", "id"}},
            }
        }
    },
    "enum order_by, a float, limit and offset": lambda d: {
        "query": {
            d.with_args(
                "flow",
                {
                    "where": {"archived": {"_eq": False}, "version": {"_gt": 2.5}},
                    "order_by": {"name": d.EnumValue("asc"), "version": d.EnumValue("desc")},
                    "limit": 10,
                    "offset": 0,
                    "distinct_on": d.EnumValue("name"),
                },
            ): ["id", "name", "version"]
        }
    },
    "enum keys (prefect.backend.flow_run)": lambda d: {
        "query": {
            d.with_args(
                "log",
                {
                    "where": {"flow_run_id": {"_eq": RUN_ID}, "level": {"_in": ["INFO", "ERROR"]}},
                    "order_by": {d.EnumValue("timestamp"): d.EnumValue("asc")},
                },
            ): ("message", "timestamp", "level")
        }
    },
    "null, booleans and nested lists": lambda d: {
        "query": {
            d.with_args(
                "task_run",
                {
                    "where": {
                        "_or": [{"state": {"_is_null": True}}, {"map_index": {"_in": [1, 2, 3]}}],
                        "_not": {"state_result": {"_eq": None}},
                        "version": {"_gte": 2},
                    }
                },
            ): {"id"}
        }
    },
    "literal set value": lambda d: {
        "query": {
            d.with_args(
                "flow_run", {"where": {"labels": {"_contains": d.LiteralSetValue(["a", "b"])}}}
            ): {"id"}
        }
    },
    "aliases, several roots and a string selection": lambda d: {
        "query": {
            "first: flow": "id",
            "second: flow": {"name": True},
            d.with_args("aggregate: flow_aggregate", {"where": {}}): {"aggregate": {"count"}},
        }
    },
    "multi-line string fragment inside a dict": lambda d: {
        "query": {
            "flow": [
                "id",
                """
                project {
                    id
                    name
                }
                """,
            ]
        }
    },
    "quotes, backslashes and unicode in strings": lambda d: {
        "mutation": {
            d.with_args(
                "write_run_logs",
                {
                    "input": {
                        "logs": [{"message": 'said "hi" \\ path C:\\tmp\n\tnext — ünïcödé 😀'}]
                    }
                },
            ): {"success"}
        }
    },
    "an empty input object": lambda d: {"query": {d.with_args("flow", {"where": {}}): {"id"}}},
    "a UUID object": lambda d: {
        "query": {d.with_args("flow_run_by_pk", {"id": uuid.UUID(RUN_ID)}): {"id"}}
    },
}


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_documents_render_the_same_ast_as_prefect(name: str) -> None:
    ours_built = DOCUMENTS[name](OURS)
    prefect_built = DOCUMENTS[name](PREFECTS)
    reference = prefect_graphql.parse_graphql(prefect_built)

    # The same object through both parsers (Prefect's with_args keys, EnumValues...): same AST.
    assert printed(parse_graphql(prefect_built)) == printed(reference)
    # Built with our helpers: the same document, up to the order of fields inside sets.
    assert canonical(parse_graphql(ours_built)) == canonical(reference)


def test_plain_documents_render_exactly_as_prefect_does() -> None:
    """Same indentation and argument spacing as Prefect, so logged queries read the same."""
    document = DOCUMENTS["flow run info"](OURS)
    assert parse_graphql(document) == prefect_graphql.parse_graphql(document)
    mutation = DOCUMENTS["state mutation (set_flow_run_state)"](OURS)
    assert parse_graphql(mutation) == prefect_graphql.parse_graphql(mutation)


@pytest.mark.parametrize(
    "name",
    [
        "flow run by id",
        "project lookup (register)",
        "state mutation (set_flow_run_state)",
        "flow run info",
        "enum keys (prefect.backend.flow_run)",
        "null, booleans and nested lists",
    ],
)
def test_documents_validate_against_the_project_schema(name: str) -> None:
    schema = graphql.build_schema(SCHEMA_PATH.read_text())
    errors = graphql.validate(schema, graphql.parse(parse_graphql(DOCUMENTS[name](OURS))))
    assert errors == []


def test_a_string_document_is_returned_dedented_and_stripped() -> None:
    text = """
        query {
            flow { id }
        }
    """
    assert parse_graphql(text) == "query {\n    flow { id }\n}"
    assert printed(parse_graphql(text)) == printed(prefect_graphql.parse_graphql(text))


def test_prefect_gqlobject_instances_render_themselves() -> None:
    flow_run = prefect_graphql.GQLObject("flow_run")
    # Prefect annotates the arguments as str, but its with_args (which renders them) takes dicts.
    where = flow_run({"where": {"id": {"_eq": RUN_ID}}})  # type: ignore[arg-type]
    document = {"query": {where: {"id"}}}
    assert printed(parse_graphql(document)) == printed(prefect_graphql.parse_graphql(document))
    assert printed("{ " + with_args(flow_run, {"limit": 1}) + " { id } }") == printed(
        "{ flow_run(limit: 1) { id } }"
    )


def test_a_class_in_the_document_is_refused_with_a_hint() -> None:
    with pytest.raises(InvalidInputError, match=r"class 'GQLObject'.*instance"):
        parse_graphql({"query": {prefect_graphql.GQLObject: {"id"}}})


@pytest.mark.parametrize("marker", [True, ..., 1])
def test_true_ellipsis_and_one_mark_a_field_without_selection(marker: object) -> None:
    assert parse_graphql({"query": {"flow": {"id": marker}}}) == prefect_graphql.parse_graphql(
        {"query": {"flow": {"id": marker}}}
    )


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"query": {"flow": {}}}, "'flow' has an empty selection"),
        ({"query": {"flow": []}}, "'flow' has an empty selection"),
        ({"query": {"flow": None}}, "None cannot be a GraphQL field"),
        ({"query": {"flow": False}}, "False cannot be a GraphQL field"),
        ({"query": {"flow": [3]}}, "3 cannot be a GraphQL field"),
        ({"query": {None: {"id"}}}, "None cannot be a GraphQL field"),
        ({"query": {"": {"id"}}}, "field name is empty"),
    ],
)
def test_documents_prefect_rendered_as_invalid_graphql_are_refused(
    document: object, message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message):
        parse_graphql(document)


def test_empty_documents_render_empty_as_in_prefect() -> None:
    document: object
    for document in ({}, [], set()):
        assert parse_graphql(document) == prefect_graphql.parse_graphql(document) == ""


def test_generators_and_dict_views_list_fields() -> None:
    fields = {"id": True, "name": True}
    expected = printed("query { flow { id name } }")
    assert printed(parse_graphql({"query": {"flow": fields.keys()}})) == expected
    assert printed(parse_graphql({"query": {"flow": (f for f in ["id", "name"])}})) == expected


# -- with_args ----------------------------------------------------------------------------


def argument_values(document: str) -> dict[str, Any]:
    """The literal values of the first field's arguments, as graphql-core reads them."""
    operation = graphql.parse(document).definitions[0]
    assert isinstance(operation, graphql.OperationDefinitionNode)
    field = operation.selection_set.selections[0]
    assert isinstance(field, graphql.FieldNode)
    return {
        argument.name.value: graphql.value_from_ast_untyped(argument.value)
        for argument in field.arguments
    }


@pytest.mark.parametrize(
    "text",
    [
        'quote " and backslash \\',
        "newline\nand tab\t and carriage return\r",
        "unicode é — 😀 and a control char \x01",
        "brace after spaces:     }",
        "",
    ],
)
def test_string_arguments_keep_their_exact_value(text: str) -> None:
    document = "{ " + with_args("f", {"s": text}) + " }"
    assert argument_values(document) == {"s": text}


def test_strings_with_indented_braces_survive_where_prefect_altered_them() -> None:
    text = "x\n    }"
    ours = parse_graphql({"query": {with_args("f", {"s": text}): {"id"}}})
    theirs = prefect_graphql.parse_graphql(
        {"query": {prefect_graphql.with_args("f", {"s": text}): {"id"}}}
    )
    assert argument_values(ours.removeprefix("query"))["s"] == text
    assert json.dumps(text) not in theirs  # Prefect's indentation pass rewrote the literal


def test_argument_literals() -> None:
    moment = datetime(2020, 6, 17, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    document = (
        "{ "
        + with_args(
            "f",
            {
                "none": None,
                "yes": True,
                "no": False,
                "int": -3,
                "float": 0.5,
                "tiny": 1e-07,
                "uuid": uuid.UUID(RUN_ID),
                "aware": moment,
                "naive": datetime(2020, 6, 17, 12, 0),
                "day": date(2020, 6, 17),
                "list": [1, "a", None],
                "tuple": (1, 2),
                "set": {7},
                "object": {"nested": {"deeper": [{"x": 1}]}},
                "empty": {},
                "enum": EnumValue("desc"),
                "prefect_enum": prefect_graphql.EnumValue("asc"),
            },
        )
        + " }"
    )
    assert argument_values(document) == {
        "none": None,
        "yes": True,
        "no": False,
        "int": -3,
        "float": 0.5,
        "tiny": 1e-07,
        "uuid": RUN_ID,
        "aware": "2020-06-17T12:00:00+02:00",
        "naive": "2020-06-17T12:00:00+00:00",
        "day": "2020-06-17",
        "list": [1, "a", None],
        "tuple": [1, 2],
        "set": [7],
        "object": {"nested": {"deeper": [{"x": 1}]}},
        "empty": {},
        "enum": "desc",
        "prefect_enum": "asc",
    }
    assert "enum: desc" in document
    assert "prefect_enum: asc" in document


@pytest.mark.parametrize(
    "value",
    [
        {"a": 1, "b": [True, None, "x"]},
        {"where": {"id": {"_in": ["a", "b"]}}, "limit": 5},
        {"order_by": {"created": "desc"}},
    ],
)
def test_with_args_renders_as_prefect_does(value: dict[str, Any]) -> None:
    assert with_args("field", value) == prefect_graphql.with_args("field", value)


class Level(str, Enum):  # noqa: UP042 - its str() is "Level.INFO", not the value
    INFO = "INFO"


class Priority(IntEnum):
    HIGH = 1


def test_str_and_int_enum_members_render_their_values() -> None:
    document = "{ " + with_args("f", {"level": Level.INFO, "priority": Priority.HIGH}) + " }"
    assert argument_values(document) == {"level": "INFO", "priority": 1}


def test_with_args_takes_argument_text_verbatim() -> None:
    text = 'where: {name: {_eq: "quoted \\"name\\""}}'
    assert with_args("flow", text) == f"flow({text})"
    assert argument_values("{ " + with_args("flow", text) + " }") == {
        "where": {"name": {"_eq": 'quoted "name"'}}
    }


def test_with_args_without_arguments_renders_the_bare_field() -> None:
    assert with_args("flow", {}) == "flow"


def test_enum_values_can_reference_variables_as_in_prefect() -> None:
    document = "query($id: UUID) { " + with_args("flow_run", {"id": EnumValue("$id")}) + " }"
    assert "flow_run(id: $id)" in printed(document)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"x": float("nan")}, r"f\.x is nan"),
        ({"x": float("inf")}, r"f\.x is inf"),
        ({"x": [1, object()]}, r"f\.x\[1\] is a object, which has no GraphQL literal"),
        ({"x": b"bytes"}, "is a bytes"),
        ({"bad-name": 1}, "'bad-name' in f is not a GraphQL name"),
        ({"x": {1: 2}}, r"f\.x has the key 1"),
        (["x"], "takes the arguments as a dict"),
    ],
)
def test_arguments_without_a_graphql_literal_are_refused(arguments: object, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        with_args("f", arguments)


def test_enum_value_equality_hash_and_repr() -> None:
    assert EnumValue("asc") == EnumValue("asc")
    assert EnumValue("asc") != prefect_graphql.EnumValue("asc")
    assert len({EnumValue("asc"), EnumValue("asc"), "asc"}) == 2
    assert str(EnumValue("asc")) == "asc"
    assert repr(EnumValue("asc")) == "EnumValue(value='asc')"
    with pytest.raises(InvalidInputError, match="EnumValue takes a string"):
        EnumValue(3)  # type: ignore[arg-type]


def test_literal_set_value_is_prefects_quoted_set_literal() -> None:
    values = ["a", "b c"]
    assert LiteralSetValue(values) == prefect_graphql.LiteralSetValue(values) == "{a, b c}"
    assert with_args("f", {"x": LiteralSetValue(values)}) == 'f(x: "{a, b c}")'
    with pytest.raises(InvalidInputError, match="not one string"):
        LiteralSetValue("abc")
    with pytest.raises(InvalidInputError, match="takes strings, got int"):
        LiteralSetValue([1])  # type: ignore[list-item]


# -- property: random documents render like Prefect's ---------------------------------------

names = st.text(alphabet=string.ascii_letters + "_", min_size=1, max_size=8).filter(
    lambda name: not name.startswith("__")
)
# Prefect's indentation pass alters string literals holding newlines before "}".
safe_text = st.text(max_size=12).filter(lambda text: "    }" not in text)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**31), max_value=2**31 - 1),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    safe_text,
    names.map(EnumValue),
)
literals = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(names, children, max_size=3)
    ),
    max_leaves=8,
)


def _prefect_literal(value: Any) -> Any:
    """The same value with Prefect's EnumValue in place of ours."""
    if isinstance(value, EnumValue):
        return prefect_graphql.EnumValue(value.value)
    if isinstance(value, dict):
        return {key: _prefect_literal(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_prefect_literal(item) for item in value]
    return value


@st.composite
def field_keys(draw: st.DrawFn) -> tuple[str, str]:
    """A field key rendered by our with_args and by Prefect's, or a bare name for both."""
    name = draw(names)
    arguments = draw(st.dictionaries(names, literals, min_size=1, max_size=3))
    if draw(st.booleans()):
        return name, name
    return with_args(name, arguments), prefect_graphql.with_args(name, _prefect_literal(arguments))


@st.composite
def selections(draw: st.DrawFn, depth: int = 0) -> tuple[Any, Any]:
    """The same selection built for us and for Prefect (leaves are strings)."""
    ours: dict[str, Any] = {}
    theirs: dict[str, Any] = {}
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        our_key, their_key = draw(field_keys())
        if depth < 2 and draw(st.booleans()):
            our_value, their_value = draw(selections(depth + 1))
        else:
            our_value = their_value = draw(st.sampled_from([True, ..., ["id", "name"]]))
        ours[our_key] = our_value
        theirs[their_key] = their_value
    return ours, theirs


@settings(max_examples=150, deadline=None)
@given(selections())
def test_random_documents_match_prefect(documents: tuple[Any, Any]) -> None:
    ours, theirs = documents
    reference = printed(prefect_graphql.parse_graphql({"query": theirs}))
    assert printed(parse_graphql({"query": ours})) == reference
    assert printed(parse_graphql({"query": theirs})) == reference


# -- GraphQLResult ------------------------------------------------------------------------

ANSWER: dict[str, Any] = {
    "data": {
        "flow_run": [
            {"id": RUN_ID, "state": "Running", "task_runs": [{"id": "t1", "map_index": -1}]},
            {"id": "other", "state": None, "task_runs": []},
        ],
        "matrix": [[{"x": 1}], []],
        "empty": {},
    }
}


def test_result_is_the_plain_answer_as_a_dict() -> None:
    result = GraphQLResult(ANSWER)
    assert isinstance(result, dict)
    assert result == ANSWER
    assert json.loads(json.dumps(result)) == ANSWER
    assert result["data"]["flow_run"][0]["id"] == RUN_ID
    assert json.dumps(result, sort_keys=True) == json.dumps(ANSWER, sort_keys=True)


def test_result_reads_by_attribute_at_every_depth() -> None:
    result = GraphQLResult(ANSWER)
    assert result.data.flow_run[0].id == RUN_ID
    assert result.data.flow_run[0].task_runs[0].map_index == -1
    assert result.data.flow_run[1].state is None
    assert result.data.matrix[0][0].x == 1
    assert isinstance(result.data, GraphQLResult)
    assert isinstance(result.data.flow_run, list)
    assert all(isinstance(run, GraphQLResult) for run in result.data.flow_run)
    assert isinstance(result.data.empty, GraphQLResult)


def test_result_reads_like_prefects() -> None:
    ours = GraphQLResult(ANSWER)
    theirs = prefect_graphql.GraphQLResult(ANSWER)
    assert ours.data.flow_run[0].task_runs[0].id == theirs.data.flow_run[0].task_runs[0].id
    assert ours.to_dict() == theirs.to_dict()
    assert repr(ours) == repr(theirs)
    assert str(ours) == str(theirs)


def test_a_missing_field_names_itself_and_the_fields_there_are() -> None:
    result = GraphQLResult(ANSWER)
    with pytest.raises(
        MissingFieldError, match=r"no field 'flow_runs' \(its fields: empty, flow_run, matrix\)"
    ):
        result.data.flow_runs  # noqa: B018
    with pytest.raises(AttributeError):
        result.data.flow_runs  # noqa: B018
    with pytest.raises(KeyError):  # Prefect's Box raised a KeyError too
        result.nope  # noqa: B018
    assert not hasattr(result, "errors")
    assert getattr(result, "errors", "default") == "default"
    with pytest.raises(AttributeError, match=r"no field 'x' \(its fields: none\)"):
        GraphQLResult().x  # noqa: B018


def test_dict_methods_win_over_keys_of_the_same_name_as_in_prefect() -> None:
    result = GraphQLResult({"items": [1], "count": 2})
    assert result["items"] == [1]
    assert callable(result.items)
    assert result.count == 2
    theirs = prefect_graphql.GraphQLResult({"items": [1]})
    assert callable(theirs.items)


def test_to_dict_gives_plain_containers() -> None:
    plain = GraphQLResult(ANSWER).to_dict()

    def types(value: Any) -> set[type]:
        if isinstance(value, dict):
            return {type(value)} | {t for item in value.values() for t in types(item)}
        if isinstance(value, list):
            return {type(value)} | {t for item in value for t in types(item)}
        return set()

    assert plain == ANSWER
    assert types(plain) == {dict, list}


def test_writes_wrap_nested_values() -> None:
    result = GraphQLResult()
    result.data = {"flow": {"id": "f"}}
    result["more"] = [{"id": 1}]
    result.update(extra={"x": {"y": 2}})
    result.setdefault("default", {"z": 3})
    assert result.data.flow.id == "f"
    assert result.more[0].id == 1
    assert result.extra.x.y == 2
    assert result.default.z == 3
    del result.extra
    assert "extra" not in result
    with pytest.raises(MissingFieldError):
        del result.extra


def test_results_copy_pickle_and_list_their_keys() -> None:
    result = GraphQLResult(ANSWER)
    for duplicate in (
        copy.copy(result),
        copy.deepcopy(result),
        pickle.loads(pickle.dumps(result)),  # noqa: S301 - our own data
        result.copy(),
    ):
        assert type(duplicate) is GraphQLResult
        assert duplicate == ANSWER
        assert duplicate.data.flow_run[0].id == RUN_ID
    deep = copy.deepcopy(result)
    deep.data.flow_run[0].id = "changed"
    assert result.data.flow_run[0].id == RUN_ID
    assert "data" in dir(result)


def test_repr_falls_back_when_a_value_is_not_json() -> None:
    result = GraphQLResult({"when": datetime(2020, 1, 1, tzinfo=UTC)})
    assert repr(result).startswith("GraphQLResult({'when': datetime.datetime(2020")
