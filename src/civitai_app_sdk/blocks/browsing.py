"""Browsing levels (content-rating bitmasks) and 0.14's checks on them.

A viewer's ``maxBrowsingLevel`` is a bitmask of :class:`BrowsingLevel` flags: the levels the
viewer may see. The two checks read their inputs as 0.14 does: a number is the double
JavaScript would hold (an int past the double range is Infinity), anything that is not a
finite number fails closed, and the bitwise ``&`` is JavaScript's 32-bit one.
"""

from __future__ import annotations

import enum
import math
from typing import Final

from civitai_app_sdk.blocks.jscompat import as_js_number, is_number

__all__ = ["NSFW_LEVELS", "SFW_LEVELS", "BrowsingLevel", "is_level_allowed", "is_sfw_ceiling"]


class BrowsingLevel(enum.IntFlag):
    """One content level per bit, as in 0.14 (``PG`` 1 up to ``Blocked`` 32)."""

    PG = 1
    PG13 = 2
    R = 4
    X = 8
    XXX = 16
    Blocked = 32


SFW_LEVELS: Final = 3
"""``PG | PG13``: the levels that are safe for work."""
NSFW_LEVELS: Final = 28
"""``R | X | XXX``: the mature levels."""


def _finite_number(value: object) -> float | None:
    """The value as a JavaScript double when ``Number.isFinite`` holds for it: a number
    (never a boolean) that is not NaN or infinite, an int read as the double JavaScript
    would hold (``10**400`` is Infinity, ``2**53 + 1`` is ``2**53``); else ``None``."""
    if not is_number(value):
        return None
    number = as_js_number(value)
    return number if math.isfinite(number) else None


def _int32(value: float) -> int:
    """JavaScript's ToInt32: truncate, wrap modulo 2**32, read as signed."""
    wrapped = int(value) & 0xFFFFFFFF
    return wrapped - (1 << 32) if wrapped & 0x80000000 else wrapped


def is_sfw_ceiling(mask: object) -> bool:
    """Whether a ``maxBrowsingLevel`` mask allows no mature level (not a number: ``True``)."""
    number = _finite_number(mask)
    if number is None:
        return True
    return _int32(number) & NSFW_LEVELS == 0


def is_level_allowed(level: object, ceiling: object = None) -> bool:
    """Whether every bit of ``level`` is in ``ceiling`` (default and non-numbers: SFW).

    ``level`` must be a finite number above 0, else the answer is ``False``; as in 0.14 the
    32-bit result is compared with ``level`` itself, so ``1.5`` or ``2**32 + 1`` never pass.
    """
    number = _finite_number(level)
    if number is None or number <= 0:
        return False
    mask = _finite_number(ceiling)
    return (_int32(SFW_LEVELS if mask is None else mask) & _int32(number)) == number
