"""A refresh led by a task of an asyncio loop closed (``loop.close()``) before it ended.

Nothing cancels such a task: it stays suspended for good. Before, everyone waiting for
its refresh, in a thread or another loop, waited the whole ``wait_timeout`` and was told
"timed out waiting for a refresh", and so was every later caller: the provider was
wedged. Now the waiters fail at once with a typed error and the next call starts over;
a refresh token the closed loop may have sent is never sent again.
"""

from __future__ import annotations

import asyncio
import gc
import threading
from collections.abc import Iterator

import httpx
import pytest

from civitai_app_sdk.errors import CivitaiError
from civitai_app_sdk.oauth import (
    AsyncOAuthClient,
    LoginRequiredError,
    MemoryTokenStore,
    OAuthClient,
    RefreshingTokenProvider,
    TokenSet,
)

BASE = "https://auth.civitai.com"
TOKEN_URL = f"{BASE}/api/auth/oauth/token"
NOW = 1_700_000_000.0
SIGNED_IN = TokenSet(access_token="at-0", refresh_token="rt-0", expires_at=NOW)
ROTATED = {"access_token": "at-1", "refresh_token": "rt-1", "expires_in": 3600}
WAIT = 20.0  # the bug made every waiter wait this long; generous, as the bug is a hang
_CLOSED = "event loop"


class Endpoint:
    """A token endpoint that holds its first request for good (it was sent) and
    answers the next ones with ``ROTATED``; it counts the requests."""

    def __init__(self) -> None:
        self.sent = threading.Event()
        self.requests = 0

    def answer(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        return httpx.Response(200, json=ROTATED)

    async def held(self, request: httpx.Request) -> httpx.Response:
        if not self.sent.is_set():
            self.requests += 1
            self.sent.set()
            await asyncio.Event().wait()
        return self.answer(request)


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    yield Endpoint()
    # the closed loop's tasks stay pending: asyncio logs them as destroyed when they
    # are collected, here rather than in whichever test runs next
    gc.collect()


def _provider(store: MemoryTokenStore, endpoint: Endpoint) -> RefreshingTokenProvider:
    clock = lambda: NOW  # noqa: E731
    sync = httpx.Client(transport=httpx.MockTransport(endpoint.answer))
    async_http = httpx.AsyncClient(transport=httpx.MockTransport(endpoint.held))
    return RefreshingTokenProvider(
        store,
        client=OAuthClient("app", base_url=BASE, clock=clock, http_client=sync),
        async_client=AsyncOAuthClient("app", base_url=BASE, clock=clock, http_client=async_http),
        wait_timeout=WAIT,
        clock=clock,
    )


def _lead_then_close(provider: RefreshingTokenProvider, until: threading.Event) -> None:
    """Start a refresh in a loop of its own and close the loop once ``until`` is set,
    without cancelling the refresh's task."""
    loop = asyncio.new_event_loop()
    left: list[asyncio.Future[str]] = []

    async def lead() -> None:
        left.append(asyncio.ensure_future(provider.aget_token()))
        await asyncio.to_thread(until.wait)

    loop.run_until_complete(lead())
    loop.close()
    assert not left[0].done()


def _in_thread(call: object) -> tuple[threading.Thread, list[BaseException | str]]:
    """Run ``call()`` in a thread; its outcome goes to the list."""
    outcome: list[BaseException | str] = []

    def run() -> None:
        try:
            outcome.append(call())  # type: ignore[operator]
        except BaseException as error:
            outcome.append(error)

    thread = threading.Thread(target=run, daemon=True)
    return thread, outcome


def _joined(provider: RefreshingTokenProvider) -> None:
    """Wait until a refresh is in flight (the waiters join it)."""
    for _ in range(2000):
        if provider._flight is not None:
            return
        threading.Event().wait(0.005)
    raise AssertionError("no refresh started")


def _failed(outcome: list[BaseException | str]) -> CivitaiError:
    [error] = outcome
    assert isinstance(error, CivitaiError), error
    assert "timed out" not in str(error)
    return error


def test_waiters_of_a_refresh_whose_loop_closed_fail_at_once_and_it_is_never_resent(
    endpoint: Endpoint,
) -> None:
    store = MemoryTokenStore(SIGNED_IN)
    provider = _provider(store, endpoint)
    joined = threading.Event()
    sync_waiter, sync_outcome = _in_thread(provider.get_token)
    loop_waiter, loop_outcome = _in_thread(lambda: asyncio.run(provider.aget_token()))

    def waiters_joined() -> None:
        endpoint.sent.wait(WAIT)
        sync_waiter.start()
        loop_waiter.start()
        # both are waiting for the flight before the loop closes
        threading.Event().wait(0.5)
        joined.set()

    threading.Thread(target=waiters_joined, daemon=True).start()
    _lead_then_close(provider, joined)
    for waiter in (sync_waiter, loop_waiter):
        waiter.join(3 * WAIT)
        assert not waiter.is_alive()
    for outcome in (sync_outcome, loop_outcome):
        assert _CLOSED in str(_failed(outcome))
    # the token went out in the closed loop: the next call does not send it again
    with pytest.raises(LoginRequiredError, match="sent the refresh token once"):
        provider.get_token()
    assert endpoint.requests == 1
    assert store.load() == SIGNED_IN  # kept, for another process to try


def test_a_refresh_whose_loop_closed_before_sending_leaves_the_token_to_the_next_call(
    endpoint: Endpoint,
) -> None:
    store = MemoryTokenStore(SIGNED_IN)
    provider = _provider(store, endpoint)
    lock = store.refresh_lock()
    assert lock.acquire(0)  # another refresher holds the store: the lead waits for it
    started = threading.Event()

    def lead_started() -> None:
        _joined(provider)
        started.set()

    threading.Thread(target=lead_started, daemon=True).start()
    _lead_then_close(provider, started)
    lock.release()
    waiter, outcome = _in_thread(provider.get_token)
    waiter.start()
    waiter.join(3 * WAIT)
    assert not waiter.is_alive()
    [token] = outcome
    assert token == "at-1"  # the waiter led a new refresh, which sent the token once
    assert endpoint.requests == 1
    stored = store.load()
    assert stored is not None
    assert stored.refresh_token == "rt-1"


def test_the_lock_a_closed_loops_refresh_held_is_released(
    endpoint: Endpoint,
) -> None:
    # the frozen refresh kept the store's refresh lock: the next one waited WAIT for it
    store = MemoryTokenStore(SIGNED_IN)
    provider = _provider(store, endpoint)
    _lead_then_close(provider, endpoint.sent)
    waiter, outcome = _in_thread(provider.get_token)
    waiter.start()
    waiter.join(3 * WAIT)
    assert not waiter.is_alive()
    error = _failed(outcome)
    assert isinstance(error, LoginRequiredError)
    assert endpoint.requests == 1
    assert store.refresh_lock().acquire(0)
