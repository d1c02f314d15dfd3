"""Sessions without a server: refresh write-back, shared refreshes, tampering, the store."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import respx

from civitai_app_sdk._transport import DEFAULT_MAX_RETRIES, is_loopback
from civitai_app_sdk.errors import ConfigurationError
from civitai_app_sdk.oauth import AsyncOAuthClient, OAuthError, TokenSet
from civitai_app_sdk.web import (
    CookieTooLargeError,
    MemorySessionStore,
    NotSignedInError,
    SessionExpiredError,
    SignInUnavailableError,
    WebAuthCore,
)

AUTH = "https://auth.example"
NOW = 1_000_000.0
SECRET = "s" * 40
pytestmark = pytest.mark.anyio


def app_core(**options: Any) -> WebAuthCore:
    """A core with the test app's settings at ``NOW``; ``options`` add to or replace them
    (``oauth_url=AUTH, site_url=AUTH`` for one that makes its own OAuth clients)."""
    settings: dict[str, Any] = {
        "client_id": "app",
        "redirect_uri": "https://app.example/auth/callback",
        "scopes": 114689,
        "cookie_secrets": [SECRET],
        "clock": lambda: NOW,
    }
    return WebAuthCore(**{**settings, **options})


def core(
    store: MemorySessionStore | None = None,
    secrets: list[str] | None = None,
    max_retries: int = DEFAULT_MAX_RETRIES,
) -> WebAuthCore:
    return app_core(
        cookie_secrets=secrets or [SECRET],
        store=store,
        oauth_client=AsyncOAuthClient("app", base_url=AUTH, site_url=AUTH, max_retries=max_retries),
    )


def tokens(access: str, refresh: str | None, expires_at: float) -> TokenSet:
    return TokenSet(access_token=access, refresh_token=refresh, expires_at=expires_at)


async def cookie_for(owner: WebAuthCore, value: TokenSet) -> str:
    session = owner.new_session(None)
    await session.save(value)
    return "; ".join(h.partition(";")[0] for h in session.set_cookie_headers())


def opened(owner: WebAuthCore, set_cookies: list[str]) -> dict[str, object]:
    header = "; ".join(h.partition(";")[0] for h in set_cookies)
    plain = owner.sealer.unseal(owner.session_cookie.read(header))
    assert plain is not None
    data: dict[str, object] = json.loads(plain)
    return data


def token_answer(access: str, refresh: str) -> httpx.Response:
    body = {"access_token": access, "refresh_token": refresh, "expires_in": 3600, "scope": "1"}
    return httpx.Response(200, json=body)


async def test_a_fresh_token_is_used_as_is_and_nothing_is_written() -> None:
    owner = core()
    session = owner.new_session(await cookie_for(owner, tokens("a1", "r1", NOW + 600)))
    assert await session.access_token() == "a1"
    assert not session.changed
    assert session.set_cookie_headers() == []


@respx.mock
async def test_an_expiring_token_is_refreshed_and_written_back() -> None:
    route = respx.post(f"{AUTH}/api/auth/oauth/token").mock(return_value=token_answer("a2", "r2"))
    owner = core()
    session = owner.new_session(await cookie_for(owner, tokens("a1", "r1", NOW + 30)))
    assert await session.access_token() == "a2"
    assert route.call_count == 1
    assert b"refresh_token=r1" in route.calls[0].request.content
    headers = session.set_cookie_headers()
    assert headers[0].startswith("__Host-civitai_session=")
    assert "; Secure; HttpOnly; SameSite=lax" in headers[0]
    stored = opened(owner, headers)
    assert stored["access_token"] == "a2"
    assert stored["refresh_token"] == "r2"
    assert await session.token_source().aget_token() == "a2"
    assert session.token_source().get_token() == "a2"


@respx.mock
async def test_requests_sharing_a_cookie_share_one_refresh() -> None:
    route = respx.post(f"{AUTH}/api/auth/oauth/token").mock(return_value=token_answer("a2", "r2"))
    owner = core()
    cookie = await cookie_for(owner, tokens("a1", "r1", NOW - 5))
    sessions = [owner.new_session(cookie) for _ in range(5)]
    got = await asyncio.gather(*(s.access_token() for s in sessions))
    late = owner.new_session(cookie)  # a request that still carries the old cookie
    assert got == ["a2"] * 5
    assert await late.access_token() == "a2"
    assert route.call_count == 1
    for session in [*sessions, late]:
        assert opened(owner, session.set_cookie_headers())["refresh_token"] == "r2"


@respx.mock
async def test_a_refused_refresh_expires_the_session_and_deletes_the_cookie() -> None:
    refused = httpx.Response(400, json={"error": "invalid_grant"})
    respx.post(f"{AUTH}/api/auth/oauth/token").mock(return_value=refused)
    owner = core()
    session = owner.new_session(await cookie_for(owner, tokens("a1", "r1", NOW - 5)))
    with pytest.raises(SessionExpiredError):
        await session.access_token()
    assert not session.signed_in
    assert session.set_cookie_headers() == [
        "__Host-civitai_session=; Max-Age=0; Path=/; Secure; HttpOnly; SameSite=lax"
    ]


@respx.mock
async def test_a_refresh_that_never_left_is_retried_not_remembered() -> None:
    route = respx.post(f"{AUTH}/api/auth/oauth/token")
    route.side_effect = [httpx.ConnectError("down"), token_answer("a2", "r2")]
    owner = core()
    cookie = await cookie_for(owner, tokens("a1", "r1", NOW - 5))
    # A connection refused never reached the server, so the core sends the grant again.
    assert await owner.new_session(cookie).access_token() == "a2"
    assert route.call_count == 2


async def test_no_refresh_token_means_expired() -> None:
    owner = core()
    session = owner.new_session(await cookie_for(owner, tokens("a1", None, NOW - 5)))
    with pytest.raises(SessionExpiredError):
        await session.access_token()


@pytest.mark.parametrize("mangle", [lambda v: v[:-2] + "00", lambda v: v.upper(), lambda v: "x"])
async def test_a_tampered_cookie_signs_out_and_is_deleted(mangle: object) -> None:
    owner = core()
    name, _, value = (await cookie_for(owner, tokens("a1", "r1", NOW + 600))).partition("=")
    assert callable(mangle)
    session = await owner.new_session(f"{name}={mangle(value)}").load()
    assert not session.signed_in
    assert session.set_cookie_headers()[0].startswith(f"{name}=; Max-Age=0")
    with pytest.raises(NotSignedInError):
        await session.access_token()


async def test_rotated_secrets_still_open_old_sessions_and_reseal_with_the_new() -> None:
    old = core()
    cookie = await cookie_for(old, tokens("a1", "r1", NOW + 600))
    rotated = core(secrets=["n" * 40, SECRET])
    assert await rotated.new_session(cookie).access_token() == "a1"
    assert await core(secrets=["n" * 40]).new_session(cookie).load() is not None
    assert not (await core(secrets=["n" * 40]).new_session(cookie).load()).signed_in


async def test_a_server_side_store_keeps_tokens_out_of_the_cookie() -> None:
    store = MemorySessionStore(clock=lambda: NOW)
    owner = core(store)
    session = owner.new_session(None)
    await session.save(tokens("access-secret", "refresh-secret", NOW + 600), new_session=True)
    cookie = "; ".join(h.partition(";")[0] for h in session.set_cookie_headers())
    plain = owner.sealer.unseal(owner.session_cookie.read(cookie))
    assert plain is not None
    assert "secret" not in plain
    assert "sid" in plain
    again = owner.new_session(cookie)
    assert await again.access_token() == "access-secret"
    await again.clear()
    assert not (await owner.new_session(cookie).load()).signed_in


async def test_a_new_sign_in_gets_a_new_session_id() -> None:
    store = MemorySessionStore(clock=lambda: NOW)
    owner = core(store)
    first = owner.new_session(None)
    await first.save(tokens("a1", "r1", NOW + 600), new_session=True)
    cookie = "; ".join(h.partition(";")[0] for h in first.set_cookie_headers())
    second = owner.new_session(cookie)
    await second.load()
    await second.save(tokens("a2", "r2", NOW + 600), new_session=True)
    assert not (await owner.new_session(cookie).load()).signed_in  # the old id is gone


def test_store_evicts_oldest_beyond_its_cap() -> None:
    store = MemorySessionStore(max_entries=2, clock=lambda: NOW)

    async def run() -> list[str | None]:
        for key in ("a", "b", "c"):
            await store.write(key, key, max_age=60)
        return [await store.read(k) for k in ("a", "b", "c")]

    assert asyncio.run(run()) == [None, "b", "c"]


async def test_a_session_split_over_several_cookies_opens_again() -> None:
    owner = core()
    big = tokens("a" * 2500, "r" * 200, NOW + 3600)  # sealed: > 4 KB, so three cookies
    cookie = await cookie_for(owner, big)
    assert "civitai_session.2=" in cookie
    session = await owner.new_session(cookie).load()
    assert session.signed_in
    assert session.tokens == big
    assert session.set_cookie_headers() == []  # not deleted as tampered
    oversize = cookie.replace("civitai_session.1=", "civitai_session.1=" + "0" * 40_000)
    assert not (await owner.new_session(oversize).load()).signed_in


@pytest.mark.parametrize(
    ("redirect_uri", "origin"),
    [
        ("https://App.Example:443/auth/callback", "https://app.example"),
        ("http://localhost:80/cb", "http://localhost"),
        ("http://[::1]:8000/cb", "http://[::1]:8000"),
    ],
)
def test_the_app_origin_is_written_as_browsers_send_origin(redirect_uri: str, origin: str) -> None:
    owner = WebAuthCore(
        client_id="app", redirect_uri=redirect_uri, scopes=1, cookie_secrets=[SECRET]
    )
    assert owner.origin == origin  # else every same-origin POST is refused as cross-site


@pytest.mark.parametrize(
    "redirect_uri",
    ["http://app.localhost/cb", "http://localhost./cb", "http://[::ffff:127.0.0.1]/cb"],
)
def test_a_plain_http_redirect_uri_must_be_loopback_as_the_core_reads_it(
    redirect_uri: str,
) -> None:
    assert not is_loopback(urlsplit(redirect_uri).hostname or "")
    with pytest.raises(ConfigurationError, match="https"):
        WebAuthCore(client_id="app", redirect_uri=redirect_uri, scopes=1, cookie_secrets=[SECRET])
    owner = WebAuthCore(
        client_id="app", redirect_uri="http://127.0.0.2:9/cb", scopes=1, cookie_secrets=[SECRET]
    )
    assert owner.origin == "http://127.0.0.2:9"  # 127.0.0.0/8 is loopback, as for tokens


@pytest.mark.parametrize(
    ("scopes", "match"),
    [
        (["UserRead", "BuzRead"], "unknown token scope name 'BuzRead'"),
        (2**30, "outside"),
        ("UserRead", "list of scope names"),
        (True, "int bitmask"),
        (1.5, "int bitmask"),
    ],
)
def test_bad_scopes_fail_at_start_up_not_at_the_first_sign_in(scopes: object, match: str) -> None:
    # before: accepted, then every sign-in failed with a bare ValueError/TypeError (a 500)
    with pytest.raises(ConfigurationError, match=match):
        WebAuthCore(
            client_id="app",
            redirect_uri="https://app.example/cb",
            scopes=scopes,  # type: ignore[arg-type]
            cookie_secrets=[SECRET],
        )


def test_scopes_given_as_a_generator_are_asked_for_at_every_sign_in() -> None:
    # before: the first sign-in used the generator up and later ones asked for scope 0
    owner = WebAuthCore(
        client_id="app",
        redirect_uri="https://app.example/cb",
        scopes=(name for name in ("UserRead", "BuzzRead")),
        cookie_secrets=[SECRET],
    )
    asked = [
        parse_qs(urlsplit(owner.start_login(owner.new_session(None), "/")).query)["scope"]
        for _ in range(2)
    ]
    assert asked == [["65537"], ["65537"]]


@pytest.mark.parametrize(
    ("option", "match"),
    [
        ({"session_max_age": 0}, "session_max_age must be a positive"),
        ({"session_max_age": -1}, "session_max_age must be a positive"),
        ({"login_ttl": -5}, "login_ttl must be a positive"),
        ({"session_max_age": "3600"}, "max_age must be an int"),
        ({"login_ttl": 1.5}, "max_age must be an int"),
        ({"cookie_name": "s" * 3000}, "no room for a value"),
        ({"refresh_margin": "60"}, "refresh_margin must be"),
        ({"user_cache_ttl": "300"}, "user_cache_ttl must be"),
        ({"user_cache_ttl": float("nan")}, "user_cache_ttl must be"),
    ],
)
def test_cookie_lifetimes_and_names_fail_at_start_up(option: dict[str, object], match: str) -> None:
    # before: accepted; then the browser dropped every session (Max-Age=-1), every
    # sign-in "took too long", a str or float lifetime failed each response with a bare
    # ValueError, and a long name wrote the marker "chunks.0" instead of the session; a
    # str refresh margin was a bare TypeError, a str cache lifetime failed every user page
    with pytest.raises(ConfigurationError, match=match):
        WebAuthCore(
            client_id="app",
            redirect_uri="https://app.example/cb",
            scopes=1,
            cookie_secrets=[SECRET],
            **option,  # type: ignore[arg-type]
        )


@respx.mock
async def test_a_refusal_after_another_process_rotated_the_stored_session_keeps_it() -> None:
    # Two app processes share one store; both see the session expire at once. Before,
    # the one whose refresh lost the race deleted the stored session the other had just
    # rotated: the user was signed out by a page loading two things at once.
    used: set[bytes] = set()

    def answer(request: httpx.Request) -> httpx.Response:
        if request.content in used:  # rotation: a refresh token works once
            return httpx.Response(400, json={"error": "invalid_grant"})
        used.add(request.content)
        return token_answer("a2", "r2")

    route = respx.post(f"{AUTH}/api/auth/oauth/token").mock(side_effect=answer)
    store = MemorySessionStore(clock=lambda: NOW)
    first, second = core(store), core(store)
    started = first.new_session(None)
    await started.save(tokens("a1", "r1", NOW - 5), new_session=True)
    cookie = "; ".join(h.partition(";")[0] for h in started.set_cookie_headers())
    late = second.new_session(cookie)
    await late.load()  # read r1 before the other process rotated it
    assert await first.new_session(cookie).access_token() == "a2"
    assert await late.access_token() == "a2"
    assert route.call_count == 2
    assert late.signed_in
    again = first.new_session(cookie)
    await again.load()
    assert again.tokens is not None
    assert again.tokens.refresh_token == "r2"


@respx.mock
async def test_a_refusal_of_the_token_still_stored_ends_the_stored_session() -> None:
    refused = httpx.Response(400, json={"error": "invalid_grant"})
    respx.post(f"{AUTH}/api/auth/oauth/token").mock(return_value=refused)
    store = MemorySessionStore(clock=lambda: NOW)
    owner = core(store)
    started = owner.new_session(None)
    await started.save(tokens("a1", "r1", NOW - 5), new_session=True)
    cookie = "; ".join(h.partition(";")[0] for h in started.set_cookie_headers())
    with pytest.raises(SessionExpiredError):
        await owner.new_session(cookie).access_token()
    after = owner.new_session(cookie)
    await after.load()
    assert not after.signed_in


@respx.mock
async def test_a_token_civitai_no_longer_accepts_ends_the_session() -> None:
    # the user revoked the app on Civitai: before, every page asking for the user failed
    # with OAuthError (a 500) until the access token's hour was up
    revoked = httpx.Response(401, json={"error": "invalid_token"})
    respx.get(f"{AUTH}/api/v1/me").mock(return_value=revoked)
    owner = core()
    session = owner.new_session(await cookie_for(owner, tokens("a1", "r1", NOW + 600)))
    with pytest.raises(SessionExpiredError):
        await session.user()
    assert not session.signed_in
    assert session.set_cookie_headers() == [
        "__Host-civitai_session=; Max-Age=0; Path=/; Secure; HttpOnly; SameSite=lax"
    ]


@respx.mock
async def test_a_failing_user_lookup_that_is_no_refusal_keeps_the_session() -> None:
    respx.get(f"{AUTH}/api/v1/me").respond(403, json={"error": "insufficient_scope"})
    owner = core()
    session = owner.new_session(await cookie_for(owner, tokens("a1", "r1", NOW + 600)))
    with pytest.raises(OAuthError) as info:
        await session.user()
    assert info.value.status == 403
    assert session.signed_in
    assert not session.changed


PASSING_FAILURES = [
    pytest.param(httpx.Response(503, text="<html>down</html>"), id="503-html"),
    pytest.param(httpx.Response(500, json={"error": "server_error"}), id="500"),
    pytest.param(httpx.Response(429, json={"error": "rate_limited"}), id="429"),
    pytest.param(httpx.ReadTimeout("slow"), id="no-answer"),
    pytest.param(httpx.ConnectError("refused"), id="never-sent"),
]


def _always(failure: object) -> Callable[[httpx.Request], httpx.Response]:
    def answer(request: httpx.Request) -> httpx.Response:
        if isinstance(failure, Exception):
            raise failure
        assert isinstance(failure, httpx.Response)
        return httpx.Response(failure.status_code, content=failure.content)

    return answer


@respx.mock
@pytest.mark.parametrize("failure", [p for p in PASSING_FAILURES if p.id in ("429", "never-sent")])
async def test_a_refresh_that_left_its_token_unused_keeps_the_session(failure: object) -> None:
    # before: OAuthError or TransportError, which the app answered with a bare 500
    route = respx.post(f"{AUTH}/api/auth/oauth/token").mock(side_effect=_always(failure))
    owner = core(max_retries=0)
    cookie = await cookie_for(owner, tokens("a1", "r1", NOW - 5))
    session = owner.new_session(cookie)
    with pytest.raises(SignInUnavailableError) as info:
        await session.access_token()
    assert info.value.status == 503
    assert session.signed_in
    assert not session.changed  # the cookie is neither deleted nor rewritten
    route.mock(side_effect=None, return_value=token_answer("a2", "r2"))
    assert await owner.new_session(cookie).access_token() == "a2"  # the next request


@respx.mock
@pytest.mark.parametrize(
    "failure", [p for p in PASSING_FAILURES if p.id in ("500", "503-html", "no-answer")]
)
async def test_a_refresh_sent_without_a_usable_answer_ends_the_session_at_once(
    failure: object,
) -> None:
    # the refresh token is single use and may have been rotated: before, a 500 page, and
    # the next request found the token spent
    respx.post(f"{AUTH}/api/auth/oauth/token").mock(side_effect=_always(failure))
    owner = core(max_retries=0)
    session = owner.new_session(await cookie_for(owner, tokens("a1", "r1", NOW - 5)))
    with pytest.raises(SessionExpiredError, match="did not answer the renewal"):
        await session.access_token()
    assert not session.signed_in
    assert session.set_cookie_headers() == [
        "__Host-civitai_session=; Max-Age=0; Path=/; Secure; HttpOnly; SameSite=lax"
    ]


@respx.mock
@pytest.mark.parametrize("failure", PASSING_FAILURES)
async def test_a_user_lookup_without_a_usable_answer_keeps_the_session(failure: object) -> None:
    respx.get(f"{AUTH}/api/v1/me").mock(side_effect=_always(failure))
    owner = core(max_retries=0)
    session = owner.new_session(await cookie_for(owner, tokens("a1", "r1", NOW + 600)))
    with pytest.raises(SignInUnavailableError):
        await session.user()
    assert session.signed_in
    assert not session.changed


@respx.mock
async def test_a_refresh_refused_for_a_bad_client_is_not_called_passing() -> None:
    respx.post(f"{AUTH}/api/auth/oauth/token").respond(401, json={"error": "invalid_client"})
    owner = core()
    session = owner.new_session(await cookie_for(owner, tokens("a1", "r1", NOW - 5)))
    with pytest.raises(OAuthError) as info:
        await session.access_token()
    assert not isinstance(info.value, SignInUnavailableError)
    assert info.value.error == "invalid_client"


@pytest.mark.parametrize("size", [15_800, 40_000], ids=["past-chunks", "past-capacity"])
async def test_a_session_too_large_for_its_cookies_is_the_too_large_page(size: int) -> None:
    """Past what the cookies can hold, the sealer refuses before the chunks are counted:
    still the "Session too large" page, not another error."""
    owner = core()
    with pytest.raises(CookieTooLargeError, match="server-side store"):
        await owner.new_session(None).save(tokens("a" * size, "r", NOW + 600))
