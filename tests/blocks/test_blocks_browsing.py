"""Browsing levels as 0.14 documents them (app-sdk.md section 5.4)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from civitai_app_sdk.blocks import (
    NSFW_LEVELS,
    SFW_LEVELS,
    BrowsingLevel,
    is_level_allowed,
    is_sfw_ceiling,
)


def test_values_are_014s() -> None:
    assert {m.name: m.value for m in BrowsingLevel} == {
        "PG": 1,
        "PG13": 2,
        "R": 4,
        "X": 8,
        "XXX": 16,
        "Blocked": 32,
    }
    assert SFW_LEVELS == BrowsingLevel.PG | BrowsingLevel.PG13 == 3
    assert NSFW_LEVELS == BrowsingLevel.R | BrowsingLevel.X | BrowsingLevel.XXX == 28


@pytest.mark.parametrize(
    ("mask", "expected"),
    [
        (None, True),  # not a finite number: fail closed
        ("28", True),
        (True, True),
        (math.nan, True),
        (math.inf, True),
        (3, True),
        (32, True),  # Blocked alone has no mature bit
        (4, False),
        (31, False),
        (-1, False),  # every bit
        (2**32 + 4, False),  # int32: wraps to 4
        (2**32, True),  # int32: wraps to 0
        (4.9, False),  # truncated to 4
    ],
)
def test_is_sfw_ceiling(mask: object, expected: bool) -> None:
    assert is_sfw_ceiling(mask) is expected


@pytest.mark.parametrize(
    ("level", "ceiling", "expected"),
    [
        (1, None, True),  # default ceiling: SFW
        (2, None, True),
        (4, None, False),
        (4, 31, True),
        (4, "31", False),  # a non-number ceiling is SFW
        (6, 7, True),
        (6, 5, False),
        (0, 31, False),
        (-4, -1, False),
        ("1", 31, False),
        (True, 31, False),
        (math.nan, 31, False),
        (1.5, 3, False),  # the 32-bit result 1 differs from 1.5
        (2**32 + 1, 3, False),
        (32, -1, True),
    ],
)
def test_is_level_allowed(level: object, ceiling: object, expected: bool) -> None:
    assert is_level_allowed(level, ceiling) is expected


@given(st.integers(0, 2**31 - 1))
def test_sfw_ceiling_is_no_mature_bit(mask: int) -> None:
    assert is_sfw_ceiling(mask) == (mask & NSFW_LEVELS == 0)


@given(st.integers(1, 2**31 - 1), st.integers(0, 2**31 - 1))
def test_level_allowed_is_subset_of_ceiling(level: int, ceiling: int) -> None:
    assert is_level_allowed(level, ceiling) == (ceiling & level == level)


# JSON numbers as JavaScript holds them: JSON.parse gives a double, so an int past the double
# range is Infinity (not a finite number: fail closed) and a larger odd int is rounded to an
# even double. Expected values measured with @civitai/app-sdk 0.14 on Node 20
# (isSfwCeiling / isLevelAllowed on JSON.parse of the same digits).
_HUGE = 10**400
_ROUNDED_DOWN = 2**53 + 9  # JavaScript holds 2**53 + 8: 32-bit value 8, not 9
_ROUNDED_OFF = 2**60 + 4  # JavaScript holds 2**60: 32-bit value 0, not 4


def _short(value: object) -> str:
    text = str(value)
    return text if len(text) <= 20 else f"{text[:6]}({len(text)} digits)"


@pytest.mark.parametrize(
    ("mask", "expected"),
    [(_HUGE, True), (-_HUGE, True), (_ROUNDED_OFF, True), (2**32 + 8, False)],
    ids=_short,
)
def test_is_sfw_ceiling_reads_ints_as_javascript_doubles(mask: int, expected: bool) -> None:
    assert is_sfw_ceiling(mask) is expected


@pytest.mark.parametrize(
    ("level", "ceiling", "expected"),
    [
        (1, _HUGE, True),  # not a finite ceiling: SFW
        (4, _HUGE, False),
        (_HUGE, 31, False),  # not a finite level
        (1, _ROUNDED_DOWN, False),
        (8, _ROUNDED_DOWN, True),
        (4, _ROUNDED_OFF, False),
    ],
    ids=_short,
)
def test_is_level_allowed_reads_ints_as_javascript_doubles(
    level: int, ceiling: int, expected: bool
) -> None:
    assert is_level_allowed(level, ceiling) is expected


def _as_double(value: int) -> float:
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


_ANY_INT = st.one_of(
    st.integers(),
    st.integers(2**52, 2**70),
    st.integers(10**300, 10**400),
    st.integers(-(10**400), -(10**300)),
)


@given(_ANY_INT, _ANY_INT)
def test_an_int_is_read_as_the_double_javascript_holds(level: int, ceiling: int) -> None:
    assert is_sfw_ceiling(ceiling) is is_sfw_ceiling(_as_double(ceiling))
    assert is_level_allowed(level, ceiling) is is_level_allowed(_as_double(level), ceiling)
    assert is_level_allowed(level, ceiling) is is_level_allowed(level, _as_double(ceiling))
