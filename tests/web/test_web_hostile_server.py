"""The web helpers against a flaky or hostile OAuth server."""

from __future__ import annotations

import httpx
import pytest
import respx

from civitai_app_sdk.oauth import AsyncOAuthClient, TokenSet
from civitai_app_sdk.web import SessionExpiredError, SignInUnavailableError, WebAuthCore

AUTH = "https://auth.example"
NOW = 1_000_000.0
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
