"""Regressions from the adversarial audit of the web helpers (issue 20)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import respx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from civitai_app_sdk.local import LocalServer
from civitai_app_sdk.oauth import AsyncOAuthClient, TokenSet
from civitai_app_sdk.web import CivitaiAuth

from .test_web_asgi import APP, asgi_client, make_app, server, sign_in

pytestmark = pytest.mark.anyio
__all__ = ["server"]  # the module-scoped local OAuth server fixture


def _installed(app: Starlette, **options: Any) -> CivitaiAuth:
    """The sign-in helpers installed on ``app`` for the web app at ``APP``."""
    auth = CivitaiAuth(
        client_id="web-app",
        redirect_uri=f"{APP}/auth/callback",
        scopes=["UserRead"],
        cookie_secrets=["c" * 43],
        **options,
    )
    auth.install(app)
    return auth


async def test_a_cookie_header_split_in_several_fields_still_carries_the_session(
    server: LocalServer,
) -> None:
    # HTTP/2 may send each cookie in its own `cookie` field (RFC 9113 8.2.3); before,
    # only the first field was read, so the session was lost
    app, _ = make_app(server)
    async with asgi_client(app) as client:
        await sign_in(client)
        session = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
        client.cookies.clear()
        headers = httpx.Headers([("cookie", "theme=dark"), ("cookie", session)])
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=APP) as bare:
            answer = await bare.get("/me", headers=headers)
    assert answer.status_code == 200
    assert answer.text == "local-user"


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ReadTimeout("the answer never came"),
        # (one never sent keeps the sign-in for a reload: test_web_hostile_server.py)
        httpx.Response(200, json={"access_token": "a", "expires_in": "9" * 400}),
    ],
)
async def test_a_token_call_without_a_usable_answer_is_a_sign_in_error_page(
    failure: Exception | httpx.Response,
) -> None:
    # before, a lost answer on the code exchange escaped as TransportError: a bare 500
    # "Internal Server Error", and the sign-in cookie was left behind
    oauth = "https://oauth.example"
    app = Starlette()
    _installed(
        app, oauth_client=AsyncOAuthClient("web-app", base_url=oauth, site_url=oauth, max_retries=0)
    )
    transport = httpx.ASGITransport(app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=APP) as client:
        start = await client.get("/auth/login")
        state = parse_qs(urlsplit(start.headers["location"]).query)["state"][0]
        with respx.mock(assert_all_called=True) as mock:
            token = mock.post(f"{oauth}/api/auth/oauth/token")
            if isinstance(failure, httpx.Response):
                token.mock(return_value=failure)
            else:
                token.mock(side_effect=failure)
            answer = await client.get("/auth/callback", params={"state": state, "code": "c-1"})
    assert answer.status_code == 400
    assert "<h1>Sign-in failed</h1>" in answer.text
    assert answer.headers.get_list("set-cookie") == [
        "civitai_login=; Max-Age=0; Path=/; HttpOnly; SameSite=lax"
    ]


async def test_a_request_that_crashes_after_a_refresh_still_sends_the_new_cookie() -> None:
    # before: the server's 500 page went out without Set-Cookie, so the browser kept the
    # refresh token the request had just used up, and was signed out two minutes later
    oauth, now = "https://oauth.example", 1_000_000.0

    async def crash(request: Request) -> Response:
        await auth.require_session(request)
        raise RuntimeError("a bug in the app, after the token was refreshed")

    app = Starlette(routes=[Route("/crash", crash)])
    auth = _installed(
        app,
        oauth_client=AsyncOAuthClient("web-app", base_url=oauth, site_url=oauth),
        clock=lambda: now,
    )
    old = auth.new_session(None)
    await old.save(TokenSet(access_token="a1", refresh_token="r1", expires_at=now - 5))
    cookie = "; ".join(h.partition(";")[0] for h in old.set_cookie_headers())
    transport = httpx.ASGITransport(app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=APP) as client:
        with respx.mock:
            fresh = {"access_token": "a2", "refresh_token": "r2", "expires_in": 3600}
            respx.post(f"{oauth}/api/auth/oauth/token").respond(200, json=fresh)
            answer = await client.get("/crash", headers={"cookie": cookie})
    assert answer.status_code == 500
    (written,) = answer.headers.get_list("set-cookie")
    session = auth.new_session(written.partition(";")[0])
    await session.load()
    assert session.tokens is not None
    assert session.tokens.refresh_token == "r2"


async def test_a_crash_that_changed_nothing_is_left_to_the_server() -> None:
    async def crash(request: Request) -> Response:
        raise RuntimeError("no session involved")

    app = Starlette(routes=[Route("/crash", crash)])
    _installed(app)
    transport = httpx.ASGITransport(app, raise_app_exceptions=True)
    async with httpx.AsyncClient(transport=transport, base_url=APP) as client:
        with pytest.raises(RuntimeError, match="no session involved"):
            await client.get("/crash")
