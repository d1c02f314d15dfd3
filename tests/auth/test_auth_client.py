"""Every OAuth HTTP call, sync and async, against respx: URL, method, body, headers, errors."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from civitai_app_sdk import oauth
from civitai_app_sdk._transport import as_timeout
from civitai_app_sdk.errors import (
    CivitaiError,
    ConfigurationError,
    RequestTimeoutError,
    TransportError,
)
from civitai_app_sdk.oauth import (
    AsyncOAuthClient,
    BuzzAccount,
    BuzzBalances,
    CivitaiUser,
    DeviceAuthorization,
    OAuthClient,
    OAuthError,
    TokenSet,
    _core,
)
from civitai_app_sdk.oauth._core import Credentials, OnceGuard
from civitai_app_sdk.scopes import TokenScope, parse_scope

NODE = json.loads((Path(__file__).parent / "fixtures/node_oauth_requests.json").read_text())
BASE = "https://auth.civitai.com"
SITE = "https://civitai.com"
TOKEN_URL = f"{BASE}/api/auth/oauth/token"
NOW = 1_700_000_000.0
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
TOKENS = {
    "access_token": "civitai_access_0001",
    "token_type": "Bearer",
    "expires_in": 3600,
    "refresh_token": "civitai_refresh_0001",
    "scope": ["114689"],
}
MODES = ["sync", "async"]


def run(mode: str, method: str, *args: Any, secret: str | None = None, **kwargs: Any) -> Any:
    """Call ``method`` on a fresh sync or async client (public unless ``secret``)."""
    options: dict[str, Any] = {"base_url": BASE, "site_url": SITE, "clock": lambda: NOW}
    if mode == "sync":
        with OAuthClient("app_123", secret, **options) as client:
            return getattr(client, method)(*args, **kwargs)

    async def go() -> Any:
        async with AsyncOAuthClient("app_123", secret, **options) as client:
            return await getattr(client, method)(*args, **kwargs)

    return asyncio.run(go())


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as router:
        yield router


def _node_call(name: str) -> tuple[str, tuple[Any, ...], dict[str, Any], str | None]:
    case = next(c for c in NODE["requests"] if c["name"] == name)
    given = case["input"]
    secret = given.get("clientSecret")
    if name.startswith("exchange"):
        kwargs = {"redirect_uri": given["redirectUri"], "code_verifier": given["codeVerifier"]}
        return "exchange_code", (given["code"],), kwargs, secret
    if name.startswith("refresh"):
        return "refresh_token", (given["refreshToken"],), {}, secret
    return "revoke_token", (given["token"],), {}, secret


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", NODE["requests"], ids=lambda case: case["name"])
def test_request_is_byte_identical_to_node(
    mock: respx.MockRouter, mode: str, case: dict[str, Any]
) -> None:
    route = mock.post(case["url"]).respond(200, json=TOKENS)
    method, args, kwargs, secret = _node_call(case["name"])
    run(mode, method, *args, secret=secret, **kwargs)
    request = route.calls.last.request
    assert str(request.url) == case["url"]
    assert request.method == case["method"] == "POST"
    assert request.content.decode() == case["body"]
    assert request.headers["content-type"] == case["headers"]["content-type"]
    assert "authorization" not in request.headers
    assert request.headers["accept"] == "application/json"


@pytest.mark.parametrize("mode", MODES)
def test_exchange_code_shapes_tokens(mock: respx.MockRouter, mode: str) -> None:
    mock.post(TOKEN_URL).respond(200, json={**TOKENS, "id_token": "eyJ.x.y"})
    tokens = run(
        mode, "exchange_code", "code1", redirect_uri="https://a/cb", code_verifier=VERIFIER
    )
    assert tokens == TokenSet(
        access_token="civitai_access_0001",
        refresh_token="civitai_refresh_0001",
        expires_at=NOW + 3600,
        scope=TokenScope(114689),
        token_type="Bearer",
        id_token="eyJ.x.y",
    )
    text = repr(tokens)
    assert "civitai_access_0001" not in text
    assert "civitai_refresh_0001" not in text
    assert "eyJ" not in text


@pytest.mark.parametrize(
    ("extra", "expires_at", "scope", "token_type"),
    [
        ({"expires_in": None, "scope": None, "token_type": None}, NOW + 3600, 0, "Bearer"),
        ({"expires_in": 0, "scope": "114689"}, NOW, 114689, "Bearer"),
        (
            {"expires_in": "7200", "scope": 98305, "token_type": "bearer"},
            NOW + 7200,
            98305,
            "bearer",
        ),
        ({"expires_in": 60.5, "scope": "1 2 4"}, NOW + 60.5, 7, "Bearer"),
    ],
)
def test_token_response_variants(
    mock: respx.MockRouter, extra: dict[str, Any], expires_at: float, scope: int, token_type: str
) -> None:
    body = {key: value for key, value in {**TOKENS, **extra}.items() if value is not None}
    mock.post(TOKEN_URL).respond(200, json=body)
    tokens = run("sync", "refresh_token", "rt-variants-" + str(expires_at))
    assert (tokens.expires_at, tokens.scope, tokens.token_type) == (expires_at, scope, token_type)


def test_the_longest_lifetime_read_can_still_be_stored(mock: respx.MockRouter) -> None:
    century = 100 * 365 * 24 * 3600
    mock.post(TOKEN_URL).respond(200, json={**TOKENS, "expires_in": str(century)})
    tokens = run("sync", "refresh_token", "rt-a-century")
    assert tokens.expires_at == NOW + century
    assert TokenSet.from_json_dict(tokens.to_json_dict()).expires_at == NOW + century


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, text="not json"),
        httpx.Response(200),
        httpx.Response(200, json=["civitai_refresh_0001"]),
        httpx.Response(200, json={"refresh_token": "civitai_refresh_0001"}),
        httpx.Response(200, json={"access_token": ""}),
        httpx.Response(200, json={"access_token": 5}),
        httpx.Response(200, json={**TOKENS, "expires_in": -1}),
        httpx.Response(200, json={**TOKENS, "expires_in": "soon"}),
        # an endless lifetime: expires_at became inf, which no store could write back
        httpx.Response(200, json={**TOKENS, "expires_in": "9" * 400}),
        httpx.Response(200, json={**TOKENS, "expires_in": 1e308}),
        # a JSON integer past a float's range: float() raised a bare OverflowError
        httpx.Response(200, json={**TOKENS, "expires_in": 10**400}),
        # no bearer header can carry it: each later use failed as a ConfigurationError
        httpx.Response(200, json={**TOKENS, "access_token": "at\r\nX-Injected: 1"}),
        httpx.Response(200, json={**TOKENS, "access_token": "two words"}),
        httpx.Response(200, json={**TOKENS, "access_token": "jeton-\u00e9"}),
        httpx.Response(200, json={**TOKENS, "scope": "0x10"}),
        httpx.Response(200, json={**TOKENS, "refresh_token": 7}),
    ],
)
def test_bad_success_bodies_raise_invalid_response(
    mock: respx.MockRouter, mode: str, response: httpx.Response
) -> None:
    mock.post(TOKEN_URL).mock(return_value=response)
    with pytest.raises(OAuthError) as info:
        run(mode, "refresh_token", "rt-bad-body")
    error = info.value
    assert error.error == "invalid_response"
    assert error.body is None
    assert "civitai_refresh_0001" not in f"{error} {error!r} {error.args}"


@pytest.mark.parametrize("mode", MODES)
def test_oauth_error_response(mock: respx.MockRouter, mode: str) -> None:
    body = {"error": "invalid_grant", "error_description": "Refresh token is invalid"}
    mock.post(TOKEN_URL).respond(400, json=body)
    with pytest.raises(OAuthError) as info:
        run(mode, "refresh_token", "civitai_refresh_secret_1")
    error = info.value
    assert (error.error, error.error_description, error.status) == (
        "invalid_grant",
        "Refresh token is invalid",
        400,
    )
    assert error.body == body
    assert str(error) == "invalid_grant: Refresh token is invalid (HTTP 400)"
    assert "civitai_refresh_secret_1" not in f"{error} {error!r}"


@pytest.mark.parametrize(
    ("response", "code", "body"),
    [
        (httpx.Response(500, text="x" * 5000), "http_500", "x" * 1000),
        (httpx.Response(502), "http_502", None),
        (
            httpx.Response(429, json={"error": "rate_limited"}),
            "rate_limited",
            {"error": "rate_limited"},
        ),
        (httpx.Response(401, json={"error": 5}), "http_401", {"error": 5}),
        (httpx.Response(403, json=["x"]), "http_403", ["x"]),
    ],
)
def test_non_oauth_error_bodies(
    mock: respx.MockRouter, response: httpx.Response, code: str, body: object
) -> None:
    mock.post(TOKEN_URL).mock(return_value=response)
    with pytest.raises(OAuthError) as info:
        run("sync", "exchange_code", "code-" + code, redirect_uri="r", code_verifier=VERIFIER)
    assert (info.value.error, info.value.status, info.value.body) == (
        code,
        response.status_code,
        body,
    )


@pytest.mark.parametrize("mode", MODES)
def test_code_is_sent_once_even_after_failure(mock: respx.MockRouter, mode: str) -> None:
    route = mock.post(TOKEN_URL).respond(400, json={"error": "invalid_grant"})

    async def twice_async() -> list[OAuthError]:
        errors = []
        async with AsyncOAuthClient("app_123", base_url=BASE) as client:
            for _ in range(2):
                try:
                    await client.exchange_code("the-code", redirect_uri="r", code_verifier=VERIFIER)
                except OAuthError as error:
                    errors.append(error)
        return errors

    if mode == "sync":
        errors = []
        with OAuthClient("app_123", base_url=BASE) as client:
            for _ in range(2):
                with pytest.raises(OAuthError) as info:
                    client.exchange_code("the-code", redirect_uri="r", code_verifier=VERIFIER)
                errors.append(info.value)
    else:
        errors = asyncio.run(twice_async())
    assert route.call_count == 1
    assert [e.status for e in errors] == [400, None]
    assert errors[1].error == "invalid_grant"
    assert "the-code" not in str(errors[1])


def test_refresh_token_is_sent_once_but_429_gives_it_back(mock: respx.MockRouter) -> None:
    route = mock.post(TOKEN_URL).mock(
        side_effect=[
            httpx.Response(429, json={"error": "rate_limited"}),
            httpx.Response(200, json=TOKENS),
        ]
    )
    with OAuthClient("app_123", base_url=BASE) as client:
        with pytest.raises(OAuthError, match="rate_limited"):
            client.refresh_token("rt-429")
        assert client.refresh_token("rt-429").access_token == "civitai_access_0001"
        with pytest.raises(OAuthError, match="already sent"):
            client.refresh_token("rt-429")
    assert route.call_count == 2


def test_transport_errors_are_typed_and_burn_the_token(mock: respx.MockRouter) -> None:
    route = mock.post(TOKEN_URL).mock(side_effect=httpx.ReadTimeout("timed out"))
    with OAuthClient("app_123", base_url=BASE) as client:
        with pytest.raises(RequestTimeoutError) as info:
            client.refresh_token("rt-timeout-secret")
        assert isinstance(info.value.__cause__, httpx.ReadTimeout)
        assert "rt-timeout-secret" not in str(info.value)
        with pytest.raises(OAuthError, match="already sent"):
            client.refresh_token("rt-timeout-secret")
    assert route.call_count == 1


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "response", [httpx.Response(200, json={}), httpx.Response(200), httpx.Response(204)]
)
def test_revoke_accepts_any_2xx(
    mock: respx.MockRouter, mode: str, response: httpx.Response
) -> None:
    route = mock.post(f"{BASE}/api/auth/oauth/revoke").mock(return_value=response)
    assert run(mode, "revoke_token", "tok", token_type_hint="refresh_token", secret="s") is None
    assert route.calls.last.request.content == (
        b"token=tok&client_id=app_123&client_secret=s&token_type_hint=refresh_token"
    )


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, html="<html><body>Sign in to the Wi-Fi</body></html>"),
        httpx.Response(200, text="<!DOCTYPE html><p>portal</p>"),
    ],
)
def test_revoke_answered_by_a_web_page_did_not_revoke(
    mock: respx.MockRouter, mode: str, response: httpx.Response
) -> None:
    # A captive portal's page: 0.14 took it as success, so a logout said the token was
    # revoked while it still worked.
    mock.post(f"{BASE}/api/auth/oauth/revoke").mock(return_value=response)
    with pytest.raises(OAuthError, match="may not be revoked") as caught:
        run(mode, "revoke_token", "tok-secret-1", secret="s")
    assert caught.value.error == "invalid_response"
    assert "tok-secret-1" not in str(caught.value)


def test_revoke_error(mock: respx.MockRouter) -> None:
    mock.post(f"{BASE}/api/auth/oauth/revoke").respond(400, json={"error": "invalid_request"})
    with pytest.raises(OAuthError, match="invalid_request"):
        run("async", "revoke_token", "tok")


ME = {
    "id": 42,
    "username": "alice",
    "tier": "free",
    "status": "active",
    "isMember": False,
    "subscriptions": [],
    "email": "a@example.com",
    "emailVerified": True,
    "tokenScope": 114689,
    "subject": {"type": "oauth", "id": "app_123"},
    "buzzLimit": None,
    "newField": 1,
}


@pytest.mark.parametrize("mode", MODES)
def test_fetch_me(mock: respx.MockRouter, mode: str) -> None:
    route = mock.get(f"{SITE}/api/v1/me").respond(200, json=ME)
    user = run(mode, "fetch_me", "civitai_access_0001")
    assert isinstance(user, CivitaiUser)
    assert (user.id, user.username, user.email_verified) == (42, "alice", True)
    assert user.scope == TokenScope(114689)
    assert user.subject is not None
    assert user.subject.type == "oauth"
    assert user.model_extra == {"newField": 1}
    request = route.calls.last.request
    assert request.method == "GET"
    assert request.headers["authorization"] == "Bearer civitai_access_0001"
    assert request.content == b""


@pytest.mark.parametrize(
    ("response", "code", "body"),
    [
        (
            httpx.Response(401, json={"error": "Unauthorized"}),
            "Unauthorized",
            {"error": "Unauthorized"},
        ),
        (httpx.Response(401, text="nope"), "http_401", "nope"),
    ],
)
def test_fetch_me_errors_parse_json(
    mock: respx.MockRouter, response: httpx.Response, code: str, body: object
) -> None:
    mock.get(f"{SITE}/api/v1/me").mock(return_value=response)
    with pytest.raises(OAuthError) as info:
        run("sync", "fetch_me", "tok")
    assert (info.value.error, info.value.status, info.value.body) == (code, 401, body)


@pytest.mark.parametrize(
    "body",
    [{"id": "not-an-int"}, {"username": "no id"}, "text", {"id": 1, "tokenScope": -1}],
    ids=["id-text", "no-id", "text", "negative-scope"],
)
def test_fetch_me_bad_body(mock: respx.MockRouter, body: object) -> None:
    mock.get(f"{SITE}/api/v1/me").respond(200, json=body)
    with pytest.raises(OAuthError, match="invalid_response"):
        run("sync", "fetch_me", "tok")


def test_a_negative_token_scope_never_reads_as_every_scope() -> None:
    """TokenScope(-1) is every bit (two's complement): a /me body claiming -1 must not
    make ``user.scope`` hold Full and the App Block bits."""
    with pytest.raises(ValueError, match="tokenScope"):
        CivitaiUser.model_validate({"id": 1, "tokenScope": -1})


POOLS = {"blue": 10, "green": 0, "yellow": 250}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "body",
    [{"result": {"data": {"json": POOLS}}}, {"result": {"data": POOLS}}, POOLS],
    ids=["superjson", "plain-trpc", "bare"],
)
def test_fetch_buzz_balances(mock: respx.MockRouter, mode: str, body: object) -> None:
    route = mock.get(f"{SITE}/api/trpc/buzz.getBuzzAccount").respond(200, json=body)
    account = run(mode, "fetch_buzz_balances", "tok")
    assert account == BuzzBalances(blue=10, green=0, yellow=250)
    assert route.calls.last.request.headers["authorization"] == "Bearer tok"


@pytest.mark.parametrize(
    "body",
    [{"result": {"data": {"json": None}}}, {"result": {"data": {"json": {"blue": "x"}}}}, []],
)
def test_fetch_buzz_balances_bad_body(mock: respx.MockRouter, body: object) -> None:
    mock.get(f"{SITE}/api/trpc/buzz.getBuzzAccount").respond(200, json=body)
    with pytest.raises(OAuthError, match="invalid_response"):
        run("sync", "fetch_buzz_balances", "tok")


def test_fetch_buzz_balances_forbidden(mock: respx.MockRouter) -> None:
    mock.get(f"{SITE}/api/trpc/buzz.getBuzzAccount").respond(403, json={"error": {"code": -32603}})
    with pytest.raises(OAuthError) as info:
        run("sync", "fetch_buzz_balances", "tok")
    assert info.value.error == "http_403"


ACCOUNTS = [
    {"id": 7, "balance": 120, "lifetimeBalance": 900, "accountType": "yellow"},
    {"id": 7, "balance": 5, "lifetimeBalance": None, "accountType": "purple"},
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"result": {"data": {"json": ACCOUNTS}}}, ACCOUNTS),  # superjson envelope
        ({"result": {"data": ACCOUNTS}}, ACCOUNTS),  # result.data is the array
        ({"result": {"data": {"json": None}}}, []),  # json ?? []
        ({"result": {"data": {}}}, []),
        ({}, []),  # no envelope
    ],
    ids=["superjson", "array", "null-json", "no-json", "no-envelope"],
)
def test_fetch_buzz_account_is_014s_get_user_account(
    mock: respx.MockRouter, mode: str, body: object, expected: list[dict[str, Any]]
) -> None:
    """0.14 section 3.4: GET <site>/api/trpc/buzz.getUserAccount, one Bearer header."""
    route = mock.get(f"{SITE}/api/trpc/buzz.getUserAccount").respond(200, json=body)
    accounts = run(mode, "fetch_buzz_account", "tok")
    assert all(isinstance(a, BuzzAccount) for a in accounts)
    assert [a.model_dump(by_alias=True) for a in accounts] == expected
    assert route.calls.last.request.headers["authorization"] == "Bearer tok"


def test_fetch_buzz_account_reads_fields_and_refuses_garbage(mock: respx.MockRouter) -> None:
    mock.get(f"{SITE}/api/trpc/buzz.getUserAccount").respond(
        200, json={"result": {"data": {"json": ACCOUNTS}}}
    )
    first = run("sync", "fetch_buzz_account", "tok")[0]
    assert (first.id, first.balance, first.lifetime_balance, first.account_type) == (
        7,
        120,
        900,
        "yellow",
    )
    mock.get(f"{SITE}/api/trpc/buzz.getUserAccount").respond(
        200, json={"result": {"data": {"json": {"blue": 1}}}}
    )
    with pytest.raises(OAuthError, match="invalid_response"):
        run("sync", "fetch_buzz_account", "tok")
    mock.get(f"{SITE}/api/trpc/buzz.getUserAccount").respond(403, json={"error": {}})
    with pytest.raises(OAuthError) as info:
        run("sync", "fetch_buzz_account", "tok")
    assert info.value.error == "http_403"


@pytest.mark.parametrize("token", ["", "a\r\nX-Evil: 1", "a\nb", "a\0"])
def test_bearer_token_validation(token: str) -> None:
    with pytest.raises(CivitaiError, match=r"access.token"):
        run("sync", "fetch_me", token)


def test_requests_carry_finite_timeouts(mock: respx.MockRouter) -> None:
    route = mock.get(f"{SITE}/api/v1/me").respond(200, json=ME)
    run("sync", "fetch_me", "tok")
    timeouts = route.calls.last.request.extensions["timeout"]
    assert timeouts == {"connect": 5.0, "read": 10.0, "write": 10.0, "pool": 10.0}
    with OAuthClient("c", timeout=2.5, http_client=httpx.Client()) as client:
        client.fetch_me("tok")
    assert set(route.calls.last.request.extensions["timeout"].values()) == {2.5}


@pytest.mark.parametrize(
    "timeout", [httpx.Timeout(None), httpx.Timeout(5.0, read=None), float("inf"), 0, -1.0]
)
def test_infinite_or_empty_timeouts_rejected(timeout: httpx.Timeout | float) -> None:
    with pytest.raises(ValueError, match="finite"):
        as_timeout(timeout)
    with pytest.raises(ValueError, match="finite"):
        OAuthClient("c", timeout=timeout)


def test_client_validation_and_repr() -> None:
    with pytest.raises(ValueError, match="client_secret"):
        OAuthClient("c", "")
    with pytest.raises(ValueError, match="client_id"):
        OAuthClient("")
    with pytest.raises(ValueError, match="https"):
        OAuthClient("c", base_url="http://civitai.com")
    client = OAuthClient("c", "very-secret-value", base_url="https://civitai.com/")
    assert "very-secret-value" not in repr(client)
    assert "confidential" in repr(client)
    assert client.base_url == "https://civitai.com"
    assert client.client_id == "c"
    assert "public" in repr(OAuthClient("c"))


def test_authorize_url_from_client() -> None:
    client = OAuthClient("app_123", base_url="https://civitai.com")
    case = NODE["authorize"][0]["input"]
    url = client.authorize_url(
        redirect_uri=case["redirectUri"],
        scope=case["scope"],
        state=case["state"],
        code_challenge=case["codeChallenge"],
    )
    assert url == NODE["authorize"][0]["url"]


def test_exchange_validates_arguments_before_burning_the_code(mock: respx.MockRouter) -> None:
    route = mock.post(TOKEN_URL).respond(200, json=TOKENS)
    with OAuthClient("c") as client:
        with pytest.raises(ValueError, match="code_verifier"):
            client.exchange_code("code-x", redirect_uri="r", code_verifier="")
        client.exchange_code("code-x", redirect_uri="r", code_verifier=VERIFIER)
    assert route.call_count == 1


def test_one_shot_functions(mock: respx.MockRouter) -> None:
    token = mock.post(TOKEN_URL).respond(200, json=TOKENS)
    revoke = mock.post(f"{BASE}/api/auth/oauth/revoke").respond(200, json={})
    me = mock.get(f"{SITE}/api/v1/me").respond(200, json=ME)
    buzz = mock.get(f"{SITE}/api/trpc/buzz.getBuzzAccount").respond(200, json=POOLS)
    tokens = oauth.exchange_code(
        "one-shot-code", client_id="c", redirect_uri="r", code_verifier=VERIFIER
    )
    assert tokens.access_token == "civitai_access_0001"
    assert token.calls.last.request.content == (
        b"grant_type=authorization_code&code=one-shot-code&redirect_uri=r&client_id=c"
        b"&code_verifier=" + VERIFIER.encode()
    )
    with pytest.raises(OAuthError, match="already sent"):
        oauth.exchange_code(
            "one-shot-code", client_id="c", redirect_uri="r", code_verifier=VERIFIER
        )
    oauth.refresh_token("one-shot-rt", client_id="c", client_secret="s")
    assert token.calls.last.request.content == (
        b"grant_type=refresh_token&refresh_token=one-shot-rt&client_id=c&client_secret=s"
    )
    oauth.revoke_token("tok", client_id="c")
    assert revoke.calls.last.request.content == b"token=tok&client_id=c"
    assert oauth.fetch_me("tok").id == 42
    assert oauth.fetch_buzz_balances("tok", site_url="https://civitai.com/").yellow == 250
    accounts = mock.get(f"{SITE}/api/trpc/buzz.getUserAccount").respond(
        200, json={"result": {"data": {"json": ACCOUNTS}}}
    )
    assert oauth.fetch_buzz_account("tok")[0].account_type == "yellow"
    assert (me.call_count, buzz.call_count, token.call_count, accounts.call_count) == (1, 1, 2, 1)


# --- device flow -------------------------------------------------------------------------

DEVICE = {
    "device_code": "d" * 64,
    "user_code": "ABCD-EFGH",
    "verification_uri": "https://auth.civitai.com/login/oauth/device",
    "verification_uri_complete": "https://auth.civitai.com/login/oauth/device?code=ABCD-EFGH",
    "expires_in": 900,
    "interval": 5,
}
DEVICE_TOKEN_URL = f"{BASE}/api/auth/oauth/device-token"


def _authorization(expires_in: float = 900, interval: float = 5) -> DeviceAuthorization:
    return DeviceAuthorization(
        device_code="d" * 64,
        user_code="ABCD-EFGH",
        verification_uri=DEVICE["verification_uri"],  # type: ignore[arg-type]
        expires_at=NOW + expires_in,
        interval=interval,
    )


@pytest.mark.parametrize("mode", MODES)
def test_device_start(mock: respx.MockRouter, mode: str) -> None:
    route = mock.post(f"{BASE}/api/auth/oauth/device").respond(200, json=DEVICE)
    auth = run(
        mode,
        "start_device_authorization",
        ["UserRead", "AIServicesRead", "AIServicesWrite", "BuzzRead"],
    )
    assert route.calls.last.request.content == b"client_id=app_123&scope=114689"
    assert route.calls.last.request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert auth.user_code == "ABCD-EFGH"
    assert auth.expires_at == NOW + 900
    assert auth.interval == 5
    assert auth.verification_uri_complete == DEVICE["verification_uri_complete"]
    assert "d" * 64 not in repr(auth)


@pytest.mark.parametrize(
    "body",
    [
        {**DEVICE, "device_code": None},
        {**DEVICE, "expires_in": 0},
        {**DEVICE, "interval": "5"},
        {**DEVICE, "user_code": ""},
        [],
        # held the caller for decades; at 1e300 time.sleep raised OverflowError
        {**DEVICE, "expires_in": 1e300, "interval": 1e300},
        {**DEVICE, "expires_in": 10**9},
        {**DEVICE, "interval": 86400},
    ],
)
def test_device_start_bad_body(mock: respx.MockRouter, body: object) -> None:
    mock.post(f"{BASE}/api/auth/oauth/device").respond(200, json=body)
    with pytest.raises(OAuthError, match="invalid_response"):
        run("sync", "start_device_authorization", 1)


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("interval", -1, "interval is not a number of seconds from 0 to 3600"),
        ("interval", 3601, "interval is not a number of seconds from 0 to 3600"),
        ("expires_in", 0, "expires_in is not a number of seconds above 0, up to 86400"),
    ],
)
def test_a_refused_device_timing_says_the_range_it_checks(
    mock: respx.MockRouter, field: str, value: float, words: str
) -> None:
    # the message said "from 0 to 3600" while an interval of 0 was refused
    mock.post(f"{BASE}/api/auth/oauth/device").respond(200, json={**DEVICE, field: value})
    with pytest.raises(OAuthError, match=words):
        run("sync", "start_device_authorization", 1)


def test_device_start_missing_interval_defaults_to_5(mock: respx.MockRouter) -> None:
    body = {k: v for k, v in DEVICE.items() if k != "interval"}
    mock.post(f"{BASE}/api/auth/oauth/device").respond(200, json=body)
    assert run("sync", "start_device_authorization", 1, secret="s").interval == 5


@pytest.mark.parametrize("mode", MODES)
def test_device_poll_request(mock: respx.MockRouter, mode: str) -> None:
    route = mock.post(DEVICE_TOKEN_URL).respond(200, json={**TOKENS, "scope": "114689"})
    tokens = run(mode, "poll_device_token", _authorization(), secret="sec")
    assert tokens.scope == 114689
    assert route.calls.last.request.content.decode() == (
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code"
        f"&device_code={'d' * 64}&client_id=app_123&client_secret=sec"
    )


def _pending(error: str) -> httpx.Response:
    return httpx.Response(400, json={"error": error})


class FakeTime:
    """A clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = NOW
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)


def _wait(mode: str, auth: DeviceAuthorization, fake: FakeTime, **kwargs: Any) -> TokenSet:
    if mode == "sync":
        with OAuthClient("app_123", clock=fake) as client:
            return client.wait_for_device_token(auth, sleep=fake.sleep, **kwargs)

    async def go() -> TokenSet:
        async with AsyncOAuthClient("app_123", clock=fake) as client:
            return await client.wait_for_device_token(auth, sleep=fake.asleep, **kwargs)

    return asyncio.run(go())


@pytest.mark.parametrize("mode", MODES)
def test_device_wait_honours_interval_and_slow_down(mock: respx.MockRouter, mode: str) -> None:
    route = mock.post(DEVICE_TOKEN_URL).mock(
        side_effect=[
            _pending("authorization_pending"),
            _pending("slow_down"),
            _pending("authorization_pending"),
            httpx.Response(429, json={"error": "rate_limited"}),
            httpx.Response(200, json=TOKENS),
        ]
    )
    fake = FakeTime()
    tokens = _wait(mode, _authorization(), fake)
    assert tokens.access_token == "civitai_access_0001"
    assert fake.sleeps == [5, 5, 10, 10, 15]
    assert route.call_count == 5


@pytest.mark.parametrize("mode", MODES)
def test_an_interval_of_0_is_no_minimum_and_is_polled_once_a_second(
    mock: respx.MockRouter, mode: str
) -> None:
    """RFC 8628 §3.2: ``interval`` is the least wait between polls; 0 is valid (it was
    refused, ending the sign-in), yet must not busy-loop the token endpoint."""
    mock.post(f"{BASE}/api/auth/oauth/device").respond(200, json={**DEVICE, "interval": 0})
    auth = run(mode, "start_device_authorization", 1)
    assert auth.interval == 0
    mock.post(DEVICE_TOKEN_URL).mock(
        side_effect=[_pending("authorization_pending"), httpx.Response(200, json=TOKENS)]
    )
    fake = FakeTime()
    assert _wait(mode, _authorization(interval=0), fake).access_token == "civitai_access_0001"
    assert fake.sleeps == [1, 1]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("error", ["access_denied", "expired_token", "invalid_grant"])
def test_device_wait_stops_on_terminal_errors(
    mock: respx.MockRouter, mode: str, error: str
) -> None:
    mock.post(DEVICE_TOKEN_URL).mock(
        side_effect=[_pending("authorization_pending"), _pending(error)]
    )
    with pytest.raises(OAuthError) as info:
        _wait(mode, _authorization(), FakeTime())
    assert info.value.error == error


@pytest.mark.parametrize("mode", MODES)
def test_device_wait_gives_up_at_expiry(mock: respx.MockRouter, mode: str) -> None:
    route = mock.post(DEVICE_TOKEN_URL).mock(return_value=_pending("authorization_pending"))
    fake = FakeTime()
    with pytest.raises(OAuthError) as info:
        _wait(mode, _authorization(expires_in=12), fake)
    assert info.value.error == "expired_token"
    assert info.value.status is None
    assert fake.sleeps == [5, 5, 2]
    assert route.call_count == 3


@pytest.mark.parametrize("mode", MODES)
def test_device_wait_keeps_polling_through_a_lost_answer_or_a_gateway_error(
    mock: respx.MockRouter, mode: str
) -> None:
    # before: one dropped answer or 502 ended a sign-in the user was still typing
    route = mock.post(DEVICE_TOKEN_URL).mock(
        side_effect=[
            httpx.ReadTimeout("lost"),
            httpx.Response(502, text="<html>Bad gateway</html>"),
            httpx.Response(503, json={"error": "server_error"}),
            _pending("authorization_pending"),
            httpx.Response(200, json=TOKENS),
        ]
    )
    fake = FakeTime()
    tokens = _wait(mode, _authorization(), fake)
    assert tokens.access_token == "civitai_access_0001"
    assert fake.sleeps == [5, 5, 5, 5, 5]
    assert route.call_count == 5


@pytest.mark.parametrize("mode", MODES)
def test_device_wait_that_never_gets_through_expires_naming_the_failure(
    mock: respx.MockRouter, mode: str
) -> None:
    mock.post(DEVICE_TOKEN_URL).mock(side_effect=httpx.ReadTimeout("lost"))
    with pytest.raises(OAuthError) as info:
        _wait(mode, _authorization(expires_in=12), FakeTime())
    assert info.value.error == "expired_token"
    assert isinstance(info.value.__cause__, TransportError)
    assert "the last poll failed: POST /api/auth/oauth/device-token" in str(info.value)


@pytest.mark.parametrize("mode", MODES)
def test_device_wait_gives_up_after_six_failed_polls_in_a_row(
    mock: respx.MockRouter, mode: str
) -> None:
    route = mock.post(DEVICE_TOKEN_URL).respond(503, json={"error": "server_error"})
    with pytest.raises(OAuthError) as info:
        _wait(mode, _authorization(), FakeTime())
    assert info.value.error == "server_error"
    assert route.call_count == 6


def test_device_wait_max_wait(mock: respx.MockRouter) -> None:
    mock.post(DEVICE_TOKEN_URL).mock(return_value=_pending("authorization_pending"))
    fake = FakeTime()
    with pytest.raises(OAuthError, match="expired_token"):
        _wait("sync", _authorization(), fake, max_wait=7)
    assert fake.sleeps == [5, 2]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("max_wait", [float("nan"), -1.0, "60"], ids=repr)
def test_device_wait_refuses_a_max_wait_that_is_no_time(
    mock: respx.MockRouter, mode: str, max_wait: object
) -> None:
    """A NaN ``max_wait`` was ignored (the wait ran to the code's expiry), a negative one
    ended at once "the device code expired before approval", a str was a bare TypeError."""
    route = mock.post(DEVICE_TOKEN_URL).mock(return_value=_pending("authorization_pending"))
    fake = FakeTime()
    with pytest.raises(ConfigurationError, match="max_wait"):
        _wait(mode, _authorization(), fake, max_wait=max_wait)
    assert route.call_count == 0


def test_http_client_not_owned_is_left_open(mock: respx.MockRouter) -> None:
    mock.get(f"{SITE}/api/v1/me").respond(200, json=ME)
    http = httpx.Client()
    with OAuthClient("c", http_client=http) as client:
        client.fetch_me("tok")
    assert not http.is_closed
    http.close()


def test_call_repr_hides_body_and_headers() -> None:
    creds = Credentials("app_123", "client-secret-xyz", BASE)
    call = _core.refresh_call(creds, OnceGuard(), refresh_token="refresh-secret-xyz", now=NOW)
    me = _core.me_call(SITE, access_token="access-secret-xyz")
    text = f"{call!r} {me!r} {creds!r}"
    for secret in ("client-secret-xyz", "refresh-secret-xyz", "access-secret-xyz"):
        assert secret not in text


def test_no_secret_reaches_the_logs(
    mock: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    mock.post(TOKEN_URL).mock(
        side_effect=[
            httpx.Response(200, json={**TOKENS, "access_token": "access-secret-xyz"}),
            httpx.Response(400, json={"error": "invalid_grant"}),
        ]
    )
    mock.get(f"{SITE}/api/v1/me").respond(200, json=ME)
    caplog.set_level(logging.DEBUG)
    with OAuthClient("app_123", "client-secret-xyz") as client:
        tokens = client.exchange_code("code-secret-xyz", redirect_uri="r", code_verifier=VERIFIER)
        client.fetch_me(tokens.access_token)
        with pytest.raises(OAuthError):
            client.refresh_token("refresh-secret-xyz")
    assert caplog.records  # httpx does log each request…
    secrets = ("client-secret-xyz", "code-secret-xyz", "refresh-secret-xyz", "access-secret-xyz")
    for secret in (*secrets, VERIFIER):
        assert secret not in caplog.text  # …but never a credential


@pytest.mark.parametrize("mode", MODES)
def test_a_refresh_naming_a_scope_added_later_keeps_the_rotated_pair(
    mock: respx.MockRouter, mode: str
) -> None:
    """The server rotates the pair before answering: refusing the answer over a scope
    name this SDK does not know yet would leave the user to sign in again."""
    body = {**TOKENS, "scope": "UserRead AIServicesWrite VideoStudioWrite", "expires_in": "3600.0"}
    mock.post(TOKEN_URL).respond(200, json=body)
    tokens = run(mode, "refresh_token", f"rt-new-scope-{mode}")
    assert tokens.refresh_token == TOKENS["refresh_token"]
    assert tokens.scope == TokenScope.UserRead | TokenScope.AIServicesWrite
    assert tokens.expires_at == NOW + 3600


def test_unknown_scope_names_are_skipped_only_when_asked() -> None:
    assert parse_scope("BuzzRead Someday", unknown_names=True) == TokenScope.BuzzRead
    with pytest.raises(ValueError, match="Someday"):
        parse_scope("BuzzRead Someday")
    for garbage in ("0x10", "1e3", "-1", "UserRead,BuzzRead", "x" * 65):
        with pytest.raises(ValueError, match="scope"):
            parse_scope(garbage, unknown_names=True)
