"""RefreshingTokenProvider: refresh before expiry, single-flight across threads and tasks."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
import respx

from civitai_app_sdk.errors import ConfigurationError
from civitai_app_sdk.oauth import (
    AsyncOAuthClient,
    LoginRequiredError,
    MemoryTokenStore,
    OAuthClient,
    OAuthError,
    RefreshingTokenProvider,
    TokenProvider,
    TokenSet,
)

TOKEN_URL = "https://auth.civitai.com/api/auth/oauth/token"
NOW = 1_700_000_000.0


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


def stored(expires_in: float, refresh: str | None = "rt-0") -> MemoryTokenStore:
    return MemoryTokenStore(
        TokenSet(access_token="at-0", refresh_token=refresh, expires_at=NOW + expires_in)
    )


def rotated(n: int) -> dict[str, Any]:
    return {"access_token": f"at-{n}", "refresh_token": f"rt-{n}", "expires_in": 3600}


def provider(store: MemoryTokenStore, **kwargs: Any) -> RefreshingTokenProvider:
    clients: dict[str, Any] = {"client": OAuthClient("app", clock=lambda: NOW)}
    clients.update(kwargs)
    return RefreshingTokenProvider(store, clock=lambda: NOW, **clients)


def async_provider(store: MemoryTokenStore, **kwargs: Any) -> RefreshingTokenProvider:
    """A provider with only an async client."""
    return provider(
        store, client=None, async_client=AsyncOAuthClient("app", clock=lambda: NOW), **kwargs
    )


def rotated_after(gate: asyncio.Event) -> Callable[[httpx.Request], Awaitable[httpx.Response]]:
    """A token endpoint that answers ``rotated(1)`` once ``gate`` is set."""

    async def held(request: httpx.Request) -> httpx.Response:
        await gate.wait()
        return httpx.Response(200, json=rotated(1))

    return held


def test_is_a_token_provider() -> None:
    assert isinstance(provider(stored(3600)), TokenProvider)


def test_fresh_token_needs_no_request(mock: respx.MockRouter) -> None:
    route = mock.post(TOKEN_URL)
    assert provider(stored(61)).get_token() == "at-0"
    assert route.call_count == 0


def test_refreshes_within_margin_and_stores_rotated_pair(mock: respx.MockRouter) -> None:
    route = mock.post(TOKEN_URL).mock(
        side_effect=[httpx.Response(200, json=rotated(1)), httpx.Response(200, json=rotated(2))]
    )
    store = stored(60)
    clock = [NOW]
    tokens = RefreshingTokenProvider(
        store, client=OAuthClient("app", clock=lambda: clock[0]), clock=lambda: clock[0]
    )
    assert tokens.get_token() == "at-1"
    assert (
        route.calls.last.request.content
        == b"grant_type=refresh_token&refresh_token=rt-0&client_id=app"
    )
    saved = store.load()
    assert saved is not None
    assert saved.refresh_token == "rt-1"
    assert tokens.get_token() == "at-1"
    assert route.call_count == 1
    clock[0] += 3600 - 30
    assert tokens.get_token() == "at-2"
    assert (
        route.calls.last.request.content
        == b"grant_type=refresh_token&refresh_token=rt-1&client_id=app"
    )


def test_custom_margin(mock: respx.MockRouter) -> None:
    route = mock.post(TOKEN_URL).respond(200, json=rotated(1))
    assert provider(stored(200), refresh_margin=300).get_token() == "at-1"
    assert route.call_count == 1


def test_threads_share_one_refresh(mock: respx.MockRouter) -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        time.sleep(0.3)
        return httpx.Response(200, json=rotated(1))

    route = mock.post(TOKEN_URL).mock(side_effect=slow)
    tokens = provider(stored(10))
    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(lambda _: tokens.get_token(), range(16)))
    assert results == ["at-1"] * 16
    assert route.call_count == 1


@pytest.mark.anyio
async def test_tasks_share_one_refresh(mock: respx.MockRouter) -> None:
    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.2)
        return httpx.Response(200, json=rotated(1))

    route = mock.post(TOKEN_URL).mock(side_effect=slow)
    store = stored(10)
    tokens = async_provider(store)
    results = await asyncio.gather(*(tokens.aget_token() for _ in range(20)))
    assert results == ["at-1"] * 20
    assert route.call_count == 1
    saved = store.load()
    assert saved is not None
    assert saved.refresh_token == "rt-1"


@pytest.mark.anyio
async def test_thread_leader_with_task_followers(mock: respx.MockRouter) -> None:
    entered = threading.Event()
    release = threading.Event()

    def held(request: httpx.Request) -> httpx.Response:
        entered.set()
        release.wait(5)
        return httpx.Response(200, json=rotated(1))

    route = mock.post(TOKEN_URL).mock(side_effect=held)
    tokens = provider(stored(10), async_client=AsyncOAuthClient("app", clock=lambda: NOW))
    leader = asyncio.ensure_future(asyncio.to_thread(tokens.get_token))
    assert await asyncio.to_thread(entered.wait, 5)
    followers = asyncio.gather(*(tokens.aget_token() for _ in range(5)))
    await asyncio.sleep(0.05)
    release.set()
    assert await followers == ["at-1"] * 5
    assert await leader == "at-1"
    assert route.call_count == 1


@pytest.mark.anyio
async def test_task_leader_with_thread_followers(mock: respx.MockRouter) -> None:
    gate = asyncio.Event()
    route = mock.post(TOKEN_URL).mock(side_effect=rotated_after(gate))
    tokens = provider(stored(10), async_client=AsyncOAuthClient("app", clock=lambda: NOW))
    leader = asyncio.ensure_future(tokens.aget_token())
    await asyncio.sleep(0.05)
    followers = [asyncio.ensure_future(asyncio.to_thread(tokens.get_token)) for _ in range(4)]
    await asyncio.sleep(0.1)
    gate.set()
    assert await asyncio.gather(leader, *followers) == ["at-1"] * 5
    assert route.call_count == 1


@pytest.mark.anyio
async def test_cancelling_the_caller_does_not_lose_rotated_tokens(mock: respx.MockRouter) -> None:
    gate = asyncio.Event()
    route = mock.post(TOKEN_URL).mock(side_effect=rotated_after(gate))
    store = stored(10)
    tokens = async_provider(store)
    caller = asyncio.ensure_future(tokens.aget_token())
    await asyncio.sleep(0.05)
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    gate.set()
    assert await tokens.aget_token() == "at-1"
    saved = store.load()
    assert saved is not None
    assert saved.refresh_token == "rt-1"
    assert route.call_count == 1


@pytest.mark.anyio
async def test_async_falls_back_to_sync_client_in_a_thread(mock: respx.MockRouter) -> None:
    route = mock.post(TOKEN_URL).respond(200, json=rotated(1))
    assert await provider(stored(10)).aget_token() == "at-1"
    assert route.call_count == 1


def test_sync_refresh_needs_a_sync_client(mock: respx.MockRouter) -> None:
    tokens = RefreshingTokenProvider(
        stored(10), async_client=AsyncOAuthClient("app"), clock=lambda: NOW
    )
    with pytest.raises(ConfigurationError, match="sync OAuthClient"):
        tokens.get_token()
    fresh = RefreshingTokenProvider(
        stored(3600), async_client=AsyncOAuthClient("app"), clock=lambda: NOW
    )
    assert fresh.get_token() == "at-0"


def test_needs_a_client() -> None:
    with pytest.raises(ValueError, match="client"):
        RefreshingTokenProvider(MemoryTokenStore())


@pytest.mark.parametrize(
    "option",
    [
        {"refresh_margin": float("nan")},
        {"refresh_margin": -1.0},
        {"refresh_margin": "60"},
        {"wait_timeout": float("nan")},
        {"wait_timeout": -1.0},
        {"wait_timeout": True},
    ],
    ids=repr,
)
def test_a_provider_that_could_not_refresh_as_told_fails_when_made(option: dict[str, Any]) -> None:
    """A NaN or negative margin handed out the expired token for good (``x <= nan`` is
    false); a NaN wait failed the first refresh with a bare ``ValueError``; a str, with a
    ``TypeError``."""
    with pytest.raises(ConfigurationError, match=next(iter(option))):
        RefreshingTokenProvider(stored(-10), client=OAuthClient("app"), **option)


def test_refused_refresh_token_clears_store_and_requires_login(mock: respx.MockRouter) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        time.sleep(0.1)
        return httpx.Response(400, json={"error": "invalid_grant"})

    route = mock.post(TOKEN_URL).mock(side_effect=refuse)
    store = stored(10)
    tokens = provider(store)
    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(tokens.get_token) for _ in range(4)]
    for future in futures:
        error = future.exception()
        assert isinstance(error, LoginRequiredError)
        assert error.error == "login_required"
        assert isinstance(error.__cause__, OAuthError)
        assert error.__cause__.error == "invalid_grant"
    assert store.load() is None
    assert route.call_count == 1


@pytest.mark.parametrize(
    ("store", "match"),
    [(MemoryTokenStore(), "no tokens"), (stored(10, refresh=None), "no refresh token")],
)
def test_login_required_without_usable_tokens(store: MemoryTokenStore, match: str) -> None:
    with pytest.raises(LoginRequiredError, match=match):
        provider(store).get_token()


def test_transient_failure_keeps_store_and_never_resends(mock: respx.MockRouter) -> None:
    route = mock.post(TOKEN_URL).respond(503, text="busy")
    store = stored(10)
    tokens = provider(store)
    with pytest.raises(OAuthError) as info:
        tokens.get_token()
    assert info.value.status == 503
    assert store.load() is not None
    # The refresh token was sent once; it may have been consumed, so it is not sent again
    # by this client, but the server did not refuse it: the store keeps it.
    with pytest.raises(LoginRequiredError):
        tokens.get_token()
    assert route.call_count == 1
    assert store.load() is not None


def test_wait_timeout(mock: respx.MockRouter) -> None:
    release = threading.Event()

    def held(request: httpx.Request) -> httpx.Response:
        release.wait(5)
        return httpx.Response(200, json=rotated(1))

    mock.post(TOKEN_URL).mock(side_effect=held)
    tokens = provider(stored(10), wait_timeout=0.1)
    with ThreadPoolExecutor(2) as pool:
        leader = pool.submit(tokens.get_token)
        time.sleep(0.05)
        follower = pool.submit(tokens.get_token)
        error = follower.exception(timeout=5)
        release.set()
        assert leader.result(timeout=5) == "at-1"
    assert isinstance(error, OAuthError)
    assert error.error == "temporarily_unavailable"


def test_repr_has_no_tokens() -> None:
    text = repr(provider(stored(10)))
    assert "at-0" not in text
    assert "rt-0" not in text


class FailingSaveStore(MemoryTokenStore):
    """A store whose ``save`` fails (disk full, cookie too large…)."""

    def save(self, tokens: TokenSet) -> None:
        raise OSError("disk full")


def test_failed_save_releases_waiters_and_does_not_wedge_the_provider(
    mock: respx.MockRouter,
) -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        time.sleep(0.2)
        return httpx.Response(200, json=rotated(1))

    route = mock.post(TOKEN_URL).mock(side_effect=slow)
    store = FailingSaveStore(
        TokenSet(access_token="at-0", refresh_token="rt-0", expires_at=NOW + 10)
    )
    tokens = provider(store, wait_timeout=2)
    with ThreadPoolExecutor(3) as pool:
        futures = [pool.submit(tokens.get_token) for _ in range(3)]
    errors = [f.exception(timeout=5) for f in futures]
    assert all(isinstance(e, OSError) for e in errors), errors
    # rt-0 was used up and its successor could not be kept: sign in again, at once
    # (not a wait for a refresh that never ends), and without sending rt-0 again.
    started = time.monotonic()
    with pytest.raises(LoginRequiredError):
        tokens.get_token()
    assert time.monotonic() - started < 2  # not the 2 s wait for a refresh that never ends
    assert route.call_count == 1


def test_refusal_keeps_a_newer_pair_saved_meanwhile(mock: respx.MockRouter) -> None:
    store = stored(10)

    def refuse(request: httpx.Request) -> httpx.Response:
        # Another process refreshed first and saved its rotated pair.
        store.save(TokenSet(access_token="at-9", refresh_token="rt-9", expires_at=NOW + 3600))
        return httpx.Response(400, json={"error": "invalid_grant"})

    mock.post(TOKEN_URL).mock(side_effect=refuse)
    tokens = provider(store)
    assert tokens.get_token() == "at-9"
    saved = store.load()
    assert saved is not None
    assert saved.refresh_token == "rt-9"


@pytest.mark.anyio
async def test_async_failed_save_reaches_every_task(mock: respx.MockRouter) -> None:
    mock.post(TOKEN_URL).respond(200, json=rotated(1))
    store = FailingSaveStore(
        TokenSet(access_token="at-0", refresh_token="rt-0", expires_at=NOW + 10)
    )
    tokens = async_provider(store, wait_timeout=2)
    results = await asyncio.gather(*(tokens.aget_token() for _ in range(3)), return_exceptions=True)
    assert all(isinstance(r, OSError) for r in results), results
