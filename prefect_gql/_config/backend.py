"""Small shared type aliases (kept apart so that importing them costs nothing)."""

from typing import Literal

__all__ = ["Backend"]

Backend = Literal["cloud", "server"]
"""Prefect's ``backend`` setting: Prefect Cloud or a Prefect Server."""
