"""Parsed and validated documents, kept by their text so that each distinct document
is parsed and validated once, not on every request.

Clients send the same few documents again and again (a flow runner sends four), and
graphql-core's parse and validation cost milliseconds each time, many times the
work of answering. A document's validation does not depend on its variables except
for one limit, the length of list variables (``_limits.MAX_LIST_LENGTH``); a request
whose variables hold a list that long is validated in full again, uncached, so it is
refused exactly as an uncached one would be.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, cast

from graphql import (
    ASTValidationRule,
    DocumentNode,
    GraphQLError,
    GraphQLInputType,
    GraphQLSchema,
    OperationDefinitionNode,
    is_input_type,
    parse,
    specified_rules,
    type_from_ast,
)
from graphql.utilities import TypeInfo

from ._limits import (
    MAX_LIST_LENGTH,
    longest_list,
    own_rules,
    validate_within_limits,
)

__all__ = [
    "MAX_CACHED_CHARACTERS",
    "MAX_CACHED_DOCUMENTS",
    "MAX_CACHED_DOCUMENT_LENGTH",
    "CheckedDocument",
    "Documents",
]

MAX_CACHED_DOCUMENTS = 256
"""Distinct documents kept; the least recently used is dropped first."""
MAX_CACHED_DOCUMENT_LENGTH = 20_000
"""Longer documents (rare: Prefect's and prefect_gql's own are under 3,000 characters)
are checked on every request."""
MAX_CACHED_CHARACTERS = 500_000
"""The kept documents' total length: a parsed document holds about 130 bytes a
character, so the cache stays under about 65 MB whatever clients send."""


@dataclass(frozen=True)
class CheckedDocument:
    """A parsed document, what validating it found without its variables, and the
    input types of its variables (to find an over-long list among them)."""

    document: DocumentNode
    errors: list[GraphQLError]
    variable_types: tuple[tuple[str, GraphQLInputType], ...]

    def lists_within_limit(self, variables: Mapping[str, Any] | None) -> bool:
        """No list in the variables is longer than ``MAX_LIST_LENGTH``."""
        if not variables:
            return True
        return all(
            longest_list(variables[name], type_) <= MAX_LIST_LENGTH
            for name, type_ in self.variable_types
            if name in variables
        )


class Documents:
    """The checked documents of one schema, least recently used dropped first; shared by
    the worker threads."""

    def __init__(self, schema: GraphQLSchema) -> None:
        self._schema = schema
        self._checked: OrderedDict[str, CheckedDocument] = OrderedDict()
        self._characters = 0
        self._lock = threading.Lock()

    def checked(self, query: str) -> CheckedDocument:
        """The document ``query`` parses to, checked; raises ``GraphQLError`` for a syntax
        error (cheap to find, and never kept: an error object is not reused)."""
        with self._lock:
            found = self._checked.get(query)
            if found is not None:
                self._checked.move_to_end(query)
                return found
        checked = self._check(query)
        if len(query) <= MAX_CACHED_DOCUMENT_LENGTH:
            with self._lock:
                if query not in self._checked:
                    self._characters += len(query)
                self._checked[query] = checked
                while (
                    len(self._checked) > MAX_CACHED_DOCUMENTS
                    or self._characters > MAX_CACHED_CHARACTERS
                ):
                    dropped, _ = self._checked.popitem(last=False)
                    self._characters -= len(dropped)
        return checked

    def _check(self, query: str) -> CheckedDocument:
        document = parse(query)
        errors = validate_within_limits(self._schema, document, (*specified_rules, *own_rules({})))
        variable_types: list[tuple[str, GraphQLInputType]] = []
        for definition in document.definitions:
            if isinstance(definition, OperationDefinitionNode):
                for variable in definition.variable_definitions or ():
                    type_ = type_from_ast(self._schema, variable.type)
                    if is_input_type(type_):
                        variable_types.append(
                            (variable.variable.name.value, cast(GraphQLInputType, type_))
                        )
        return CheckedDocument(document, errors, tuple(variable_types))

    def for_request(self) -> RequestDocument:
        return RequestDocument(self)


class RequestDocument:
    """One request's ``query_parser`` and ``query_validator`` for ariadne: the document
    is parsed and validated once per text, and the validation found then is the
    request's, unless one of its list variables is over the limit."""

    def __init__(self, documents: Documents) -> None:
        self._documents = documents
        self._checked: CheckedDocument | None = None
        self._variables: Mapping[str, Any] = {}

    def parse(self, context: Any, data: Mapping[str, Any]) -> DocumentNode:
        self._checked = self._documents.checked(data["query"])
        self._variables = data.get("variables") or {}
        return self._checked.document

    def validate(
        self,
        schema: GraphQLSchema,
        document_ast: DocumentNode,
        rules: Collection[type[ASTValidationRule]] | None = None,
        max_errors: int | None = None,
        type_info: TypeInfo | None = None,
    ) -> list[GraphQLError]:
        checked = self._checked
        if (
            checked is not None
            and checked.document is document_ast
            and checked.lists_within_limit(self._variables)
        ):
            return checked.errors
        every_rule = (*specified_rules, *own_rules(self._variables))
        return validate_within_limits(schema, document_ast, every_rule, max_errors, type_info)
