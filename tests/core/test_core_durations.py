"""A server's delay in messages reads as a duration, whatever number it sent.

Before, a ``Retry-After: 100000000000`` was shown as ``wait 1e+11 s`` (CLI) and ``retry
after 1e+11 s`` (the SDK's RateLimitError), and ``0.25`` as ``0.25 s``.
"""

from __future__ import annotations

import math
import re

import httpx
import pytest
import respx
from hypothesis import given
from hypothesis import strategies as st

from civitai_app_sdk._durations import duration_text
from civitai_app_sdk.errors import RateLimitError
from civitai_app_sdk.orchestrator import OrchestratorClient

SHAPE = re.compile(r"(\d+ (s|min|h|days)|more than a year)")


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0 s"),
        (0.25, "1 s"),
        (42, "42 s"),
        (120, "120 s"),
        (599.5, "10 min"),
        (600, "10 min"),
        (3601, "61 min"),
        (7200, "2 h"),
        (86400, "24 h"),
        (3 * 86400, "3 days"),
        (365 * 86400, "365 days"),
        (1e11, "more than a year"),
        (math.inf, "more than a year"),
    ],
)
def test_durations_in_words(seconds: float, text: str) -> None:
    assert duration_text(seconds) == text


@given(st.floats(min_value=0, allow_nan=False))
def test_a_duration_is_a_whole_number_of_a_unit_and_never_shorter(seconds: float) -> None:
    text = duration_text(seconds)
    assert SHAPE.fullmatch(text), text
    if text != "more than a year":
        number, unit = text.split()
        size = {"s": 1, "min": 60, "h": 3600, "days": 86400}[unit]
        assert int(number) * size >= seconds  # rounded up: never a shorter wait


@pytest.mark.parametrize("header", ["100000000000", "1e11"])
def test_an_absurd_retry_after_reads_as_a_duration(header: str) -> None:
    base = "https://orch.test"
    with respx.mock(base_url=base) as api, OrchestratorClient("t" * 32, base_url=base) as client:
        api.get("/v2/consumer/workflows/wf").mock(
            return_value=httpx.Response(429, headers={"retry-after": header})
        )
        with pytest.raises(RateLimitError) as caught:
            client.get("wf")
    assert caught.value.retry_after == 1e11  # the number itself is kept
    assert "retry after more than a year" in str(caught.value)
    assert "e+" not in str(caught.value)
