"""The web helpers against a flaky or hostile OAuth server."""

from __future__ import annotations

import httpx
import pytest
import respx

from civitai_app_sdk.oauth import AsyncOAuthClient, TokenSet
from civitai_app_sdk.web import WebAuthCore

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
