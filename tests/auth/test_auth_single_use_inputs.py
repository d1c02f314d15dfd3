"""A single-use value (authorization code, refresh token) refused before it is sent
stays usable, and no input makes an OAuth call raise a builtin exception.

A call refused over its own options (a bad ``timeout``, a forbidden header) or over a
value that cannot be put on the wire never reached the server: sending the code or
refresh token again must work, not fail as "already sent once".
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

import pytest
import respx

from civitai_app_sdk.errors import CivitaiError, RequestValidationError
from civitai_app_sdk.oauth import (
    AsyncOAuthClient,
    OAuthClient,
    build_authorize_url,
    generate_pkce,
)
from civitai_app_sdk.oauth.urls import form_encode

TOKEN_URL = "https://auth.civitai.com/api/auth/oauth/token"
TOKENS = {"access_token": "at-1", "refresh_token": "rt-1", "expires_in": 3600}

BAD_OPTIONS: list[dict[str, Any]] = [
    {"timeout": -1},
    {"extra_headers": {"Authorization": "Bearer x"}},
    {"extra_headers": {"X-Bad": "a\nb"}},
    {"extra_query": "not pairs"},
    {"not_an_option": 1},
]


@pytest.fixture
def token_route() -> Iterator[respx.Route]:
    with respx.mock(assert_all_called=False) as router:
        yield router.post(TOKEN_URL).respond(200, json=TOKENS)


def _grant(client: OAuthClient, kind: str, **options: Any) -> Any:
    if kind == "refresh":
        return client.refresh_token("rt-0", **options)
    return client.exchange_code(
        "code-0", redirect_uri="https://app.example/cb", code_verifier="v" * 43, **options
    )


@pytest.mark.parametrize("kind", ["refresh", "exchange"])
@pytest.mark.parametrize("options", BAD_OPTIONS, ids=lambda o: next(iter(o)))
def test_a_grant_refused_for_its_options_keeps_its_single_use_value(
    token_route: respx.Route, kind: str, options: dict[str, Any]
) -> None:
    with OAuthClient("app") as client:
        with pytest.raises(CivitaiError):
            _grant(client, kind, **options)
        assert _grant(client, kind).access_token == "at-1"
    assert token_route.call_count == 1


def test_an_async_grant_refused_for_its_options_keeps_its_token(
    token_route: respx.Route,
) -> None:
    async def main() -> str:
        async with AsyncOAuthClient("app") as client:
            with pytest.raises(CivitaiError):
                await client.refresh_token("rt-0", timeout=0)
            return (await client.refresh_token("rt-0")).access_token

    assert asyncio.run(main()) == "at-1"
    assert token_route.call_count == 1


# -- text no form can carry as UTF-8 ---------------------------------------------------


def test_lone_surrogates_are_form_encoded_as_url_search_params_does() -> None:
    """``URLSearchParams`` writes a lone surrogate as U+FFFD and a split pair as its
    character (Node 20, measured); UTF-8 cannot encode either as Python holds them."""
    fields = [("a", "x\udcff y\ud800"), ("k\udc00", "~*"), ("e", "\ud83d\ude00")]
    assert form_encode(fields) == "a=x%EF%BF%BD+y%EF%BF%BD&k%EF%BF%BD=%7E*&e=%F0%9F%98%80"


def test_a_refresh_token_no_utf_8_can_carry_is_sent_as_node_sends_it(
    token_route: respx.Route,
) -> None:
    with OAuthClient("app\udcff") as client:
        assert client.refresh_token("rt\udcff").access_token == "at-1"
    form = dict(parse_qsl(token_route.calls.last.request.content.decode()))
    assert (form["refresh_token"], form["client_id"]) == ("rt\ufffd", "app\ufffd")


def test_an_authorize_url_with_a_lone_surrogate_is_built() -> None:
    url = build_authorize_url(
        client_id="app",
        redirect_uri="https://app.example/\udcff",
        scope=1,
        state="s\ud800",
        code_challenge=generate_pkce().challenge,
    )
    assert "redirect_uri=https%3A%2F%2Fapp.example%2F%EF%BF%BD&" in url
    assert "&state=s%EF%BF%BD&" in url


def test_revoking_a_token_with_a_lone_surrogate_is_sent() -> None:
    with respx.mock() as router:
        route = router.post("https://auth.civitai.com/api/auth/oauth/revoke").respond(200)
        with OAuthClient("app") as client:
            client.revoke_token("t\udcff")
    assert route.calls.last.request.content == b"token=t%EF%BF%BD&client_id=app"


# -- a scope asked for in error --------------------------------------------------------


@pytest.mark.parametrize(
    ("scope", "error"),
    [
        (["AIServicesWrit"], RequestValidationError),
        (["UserRead", 1], RequestValidationError),
        (1.5, TypeError),  # a wrong type, as True is
    ],
    ids=repr,
)
def test_a_bad_scope_is_refused_by_name_and_nothing_is_sent(
    scope: Any, error: type[Exception]
) -> None:
    """An unknown name was a bare ``ValueError`` (a scope out of range was already a
    ``RequestValidationError``), and a float "'float' object is not iterable"."""
    with respx.mock() as router, OAuthClient("app") as client:
        with pytest.raises(error, match="scope"):
            client.start_device_authorization(scope)
        with pytest.raises(error, match="scope"):
            client.authorize_url(
                redirect_uri="https://app.example/cb",
                scope=scope,
                state="s",
                code_challenge=generate_pkce().challenge,
            )
        assert not router.calls
