"""Small helpers for values: JSON numbers, and secrets kept out of ``repr``."""

from __future__ import annotations

import math


def finite_number(value: object) -> float | None:
    """``value`` as a float if it is a finite int or float (not a bool), else ``None``.

    JSON integers have no size limit: one past a float's range is not finite either.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def hidden_repr(value: object) -> str:
    """``repr`` of a secret attribute: ``'***'``, or ``None`` when it is unset."""
    return "None" if value is None else "'***'"
