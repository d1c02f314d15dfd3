"""State and next validation: the sign-in cookie and the callback check, without a server."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from civitai_app_sdk.cookies import CookieSealer
from civitai_app_sdk.errors import CivitaiError, ConfigurationError
from civitai_app_sdk.web import (
    CallbackError,
    ConsentDeniedError,
    LoginExpiredError,
    LoginRequest,
    StateMismatchError,
    begin_login,
    check_callback,
    is_safe_next_path,
    safe_next_path,
)
from civitai_app_sdk.web.redirects import MAX_NEXT_LENGTH

SEALER = CookieSealer("x" * 40)
OPEN_REDIRECTS = [
    "//evil.example",
    "//evil.example/path",
    "/\\evil.example",
    "\\\\evil.example",
    "https://evil.example",
    "http:evil.example",
    "javascript:alert(1)",
    "/\t/evil.example",
    "/\n/evil.example",
    " /ok",
    "evil.example",
    "",
    "/ok\u3000",
    "/" + "a" * 1100,
]


@pytest.mark.parametrize("value", OPEN_REDIRECTS)
def test_unsafe_next_values_fall_back_to_the_default(value: str) -> None:
    assert not is_safe_next_path(value)
    assert safe_next_path(value) == "/"


@pytest.mark.parametrize("value", ["/", "/history", "/w/1?x=%2F%2Fa#top", "/a/b:c@d"])
def test_same_site_paths_are_kept(value: str) -> None:
    assert safe_next_path(value, "/home") == value


@given(st.text(max_size=60))
def test_a_kept_next_path_never_leaves_the_site(value: str) -> None:
    kept = safe_next_path(value)
    assert kept.startswith("/")
    assert not kept.startswith(("//", "/\\"))
    assert "\\" not in kept
    assert all(0x21 <= ord(ch) <= 0x7E for ch in kept[1:])


def test_an_unsafe_default_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError):
        safe_next_path("/x", default="//evil.example")


def test_the_login_cookie_round_trips_and_hides_secrets() -> None:
    pending, challenge = begin_login("//evil.example", now=1000.0)
    assert pending.next_path == "/"
    assert len(challenge) == 43
    opened = LoginRequest.unseal(SEALER, pending.seal(SEALER))
    assert opened == pending
    assert pending.state not in repr(pending)
    assert pending.verifier not in repr(pending)


@pytest.mark.parametrize(
    "sealed",
    [None, "", "garbage", SEALER.seal("[]"), SEALER.seal('{"s":"a","v":"b","n":"/","t":true}')],
    ids=["none", "empty", "garbage", "sealed-list", "sealed-bad-types"],
)
def test_a_bad_login_cookie_opens_as_none(sealed: str | None) -> None:
    assert LoginRequest.unseal(SEALER, sealed) is None


def test_a_login_cookie_under_another_secret_is_refused() -> None:
    pending, _ = begin_login("/", now=0.0)
    assert LoginRequest.unseal(CookieSealer("y" * 40), pending.seal(SEALER)) is None


def test_a_tampered_next_in_a_valid_cookie_is_still_validated() -> None:
    sealed = SEALER.seal('{"s":"a","v":"b","n":"//evil.example","t":5}')
    opened = LoginRequest.unseal(SEALER, sealed)
    assert opened is not None
    assert opened.next_path == "/"


def test_the_longest_next_paths_still_seal_into_one_cookie() -> None:
    """A quote is two characters in the cookie's JSON: a next made of them would seal past
    one cookie (the browser drops it and the sign-in fails), so it falls back to ``/``."""
    from civitai_app_sdk.web.chunks import COOKIE_LIMIT

    quotes = "/" + '"' * (MAX_NEXT_LENGTH - 1)
    longest = "/" + "a" * (MAX_NEXT_LENGTH - 1)
    assert is_safe_next_path(quotes)
    for next_path, kept in [(quotes, "/"), (longest, longest)]:
        pending, _ = begin_login(next_path, now=0.0)
        assert pending.next_path == kept
        assert len(pending.seal(CookieSealer("x" * 40, max_length=32_000))) < COOKIE_LIMIT - 64


PENDING = LoginRequest("the-state", "v" * 43, "/next", 1000.0)


def test_a_matching_callback_gives_the_code() -> None:
    params = {"state": "the-state", "code": "abc"}
    assert check_callback(params, PENDING, now=1001.0) == "abc"


@given(st.text(min_size=0, max_size=40).filter(lambda s: s != "the-state"))
def test_any_other_state_is_a_mismatch(state: str) -> None:
    with pytest.raises(StateMismatchError):
        check_callback({"state": state, "code": "abc"}, PENDING, now=1001.0)


@pytest.mark.parametrize(
    ("params", "pending", "now", "error"),
    [
        ({"code": "abc"}, PENDING, 1001.0, StateMismatchError),
        ({"state": "the-state", "code": "abc"}, None, 1001.0, StateMismatchError),
        ({"state": "the-state", "code": "abc"}, PENDING, 1601.0, LoginExpiredError),
        ({"state": "the-state", "code": "abc"}, PENDING, 999.0, LoginExpiredError),
        ({"state": "the-state", "error": "access_denied"}, PENDING, 1001.0, ConsentDeniedError),
        ({"state": "the-state", "error": "server_error"}, PENDING, 1001.0, CallbackError),
        ({"state": "the-state"}, PENDING, 1001.0, CallbackError),
        ({"state": "the-state", "code": "c" * 5000}, PENDING, 1001.0, CallbackError),
        # A forged denial with the wrong state is a mismatch, not a denial.
        ({"state": "forged", "error": "access_denied"}, PENDING, 1001.0, StateMismatchError),
    ],
)
def test_callback_failures_are_typed(
    params: dict[str, str], pending: LoginRequest | None, now: float, error: type[Exception]
) -> None:
    with pytest.raises(error) as caught:
        check_callback(params, pending, now=now)
    assert isinstance(caught.value, CivitaiError)
    assert "the-state" not in str(caught.value)
