"""Web sign-in under trio (through anyio), as the rest of the SDK runs there.

A refresh is still sent once per refresh token: by the tasks of one trio run, and by a
later run or asyncio loop carrying the same cookie.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import anyio
import anyio.lowlevel
import httpx
import pytest
import respx

from civitai_app_sdk.web import WebAuthCore
from tests.web.test_web_session import AUTH, NOW, app_core, cookie_for, token_answer, tokens

pytest.importorskip("trio")

TOKEN_URL = f"{AUTH}/api/auth/oauth/token"


@pytest.fixture
def owner() -> Iterator[WebAuthCore]:
    """A core with its own OAuth clients (one per event loop) and a session to refresh."""
    core = app_core(oauth_url=AUTH, site_url=AUTH)
    yield core
    anyio.run(core.aclose, backend="trio")


def _expired(owner: WebAuthCore) -> str:
    return asyncio.run(cookie_for(owner, tokens("a1", "r1", NOW - 5)))


def _slowly(request: httpx.Request) -> httpx.Response:
    time.sleep(0.05)  # the other tasks arrive while it runs
    return token_answer("a2", "r2")


def test_tasks_of_a_trio_run_share_one_refresh_and_read_the_user(owner: WebAuthCore) -> None:
    cookie = _expired(owner)
    seen: list[str] = []

    async def ask() -> None:
        session = owner.new_session(cookie)
        seen.append(await session.access_token())
        seen.append((await session.user()).username or "")

    async def scenario() -> None:
        async with anyio.create_task_group() as group:
            for _ in range(5):
                group.start_soon(ask)

    with respx.mock:
        route = respx.post(TOKEN_URL).mock(side_effect=_slowly)
        respx.get(f"{AUTH}/api/v1/me").respond(200, json={"id": 1, "username": "u"})
        anyio.run(scenario, backend="trio")
    assert sorted(seen) == ["a2"] * 5 + ["u"] * 5
    assert route.call_count == 1


def test_an_asyncio_loop_gets_the_refresh_a_trio_run_made(owner: WebAuthCore) -> None:
    cookie = _expired(owner)

    async def refreshed() -> str:
        return await owner.new_session(cookie).access_token()

    with respx.mock:
        route = respx.post(TOKEN_URL).mock(side_effect=[token_answer("a2", "r2")])
        assert anyio.run(refreshed, backend="trio") == "a2"
        assert asyncio.run(refreshed()) == "a2"  # the old cookie again: r1 is not resent
        assert anyio.run(refreshed, backend="trio") == "a2"
    assert route.call_count == 1


def test_a_request_cancelled_under_trio_still_ends_its_refresh(owner: WebAuthCore) -> None:
    # the refresh goes on shielded: its rotated pair is what the next request gets
    cookie = _expired(owner)

    async def cancelled() -> None:
        with anyio.CancelScope() as scope:

            async def answer(request: httpx.Request) -> httpx.Response:
                scope.cancel()  # while the refresh is on the wire
                await anyio.lowlevel.checkpoint()
                return token_answer("a2", "r2")

            route.side_effect = answer
            await owner.new_session(cookie).access_token()

    async def refreshed() -> str:
        return await owner.new_session(cookie).access_token()

    with respx.mock:
        route = respx.post(TOKEN_URL)
        anyio.run(cancelled, backend="trio")
        assert anyio.run(refreshed, backend="trio") == "a2"
    assert route.call_count == 1
