"""The one rule for every time a user passes: a naive datetime is UTC.

As the Prefect API took it: Prefect code passes ``datetime.utcnow()`` and naive ISO
strings. Kept apart (no pydantic) so the dict DSL can use it at no import cost;
pydantic models use ``_model.validation.UTCDatetime``, which applies it.
"""

from datetime import UTC, datetime

__all__ = ["naive_as_utc"]


def naive_as_utc(value: datetime) -> datetime:
    """``value`` with UTC as its zone if it has none; an aware datetime is kept as is."""
    return value if value.utcoffset() is not None else value.replace(tzinfo=UTC)
