"""A refresh cut by the end of its asyncio loop (``asyncio.run`` returning with it in flight).

``asyncio.run`` cancels every task left when its coroutine ends, a refresh's too, and
asyncio cannot shield a task from that. What the next call sees depends on how far the
refresh had gone: cut before a byte of it was written, the refresh token was not used
and the next call sends it; cut later, the server may have rotated it, so it is never
sent again and the error says so, the stored tokens left as they were. A refresh with
the sync client runs in a worker thread, which ``asyncio.run`` waits for: its rotated
pair is saved. Against the local OAuth server (loopback).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from civitai_app_sdk.local import FaultRule, LocalConfig, LocalServer
from civitai_app_sdk.oauth import (
    AsyncOAuthClient,
    LoginRequiredError,
    MemoryTokenStore,
    OAuthClient,
    RefreshingTokenProvider,
    TokenSet,
)
from civitai_app_sdk.web import SessionExpiredError, WebAuthCore
from tests.web.test_web_session import app_core, cookie_for

CLIENT_ID = "demo-app"
TOKEN_PATH = "oauth/token"


@pytest.fixture
def held() -> FaultRule:
    """Holds every token request a second before the server reads it (and counts them)."""
    return FaultRule("latency", times=100, seconds=1.0, path=TOKEN_PATH)


@pytest.fixture
def server(held: FaultRule) -> Iterator[LocalServer]:
    with LocalServer(LocalConfig(faults=(held,))) as running:
        yield running


@pytest.fixture
def quick() -> Iterator[LocalServer]:
    """A server that answers at once."""
    with LocalServer() as running:
        yield running


def _signed_in(server: LocalServer) -> TokenSet:
    """A pair the server issued, its access token expired on our side."""
    access, refresh = server.state.tokens.mint(CLIENT_ID, 1, server.state.clock.now())
    return TokenSet(access_token=access, refresh_token=refresh, expires_at=time.time() - 5)


def _provider(
    server: LocalServer, store: MemoryTokenStore, *, sync: bool
) -> RefreshingTokenProvider:
    if sync:
        client = OAuthClient(CLIENT_ID, base_url=server.url, site_url=server.url)
        return RefreshingTokenProvider(store, client=client, wait_timeout=5)
    async_client = AsyncOAuthClient(CLIENT_ID, base_url=server.url, site_url=server.url)
    return RefreshingTokenProvider(store, async_client=async_client, wait_timeout=5)


async def _until(done: Callable[[], bool]) -> None:
    for _ in range(500):
        if done():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("never happened")


def _cut_when(call: Callable[[], Any], when: Callable[[], bool]) -> None:
    """Start ``call()`` in an ``asyncio.run`` that returns as soon as ``when()``."""

    async def main() -> None:
        cut = asyncio.ensure_future(call())
        await _until(when)
        assert not cut.done()  # still in flight as the loop ends

    asyncio.run(main())


@pytest.fixture
def connecting(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """Set when httpcore tries to connect; every connection hangs until it is cancelled
    (the test undoes ``monkeypatch`` to connect again)."""
    tried = threading.Event()

    async def hang(self: object, *args: object, **kwargs: object) -> None:
        tried.set()
        await asyncio.Event().wait()

    monkeypatch.setattr("httpcore._backends.auto.AutoBackend.connect_tcp", hang)
    return tried


def _web(server: LocalServer) -> tuple[WebAuthCore, str]:
    """A web core on ``server`` and the cookie of a session due for a refresh."""
    owner = app_core(
        client_id=CLIENT_ID, oauth_url=server.url, site_url=server.url, clock=time.time
    )
    return owner, asyncio.run(cookie_for(owner, _signed_in(server)))


def test_a_refresh_cut_while_connecting_leaves_the_token_to_the_next_call(
    quick: LocalServer, connecting: threading.Event, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the token was claimed as sent, so the next call was told to sign in again
    signed_in = _signed_in(quick)
    store = MemoryTokenStore(signed_in)
    provider = _provider(quick, store, sync=False)
    _cut_when(provider.aget_token, connecting.is_set)
    monkeypatch.undo()
    assert store.load() == signed_in
    token = asyncio.run(provider.aget_token())
    stored = store.load()
    assert stored is not None
    assert token == stored.access_token != signed_in.access_token
    assert stored.refresh_token in quick.state.tokens.refresh


def test_a_refresh_cut_after_it_was_sent_is_never_sent_again(
    server: LocalServer, held: FaultRule
) -> None:
    signed_in = _signed_in(server)
    store = MemoryTokenStore(signed_in)
    provider = _provider(server, store, sync=False)
    _cut_when(provider.aget_token, lambda: held.hits == 1)  # the server has it
    with pytest.raises(LoginRequiredError) as caught:
        asyncio.run(provider.aget_token())
    assert "sent the refresh token once" in str(caught.value)
    assert "event loop" in str(caught.value)
    assert store.load() == signed_in  # neither cleared nor changed: another process may try
    assert held.hits == 1


def test_the_loops_end_just_as_a_refresh_starts_does_not_wedge_the_provider(
    quick: LocalServer,
) -> None:
    # the refresh's task was cancelled before it ran: its flight stayed open for good,
    # and every later call waited for it, then failed ("timed out waiting for a refresh")
    signed_in = _signed_in(quick)
    store = MemoryTokenStore(signed_in)
    provider = _provider(quick, store, sync=False)

    async def main() -> None:
        cut = asyncio.ensure_future(provider.aget_token())  # its first step runs as the loop ends
        assert not cut.done()

    asyncio.run(main())
    token = asyncio.run(provider.aget_token())
    stored = store.load()
    assert stored is not None
    assert token == stored.access_token != signed_in.access_token


def test_a_sync_client_refresh_is_saved_though_its_loop_ends(
    server: LocalServer, held: FaultRule
) -> None:
    # the worker thread's answer was dropped with the cancelled task: the server had
    # rotated the pair, the store kept the spent one, and the user had to sign in again
    signed_in = _signed_in(server)
    store = MemoryTokenStore(signed_in)
    provider = _provider(server, store, sync=True)
    _cut_when(provider.aget_token, lambda: held.hits == 1)
    stored = store.load()
    assert stored is not None
    assert stored.refresh_token != signed_in.refresh_token
    assert stored.refresh_token in server.state.tokens.refresh
    assert asyncio.run(provider.aget_token()) == stored.access_token
    assert held.hits == 1


def test_a_request_cut_while_connecting_leaves_the_session_to_the_next(
    quick: LocalServer, connecting: threading.Event, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the next request ended the session ("Your session has expired")
    owner, cookie = _web(quick)
    _cut_when(lambda: owner.new_session(cookie).access_token(), connecting.is_set)
    monkeypatch.undo()
    session = owner.new_session(cookie)
    token = asyncio.run(session.access_token())
    assert token.startswith("civitai_")
    assert session.changed  # the rotated pair goes to the browser


def test_a_request_cut_after_its_refresh_was_sent_says_the_renewal_was_lost(
    server: LocalServer, held: FaultRule
) -> None:
    owner, cookie = _web(server)
    _cut_when(lambda: owner.new_session(cookie).access_token(), lambda: held.hits == 1)
    session = owner.new_session(cookie)
    with pytest.raises(SessionExpiredError, match="did not answer the renewal"):
        asyncio.run(session.access_token())
    assert held.hits == 1


def test_a_caller_cut_with_its_refresh_logs_no_unread_error(
    server: LocalServer, held: FaultRule, caplog: pytest.LogCaptureFixture
) -> None:
    # the refresh's outcome reached the cut caller's future after the loop stopped:
    # "Future exception was never retrieved", with a traceback, logged at ERROR
    provider = _provider(server, MemoryTokenStore(_signed_in(server)), sync=False)
    with caplog.at_level(logging.ERROR, logger="asyncio"):
        _cut_when(provider.aget_token, lambda: held.hits == 1)
        gc.collect()
    assert [record.getMessage() for record in caplog.records] == []
