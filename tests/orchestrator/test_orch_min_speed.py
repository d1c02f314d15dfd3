"""The minimum-speed floor of streamed downloads: a trickling server cannot hold one for days.

Against the hostile loopback server (one byte every 20 ms, so 50 bytes/s, forever), a
floor of 200 bytes per 0.3 s ends every download path, sync and async, CLI included, and
nothing is left on disk.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from civitai_app_sdk._speed import DEFAULT_MIN_SPEED, SpeedMeter, check_min_speed
from civitai_app_sdk.errors import (
    CivitaiError,
    ConfigurationError,
    DownloadTooSlowError,
    RequestTimeoutError,
)
from civitai_app_sdk.local.hostile import HostileServer
from civitai_app_sdk.orchestrator import AsyncOrchestratorClient, OrchestratorClient

FLOOR = (200, 0.3)
"""200 bytes in every 0.3 s: the 50 bytes/s trickle falls short at the first check."""
TRICKLE = 0.02
SLACK = 3.0
"""Most seconds one of these downloads may take on a busy two-core machine."""


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _too_slow(arrivals: list[tuple[float, int]], min_bytes: int, window: float) -> int | None:
    """The index of the first arrival at which the floor fails (brute force), else None."""
    for i, (at, _) in enumerate(arrivals):
        if at < window:
            continue
        got = sum(size for when, size in arrivals[: i + 1] if when > at - window)
        if got < min_bytes:
            return i
    return None


@given(
    min_bytes=st.integers(1, 500),
    window=st.floats(0.5, 10.0),
    steps=st.lists(st.tuples(st.floats(0.0, 4.0), st.integers(0, 300)), max_size=40),
)
def test_the_meter_fails_exactly_when_a_window_got_too_few_bytes(
    min_bytes: int, window: float, steps: list[tuple[float, int]]
) -> None:
    clock = FakeClock()
    meter = SpeedMeter((min_bytes, window), "GET /x", clock)
    arrivals: list[tuple[float, int]] = []
    for pause, size in steps:
        clock.now += pause
        arrivals.append((clock.now, size))
    expected = _too_slow(arrivals, min_bytes, window)
    for index, (at, size) in enumerate(arrivals):
        clock.now = at
        if index == expected:
            with pytest.raises(DownloadTooSlowError) as info:
                meter.add(size)
            assert (info.value.min_bytes, info.value.window) == (min_bytes, window)
            return
        meter.add(size)


def test_a_fast_download_keeps_a_few_arrivals_not_one_per_chunk() -> None:
    clock = FakeClock()
    meter = SpeedMeter((32_768, 1.0), "GET /x", clock)
    for _ in range(10_000):  # 10 MB/s in 1 KB chunks: 10,000 chunks in every window
        clock.now += 0.0001
        meter.add(1_000)
        assert len(meter._arrivals) <= 34  # enough to make up the floor, and one more


@given(
    bad=st.one_of(
        st.tuples(st.integers(max_value=0), st.floats(0.1, 5)),
        st.tuples(st.integers(1, 10), st.floats(max_value=0.0) | st.just(float("inf"))),
        st.tuples(st.integers(1, 10), st.just(float("nan"))),
        st.tuples(st.just(True), st.just(1.0)),
        st.tuples(st.just(1.5), st.just(1.0)),
        st.tuples(st.integers(1, 10)),
        st.text(max_size=3),
        st.lists(st.integers(1, 10), min_size=2, max_size=2),
    )
)
def test_a_bad_min_speed_is_a_configuration_error(bad: Any) -> None:
    with pytest.raises(ConfigurationError, match="min_speed"):
        check_min_speed(bad)


def test_the_default_floor_lets_a_slow_link_through_but_not_a_trickle() -> None:
    min_bytes, window = DEFAULT_MIN_SPEED
    assert check_min_speed(DEFAULT_MIN_SPEED) == DEFAULT_MIN_SPEED
    assert check_min_speed(None) is None
    assert min_bytes / window < 1024  # a 1 KiB/s link keeps going
    assert min_bytes / window > 1  # one byte a second does not
    assert issubclass(DownloadTooSlowError, RequestTimeoutError)
    assert issubclass(DownloadTooSlowError, CivitaiError)


def _nothing_left(place: Path) -> None:
    assert [p.name for p in place.rglob("*")] == []


@pytest.mark.parametrize("target", ["dir", "path"])
def test_download_blob_stops_a_trickle_and_leaves_nothing(tmp_path: Path, target: str) -> None:
    where = {"dir": tmp_path} if target == "dir" else {"path": tmp_path / "out.png"}
    start = time.monotonic()
    with (
        HostileServer("trickle", interval=TRICKLE) as server,
        OrchestratorClient("t", base_url=server.url, timeout=5.0) as client,
        pytest.raises(DownloadTooSlowError) as info,
    ):
        client.download_blob("B1", min_speed=FLOOR, **where)  # type: ignore[arg-type]
    assert time.monotonic() - start < SLACK
    assert "GET /v2/consumer/blobs/B1" in str(info.value)
    assert "min_speed" in str(info.value)
    _nothing_left(tmp_path)


@pytest.mark.anyio
async def test_async_download_blob_stops_a_trickle_and_leaves_nothing(tmp_path: Path) -> None:
    start = time.monotonic()
    with HostileServer("trickle", interval=TRICKLE) as server:
        async with AsyncOrchestratorClient("t", base_url=server.url, timeout=5.0) as client:
            with pytest.raises(DownloadTooSlowError):
                await client.download_blob("B1", dir=tmp_path, min_speed=FLOOR)
    assert time.monotonic() - start < SLACK
    _nothing_left(tmp_path)


def test_download_archive_stops_a_trickle_and_leaves_nothing(tmp_path: Path) -> None:
    with (
        HostileServer("trickle", interval=TRICKLE) as server,
        OrchestratorClient("t", base_url=server.url, timeout=5.0) as client,
        pytest.raises(DownloadTooSlowError) as info,
    ):
        client.download_archive("secret-token", tmp_path, min_speed=FLOOR)
    assert "secret-token" not in str(info.value)  # the archive token is a capability
    _nothing_left(tmp_path)


@pytest.mark.anyio
async def test_async_download_archive_stops_a_trickle(tmp_path: Path) -> None:
    with HostileServer("trickle", interval=TRICKLE) as server:
        async with AsyncOrchestratorClient("t", base_url=server.url, timeout=5.0) as client:
            with pytest.raises(DownloadTooSlowError):
                await client.download_archive("tok", tmp_path / "a.zip", min_speed=FLOOR)
    _nothing_left(tmp_path)


def test_no_floor_is_an_opt_out_and_a_bad_floor_sends_nothing(tmp_path: Path) -> None:
    with (
        HostileServer("trickle", interval=TRICKLE) as server,
        OrchestratorClient("t", base_url=server.url, timeout=5.0) as client,
    ):
        with pytest.raises(RequestTimeoutError) as info:  # only the total timeout ends it
            client.download_blob("B1", dir=tmp_path, min_speed=None, total_timeout=0.5)
        assert not isinstance(info.value, DownloadTooSlowError)
        seen = server.connections
        with pytest.raises(ConfigurationError, match="min_speed"):
            client.download_blob("B1", dir=tmp_path, min_speed=(0, 1.0))
        assert server.connections == seen
    _nothing_left(tmp_path)


BAD_TOTALS = ["5", True, b"5", float("nan"), -1, float("inf")]


def _recorder(sent: list[httpx.Request]) -> httpx.MockTransport:
    def record(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, content=b"x")

    return httpx.MockTransport(record)


@pytest.mark.parametrize("total", BAD_TOTALS)
def test_a_bad_total_timeout_is_a_configuration_error_and_sends_nothing(
    tmp_path: Path, total: Any
) -> None:
    sent: list[httpx.Request] = []
    client = OrchestratorClient("t", base_url="https://orch.test", transport=_recorder(sent))
    with pytest.raises(ConfigurationError, match="total_timeout"):
        client.download_blob("B1", dir=tmp_path, total_timeout=total)
    assert sent == []
    _nothing_left(tmp_path)


@pytest.mark.anyio
@pytest.mark.parametrize("total", BAD_TOTALS)
async def test_an_async_bad_total_timeout_is_a_configuration_error_and_sends_nothing(
    tmp_path: Path, total: Any
) -> None:
    sent: list[httpx.Request] = []
    client = AsyncOrchestratorClient("t", base_url="https://orch.test", transport=_recorder(sent))
    with pytest.raises(ConfigurationError, match="total_timeout"):
        await client.download_blob("B1", dir=tmp_path, total_timeout=total)
    assert sent == []
    _nothing_left(tmp_path)
