"""Public functions that raised plain builtins raise CivitaiErrors that keep the builtin.

Each case failed before the fix with a bare ``ValueError``/``TypeError`` (not a
CivitaiError); ``except ValueError`` / ``except TypeError`` code still catches them.
"""

from __future__ import annotations

import pickle
import warnings
from collections.abc import Callable

import httpx
import pytest
from core_helpers import API
from hypothesis import given
from hypothesis import strategies as st

from civitai_app_sdk._capture import CapturedResponses
from civitai_app_sdk.cookies import (
    CookieSealer,
    WeakCookieSecretWarning,
    build_set_cookie_header,
    read_cookie,
    seal_cookie,
    sealed_length,
    unseal_cookie,
)
from civitai_app_sdk.errors import (
    ArgumentTypeError,
    CivitaiError,
    ClientClosedError,
    ConfigurationError,
    LocalServerError,
    NothingCapturedError,
    RequestValidationError,
)
from civitai_app_sdk.local.clock import ManualClock
from civitai_app_sdk.local.hostile import HostileServer
from civitai_app_sdk.local.server import LocalServer
from civitai_app_sdk.oauth import OAuthClient
from civitai_app_sdk.oauth.account import parse_buzz_accounts, parse_buzz_balances
from civitai_app_sdk.oauth.pkce import generate_state, pkce_challenge
from civitai_app_sdk.oauth.tokens import TokenSet
from civitai_app_sdk.oauth.urls import scope_value
from civitai_app_sdk.orchestrator import AsyncOrchestratorClient, OrchestratorClient
from civitai_app_sdk.scopes import bitmask_from_scopes, has_scope, parse_scope, scopes_from_bitmask

SECRET = "s" * 40

CASES: list[tuple[str, Callable[[], object], type[Exception]]] = [
    ("no secret", lambda: CookieSealer([]), ValueError),
    ("empty secret", lambda: CookieSealer(""), ValueError),
    ("secret repeated", lambda: CookieSealer([SECRET, SECRET]), ValueError),
    ("secret not str", lambda: CookieSealer([b"x" * 40]), TypeError),  # type: ignore[list-item]
    ("secrets not iterable", lambda: CookieSealer(5), TypeError),  # type: ignore[arg-type]
    ("seal_cookie secret int", lambda: seal_cookie("v", 5), TypeError),  # type: ignore[arg-type]
    ("unseal_cookie [[list]]", lambda: unseal_cookie("x", [["a"]]), TypeError),  # type: ignore[list-item]
    ("unseal_cookie []", lambda: unseal_cookie("x", []), ValueError),
    ("seal non-str", lambda: CookieSealer(SECRET).seal(5), TypeError),  # type: ignore[arg-type]
    ("sealed_length non-str", lambda: sealed_length(5), TypeError),  # type: ignore[arg-type]
    ("read_cookie header int", lambda: read_cookie(5, "a"), TypeError),  # type: ignore[arg-type]
    ("read_cookie name None", lambda: read_cookie("a=b", None), TypeError),  # type: ignore[arg-type]
    ("cookie name", lambda: build_set_cookie_header("a b", "v"), ValueError),
    ("cookie value", lambda: build_set_cookie_header("a", "v;x"), ValueError),
    ("cookie path", lambda: build_set_cookie_header("a", "v", path="/;x"), ValueError),
    ("cookie domain", lambda: build_set_cookie_header("a", "v", domain="a;b"), ValueError),
    ("cookie same_site", lambda: build_set_cookie_header("a", "v", same_site="x"), ValueError),
    ("cookie __Host-", lambda: build_set_cookie_header("__Host-a", "v", path="/x"), ValueError),
    ("scopes one string", lambda: bitmask_from_scopes("UserRead"), TypeError),
    ("scopes not iterable", lambda: bitmask_from_scopes(5), TypeError),  # type: ignore[arg-type]
    ("scopes unknown name", lambda: bitmask_from_scopes(["Nope"]), ValueError),
    ("mask not int", lambda: scopes_from_bitmask("1"), TypeError),  # type: ignore[arg-type]
    ("mask negative", lambda: has_scope(-1, 1), ValueError),
    ("parse_scope bool", lambda: parse_scope(True), ValueError),
    ("parse_scope nested", lambda: parse_scope([[1]]), ValueError),
    ("parse_scope word", lambda: parse_scope("nope!"), ValueError),
    ("pkce verifier", lambda: pkce_challenge("short"), ValueError),
    ("state bytes type", lambda: generate_state(1.5), TypeError),  # type: ignore[arg-type]
    ("state bytes few", lambda: generate_state(4), ValueError),
    ("state bytes huge", lambda: generate_state(2**70), ValueError),  # was OverflowError
    ("scope_value str", lambda: scope_value("UserRead"), TypeError),  # type: ignore[arg-type]
    ("scope_value set of int", lambda: scope_value(object()), TypeError),  # type: ignore[arg-type]
    ("buzz accounts", lambda: parse_buzz_accounts({"result": {"data": [1]}}), ValueError),
    ("buzz balances", lambda: parse_buzz_balances({"blue": "x"}), ValueError),
    ("stored tokens", lambda: TokenSet.from_json_dict({"access_token": "a"}), ValueError),
    ("stored tokens type", lambda: TokenSet.from_json_dict([]), ValueError),
    ("stored scope", lambda: TokenSet.from_json_dict({**_STORED, "scope": "x!"}), ValueError),
    ("clock backwards", lambda: ManualClock().advance(-1), ValueError),
    ("hostile mode", lambda: HostileServer("nope"), ValueError),  # type: ignore[arg-type]
    ("local host", lambda: LocalServer(host="0.0.0.0"), ValueError),
    ("nothing captured", lambda: CapturedResponses().last, LookupError),
    ("base_url int", lambda: OrchestratorClient("t", base_url=5), ValueError),  # type: ignore[arg-type]
    ("http_client int", lambda: OrchestratorClient("t", http_client=5), TypeError),  # type: ignore[arg-type]
    (
        "async client given a sync one",
        lambda: AsyncOrchestratorClient("t", http_client=httpx.Client()),  # type: ignore[arg-type]
        TypeError,
    ),
    (
        "oauth given an async one",
        lambda: OAuthClient("a", http_client=httpx.AsyncClient()),
        TypeError,
    ),  # type: ignore[arg-type]
]
_STORED = {"access_token": "a", "expires_at": 1_700_000_000_000}


@pytest.mark.parametrize(
    ("call", "builtin"), [case[1:] for case in CASES], ids=[c[0] for c in CASES]
)
def test_raises_a_civitai_error_that_is_still_the_builtin(
    call: Callable[[], object], builtin: type[Exception]
) -> None:
    with pytest.raises(builtin) as caught:
        call()
    assert isinstance(caught.value, CivitaiError)


def test_argument_type_error_is_a_type_error_and_pickles() -> None:
    error = ArgumentTypeError("byte_length must be an int")
    assert isinstance(error, TypeError)
    assert isinstance(error, CivitaiError)
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is ArgumentTypeError
    assert str(again) == str(error)


def test_messages_keep_their_words_and_never_a_secret() -> None:
    with pytest.raises(ConfigurationError, match=r"^cookie secret #1 repeats an earlier one$"):
        CookieSealer([SECRET, SECRET])
    with pytest.raises(ConfigurationError) as caught:
        build_set_cookie_header("a", "secret-value;x")
    assert "secret-value" not in str(caught.value)
    with pytest.raises(RequestValidationError) as stored:
        TokenSet.from_json_dict({"access_token": "tok-SECRET"})
    assert "tok-SECRET" not in str(stored.value)


def _raised(call: Callable[[], object]) -> Exception | None:
    """What ``call`` raised, if anything."""
    try:
        call()
    except Exception as exc:
        return exc
    return None


@given(
    secrets=st.one_of(
        st.integers(),
        st.none(),
        st.binary(),
        st.lists(st.one_of(st.text(max_size=5), st.integers(), st.binary(), st.none()), max_size=3),
    )
)
def test_any_bad_cookie_secret_is_a_civitai_error(secrets: object) -> None:
    """Whatever is passed as secrets, a refusal is a CivitaiError (a ValueError or a
    TypeError), never a bare builtin; a valid one may only warn (short secret)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", WeakCookieSecretWarning)
        raised = _raised(lambda: CookieSealer(secrets))  # type: ignore[arg-type]
    assert raised is None or isinstance(raised, ConfigurationError | ArgumentTypeError), raised


@given(
    value=st.recursive(
        st.one_of(
            st.none(),
            st.booleans(),
            st.integers(),
            st.floats(),
            st.text(max_size=20),
            st.binary(max_size=5),
        ),
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.tuples(inner)
            | st.dictionaries(st.text(max_size=3), inner, max_size=2)
        ),
        max_leaves=6,
    )
)
def test_any_scope_input_parses_or_raises_a_civitai_error(value: object) -> None:
    for call in (
        lambda: parse_scope(value),
        lambda: bitmask_from_scopes(value),  # type: ignore[arg-type]
        lambda: scopes_from_bitmask(value),  # type: ignore[arg-type]
        lambda: scope_value(value),  # type: ignore[arg-type]
    ):
        raised = _raised(call)
        assert raised is None or isinstance(raised, CivitaiError), repr(raised)


def test_an_oauth_client_refuses_once_closed_with_a_civitai_error() -> None:
    """It raised httpx's plain RuntimeError (nothing is sent: the client is closed)."""
    client = OAuthClient("app", site_url=API)
    client.close()
    with pytest.raises(RuntimeError, match="client has been closed") as refused:
        client.fetch_me("access-token")
    assert isinstance(refused.value, ClientClosedError)


def test_reading_an_empty_capture_is_a_civitai_lookup_error() -> None:
    """It raised a bare LookupError."""
    with pytest.raises(NothingCapturedError, match="no response was captured"):
        _ = CapturedResponses().last


def test_a_local_server_that_does_not_start_raises_a_civitai_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """It raised a bare RuntimeError (here the serving thread ends at once)."""
    server = LocalServer()
    monkeypatch.setattr(server, "serve", lambda: None)
    try:
        with pytest.raises(RuntimeError, match="did not start") as failed:
            server.start()
        assert isinstance(failed.value, LocalServerError)
    finally:
        server.stop()
