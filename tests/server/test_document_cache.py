"""Documents are parsed and validated once per text (``_documents``); every request is
still answered as if its document were checked afresh, limits included."""

from __future__ import annotations

import uuid

from prefect_gql.server._app import _schema
from prefect_gql.server._documents import (
    MAX_CACHED_CHARACTERS,
    MAX_CACHED_DOCUMENT_LENGTH,
    MAX_CACHED_DOCUMENTS,
    Documents,
)
from prefect_gql.server._limits import MAX_ALIASES, MAX_LIST_LENGTH

from .conftest import GraphQL

RUNS_BY_ID = "query($ids: [uuid!]) { flow_run(where: {id: {_in: $ids}}) { id } }"


def test_a_cached_document_still_refuses_an_over_long_list_variable(gql: GraphQL) -> None:
    within = [str(uuid.UUID(int=i)) for i in range(MAX_LIST_LENGTH)]
    assert gql.data(RUNS_BY_ID, {"ids": within}) == {"flow_run": []}
    over = gql.post(RUNS_BY_ID, {"ids": [*within, str(uuid.uuid4())]})
    assert over.status_code == 400
    error = over.json()["errors"][0]
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert f"{MAX_LIST_LENGTH} items" in error["message"]
    assert gql.data(RUNS_BY_ID, {"ids": within[:3]}) == {"flow_run": []}


def test_a_cached_document_over_a_limit_is_refused_every_time(gql: GraphQL) -> None:
    document = "{ " + " ".join(f"a{i}: hello" for i in range(MAX_ALIASES + 1)) + " }"
    answers = [gql.post(document) for _ in range(3)]
    assert [answer.status_code for answer in answers] == [400, 400, 400]
    assert len({answer.text for answer in answers}) == 1
    assert f"{MAX_ALIASES} aliases" in answers[0].json()["errors"][0]["message"]


def test_a_syntax_error_is_answered_every_time(gql: GraphQL) -> None:
    for _ in range(2):
        answer = gql.post("{ hello ")
        assert answer.status_code == 400
        assert "Syntax Error" in answer.json()["errors"][0]["message"]


def test_the_cache_keeps_a_bounded_number_of_documents() -> None:
    documents = Documents(_schema())
    first = documents.checked("query Q0 { hello }")
    assert documents.checked("query Q0 { hello }") is first
    for number in range(1, MAX_CACHED_DOCUMENTS + 1):
        documents.checked(f"query Q{number} {{ hello }}")
    assert documents.checked("query Q0 { hello }") is not first
    assert len(documents._checked) == MAX_CACHED_DOCUMENTS


def test_the_cache_keeps_a_bounded_number_of_characters() -> None:
    documents = Documents(_schema())
    padding = " " * (MAX_CACHED_DOCUMENT_LENGTH - 100)
    count = MAX_CACHED_CHARACTERS // MAX_CACHED_DOCUMENT_LENGTH + 5
    for number in range(count):
        documents.checked(f"query Q{number} {{ hello }}{padding}")
    kept = sum(len(query) for query in documents._checked)
    assert kept <= MAX_CACHED_CHARACTERS
    assert documents._characters == kept
    too_long = "{ hello }" + " " * MAX_CACHED_DOCUMENT_LENGTH
    assert documents.checked(too_long) is not documents.checked(too_long)
