"""Limits that keep one request from stalling the local server for everyone.

Checked in order, each as early and as cheaply as it can be: the body's size while
it is read, then its JSON (an object, not nested too deep, valid UTF-8 text), then
the document's length, then the document's shape and list arguments (validation
rules that run before graphql-core's own), and last a budget of fields and seconds
while a query executes. Each refusal is a GraphQL error naming the limit, with
``extensions.code`` ``PAYLOAD_TOO_LARGE``, ``BAD_REQUEST`` or ``QUERY_TOO_COMPLEX``.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable, Collection, Mapping
from itertools import accumulate
from typing import Any

from graphql import (
    ASTValidationRule,
    DocumentNode,
    ExecutionContext,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    ListValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    ValidationRule,
    VariableDefinitionNode,
    is_input_type,
    located_error,
    specified_rules,
    type_from_ast,
    validate,
)
from graphql.pyutils import Path
from graphql.utilities import TypeInfo
from starlette.requests import ClientDisconnect, Request

from ._errors import BAD_REQUEST, PAYLOAD_TOO_LARGE, QUERY_TOO_COMPLEX, APIError

__all__ = [
    "MAX_ALIASES",
    "MAX_BODY_BYTES",
    "MAX_CONCURRENT_EXECUTIONS",
    "MAX_EXECUTION_SECONDS",
    "MAX_JSON_DEPTH",
    "MAX_LIST_LENGTH",
    "MAX_QUERY_DEPTH",
    "MAX_QUERY_LENGTH",
    "MAX_RESOLVED_FIELDS",
    "MAX_SELECTED_FIELDS",
    "BudgetedExecutionContext",
    "QueryBudgetExceededError",
    "RequestRefusedError",
    "decode_operation",
    "longest_list",
    "own_rules",
    "read_body",
    "validate_within_limits",
]

MAX_BODY_BYTES = 10 * 1024 * 1024
"""A request body's size (a 1,000-entry log batch or a large flow fits many times)."""
MAX_QUERY_LENGTH = 100_000
"""Characters in the GraphQL document; data belongs in variables."""
MAX_JSON_DEPTH = 64
"""Nesting of arrays and objects in the body, variables and JSON values included."""
MAX_LIST_LENGTH = 10_000
"""Items in one list argument (``_in``, ``logs``, ``states``...), literal or variable."""
MAX_QUERY_DEPTH = 10
"""Nested selections, counting through fragments (Prefect's own documents nest 4)."""
MAX_ALIASES = 50
"""Aliased fields in one operation, counting each fragment each time it is spread."""
MAX_SELECTED_FIELDS = 1_000
"""Fields selected in one operation, counting each fragment each time it is spread."""
MAX_RESOLVED_FIELDS = 100_000
"""Field values a query may produce (each row of a list counts each field selected)."""
MAX_EXECUTION_SECONDS = 5.0
"""How long a query may execute, waiting for the store included."""
MAX_CONCURRENT_EXECUTIONS = 8
"""Worker threads executing GraphQL at once; more requests wait their turn."""
clock: Callable[[], float] = time.monotonic
"""What ``MAX_EXECUTION_SECONDS`` is measured with (tests put a clock of their own here)."""

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class RequestRefusedError(Exception):
    """A request answered before it reaches GraphQL: its HTTP status and one error."""

    def __init__(self, message: str, code: str = BAD_REQUEST, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status

    def body(self) -> dict[str, Any]:
        return {"errors": [{"message": self.message, "extensions": {"code": self.code}}]}


def _too_large(what: str) -> RequestRefusedError:
    return RequestRefusedError(f"{what} is too large", PAYLOAD_TOO_LARGE, 413)


async def read_body(request: Request) -> bytes:
    """A POST's JSON body, read no further than ``MAX_BODY_BYTES``.

    Raises ``RequestRefusedError`` for another content type or a larger body.
    """
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise RequestRefusedError("POST the operation as JSON, with Content-Type: application/json")
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise RequestRefusedError("Content-Length is not a number of bytes")
        if int(declared) > MAX_BODY_BYTES:
            raise _too_large(f"the request body (more than {MAX_BODY_BYTES} bytes)")
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise _too_large(f"the request body (more than {MAX_BODY_BYTES} bytes)")
            chunks.append(chunk)
    except ClientDisconnect as err:
        raise RequestRefusedError("the client went away before sending its body") from err
    return b"".join(chunks)


def _finite_number(text: str) -> float:
    """JSON has no NaN or Infinity (Python's decoder would take them, and the answer
    that holds one could never be written)."""
    number = float(text)
    if not math.isfinite(number):
        raise ValueError("numbers must be finite")
    return number


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_A_BRACKET = re.compile(r"[^\[\]{}]+")
_NESTING_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _decode_json(text: str, what: str, *, enclosing: int = 0) -> Any:
    """``text`` decoded, refused when it is not JSON or when, inside ``enclosing``
    containers, it nests deeper than ``MAX_JSON_DEPTH``. The depth is read from the text
    with its strings left out, in regular expressions and C loops: a body of many values
    costs no Python per value."""
    try:
        value = json.loads(text, parse_float=_finite_number, parse_constant=_no_constant)
    except RecursionError as err:
        raise _too_deep(what) from err
    except ValueError as err:
        raise RequestRefusedError(f"{what} is not JSON in UTF-8") from err
    brackets = _NOT_A_BRACKET.sub("", _JSON_STRING.sub("", text))
    nesting = max(accumulate(map(_NESTING_STEP.__getitem__, brackets)), default=0)
    if enclosing + nesting > MAX_JSON_DEPTH:
        raise _too_deep(what)
    return value


def _too_deep(what: str) -> RequestRefusedError:
    return RequestRefusedError(f"{what} is nested deeper than {MAX_JSON_DEPTH} levels")


def _refuse_lone_surrogates(value: Any, what: str) -> None:
    """Iteratively, so that no nesting can exhaust the stack."""
    pending: list[Any] = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if _LONE_SURROGATE.search(item):
                raise RequestRefusedError(f"{what} holds text that is not valid Unicode")
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)


def decode_operation(body: bytes) -> dict[str, Any]:
    """The ``{"query", "variables", "operationName"}`` a body carries, checked against
    the JSON limits; ``variables`` may be a JSON-encoded string, as Prefect sends it.

    Raises ``RequestRefusedError`` for anything else.
    """
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise RequestRefusedError("the request body is not JSON in UTF-8") from err
    data = _decode_json(text, "the request body")
    if not isinstance(data, dict):
        raise RequestRefusedError("the request body must be a JSON object")
    query, variables, operation_name = (
        data.get("query"),
        data.get("variables"),
        data.get("operationName"),
    )
    if not isinstance(query, str) or not query.strip():
        raise RequestRefusedError("query must be a non-empty string")
    if len(query) > MAX_QUERY_LENGTH:
        raise _too_large(f"the document (more than {MAX_QUERY_LENGTH} characters)")
    if isinstance(variables, str):
        variables = _decode_json(variables, "variables", enclosing=1)  # in the body
    if variables is not None and not isinstance(variables, dict):
        raise RequestRefusedError("variables must be a JSON object or null")
    if operation_name is not None and not isinstance(operation_name, str):
        raise RequestRefusedError("operationName must be a string or null")
    operation = {"query": query, "variables": variables, "operationName": operation_name}
    if _SURROGATE_ESCAPE.search(text):
        _refuse_lone_surrogates(operation, "the request body")
    return operation


# -- the document's shape ----------------------------------------------------------------


class _Shape:
    """Depth, aliases and fields of a selection set, fragments expanded (memoized per
    fragment, so that fragments spread in fragments cost one walk each). Introspection
    fields (``__schema``, ``__type``) count one level: they read the schema, not rows."""

    def __init__(self, fragment: Callable[[str], FragmentDefinitionNode | None]) -> None:
        self._fragment = fragment
        self._fragments: dict[str, tuple[int, int, int]] = {}

    def of(self, selection_set: SelectionSetNode | None) -> tuple[int, int, int]:
        depth = aliases = fields = 0
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                inner_depth, inner_aliases, inner_fields = self.of(selection.selection_set)
                if selection.name.value.startswith("__"):
                    inner_depth = 0  # introspection nests ofType deep, over the schema only
                depth = max(depth, 1 + inner_depth)
                aliases += inner_aliases + (selection.alias is not None)
                fields += 1 + inner_fields
                continue
            if isinstance(selection, FragmentSpreadNode):
                inner = self._spread(selection.name.value)
            else:
                assert isinstance(selection, InlineFragmentNode)
                inner = self.of(selection.selection_set)
            depth = max(depth, inner[0])
            aliases += inner[1]
            fields += inner[2]
        return depth, aliases, fields

    def _spread(self, name: str) -> tuple[int, int, int]:
        if name not in self._fragments:
            self._fragments[name] = (0, 0, 0)  # a cycle counts once; another rule refuses it
            fragment = self._fragment(name)
            self._fragments[name] = self.of(fragment.selection_set) if fragment else (0, 0, 0)
        return self._fragments[name]


def _too_complex(message: str, node: Any = None) -> GraphQLError:
    return GraphQLError(message, node, extensions={"code": QUERY_TOO_COMPLEX})


class _ShapeRule(ValidationRule):
    """Refuses an operation deeper than ``MAX_QUERY_DEPTH``, with more than
    ``MAX_ALIASES`` aliases or ``MAX_SELECTED_FIELDS`` fields."""

    def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
        depth, aliases, fields = _Shape(self.context.get_fragment).of(node.selection_set)
        problems = []
        if depth > MAX_QUERY_DEPTH:
            problems.append(f"the operation is nested deeper than {MAX_QUERY_DEPTH} levels")
        if aliases > MAX_ALIASES:
            problems.append(
                f"the operation has {aliases} aliases, more than the {MAX_ALIASES} aliases allowed"
            )
        if fields > MAX_SELECTED_FIELDS:
            problems.append(
                f"the operation selects {fields} fields, more than the {MAX_SELECTED_FIELDS}"
                " fields allowed (fragments count each time they are spread)"
            )
        for problem in problems:
            self.report_error(_too_complex(problem, node))


def _list_too_long(message_of: str, node: Any = None) -> GraphQLError:
    return _too_complex(f"{message_of} has more than {MAX_LIST_LENGTH} items", node)


def _nullable(type_: Any) -> Any:
    return type_.of_type if isinstance(type_, GraphQLNonNull) else type_


def longest_list(value: Any, type_: GraphQLInputType) -> int:
    """The length of the longest GraphQL list in ``value`` (lists inside a JSON scalar
    are data, not arguments, and do not count)."""
    nullable = _nullable(type_)
    if isinstance(nullable, GraphQLList):
        items = value if isinstance(value, list) else [value]
        if len(items) > MAX_LIST_LENGTH:
            return len(items)
        return max([len(items), *(longest_list(item, nullable.of_type) for item in items)])
    if isinstance(nullable, GraphQLInputObjectType) and isinstance(value, dict):
        return max(
            (
                longest_list(member, nullable.fields[name].type)
                for name, member in value.items()
                if name in nullable.fields
            ),
            default=0,
        )
    return 0


def _list_rule(variables: Mapping[str, Any]) -> type[ValidationRule]:
    class ListLengthRule(ValidationRule):
        """Refuses list arguments longer than ``MAX_LIST_LENGTH``, in the document or
        in the variables."""

        def enter_list_value(self, node: ListValueNode, *_: Any) -> None:
            if len(node.values) > MAX_LIST_LENGTH and isinstance(
                _nullable(self.context.get_parent_input_type()), GraphQLList
            ):
                self.report_error(_list_too_long("a list in the document", node))

        def enter_variable_definition(self, node: VariableDefinitionNode, *_: Any) -> None:
            name = node.variable.name.value
            type_ = type_from_ast(self.context.schema, node.type)
            if (
                name in variables
                and is_input_type(type_)
                and longest_list(variables[name], type_) > MAX_LIST_LENGTH  # type: ignore[arg-type]
            ):
                self.report_error(_list_too_long(f"a list in variable ${name}", node))

    return ListLengthRule


def own_rules(variables: Mapping[str, Any]) -> list[type[ValidationRule]]:
    """The limits as validation rules, for a request's variables."""
    return [_ShapeRule, _list_rule(variables)]


def validate_within_limits(
    schema: GraphQLSchema,
    document_ast: DocumentNode,
    rules: Collection[type[ASTValidationRule]] | None = None,
    max_errors: int | None = None,
    type_info: TypeInfo | None = None,
) -> list[GraphQLError]:
    """ariadne's ``query_validator``: the limits first, on their own, so that a document
    over them is refused before graphql-core's rules (one of which is quadratic in
    the fields selected) walk it."""
    own = [rule for rule in rules or () if rule not in specified_rules]
    errors = validate(schema, document_ast, own, max_errors, type_info) if own else []
    if errors:
        return errors
    return validate(schema, document_ast, rules, max_errors, type_info)


# -- execution -----------------------------------------------------------------------------


def _introspection_only(operation: OperationDefinitionNode) -> bool:
    """Whether the operation reads only the schema (``__schema``, ``__type``,
    ``__typename``): what ``prefect-gql schema pull`` and GraphiQL send. It is bounded
    by the schema and the field budget, and never cut by the time limit, which a
    loaded machine would otherwise reach."""
    return all(
        isinstance(selection, FieldNode) and selection.name.value.startswith("__")
        for selection in operation.selection_set.selections
    )


class QueryBudgetExceededError(APIError):
    """A query resolved too many fields or ran too long; the whole answer is this error."""

    def __init__(self, message: str) -> None:
        super().__init__(message, QUERY_TOO_COMPLEX)


class BudgetedExecutionContext(ExecutionContext):
    """Executes a query within ``MAX_RESOLVED_FIELDS`` and ``MAX_EXECUTION_SECONDS``.

    Mutations are not budgeted: each mutation field writes in one transaction, and a
    write that was made must be answered as made; the document limits bound them.
    """

    _fields_left: int | None = None
    _deadline: float = 0.0

    def execute_operation(self, operation: OperationDefinitionNode, root_value: Any) -> Any:
        if operation.operation is OperationType.QUERY:
            self._fields_left = MAX_RESOLVED_FIELDS
            self._deadline = (
                math.inf if _introspection_only(operation) else clock() + MAX_EXECUTION_SECONDS
            )
        return super().execute_operation(operation, root_value)

    def execute_field(
        self, parent_type: Any, source: Any, field_nodes: list[FieldNode], path: Path
    ) -> Any:
        if self._fields_left is not None:
            self._fields_left -= 1
            if self._fields_left < 0 or clock() > self._deadline:
                raise self._budget_exceeded(field_nodes, path)
        return super().execute_field(parent_type, source, field_nodes, path)

    def _budget_exceeded(self, field_nodes: list[FieldNode], path: Path) -> GraphQLError:
        """The error that ends a query at ``path``: out of fields, else out of time."""
        if self._fields_left is not None and self._fields_left < 1:
            exceeded = f"the query resolves more than {MAX_RESOLVED_FIELDS} fields"
        else:
            exceeded = f"the query ran longer than {MAX_EXECUTION_SECONDS:g} s"
        return located_error(
            QueryBudgetExceededError(f"{exceeded}; ask for fewer rows (limit) or fields"),
            field_nodes,
            path.as_list(),
        )

    def _spend(self, fields: int) -> bool:
        """Takes ``fields`` from the budget at once, for fields completed without
        ``execute_field``; False, taking nothing, when they do not fit in what is left
        or the deadline has passed (``execute_field`` then finds which field is over)."""
        if self._fields_left is None:
            return True
        if self._fields_left < fields or clock() > self._deadline:
            return False
        self._fields_left -= fields
        return True

    def _deadline_passed(self) -> bool:
        return self._fields_left is not None and clock() > self._deadline

    def _rows_allowed(self, fields_per_row: int) -> int:
        """How many rows of ``fields_per_row`` fields the budget can still answer: none
        once the deadline has passed."""
        if self._fields_left is None:
            return MAX_RESOLVED_FIELDS
        if clock() > self._deadline:
            return 0
        return self._fields_left // fields_per_row

    def _refund(self, fields: int) -> None:
        """Gives back what ``_spend`` took, for fields that will be executed after all."""
        if self._fields_left is not None:
            self._fields_left += fields

    def handle_field_error(
        self, error: GraphQLError, return_type: GraphQLOutputType, path: Path
    ) -> None:
        """An exceeded budget ends the whole query with one error, not one per field."""
        if isinstance(error.original_error, QueryBudgetExceededError):
            raise error
        super().handle_field_error(error, return_type, path)
