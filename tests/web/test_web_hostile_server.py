"""The web helpers against a flaky or hostile OAuth server."""

from __future__ import annotations

from urllib.parse import parse_qs, parse_qsl, urlsplit

import httpx
import pytest
import respx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from civitai_app_sdk.oauth import AsyncOAuthClient, TokenSet
from civitai_app_sdk.web import (
    CivitaiAuth,
    SessionExpiredError,
    SignInUnavailableError,
    WebAuthCore,
)

AUTH = "https://auth.example"
NOW = 1_000_000.0
TOKENS = {"access_token": "at", "refresh_token": "rt", "expires_in": 3600}
pytestmark = pytest.mark.anyio


def app_core() -> WebAuthCore:
    return WebAuthCore(
        client_id="app",
        redirect_uri="https://app.example/auth/callback",
        scopes=114689,
        cookie_secrets=["s" * 40],
        clock=lambda: NOW,
        oauth_client=AsyncOAuthClient("app", base_url=AUTH, site_url=AUTH),
    )


@respx.mock
async def test_sign_out_asks_a_failing_revocation_once_then_clears_the_session() -> None:
    """Revoking is best effort (Civitai does nothing for a public client): an overloaded
    server asking to wait must not hold the sign-out page for minutes of retries, a user
    gives up on it, and the cookie is never deleted."""
    busy = httpx.Response(503, headers={"Retry-After": "1"})
    revoke = respx.post(f"{AUTH}/api/auth/oauth/revoke").mock(return_value=busy)
    owner = app_core()
    signed_in = owner.new_session(None)
    await signed_in.save(TokenSet(access_token="at", refresh_token="rt", expires_at=NOW + 3600))
    cookie = "; ".join(h.partition(";")[0] for h in signed_in.set_cookie_headers())

    session = owner.new_session(cookie)
    await owner.end_session(session)

    assert revoke.call_count == 1
    assert not session.signed_in
    assert any("Max-Age=0" in header for header in session.set_cookie_headers())


async def _cookie(owner: WebAuthCore, expires_at: float) -> str:
    signed_in = owner.new_session(None)
    await signed_in.save(TokenSet(access_token="at", refresh_token="rt", expires_at=expires_at))
    return "; ".join(h.partition(";")[0] for h in signed_in.set_cookie_headers())


PORTAL = httpx.Response(200, html="<html><body>Please accept the terms</body></html>")
HUGE = httpx.Response(200, json={"access_token": "at2", "padding": "x" * (2 << 20)})


@respx.mock
@pytest.mark.parametrize("answer", [PORTAL, HUGE], ids=["web-page", "too-large"])
async def test_an_unreadable_answer_to_a_refresh_ends_the_session_with_a_page(
    answer: httpx.Response,
) -> None:
    """A 2xx the SDK cannot read (a captive portal's page, a body past the cap) was a bare
    ``OAuthError``, a 500, and the cookie kept a refresh token the server had taken: the
    next request ended the session anyway. It is the lost-renewal page at once."""
    respx.post(f"{AUTH}/api/auth/oauth/token").mock(return_value=answer)
    owner = app_core()
    session = owner.new_session(await _cookie(owner, NOW + 10))
    with pytest.raises(SessionExpiredError, match="did not answer the renewal"):
        await session.access_token()
    assert not session.signed_in
    assert any("Max-Age=0" in header for header in session.set_cookie_headers())


@respx.mock
@pytest.mark.parametrize("answer", [PORTAL, HUGE], ids=["web-page", "too-large"])
async def test_an_unreadable_user_answer_is_a_passing_failure_not_a_crash(
    answer: httpx.Response,
) -> None:
    """``/api/v1/me`` answered by a web page was a bare ``OAuthError`` (a 500 page)."""
    respx.get(f"{AUTH}/api/v1/me").mock(return_value=answer)
    owner = app_core()
    session = owner.new_session(await _cookie(owner, NOW + 3600))
    with pytest.raises(SignInUnavailableError):
        await session.user()
    assert session.signed_in
    assert not session.changed


def _app(oauth: str) -> Starlette:
    app = Starlette()
    CivitaiAuth(
        client_id="web-app",
        redirect_uri="http://127.0.0.1:8000/auth/callback",
        scopes=["UserRead"],
        cookie_secrets=["c" * 43],
        oauth_client=AsyncOAuthClient("web-app", base_url=oauth, site_url=oauth, max_retries=0),
    ).install(app)
    return app


@pytest.mark.parametrize(
    "busy",
    [httpx.Response(429, json={"error": "rate_limited"}), httpx.ConnectError("refused")],
    ids=["rate-limited", "not-sent"],
)
async def test_a_code_exchange_the_server_did_not_take_can_be_finished_by_reloading(
    busy: Exception | httpx.Response,
) -> None:
    """Civitai allows 20 token calls a minute per client IP, and every sign-in of a web app
    comes from the app's IP. A 429 (or a call that never left) leaves the code unused,
    yet the callback deleted the sign-in cookie and said the code "may have expired or
    been used": the user had to start over, into the same rate limit. The cookie is
    kept and the page says to reload, which finishes the sign-in with the same code."""
    oauth = "https://oauth.example"
    app = _app(oauth)
    transport = httpx.ASGITransport(app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as client:
        start = await client.get("/auth/login", params={"next": "/after"})
        state = parse_qs(urlsplit(start.headers["location"]).query)["state"][0]
        callback = {"state": state, "code": "c-1"}
        with respx.mock() as mock:
            token = mock.post(f"{oauth}/api/auth/oauth/token").mock(
                side_effect=[busy, httpx.Response(200, json=TOKENS)]
            )
            refused = await client.get("/auth/callback", params=callback)
            assert refused.status_code == 503
            assert "reload" in refused.text.lower()
            assert refused.headers.get_list("set-cookie") == []
            finished = await client.get("/auth/callback", params=callback)
    assert finished.status_code == 303
    assert finished.headers["location"] == "/after"
    sent = [dict(parse_qsl(call.request.content.decode())) for call in token.calls]
    assert [form["code"] for form in sent] == ["c-1", "c-1"]


@respx.mock
async def test_a_request_with_the_cookie_from_before_a_refresh_cannot_undo_a_sign_out() -> None:
    """A refresh's new pair is handed, for two minutes, to late requests still carrying
    the old cookie. After a sign-out that pair must not come back: a request sent before
    the rotation and answered after the sign-out set the session cookie again, and the
    user who had just signed out was signed in."""
    answer = httpx.Response(200, json={**TOKENS, "access_token": "at2", "refresh_token": "rt2"})
    respx.post(f"{AUTH}/api/auth/oauth/token").mock(return_value=answer)
    respx.post(f"{AUTH}/api/auth/oauth/revoke").respond(200, json={})
    owner = app_core()
    old_cookie = await _cookie(owner, NOW + 10)  # due for a refresh

    first = owner.new_session(old_cookie)
    assert await first.access_token() == "at2"
    new_cookie = "; ".join(h.partition(";")[0] for h in first.set_cookie_headers())
    await owner.end_session(owner.new_session(new_cookie))

    late = owner.new_session(old_cookie)
    with pytest.raises(SessionExpiredError):
        await late.access_token()
    assert all("Max-Age=0" in header for header in late.set_cookie_headers())


async def test_a_sign_in_from_another_tab_does_not_end_the_one_in_progress() -> None:
    """Two tabs sent to sign in at once (a session that expired under both): the second
    login replaced the sign-in cookie, so the first tab's callback did not match it and
    deleted it, and the second tab's callback then failed too. The mismatch leaves the
    other sign-in's cookie alone, and the second tab signs in."""
    oauth = "https://oauth.example"
    app = _app(oauth)
    transport = httpx.ASGITransport(app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as client:
        states = []
        for tab in ("/one", "/two"):
            start = await client.get("/auth/login", params={"next": tab})
            states.append(parse_qs(urlsplit(start.headers["location"]).query)["state"][0])
        with respx.mock() as mock:
            mock.post(f"{oauth}/api/auth/oauth/token").respond(200, json=TOKENS)
            first = await client.get("/auth/callback", params={"state": states[0], "code": "c1"})
            second = await client.get("/auth/callback", params={"state": states[1], "code": "c2"})
    assert first.status_code == 400
    assert first.headers.get_list("set-cookie") == []
    assert second.status_code == 303
    assert second.headers["location"] == "/two"


@pytest.mark.parametrize(
    "next_path",
    [
        "/auth/login",
        "/auth/login?next=/auth/login",
        "/auth/login/",
        "/auth/%6Cogin",
        "/auth/./login",
        "/x/../auth/login",
        "/auth/callback",
    ],
)
async def test_a_sign_in_never_returns_to_the_sign_in_routes(next_path: str) -> None:
    """``/auth/login?next=/auth/login``, a link anyone can send, looped: after each
    sign-in the browser started the next one, until it gave up on the redirects. With
    consent remembered, every turn spent one of the 20 token calls a minute Civitai
    allows the app's IP, shared by all its users. Such a ``next`` is ``/``."""
    oauth = "https://oauth.example"
    app = _app(oauth)
    transport = httpx.ASGITransport(app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as client:
        start = await client.get("/auth/login", params={"next": next_path})
        state = parse_qs(urlsplit(start.headers["location"]).query)["state"][0]
        with respx.mock() as mock:
            mock.post(f"{oauth}/api/auth/oauth/token").respond(200, json=TOKENS)
            done = await client.get("/auth/callback", params={"state": state, "code": "c1"})
    assert done.status_code == 303
    assert done.headers["location"] == "/"


async def test_a_response_that_sets_the_session_cookie_is_never_stored_by_a_cache() -> None:
    """A page the app marks cacheable (``Cache-Control: public``) carried the refreshed
    session cookie when its request refreshed the tokens: a shared cache (a CDN) that
    keeps such an answer hands that ``Set-Cookie``, the user's session, to whoever asks
    next. Such an answer is ``no-store``."""
    oauth = "https://oauth.example"

    async def page(request: Request) -> Response:
        await auth.require_session(request)
        return PlainTextResponse("news", headers={"Cache-Control": "public, max-age=600"})

    app = Starlette(routes=[Route("/news", page)])
    auth = CivitaiAuth(
        client_id="web-app",
        redirect_uri="http://127.0.0.1:8000/auth/callback",
        scopes=["UserRead"],
        cookie_secrets=["c" * 43],
        oauth_client=AsyncOAuthClient("web-app", base_url=oauth, site_url=oauth),
        clock=lambda: NOW,
    )
    auth.install(app)
    cookie = await _cookie(auth, NOW - 5)
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as client:
        with respx.mock:
            respx.post(f"{oauth}/api/auth/oauth/token").respond(200, json=TOKENS)
            refreshed = await client.get("/news", headers={"cookie": cookie})
            fresh = refreshed.headers["set-cookie"].partition(";")[0]
            kept = await client.get("/news", headers={"cookie": fresh})
    assert refreshed.headers.get_list("set-cookie")
    assert refreshed.headers.get_list("cache-control") == ["no-store"]
    assert kept.headers.get_list("set-cookie") == []
    assert kept.headers.get_list("cache-control") == ["public, max-age=600"]
