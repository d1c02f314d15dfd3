"""Workflow statuses: which are final."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, Final

from pydantic import BaseModel

__all__ = ["TERMINAL_STATUSES", "is_terminal"]

TERMINAL_STATUSES: Final = frozenset({"succeeded", "failed", "expired", "canceled"})
"""Statuses after which a workflow, step or job never changes again."""


def is_terminal(value: str | BaseModel | Mapping[str, Any] | None) -> bool:
    """Whether a status, or the status of a workflow (model or dict), is final.

    Matching is exact (``"Succeeded"`` and ``"cancelled"`` are not terminal), and unknown
    future statuses count as still running.
    """
    if isinstance(value, BaseModel):
        value = getattr(value, "status", None)
    elif isinstance(value, Mapping):
        value = value.get("status")
    if isinstance(value, enum.Enum):
        value = value.value
    return isinstance(value, str) and value in TERMINAL_STATUSES
