"""One refresh per refresh token also across event loops.

An app that starts a loop per request (``asyncio.run`` in a sync framework) or runs
several loops in threads shares one :class:`WebAuthCore`. Civitai rotates refresh tokens:
a request carrying the cookie another loop already refreshed must get that refresh's
outcome, never send the spent token again (which ends the session).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import gc
import threading
from collections import OrderedDict
from urllib.parse import parse_qs

import httpx
import pytest
import respx

from civitai_app_sdk.oauth import AsyncOAuthClient, TokenSet
from civitai_app_sdk.web import (
    SessionExpiredError,
    SignInUnavailableError,
    StateMismatchError,
    WebAuthCore,
    _flights,
)
from tests.web.test_web_session import (
    AUTH,
    NOW,
    app_core,
    cookie_for,
    core,
    token_answer,
    tokens,
)

TOKEN_URL = f"{AUTH}/api/auth/oauth/token"


def test_a_loop_per_request_shares_the_refresh_an_earlier_loop_made() -> None:
    owner = core()
    cookie = asyncio.run(cookie_for(owner, tokens("a1", "r1", NOW - 5)))
    with respx.mock:
        route = respx.post(TOKEN_URL)
        route.side_effect = [
            token_answer("a2", "r2"),
            httpx.Response(400, json={"error": "invalid_grant"}),
        ]
        first = asyncio.run(owner.new_session(cookie).access_token())
        second = asyncio.run(owner.new_session(cookie).access_token())  # the old cookie again
    assert (first, second) == ("a2", "a2")
    assert route.call_count == 1  # the spent r1 was not sent twice


def test_a_refusal_in_one_loop_is_the_answer_in_the_next() -> None:
    owner = core()
    cookie = asyncio.run(cookie_for(owner, tokens("a1", "r1", NOW - 5)))
    with respx.mock:
        route = respx.post(TOKEN_URL).respond(400, json={"error": "invalid_grant"})
        for _ in range(2):
            with pytest.raises(SessionExpiredError):
                asyncio.run(owner.new_session(cookie).access_token())
    assert route.call_count == 1


class _HeldRefresh(AsyncOAuthClient):
    """Answers a refresh only when the test lets it, counting the refreshes sent."""

    def __init__(self) -> None:
        super().__init__("app", base_url=AUTH, site_url=AUTH)
        self.sent = 0
        self.started = threading.Event()
        self.release = threading.Event()
        self.cancel = False

    async def refresh_token(self, refresh_token: str, **_: object) -> TokenSet:
        self.sent += 1
        self.started.set()
        await asyncio.to_thread(self.release.wait, 5)
        if self.cancel:
            raise asyncio.CancelledError
        return TokenSet(access_token="a2", refresh_token="r2", expires_at=NOW + 3600)


def _signed_in(oauth: _HeldRefresh) -> tuple[WebAuthCore, str]:
    """A core over ``oauth`` and the cookie of a session whose access token expired."""
    owner = app_core(oauth_client=oauth)
    return owner, asyncio.run(cookie_for(owner, tokens("a1", "r1", NOW - 5)))


def _two_loops(oauth: _HeldRefresh) -> list[object]:
    owner, cookie = _signed_in(oauth)
    results: list[object] = [None, None]

    def request(index: int) -> None:
        try:
            results[index] = asyncio.run(owner.new_session(cookie).access_token())
        except (Exception, asyncio.CancelledError) as error:  # the test looks at it
            results[index] = error

    first = threading.Thread(target=request, args=(0,))
    first.start()
    assert oauth.started.wait(5)
    second = threading.Thread(target=request, args=(1,))
    second.start()
    second.join(0.2)  # it waits for the first loop's refresh
    assert second.is_alive()
    oauth.release.set()
    first.join(5)
    second.join(5)
    return results


def test_a_loop_in_another_thread_waits_for_the_refresh_a_running_loop_makes() -> None:
    oauth = _HeldRefresh()
    assert _two_loops(oauth) == ["a2", "a2"]
    assert oauth.sent == 1


def test_a_refresh_cut_in_another_loop_keeps_the_session_for_the_next_request() -> None:
    oauth = _HeldRefresh()
    oauth.cancel = True
    first, second = _two_loops(oauth)
    assert isinstance(second, SignInUnavailableError)
    assert oauth.sent == 1
    assert not isinstance(first, str)


def test_a_loop_that_stops_while_another_waits_for_its_refresh_does_not_hang_the_other() -> None:
    # a sync framework's loop per thread, run per request: its request ends (here a
    # timeout) with the refresh in flight, and the loop stops; the request waiting in
    # the other loop gets the 503 that keeps the session, not a wait without end
    oauth = _HeldRefresh()
    owner, cookie = _signed_in(oauth)
    loop = asyncio.new_event_loop()
    results: list[object] = []

    def first() -> None:
        async def cut() -> None:
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.5):
                    await owner.new_session(cookie).access_token()

        loop.run_until_complete(cut())  # the loop stops; its refresh is left pending

    def second() -> None:
        try:
            results.append(asyncio.run(owner.new_session(cookie).access_token()))
        except SignInUnavailableError as error:
            results.append(error)

    owning = threading.Thread(target=first, daemon=True)
    owning.start()
    assert oauth.started.wait(5)
    other = threading.Thread(target=second, daemon=True)
    other.start()
    owning.join(5)
    other.join(5)
    try:
        assert not other.is_alive(), "the second request still waits"
        assert [type(result) for result in results] == [SignInUnavailableError]
        assert oauth.sent == 1
    finally:
        oauth.release.set()
        loop.run_until_complete(asyncio.gather(*asyncio.all_tasks(loop)))
        loop.close()


def _own_core() -> WebAuthCore:
    """A core that makes its own OAuth clients (no ``oauth_client`` given)."""
    return app_core(oauth_url=AUTH, site_url=AUTH)


def _rotate(request: httpx.Request) -> httpx.Response:
    """The token endpoint: ``rN`` becomes ``aN+`` / ``rN+``."""
    (sent,) = parse_qs(request.content.decode())["refresh_token"]
    return token_answer(f"a{sent[1:]}+", f"{sent}+")


def test_loops_running_in_two_threads_each_refresh_their_own_session() -> None:
    # a sync framework's async views (asgiref, Django): each request's loop in its thread
    owner = _own_core()
    cookies = [asyncio.run(cookie_for(owner, tokens(f"a{n}", f"r{n}", NOW - 5))) for n in (1, 2)]
    both = threading.Barrier(2)
    results: list[object] = [None, None]

    def request(index: int) -> None:
        async def signed_in() -> str:
            await asyncio.to_thread(both.wait, 5)  # both loops run before either refreshes
            token = await owner.new_session(cookies[index]).access_token()
            await asyncio.to_thread(both.wait, 5)  # and until both have refreshed
            return token

        try:
            results[index] = asyncio.run(signed_in())
        except Exception as error:  # the test looks at it
            results[index] = error

    with respx.mock:
        route = respx.post(TOKEN_URL).mock(side_effect=_rotate)
        threads = [threading.Thread(target=request, args=(n,)) for n in (0, 1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
    assert results == ["a1+", "a2+"]
    assert route.call_count == 2


def _live_oauth_clients() -> int:
    gc.collect()
    return sum(isinstance(thing, AsyncOAuthClient) for thing in gc.get_objects())


def test_a_loop_per_request_does_not_keep_a_client_per_loop() -> None:
    owner = _own_core()
    before = _live_oauth_clients()
    with respx.mock:
        respx.get(f"{AUTH}/api/v1/me").respond(200, json={"id": 1, "username": "u"})
        for n in range(200):
            asyncio.run(owner.user_for(f"a{n}"))  # each loop sends one request
    assert _live_oauth_clients() - before <= 2
    asyncio.run(owner.aclose())


class _EndsAsItIsAsked:
    """A loop (a trio token's shape) that runs for ``polls`` looks, then has ended when
    asked, the refresh it ran having just ended: the order another loop sees when this
    one's ``asyncio.run`` returns between the look at the refresh and the look at it."""

    def __init__(self, flight: concurrent.futures.Future[TokenSet], polls: int) -> None:
        self.flight = flight
        self.polls = polls

    def run_sync_soon(self, callback: object) -> None:
        if self.polls > 0:
            self.polls -= 1
            return
        if not self.flight.done():
            tokens = TokenSet(access_token="a2", refresh_token="r2", expires_at=NOW + 3600)
            self.flight.set_result(tokens)
        raise RuntimeError("the run has finished")


@pytest.mark.parametrize("polls", [0, 1])
def test_a_refresh_that_ends_as_its_loop_stops_is_the_answer_not_a_new_refresh(
    polls: int,
) -> None:
    # asked in the other order (its refresh, then its loop), a refresh that ended just
    # before its loop stopped was taken for one cut: a new refresh of the spent token was
    # sent (polls=0), or the waiting request was told to try again (polls=1)
    flight = _flights.RunFlight(None)
    flight._loop = _EndsAsItIsAsked(flight, polls)
    outcome = asyncio.run(_flights.elsewhere(flight))
    assert outcome is not None
    assert outcome.access_token == "a2"


def test_sign_ins_finished_in_loops_of_two_threads_each_claim_their_state() -> None:
    # the replay guard's table was changed by loops in threads at once: a callback could
    # evict another's just-claimed state (whose replay then passed), or fail with a bare
    # RuntimeError (an OrderedDict mutated while read) or KeyError
    now = [0.0]
    owner = app_core(oauth_url=AUTH, site_url=AUTH, login_ttl=10, clock=lambda: now[0])
    owner._claim_state("old")
    now[0] = 20.0  # "old" has expired: the next claim evicts it
    paused, resume = threading.Event(), threading.Event()

    class _PausesTheFirst(OrderedDict[bytes, float]):
        def popitem(self, last: bool = True) -> tuple[bytes, float]:
            if threading.current_thread().name == "first" and not paused.is_set():
                paused.set()  # about to evict "old"
                resume.wait(5)
            return super().popitem(last)

    owner._used_states = _PausesTheFirst(owner._used_states)
    first = threading.Thread(target=owner._claim_state, args=("a",), name="first")
    second = threading.Thread(target=owner._claim_state, args=("b",))
    first.start()
    assert paused.wait(5)
    second.start()
    second.join(0.2)  # it waits for the first to end its claim
    resume.set()
    first.join(5)
    second.join(5)
    for state in ("a", "b"):
        with pytest.raises(StateMismatchError):
            owner._claim_state(state)  # a replay of either is refused
