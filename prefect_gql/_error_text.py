"""Validation errors as one line of text: ``path: problem; ...``. Imports none of ours,
so errors (``_exceptions``) and checks (``_model.validation``) can both use it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import ValidationError
    from pydantic_core import ErrorDetails

__all__ = ["describe_validation_error", "problem_text"]


def problem_text(error: ErrorDetails) -> str:
    """What is wrong with one value: a validator's own words rather than pydantic's prefix."""
    if error["type"] == "value_error":
        return str(error.get("ctx", {}).get("error", error["msg"]))
    return error["msg"]


def _dotted(loc: Sequence[int | str]) -> str:
    return ".".join(str(part) for part in loc)


def describe_validation_error(
    err: ValidationError,
    *,
    path: Callable[[Sequence[int | str]], str] = _dotted,
    problem: Callable[[ErrorDetails], str] = problem_text,
    root: str = "",
    include_input: bool = False,
) -> str:
    """``path: problem`` for each distinct error, joined by ``; `` (``root`` names an empty path).

    ``include_input`` only for models whose inputs are never secret (states quote a bad
    type name or timestamp).
    """
    lines: list[str] = []
    for error in err.errors(include_input=include_input, include_url=False):
        where = path(error["loc"]) or root
        line = f"{where}: {problem(error)}" if where else problem(error)
        if line not in lines:
            lines.append(line)
    return "; ".join(lines)
