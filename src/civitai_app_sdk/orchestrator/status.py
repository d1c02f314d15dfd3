"""Workflow statuses: which are final."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from pydantic import BaseModel

__all__ = ["TERMINAL_STATUSES", "is_terminal"]

TERMINAL_STATUSES: Final = frozenset({"succeeded", "failed", "expired", "canceled"})
"""Statuses after which a workflow, step or job never changes again."""


def is_terminal(value: str | BaseModel | Mapping[str, Any] | None) -> bool:
    """Whether a status, or the status of a workflow (model or dict), is final.

    Matching is exact (``"Succeeded"`` and ``"cancelled"`` are not terminal), and unknown
    future statuses count as still running.
    """
    if isinstance(value, Mapping):
        value = value.get("status")
    elif not isinstance(value, str | enum.Enum):  # a model (pydantic stays unloaded for dicts)
        value = getattr(value, "status", None)
    if isinstance(value, enum.Enum):
        value = value.value
    return isinstance(value, str) and value in TERMINAL_STATUSES
