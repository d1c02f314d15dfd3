"""Whole-request deadlines: ``timeout=`` and ``poll(timeout=T)`` hold whatever the server does.

The hostile server hangs (accepts, never answers) or trickles a body one byte per 0.1 s;
httpx's per-read timeouts alone let both run far past the caller's timeout.
"""

from __future__ import annotations

import time
from typing import Any

import httpcore
import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from civitai_app_sdk._deadline import (
    POLL_GRACE,
    DeadlineBackend,
    clamp_timeout,
    current_deadline,
    deadline_scope,
    install,
    may_retry,
    remaining,
    request_deadline,
)
from civitai_app_sdk._transport import Call, RetryPolicy
from civitai_app_sdk.errors import (
    ConfigurationError,
    OrchestratorError,
    PollTimeoutError,
    RequestTimeoutError,
    ServerError,
)
from civitai_app_sdk.local.hostile import HostileServer
from civitai_app_sdk.orchestrator import AsyncOrchestratorClient, OrchestratorClient

WF = "/v2/consumer/workflows/w1"
SLACK = 0.6
"""Scheduling slack allowed on top of a deadline on a busy two-core machine."""


def timed(action: Any) -> tuple[float, BaseException | None]:
    start = time.monotonic()
    try:
        action()
    except Exception as exc:
        return time.monotonic() - start, exc
    return time.monotonic() - start, None


@pytest.mark.parametrize("mode", ["hang", "trickle"])
def test_sync_get_ends_by_its_timeout(mode: Any) -> None:
    with (
        HostileServer(mode, interval=0.1) as server,
        OrchestratorClient("t", base_url=server.url, timeout=1.0, max_retries=0) as client,
    ):
        elapsed, error = timed(lambda: client.get("w1"))
    assert isinstance(error, RequestTimeoutError)
    assert elapsed < 1.0 + SLACK


@pytest.mark.parametrize("mode", ["hang", "trickle"])
def test_sync_poll_ends_by_its_timeout_plus_one_second(mode: Any) -> None:
    with (
        HostileServer(mode, interval=0.1) as server,
        OrchestratorClient("t", base_url=server.url, timeout=10.0) as client,
    ):
        elapsed, error = timed(lambda: client.poll("w1", timeout=2.0))
    _assert_cut_before_any_snapshot(error)
    assert elapsed < 2.0 + 1.0


def _assert_cut_before_any_snapshot(error: BaseException | None) -> None:
    """A poll its own deadline ended before any snapshot: PollTimeoutError, not the
    request's timeout, naming the workflow and saying polling again is safe."""
    assert isinstance(error, PollTimeoutError), repr(error)
    assert error.last is None
    assert isinstance(error.__cause__, RequestTimeoutError)
    assert "workflow w1" in str(error)
    assert "poll again later" in str(error)


@pytest.mark.anyio
@pytest.mark.parametrize("mode", ["hang", "trickle"])
async def test_async_get_and_poll_end_by_their_deadlines(mode: Any) -> None:
    with HostileServer(mode, interval=0.1) as server:
        async with AsyncOrchestratorClient(
            "t", base_url=server.url, timeout=1.0, max_retries=0
        ) as client:
            start = time.monotonic()
            with pytest.raises(RequestTimeoutError):
                await client.get("w1")
            assert time.monotonic() - start < 1.0 + SLACK
        async with AsyncOrchestratorClient("t", base_url=server.url, timeout=10.0) as client:
            start = time.monotonic()
            with pytest.raises(OrchestratorError) as info:
                await client.poll("w1", timeout=2.0)
            assert time.monotonic() - start < 2.0 + 1.0
    _assert_cut_before_any_snapshot(info.value)


def _times_out(clock: Any) -> Any:
    def too_slow(request: httpx.Request) -> httpx.Response:
        clock.now += 4.0  # each attempt uses up 4 s of the poll before it times out
        raise httpx.ReadTimeout("no answer", request=request)

    return too_slow


def test_a_poll_whose_requests_all_time_out_ends_with_a_poll_timeout(
    client: Any, api: Any, clock: Any
) -> None:
    route = api.get(WF).mock(side_effect=_times_out(clock))
    _, error = timed(lambda: client.poll("w1", timeout=10))
    _assert_cut_before_any_snapshot(error)
    assert route.call_count >= 2  # retried within the deadline first


@pytest.mark.anyio
async def test_an_async_poll_whose_requests_all_time_out_ends_with_a_poll_timeout(
    aclient: Any, api: Any, clock: Any
) -> None:
    route = api.get(WF).mock(side_effect=_times_out(clock))
    with pytest.raises(PollTimeoutError) as info:
        await aclient.poll("w1", timeout=10)
    _assert_cut_before_any_snapshot(info.value)
    assert route.call_count >= 2


def test_poll_retries_transient_failures_until_its_deadline(
    client: Any, api: Any, make_workflow: Any, clock: Any
) -> None:
    failures = [httpx.Response(503)] * 4 + [httpx.Response(429)] * 3
    route = api.get(WF).mock(
        side_effect=[*failures, httpx.Response(200, json=make_workflow("succeeded"))]
    )
    done = client.poll("w1", timeout=60)
    assert done.status == "succeeded"
    assert route.call_count == 8  # max_retries is 3; the poll's deadline is what bounds it
    assert clock.now - 1000.0 < 60


def test_poll_under_a_long_outage_uses_its_whole_time_then_times_out(
    client: Any, api: Any, make_workflow: Any, clock: Any
) -> None:
    route = api.get(WF).mock(
        side_effect=[httpx.Response(202, json=make_workflow())] + [httpx.Response(503)] * 200
    )
    with pytest.raises(PollTimeoutError) as info:
        client.poll("w1", timeout=60)
    assert isinstance(info.value.__cause__, ServerError)
    assert 59 - 1.0 - 1e-9 <= clock.now - 1000.0 <= 60  # backoff shortened to fit, not cut early
    assert route.call_count > 5


def test_requests_outside_a_poll_keep_max_retries(client: Any, api: Any) -> None:
    route = api.get(WF).respond(503)
    with pytest.raises(ServerError):
        client.get("w1")
    assert route.call_count == 1 + 3


def test_long_poll_hold_is_capped_at_the_polls_remaining_time(
    client: Any, api: Any, make_workflow: Any, clock: Any
) -> None:
    waits: list[str] = []

    def respond(request: httpx.Request) -> httpx.Response:
        waits.append(request.url.params["wait"])
        clock.now += float(request.url.params["wait"])
        return httpx.Response(202, json=make_workflow())

    api.get(WF).mock(side_effect=respond)
    with pytest.raises(PollTimeoutError):
        client.poll("w1", timeout=75)
    assert waits == ["60", "15"]


@given(
    now=st.floats(0, 1e6),
    total=st.floats(0.001, 1e4),
    wait=st.floats(0, 100),
    limit=st.none() | st.floats(0, 2e6),
)
def test_request_deadline_never_outlives_total_plus_wait_or_the_limit(
    now: float, total: float, wait: float, limit: float | None
) -> None:
    end = request_deadline(now, total, wait, limit)
    assert end <= now + total + wait + 1e-6
    if limit is not None:
        assert end <= limit + POLL_GRACE


@given(
    parts=st.tuples(*[st.floats(0.001, 1e4)] * 4),
    left=st.floats(-10, 1e4),
)
def test_clamped_timeouts_are_positive_and_within_what_is_left(
    parts: tuple[float, float, float, float], left: float
) -> None:
    connect, read, write, pool = parts
    clamped = clamp_timeout(httpx.Timeout(connect=connect, read=read, write=write, pool=pool), left)
    for before, after in zip(
        parts, (clamped.connect, clamped.read, clamped.write, clamped.pool), strict=True
    ):
        assert after is not None
        assert 0 < after <= before or after == 0.001
        assert after <= max(left, 0.001)


@given(
    delay=st.floats(0, 100),
    now=st.floats(0, 1000),
    deadline=st.none() | st.floats(0, 1100),
    server_asked=st.booleans(),
)
def test_a_retry_pause_fits_a_polls_deadline_and_a_servers_is_never_shortened(
    delay: float, now: float, deadline: float | None, server_asked: bool
) -> None:
    call = Call("GET", WF, retry_deadline=deadline)
    fitted = RetryPolicy.fit(call, delay, now, server_asked=server_asked)
    if deadline is None or now + delay <= deadline:
        assert fitted == delay
    elif fitted is not None:
        assert not server_asked
        assert 0 < fitted < delay
        assert now + fitted <= deadline - 1.0 + 1e-9  # a last attempt still has a second


def test_retries_are_bounded_by_count_or_by_a_deadline() -> None:
    assert may_retry(2, 3, None)
    assert not may_retry(3, 3, None)
    assert may_retry(50, 3, 123.0)
    assert remaining(10.0, 12.0) == 0.0


def test_the_deadline_backend_is_installed_once_and_refused_on_an_unknown_pool() -> None:
    transport = httpx.HTTPTransport()
    assert install(install(transport)) is transport
    backend = transport._pool._network_backend
    assert isinstance(backend, DeadlineBackend)
    assert not isinstance(backend._inner, DeadlineBackend)
    transport._pool = object()  # type: ignore[assignment]
    with pytest.raises(ConfigurationError, match="httpx"):
        install(transport)


def test_a_passed_deadline_stops_socket_operations_before_they_start() -> None:
    inner = httpcore.SyncBackend()
    with deadline_scope(time.monotonic() - 1), pytest.raises(httpcore.ConnectTimeout):
        DeadlineBackend(inner).connect_tcp("127.0.0.1", 9, timeout=5)
    assert current_deadline() is None
