"""Durations in words for messages: a server's delay shown as a person reads it."""

from __future__ import annotations

import math
from typing import Final

_MINUTE: Final = 60
_HOUR: Final = 3600
_DAY: Final = 86400
_YEAR: Final = 365 * _DAY


def duration_text(seconds: float) -> str:
    """``seconds`` rounded up in the largest fitting unit: ``"45 s"``, ``"12 min"``,
    ``"2 h"``, ``"5 days"``; ``"more than a year"`` past that (a server's absurd
    ``Retry-After`` of 1e11 s is not shown as ``1e+11 s``)."""
    if not math.isfinite(seconds) or seconds > _YEAR:
        return "more than a year"
    whole = math.ceil(max(seconds, 0.0))
    if whole < 10 * _MINUTE:
        return f"{whole} s"
    if whole < 2 * _HOUR:
        return f"{math.ceil(whole / _MINUTE)} min"
    if whole < 2 * _DAY:
        return f"{math.ceil(whole / _HOUR)} h"
    return f"{math.ceil(whole / _DAY)} days"
