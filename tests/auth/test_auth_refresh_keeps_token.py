"""RFC 6749 section 6: a refresh answer without ``refresh_token`` keeps the one sent.

Civitai always rotates; a server that does not (or an answer that leaves the field out)
must not end the session. Before, the new token set had no refresh token, so the next
refresh was impossible: the client, the provider and the web session all lost the login.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx

from civitai_app_sdk.oauth import (
    AsyncOAuthClient,
    MemoryTokenStore,
    OAuthClient,
    RefreshingTokenProvider,
    TokenSet,
)
from tests.web.test_web_session import AUTH, cookie_for, core, opened

BASE = "https://auth.civitai.com"
TOKEN_URL = f"{BASE}/api/auth/oauth/token"
NOW = 1_700_000_000.0
KEPT = "kept-refresh-secret-xyz"
NOT_ROTATED = {"access_token": "at-new", "expires_in": 3600, "scope": "1"}
MODES = ["sync", "async"]


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as router:
        yield router


def refresh_twice(mode: str, first: str) -> list[TokenSet]:
    """Refresh with ``first``, then with the refresh token the first answer left."""
    options: dict[str, Any] = {"base_url": BASE, "clock": lambda: NOW}
    if mode == "sync":
        with OAuthClient("app", **options) as client:
            one = client.refresh_token(first)
            assert one.refresh_token is not None
            return [one, client.refresh_token(one.refresh_token)]

    async def go() -> list[TokenSet]:
        async with AsyncOAuthClient("app", **options) as client:
            one = await client.refresh_token(first)
            assert one.refresh_token is not None
            return [one, await client.refresh_token(one.refresh_token)]

    return asyncio.run(go())


@pytest.mark.parametrize("mode", MODES)
def test_an_answer_without_a_refresh_token_keeps_the_one_sent(
    mock: respx.MockRouter, mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    # the new set had refresh_token None: the login could never be refreshed again
    route = mock.post(TOKEN_URL).respond(200, json=NOT_ROTATED)
    caplog.set_level(logging.DEBUG)
    one, two = refresh_twice(mode, KEPT)
    assert one == TokenSet(
        access_token="at-new", refresh_token=KEPT, expires_at=NOW + 3600, scope=one.scope
    )
    assert two.refresh_token == KEPT  # the client's guard let the kept token go out again
    assert route.call_count == 2
    assert all(f"refresh_token={KEPT}".encode() in call.request.content for call in route.calls)
    assert KEPT not in caplog.text
    assert KEPT not in repr(one)


@pytest.mark.parametrize("mode", MODES)
def test_a_new_refresh_token_in_the_answer_wins(mock: respx.MockRouter, mode: str) -> None:
    answers = [{**NOT_ROTATED, "refresh_token": "rt-1"}, {**NOT_ROTATED, "refresh_token": "rt-2"}]
    mock.post(TOKEN_URL).mock(side_effect=[httpx.Response(200, json=a) for a in answers])
    one, two = refresh_twice(mode, KEPT)
    assert (one.refresh_token, two.refresh_token) == ("rt-1", "rt-2")


def test_a_rotated_token_stays_spent_after_its_answer(mock: respx.MockRouter) -> None:
    # only an answer that keeps the sent token gives it back to the guard
    route = mock.post(TOKEN_URL).respond(200, json={**NOT_ROTATED, "refresh_token": "rt-1"})
    with OAuthClient("app", base_url=BASE) as client:
        client.refresh_token("rt-0")
        with pytest.raises(Exception, match="already sent"):
            client.refresh_token("rt-0")
    assert route.call_count == 1


@pytest.mark.parametrize("mode", MODES)
def test_the_provider_keeps_refreshing_with_a_server_that_does_not_rotate(
    mock: respx.MockRouter, mode: str
) -> None:
    # the stored pair lost its refresh token: the second expiry raised LoginRequiredError
    route = mock.post(TOKEN_URL).respond(200, json={**NOT_ROTATED, "expires_in": 0})
    store = MemoryTokenStore(TokenSet(access_token="at-0", refresh_token=KEPT, expires_at=NOW))
    clock = lambda: NOW  # noqa: E731
    if mode == "sync":
        sync = OAuthClient("app", base_url=BASE, clock=clock)
        provider = RefreshingTokenProvider(store, client=sync, clock=clock)
        tokens = [provider.get_token(), provider.get_token()]
    else:
        client = AsyncOAuthClient("app", base_url=BASE, clock=clock)
        provider = RefreshingTokenProvider(store, async_client=client, clock=clock)

        async def twice() -> list[str]:
            return [await provider.aget_token(), await provider.aget_token()]

        tokens = asyncio.run(twice())
    assert tokens == ["at-new", "at-new"]
    assert route.call_count == 2
    stored = store.load()
    assert stored is not None
    assert stored.refresh_token == KEPT


@respx.mock
@pytest.mark.anyio
async def test_the_web_session_keeps_its_refresh_token_in_the_resealed_cookie() -> None:
    # the cookie was resealed without a refresh token: at the next expiry, signed out
    route = respx.post(f"{AUTH}/api/auth/oauth/token").respond(200, json=NOT_ROTATED)
    owner = core()
    expiring = TokenSet(access_token="a1", refresh_token=KEPT, expires_at=owner.clock() + 30)
    session = owner.new_session(await cookie_for(owner, expiring))
    assert await session.access_token() == "at-new"
    stored = opened(owner, session.set_cookie_headers())
    assert stored["refresh_token"] == KEPT
    assert stored["access_token"] == "at-new"
    assert route.call_count == 1
    assert KEPT not in json.dumps(session.set_cookie_headers())  # sealed, not in clear
