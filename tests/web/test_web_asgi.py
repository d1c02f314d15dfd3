"""The Starlette layer against the local OAuth server: routes, cookies, CSRF, logout."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from civitai_app_sdk.errors import ConfigurationError
from civitai_app_sdk.local import LocalConfig, LocalServer
from civitai_app_sdk.web import CivitaiAuth, WebAuthError

APP = "http://127.0.0.1:5999"
SECRET = "c" * 43
pytestmark = pytest.mark.anyio
CLIENT_SECRET = "shh-" + "x" * 20


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    config = LocalConfig(confidential_clients={"web-app": CLIENT_SECRET})
    with LocalServer(config) as running:
        yield running


def make_app(server: LocalServer, **options: object) -> tuple[Starlette, CivitaiAuth]:
    auth = CivitaiAuth(
        client_id="web-app",
        client_secret=CLIENT_SECRET,
        redirect_uri=f"{APP}/auth/callback",
        scopes=["UserRead", "AIServicesWrite"],
        cookie_secrets=[SECRET],
        oauth_url=server.url,
        site_url=server.url,
        **options,  # type: ignore[arg-type]
    )

    async def me(request: Request) -> Response:
        user = await auth.user(request)
        return PlainTextResponse(str(user.username))

    async def change(request: Request) -> Response:
        await auth.require_session(request)
        return PlainTextResponse("changed")

    app = Starlette(routes=[Route("/me", me), Route("/change", change, methods=["POST"])])
    auth.install(app)
    return app, auth


def asgi_client(app: Starlette, base_url: str = APP) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=base_url)


@pytest.fixture
async def web(server: LocalServer) -> AsyncIterator[tuple[httpx.AsyncClient, CivitaiAuth]]:
    app, auth = make_app(server)
    async with asgi_client(app) as client:
        yield client, auth


async def sign_in(client: httpx.AsyncClient, next_path: str = "/me") -> httpx.Response:
    """Login route → the local server (auto-consent) → the callback; returns the callback."""
    start = await client.get("/auth/login", params={"next": next_path})
    async with httpx.AsyncClient() as oauth_server:
        consent = await oauth_server.get(start.headers["location"])
    return await client.get(consent.headers["location"])


async def test_login_sets_a_short_lived_sealed_cookie_and_sends_to_authorize(
    web: tuple[httpx.AsyncClient, CivitaiAuth], server: LocalServer
) -> None:
    client, _ = web
    start = await client.get("/auth/login", params={"next": "/me"})
    assert start.status_code == 303
    assert start.headers["cache-control"] == "no-store"
    location = urlsplit(start.headers["location"])
    query = parse_qs(location.query)
    assert f"{location.scheme}://{location.netloc}" == server.url
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["state"][0]) >= 43
    assert query["scope"] == ["32769"]
    (cookie,) = start.headers.get_list("set-cookie")
    assert cookie.startswith("civitai_login=")
    assert "; Max-Age=600; Path=/; HttpOnly; SameSite=lax" in cookie
    assert query["state"][0] not in cookie


async def test_callback_starts_a_session_and_returns_to_next(
    web: tuple[httpx.AsyncClient, CivitaiAuth],
) -> None:
    client, _ = web
    done = await sign_in(client)
    assert done.status_code == 303
    assert done.headers["location"] == "/me"
    assert done.headers["referrer-policy"] == "no-referrer"
    cookies = done.headers.get_list("set-cookie")
    assert cookies[0].startswith("civitai_login=; Max-Age=0")
    assert cookies[1].startswith("civitai_session=")
    assert "; Max-Age=2592000; Path=/; HttpOnly; SameSite=lax" in cookies[1]
    assert (await client.get("/me")).text == "local-user"


async def test_a_replayed_callback_fails_even_with_its_cookie(
    web: tuple[httpx.AsyncClient, CivitaiAuth],
) -> None:
    client, _ = web
    start = await client.get("/auth/login")
    login_cookie = start.headers["set-cookie"].partition(";")[0]
    async with httpx.AsyncClient() as oauth_server:
        callback = (await oauth_server.get(start.headers["location"])).headers["location"]
    first = await client.get(callback)
    assert first.status_code == 303
    replay = await client.get(callback, headers={"cookie": login_cookie})
    assert replay.status_code == 400
    assert "already completed" in replay.text


async def test_signed_out_get_goes_to_sign_in_and_post_gets_401(
    web: tuple[httpx.AsyncClient, CivitaiAuth],
) -> None:
    client, _ = web
    page = await client.get("/me?x=1")
    assert page.status_code == 303
    assert page.headers["location"] == "/auth/login?next=%2Fme%3Fx%3D1"
    assert (await client.post("/change")).status_code == 401


async def test_cross_site_posts_are_refused(web: tuple[httpx.AsyncClient, CivitaiAuth]) -> None:
    client, _ = web
    await sign_in(client)
    assert (
        await client.post("/change", headers={"origin": "https://evil.example"})
    ).status_code == 403
    assert (
        await client.post("/change", headers={"sec-fetch-site": "cross-site"})
    ).status_code == 403
    assert (await client.post("/change", headers={"origin": "null"})).status_code == 403
    assert (await client.post("/change", headers={"origin": APP})).text == "changed"
    assert (
        await client.post("/auth/logout", headers={"origin": "https://evil.example"})
    ).status_code == 403
    assert (await client.get("/me")).text == "local-user"


async def test_logout_revokes_and_clears(
    web: tuple[httpx.AsyncClient, CivitaiAuth], server: LocalServer
) -> None:
    client, _ = web
    await sign_in(client)
    assert len(server.state.tokens.refresh) >= 1
    before = set(server.state.tokens.refresh)
    out = await client.post("/auth/logout", headers={"origin": APP})
    assert out.status_code == 303
    assert out.headers["location"] == "/"
    assert out.headers["set-cookie"].startswith("civitai_session=; Max-Age=0")
    assert len(before - set(server.state.tokens.refresh)) == 1
    assert (await client.get("/me")).status_code == 303


async def test_error_pages_can_be_styled_by_the_app(server: LocalServer) -> None:
    async def page(request: Request, error: WebAuthError) -> Response:
        return PlainTextResponse(f"styled: {error.title}", error.status)

    app, _ = make_app(server, error_page=page)
    async with asgi_client(app) as client:
        answer = await client.get("/auth/callback?state=x&code=y")
    assert answer.status_code == 400
    assert answer.text == "styled: Sign-in could not be verified"


async def test_https_apps_get_host_prefixed_secure_cookies(server: LocalServer) -> None:
    auth = CivitaiAuth(
        client_id="web-app",
        redirect_uri="https://app.example/auth/callback",
        scopes=1,
        cookie_secrets=SECRET,
        oauth_url=server.url,
    )
    app = Starlette()
    auth.install(app)
    async with asgi_client(app, "https://app.example") as client:
        cookie = (await client.get("/auth/login")).headers["set-cookie"]
    assert cookie.startswith("__Host-civitai_login=")
    assert "; Path=/; Secure; HttpOnly; SameSite=lax" in cookie


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("redirect_uri", "http://app.example/auth/callback"),
        ("redirect_uri", "https://app.example/cb#frag"),
        ("redirect_uri", "ftp://app.example/cb"),
        ("cookie_secrets", "short"),
        ("cookie_secrets", []),
        ("cookie_secrets", [SECRET, SECRET]),
        ("login_path", "//evil.example"),
        ("refresh_margin", 3600.0),
        ("refresh_margin", -1.0),
        # a route path never holds a query or fragment: the sign-in link was a 404
        ("login_path", "/auth/login?via=menu"),
        ("logout_path", "/auth/logout#now"),
        # the browser returns to "/" after a sign-in, to after_logout after a sign-out: a
        # sign-in route there looped, or signed the user in again at once
        ("login_path", "/"),
        ("redirect_uri", "https://app.example/"),
        ("after_logout", "/auth/login"),
        ("after_logout", "/auth/login/"),
        # each of these raised a bare TypeError, AttributeError or ValueError
        ("cookie_secrets", 5),
        ("cookie_secrets", None),
        ("redirect_uri", 5),
        ("redirect_uri", "https://[::1/cb"),
        ("cookie_name", 5),
        ("login_cookie_name", None),
    ],
)
async def test_misconfiguration_fails_at_start_up(option: str, value: object) -> None:
    options: dict[str, object] = {
        "client_id": "a",
        "redirect_uri": "https://app.example/cb",
        "scopes": 1,
        "cookie_secrets": SECRET,
        option: value,
    }
    with pytest.raises(ConfigurationError):
        CivitaiAuth(**options)  # type: ignore[arg-type]


async def test_using_the_session_without_install_is_a_clear_error(server: LocalServer) -> None:
    auth = CivitaiAuth(client_id="a", redirect_uri=f"{APP}/cb", scopes=1, cookie_secrets=SECRET)

    async def home(request: Request) -> Response:
        await auth.session(request)
        return PlainTextResponse("no")

    app = Starlette(routes=[Route("/", home)])
    async with asgi_client(app) as client:
        with pytest.raises(ConfigurationError, match="install"):
            await client.get("/")


class Clock:
    """A clock the test moves forward (the app's view of time only)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


async def test_a_refreshed_token_reaches_the_browser(server: LocalServer) -> None:
    clock = Clock()
    app, _ = make_app(server, clock=clock)
    async with asgi_client(app) as client:
        await sign_in(client)
        old = dict(client.cookies)
        clock.offset = 3550.0  # inside the refresh margin
        answer = await client.get("/me")
        assert answer.text == "local-user"
        (written,) = answer.headers.get_list("set-cookie")
        assert written.startswith("civitai_session=")
        assert dict(client.cookies) != old
        assert (await client.get("/me")).text == "local-user"
        # The browser's old cookie is still honoured for a moment (shared refresh).
        client.cookies.clear()
        client.cookies.update(old)
        assert (await client.get("/me")).text == "local-user"


async def test_a_refused_refresh_shows_the_expired_page(server: LocalServer) -> None:
    clock = Clock()
    app, _ = make_app(server, clock=clock)
    async with asgi_client(app) as client:
        await sign_in(client)
        server.state.tokens.refresh.clear()  # the server forgot (or revoked) the session
        clock.offset = 4000.0
        answer = await client.post("/change")
        assert answer.status_code == 401
        assert "Your session has expired" in answer.text
        assert answer.headers["set-cookie"].startswith("civitai_session=; Max-Age=0")
