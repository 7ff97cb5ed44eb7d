"""Hasura's generic insert_* / update_* / delete_* mutations over the stored tables."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from graphql import GraphQLEnumType, build_schema
from hypothesis import HealthCheck, given, settings, strategies as st

from prefect_gql.server import DEFAULT_TENANT_ID, AuthConfig, LocalServer, load_sdl
from prefect_gql.server._errors import APIError
from prefect_gql.server._tables import COLUMNS
from prefect_gql.server._writes import UNIQUE_KEYS, jsonb_operator

from .conftest import GraphQL, World, build_world, set_state


@pytest.fixture(scope="module")
def own_server() -> Iterator[LocalServer]:
    """Writes here delete with broad filters: a server of their own."""
    with LocalServer() as server:
        yield server


@pytest.fixture
def gql(own_server: LocalServer) -> Iterator[GraphQL]:
    client = GraphQL(own_server.url)
    yield client
    client.close()


def code_of(answer: dict[str, Any]) -> str:
    code: str = answer["errors"][0]["extensions"]["code"]
    return code


def test_insert_returns_affected_rows_and_the_rows(gql: GraphQL) -> None:
    names = [f"p-{uuid.uuid4().hex[:8]}" for _ in range(2)]
    inserted = gql.data(
        "mutation($o: [project_insert_input!]!) { insert_project(objects: $o)"
        " { affected_rows returning { id name description tenant { slug } } } }",
        {"o": [{"name": name, "tenant_id": DEFAULT_TENANT_ID} for name in names]},
    )["insert_project"]
    assert inserted["affected_rows"] == 2
    assert [(r["name"], r["description"], r["tenant"]["slug"]) for r in inserted["returning"]] == [
        (names[0], None, "default"),
        (names[1], None, "default"),
    ]
    read = gql.data(
        "query($n: [String!]) { project(where: {name: {_in: $n}}, order_by: {name: asc}) { id } }",
        {"n": names},
    )["project"]
    assert {r["id"] for r in read} == {r["id"] for r in inserted["returning"]}


def test_unique_keys_and_on_conflict(gql: GraphQL) -> None:
    name = f"p-{uuid.uuid4().hex[:8]}"
    one = "mutation($o: project_insert_input!, $c: project_on_conflict) {"
    one += " insert_project_one(object: $o, on_conflict: $c) { id description } }"
    first = gql.data(one, {"o": {"name": name, "tenant_id": DEFAULT_TENANT_ID}})
    project_id = first["insert_project_one"]["id"]
    twin = {"name": name, "tenant_id": DEFAULT_TENANT_ID, "description": "second"}
    duplicate = gql(one, {"o": twin})
    assert duplicate["data"] == {"insert_project_one": None}
    assert "project_tenant_id_name_key" in duplicate["errors"][0]["message"]
    assert code_of(duplicate) == "BAD_USER_INPUT"
    constraint = "project_tenant_id_name_key"
    left = gql.data(one, {"o": twin, "c": {"constraint": constraint, "update_columns": []}})
    assert left == {"insert_project_one": None}
    upserted = gql.data(
        one, {"o": twin, "c": {"constraint": constraint, "update_columns": ["description"]}}
    )
    assert upserted == {"insert_project_one": {"id": project_id, "description": "second"}}
    same_id = gql(one, {"o": {"id": project_id, "name": "other", "tenant_id": DEFAULT_TENANT_ID}})
    assert "project_pkey" in same_id["errors"][0]["message"]


def test_an_insert_with_nested_objects(gql: GraphQL, world: World) -> None:
    flow = {
        "name": "nested",
        "version": 1,
        "tenant_id": world.tenant_id,
        "project_id": world.project_id,
        "flow_group": {"data": {"tenant_id": world.tenant_id, "name": "nested-group"}},
        "tasks": {"data": [{"slug": "a", "tenant_id": world.tenant_id}, {"slug": "b"}]},
    }
    inserted = gql.data(
        "mutation($o: [flow_insert_input!]!) { insert_flow(objects: $o) { affected_rows"
        " returning { name archived flow_group { name }"
        " tasks(order_by: {slug: asc}) { slug } } } }",
        {"o": [flow]},
    )["insert_flow"]
    assert inserted == {
        "affected_rows": 4,
        "returning": [
            {"name": "nested", "archived": False, "flow_group": {"name": "nested-group"},
             "tasks": [{"slug": "a"}, {"slug": "b"}]}
        ],
    }  # fmt: skip


RUN_COLUMNS = (
    "version state serialized_state state_message state_result state_start_time"
    " state_timestamp start_time end_time"
)


def insert_state(gql: GraphQL, kind: str, run_id: str, **state: Any) -> None:
    row = {f"{kind}_id": run_id, **state}
    if "state" in state:
        row.setdefault("serialized_state", {"type": state["state"], "message": state["message"]})
    written = gql.data(
        f"mutation($o: {kind}_state_insert_input!)"
        f" {{ insert_{kind}_state_one(object: $o) {{ id }} }}",
        {"o": row},
    )
    assert written[f"insert_{kind}_state_one"]["id"]


def run_of(gql: GraphQL, kind: str, run_id: str) -> dict[str, Any]:
    found: dict[str, Any] = gql.data(f'{{ {kind}_by_pk(id: "{run_id}") {{ {RUN_COLUMNS} }} }}')[
        f"{kind}_by_pk"
    ]
    return found


def moment(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


@pytest.mark.parametrize("kind", ["flow_run", "task_run"])
def test_an_inserted_state_moves_its_run_as_servers_trigger_does(
    gql: GraphQL, world: World, kind: str
) -> None:
    """Prefect Server's update_*_run_details_on_state_insert: a state row inserted through
    Hasura whose version is at least the run's becomes the run's state."""
    run_id = world.flow_run_id if kind == "flow_run" else world.task_run_ids["extract-1"]
    version = run_of(gql, kind, run_id)["version"]
    at = [datetime(2030, 1, 1, 12, minute, tzinfo=UTC) for minute in range(5)]

    insert_state(
        gql, kind, run_id, version=version + 1, state="Running", message="go",
        timestamp=at[2].isoformat(), start_time=at[1].isoformat(), result={"r": 1},
    )  # fmt: skip
    running = run_of(gql, kind, run_id)
    assert (running["version"], running["state"], running["state_message"]) == (
        version + 1, "Running", "go",
    )  # fmt: skip
    assert running["serialized_state"] == {"type": "Running", "message": "go"}
    assert running["state_result"] == {"r": 1}
    assert moment(running["state_timestamp"]) == at[2]
    assert moment(running["state_start_time"]) == at[1]
    assert moment(running["start_time"]) == at[2]

    insert_state(gql, kind, run_id, version=version, state="Failed", message="older version")
    insert_state(gql, kind, run_id, state="Failed", message="no version")
    assert run_of(gql, kind, run_id) == running, "an older or missing version changes nothing"

    insert_state(
        gql, kind, run_id, version=version + 1, state="Running", message="again",
        timestamp=at[0].isoformat(),
    )  # fmt: skip
    again = run_of(gql, kind, run_id)
    assert again["state_message"] == "again", "the same version is taken"
    assert moment(again["start_time"]) == at[0], "the earliest Running time is kept"

    insert_state(
        gql, kind, run_id, version=version + 2, state="Success", message="done",
        timestamp=at[4].isoformat(),
    )  # fmt: skip
    insert_state(
        gql, kind, run_id, version=version + 3, state="Cancelled", message="late",
        timestamp=at[3].isoformat(),
    )  # fmt: skip
    finished = run_of(gql, kind, run_id)
    assert (finished["version"], finished["state"]) == (version + 3, "Cancelled")
    assert moment(finished["end_time"]) == at[4], "the latest end time is kept"
    assert moment(finished["start_time"]) == at[0]


def test_update_with_set_inc_and_jsonb_operators(gql: GraphQL, world: World) -> None:
    update = """mutation($id: uuid!, $set: flow_run_set_input, $inc: flow_run_inc_input,
        $append: flow_run_append_input, $prepend: flow_run_prepend_input,
        $key: flow_run_delete_key_input, $elem: flow_run_delete_elem_input,
        $path: flow_run_delete_at_path_input) {
      update_flow_run(where: {id: {_eq: $id}}, _set: $set, _inc: $inc, _append: $append,
          _prepend: $prepend, _delete_key: $key, _delete_elem: $elem, _delete_at_path: $path)
        { affected_rows returning { name version times_resurrected labels parameters context } }
    }"""
    gql.data(update, {"id": world.flow_run_id, "set": {"context": {"a": {"b": 1, "c": 2}}}})
    answer = gql.data(
        update,
        {
            "id": world.flow_run_id,
            "set": {"name": "renamed"},
            "inc": {"version": 10, "times_resurrected": 1},
            "append": {"labels": ["z"]},
            "prepend": {"parameters": {"day": "ignored", "new": 1}},
            "path": {"context": ["a", "b"]},
        },
    )["update_flow_run"]
    assert answer == {
        "affected_rows": 1,
        "returning": [
            {
                "name": "renamed",
                "version": 11,
                "times_resurrected": 1,
                "labels": ["local", "z"],
                "parameters": {"day": "monday", "new": 1},
                "context": {"a": {"c": 2}},
            }
        ],
    }
    removed = gql.data(
        update, {"id": world.flow_run_id, "key": {"parameters": "new"}, "elem": {"labels": 0}}
    )["update_flow_run"]["returning"][0]
    assert (removed["parameters"], removed["labels"]) == ({"day": "monday"}, ["z"])
    nothing = gql.data(update, {"id": str(uuid.uuid4()), "set": {"name": "x"}})
    assert nothing == {"update_flow_run": {"affected_rows": 0, "returning": []}}


def test_update_and_delete_by_pk(gql: GraphQL, world: World) -> None:
    by_pk = (
        "mutation($id: uuid!) { update_project_by_pk(pk_columns: {id: $id},"
        ' _set: {description: "d"}) { id description } }'
    )
    assert gql.data(by_pk, {"id": world.project_id}) == {
        "update_project_by_pk": {"id": world.project_id, "description": "d"}
    }
    assert gql.data(by_pk, {"id": str(uuid.uuid4())}) == {"update_project_by_pk": None}
    delete = "mutation($id: uuid!) { delete_flow_run_by_pk(id: $id) { id name } }"
    deleted = gql.data(delete, {"id": world.flow_run_id})["delete_flow_run_by_pk"]
    assert deleted["id"] == world.flow_run_id
    assert gql.data(delete, {"id": world.flow_run_id}) == {"delete_flow_run_by_pk": None}
    task_runs = gql.data(
        "query($id: uuid!) { task_run(where: {flow_run_id: {_eq: $id}}) { id } }",
        {"id": world.flow_run_id},
    )
    assert task_runs == {"task_run": []}


def test_delete_with_where_cascades_and_nulls_references(gql: GraphQL, world: World) -> None:
    extract, load = world.task_run_ids["extract-1"], world.task_run_ids["load-1"]
    assert "errors" not in set_state(gql, "flow_run", world.flow_run_id, {"type": "Running"})
    assert "errors" not in set_state(gql, "task_run", load, {"type": "Running"})
    deleted = gql.data(
        "mutation($r: uuid!) { delete_task_run(where: {flow_run_id: {_eq: $r},"
        ' state: {_eq: "Pending"}}) { affected_rows returning { id } } }',
        {"r": world.flow_run_id},
    )
    assert deleted == {"delete_task_run": {"affected_rows": 1, "returning": [{"id": extract}]}}
    left = gql.data(
        "query($t: [uuid!]) { task_run_artifact(where: {task_run_id: {_in: $t}}) { id }"
        " task_run_state(where: {task_run_id: {_in: $t}}) { task_run_id } }",
        {"t": [extract, load]},
    )
    assert left == {"task_run_artifact": [], "task_run_state": [{"task_run_id": load}]}
    agent = gql.data(
        "mutation($t: uuid!) { insert_agent_one(object: {tenant_id: $t, labels: []}) { id } }",
        {"t": world.tenant_id},
    )["insert_agent_one"]["id"]
    gql.data(
        "mutation($r: uuid!, $a: uuid!) { update_flow_run(where: {id: {_eq: $r}},"
        " _set: {agent_id: $a}) { affected_rows } }",
        {"r": world.flow_run_id, "a": agent},
    )
    gone = gql.data("mutation($a: uuid!) { delete_agent_by_pk(id: $a) { id } }", {"a": agent})
    assert gone == {"delete_agent_by_pk": {"id": agent}}
    run = gql.data(
        "query($r: uuid!) { flow_run_by_pk(id: $r) { agent_id } }", {"r": world.flow_run_id}
    )
    assert run == {"flow_run_by_pk": {"agent_id": None}}


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("update_project(where: {}, _set: {name: null}) { affected_rows }", "Not-NULL violation"),
        ("update_project(where: {}) { affected_rows }", "at least one of _set"),
        (
            'update_flow_run(where: {}, _set: {version: 1}, _inc: {version: 1}) { affected_rows }',
            "in both _set and _inc",
        ),
        ("update_flow_run(where: {}, _inc: {version: 2147483647}) { affected_rows }",
         "out of range"),
        ('update_flow_run(where: {}, _delete_elem: {parameters: 0}) { affected_rows }',
         "cannot delete from object using integer index"),
        (
            'insert_flow_run_one(object: {flow_id: "6f1b5e1a-6cd3-4c61-9f0b-3d0c6f1c2a10",'
            ' scheduled_start_time: "2026-01-01T00:00:00Z"}) { id }',
            "Foreign key violation",
        ),
        (
            'update_flow_run(where: {}, _delete_at_path: {labels: ["x"]}) { affected_rows }',
            "is not an integer",
        ),
        ("update_flow_run(where: {}, _set: {parameters: [1]}) { affected_rows }",
         "flow_run.parameters must be an object"),
        ("update_flow_run(where: {}, _append: {labels: [1]}) { affected_rows }",
         "flow_run.labels must be an array of strings"),
        ('update_flow_run(where: {}, _set: {run_config: {labels: [1]}}) { affected_rows }',
         "flow_run.run_config.labels must be"),
        ('update_flow(where: {}, _set: {schedule: {clocks: [{type: "NoSuchClock"}]}})'
         " { affected_rows }", "NoSuchClock"),
        ('update_flow_run(where: {}, _set: {id: "6f1b5e1a-6cd3-4c61-9f0b-3d0c6f1c2a10"})'
         " { affected_rows }", "does not change the id"),
        ("update_project(where: {}, _set: {created: null}) { affected_rows }",
         'null value in column "created"'),
    ],
)  # fmt: skip
def test_what_postgres_refuses_is_bad_input_and_writes_nothing(
    gql: GraphQL, world: World, document: str, message: str
) -> None:
    before = gql.data("{ project { name } flow_run { name version parameters } }")
    answer = gql(f"mutation {{ {document} }}")
    assert message in answer["errors"][0]["message"]
    assert code_of(answer) == "BAD_USER_INPUT"
    assert gql.data("{ project { name } flow_run { name version parameters } }") == before


@pytest.fixture(scope="module")
def token_server() -> Iterator[LocalServer]:
    with LocalServer(auth=AuthConfig(api_keys={"key-one": DEFAULT_TENANT_ID})) as server:
        yield server


def test_writes_stay_in_the_callers_tenant(token_server: LocalServer) -> None:
    other_tenant = str(uuid.uuid4())
    mine = GraphQL(token_server.url, {"Authorization": "Bearer key-one"})
    theirs = GraphQL(
        token_server.url, {"Authorization": f"Bearer {token_server.issue_api_key(other_tenant)}"}
    )
    try:
        world = build_world(mine)
        touched = theirs.data(
            'mutation { update_project(where: {}, _set: {description: "theirs"}) { affected_rows }'
            " delete_task_run(where: {}) { affected_rows } }"
        )
        assert touched == {
            "update_project": {"affected_rows": 0},
            "delete_task_run": {"affected_rows": 0},
        }
        into_mine = theirs(
            'mutation($p: uuid!) { insert_flow_one(object: {name: "x", project_id: $p,'
            " flow_group_id: $p}) { id } }",
            {"p": world.project_id},
        )
        assert "Foreign key violation" in into_mine["errors"][0]["message"]
        as_mine = theirs(
            'mutation($t: uuid!) { insert_project_one(object: {name: "x", tenant_id: $t}) { id } }',
            {"t": world.tenant_id},
        )
        assert code_of(as_mine) == "FORBIDDEN"
        filled = theirs.data(
            'mutation { insert_project_one(object: {name: "theirs"}) { tenant_id } }'
        )
        assert filled == {"insert_project_one": {"tenant_id": other_tenant}}
        tenant = theirs('mutation { insert_tenant_one(object: {name: "t", slug: "t"}) { id } }')
        assert code_of(tenant) == "FORBIDDEN"
        assert mine.data("{ project { description } }") == {"project": [{"description": None}]}
    finally:
        mine.close()
        theirs.close()


TASK_UPDATE = """mutation($id: uuid!, $set: task_set_input, $inc: task_inc_input) {
  update_task(where: {id: {_eq: $id}}, _set: $set, _inc: $inc) { affected_rows }
}"""
TASK = "query($id: uuid!) { task_by_pk(id: $id) { name max_retries tags mapped retry_delay } }"
labels = st.lists(st.text(max_size=4), max_size=3)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=6,
)
task_sets = st.fixed_dictionaries(
    {},
    optional={
        "name": st.none() | st.text(max_size=20),
        "tags": labels | json_values,
        "mapped": st.booleans(),
        "retry_delay": json_values,
    },
)
int32 = st.integers(-(2**31), 2**31 - 1)


def refusal_of(changes: dict[str, Any], inc: dict[str, int] | None, retries: int) -> str | None:
    """What the server must refuse in one update of a task, first problem first."""
    if not changes and inc is None:
        return "at least one of"
    for column, value in changes.items():
        if column in ("mapped", "tags") and value is None:
            return "Not-NULL"
        strings = isinstance(value, list) and all(isinstance(item, str) for item in value)
        if column == "tags" and not strings:
            return "must be an array"
    if not -(2**31) <= retries < 2**31:
        return "out of range"
    return None


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=st.lists(st.tuples(task_sets, st.none() | int32), min_size=1, max_size=4))
def test_random_set_and_inc_on_a_task_match_a_model(
    gql: GraphQL, world: World, steps: list[tuple[dict[str, Any], int | None]]
) -> None:
    task_id = world.task_ids["load-1"]
    model = gql.data(TASK, {"id": task_id})["task_by_pk"]
    for changes, amount in steps:
        inc = None if amount is None else {"max_retries": amount}
        answer = gql(TASK_UPDATE, {"id": task_id, "set": changes, "inc": inc})
        expected = {**model, **changes}
        if amount is not None:
            expected["max_retries"] = model["max_retries"] + amount
        refusal = refusal_of(changes, inc, expected["max_retries"])
        if refusal is None:
            assert answer == {"data": {"update_task": {"affected_rows": 1}}}, answer
            model = expected
        else:
            assert refusal in answer["errors"][0]["message"]
            assert code_of(answer) == "BAD_USER_INPUT"
        assert gql.data(TASK, {"id": task_id})["task_by_pk"] == model


@pytest.mark.parametrize(
    ("operator", "value", "operand", "expected"),
    [
        ("_append", {"a": 1}, {"b": 2, "a": 3}, {"a": 3, "b": 2}),
        ("_append", [1], [2], [1, 2]),
        ("_append", [1], 2, [1, 2]),
        ("_append", {"a": 1}, [2], [{"a": 1}, 2]),
        ("_append", "x", "y", ["x", "y"]),
        ("_append", None, [1], None),
        ("_prepend", [1], [0], [0, 1]),
        ("_prepend", {"a": 1}, {"a": 0, "b": 0}, {"a": 1, "b": 0}),
        ("_delete_key", {"a": 1, "b": 2}, "a", {"b": 2}),
        ("_delete_key", ["a", "b", "a"], "a", ["b"]),
        ("_delete_elem", [1, 2, 3], 1, [1, 3]),
        ("_delete_elem", [1, 2, 3], -1, [1, 2]),
        ("_delete_elem", [1], 5, [1]),
        ("_delete_at_path", {"a": {"b": 1, "c": 2}}, ["a", "b"], {"a": {"c": 2}}),
        ("_delete_at_path", {"a": [1, 2, 3]}, ["a", "1"], {"a": [1, 3]}),
        ("_delete_at_path", {"a": [{"b": 1, "c": 2}]}, ["a", "0", "b"], {"a": [{"c": 2}]}),
        ("_delete_at_path", {"a": 1}, ["b"], {"a": 1}),
        ("_delete_at_path", {"a": 1}, ["a", "b"], {"a": 1}),
        ("_delete_at_path", [1, 2], ["-1"], [1]),
        ("_delete_at_path", [1, 2], ["7"], [1, 2]),
        ("_delete_at_path", {"a": 1}, [], {"a": 1}),
    ],
)
def test_jsonb_operators_as_postgres_applies_them(
    operator: str, value: Any, operand: Any, expected: Any
) -> None:
    assert jsonb_operator(operator, value, operand) == expected


@pytest.mark.parametrize(
    ("operator", "value", "operand", "message"),
    [
        ("_delete_key", 1, "a", "cannot delete from scalar"),
        ("_delete_elem", {"a": 1}, 0, "cannot delete from object using integer index"),
        ("_delete_elem", "s", 0, "cannot delete from scalar"),
        ("_delete_at_path", 5, ["a"], "cannot delete path in scalar"),
        ("_delete_at_path", {"a": [1]}, ["a", "x"], "path element at position 2 is not an integer"),
    ],
)
def test_jsonb_operators_refuse_what_postgres_refuses(
    operator: str, value: Any, operand: Any, message: str
) -> None:
    with pytest.raises(APIError, match=message):
        jsonb_operator(operator, value, operand)


def flow_group_of(gql: GraphQL, world: World) -> str:
    flow = gql.data(
        "query($id: uuid!) { flow_by_pk(id: $id) { flow_group_id } }", {"id": world.flow_id}
    )
    group_id: str = flow["flow_by_pk"]["flow_group_id"]
    return group_id


def test_on_conflict_where_and_nested_conflicts(gql: GraphQL, world: World) -> None:
    upsert = (
        "mutation($o: project_insert_input!, $c: project_on_conflict) {"
        " insert_project_one(object: $o, on_conflict: $c) { id description } }"
    )
    existing = {"id": world.project_id, "name": "renamed", "tenant_id": world.tenant_id}
    unmatched = {
        "constraint": "project_pkey",
        "update_columns": ["name"],
        "where": {"name": {"_eq": "not this one"}},
    }
    assert gql.data(upsert, {"o": existing, "c": unmatched}) == {"insert_project_one": None}
    group_upsert = gql(
        "mutation($o: flow_group_insert_input!, $c: flow_group_on_conflict) {"
        " insert_flow_group_one(object: $o, on_conflict: $c) { id } }",
        {
            "o": {"id": flow_group_of(gql, world), "tenant_id": world.tenant_id},
            "c": {
                "constraint": "flow_group_pkey",
                "update_columns": ["name"],
                "where": {"settings": {"_has_keys_all": ["x"]}},
            },
        },
    )
    assert "_has_keys_all" in group_upsert["errors"][0]["message"]
    assert code_of(group_upsert) == "BAD_USER_INPUT"
    matched = {**unmatched, "where": {"name": {"_eq": world.project_name}}}
    assert gql.data(upsert, {"o": existing, "c": matched}) == {
        "insert_project_one": {"id": world.project_id, "description": None}
    }
    nested = gql(
        "mutation($o: flow_insert_input!) { insert_flow_one(object: $o) { id } }",
        {
            "o": {
                "name": "n",
                "flow_group_id": world.project_id,
                "project": {
                    "data": existing,
                    "on_conflict": {"constraint": "project_pkey", "update_columns": []},
                },
            }
        },
    )
    assert "wrote no row" in nested["errors"][0]["message"]
    assert code_of(nested) == "BAD_USER_INPUT"


def test_the_unique_keys_are_the_schemas_constraints() -> None:
    schema = build_schema(load_sdl())
    for table, keys in UNIQUE_KEYS.items():
        constraint = schema.type_map.get(f"{table}_constraint")
        if isinstance(constraint, GraphQLEnumType):
            assert set(keys) == set(constraint.values), table
        for columns in keys.values():
            assert set(columns) <= set(COLUMNS[table]), table
