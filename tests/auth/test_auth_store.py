"""TokenSet storage form, the in-memory store and the sealed-cookie store (Node-compatible)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from civitai_app_sdk.cookies import MAX_SEALED_LENGTH, CookieSealer, read_cookie, seal_cookie
from civitai_app_sdk.errors import CivitaiError, ConfigurationError
from civitai_app_sdk.oauth import (
    MemoryTokenStore,
    SealedCookieTokenStore,
    TokenCookieTooLargeError,
    TokenSet,
    TokenStore,
)
from civitai_app_sdk.scopes import TokenScope

# Short secrets here are deliberate (0.14 fixtures, brevity); the warning has its own tests.
pytestmark = pytest.mark.filterwarnings("ignore::civitai_app_sdk.cookies.WeakCookieSecretWarning")

NODE_SEALED = json.loads((Path(__file__).parent / "fixtures/node_sealed_cookies.json").read_text())
BAD_STORED = r"JSON object|access_token|expires_at|refresh_token|scope"
NODE_SESSION = NODE_SEALED[1]  # JSON.stringify(OAuthTokens) sealed by the Node SDK
TOKENS = TokenSet(
    access_token="civitai_access_0001",
    refresh_token="civitai_refresh_0001",
    expires_at=1_767_225_600.0,
    scope=TokenScope(114689),
)


def test_json_dict_is_the_node_oauth_tokens_shape() -> None:
    assert TOKENS.to_json_dict() == {
        "access_token": "civitai_access_0001",
        "refresh_token": "civitai_refresh_0001",
        "expires_at": 1_767_225_600_000,
        "scope": 114689,
        "token_type": "Bearer",
    }
    assert TokenSet.from_json_dict(TOKENS.to_json_dict()) == TOKENS


def test_json_dict_without_refresh_token_and_with_node_nan_scope() -> None:
    data = {"access_token": "a", "expires_at": 1000, "scope": None, "token_type": "Bearer"}
    tokens = TokenSet.from_json_dict(data)
    assert tokens.refresh_token is None
    assert tokens.scope == 0
    assert tokens.expires_at == 1.0
    assert "refresh_token" not in tokens.to_json_dict()


@pytest.mark.parametrize(
    "data",
    [
        None,
        [],
        {"expires_at": 1},
        {"access_token": "a"},
        {"access_token": "a", "expires_at": "1"},
        {"access_token": "a", "expires_at": True},
        {"access_token": "a", "expires_at": float("inf")},
        {"access_token": "a", "expires_at": 10**400},  # was a bare OverflowError
        {"access_token": "a", "expires_at": 1, "refresh_token": 3},
        {"access_token": "a", "expires_at": 1, "scope": "0x1"},
    ],
)
def test_from_json_dict_rejects_bad_data(data: object) -> None:
    with pytest.raises(ValueError, match=BAD_STORED):
        TokenSet.from_json_dict(data)


def test_expiry_helpers() -> None:
    assert TOKENS.expires_in(now=1_767_225_500.0) == 100.0
    assert not TOKENS.is_expired(now=1_767_225_500.0)
    assert TOKENS.is_expired(leeway=100, now=1_767_225_500.0)
    assert TOKENS.is_expired(now=1_767_225_600.0)


@pytest.mark.parametrize("expires_at", [float("nan"), float("inf"), None, "1767225600", True])
def test_a_token_set_needs_a_finite_expiry(expires_at: object) -> None:
    """A NaN expiry never expired (a provider handed out the dead token for good) and could
    not be stored (a bare ``ValueError``); ``None`` or a str failed the first refresh
    check with a bare ``TypeError``."""
    with pytest.raises(ConfigurationError, match="expires_at"):
        TokenSet(access_token="a", expires_at=expires_at)  # type: ignore[arg-type]


def test_memory_store() -> None:
    store = MemoryTokenStore()
    assert isinstance(store, TokenStore)
    assert store.load() is None
    store.save(TOKENS)
    assert store.load() == TOKENS
    assert "civitai_access" not in repr(store)
    store.clear()
    assert store.load() is None


def test_sealed_cookie_store_opens_a_node_session() -> None:
    sealer = CookieSealer(NODE_SESSION["secret"])
    header = f"other=1; civitai_session={NODE_SESSION['sealed']}; x=y"
    store = SealedCookieTokenStore(sealer, header)
    assert isinstance(store, TokenStore)
    tokens = store.load()
    assert tokens is not None
    assert tokens.to_json_dict() == json.loads(NODE_SESSION["value"])
    assert store.set_cookie_header() is None  # nothing changed


def test_sealed_cookie_store_save_then_set_cookie() -> None:
    sealer = CookieSealer(["new-secret", "old-secret"])
    store = SealedCookieTokenStore(sealer, None, name="sess", max_age=600, domain="example.com")
    assert store.load() is None
    store.save(TOKENS)
    assert store.load() == TOKENS
    header = store.set_cookie_header()
    assert header is not None
    assert header.startswith("sess=")
    assert header.endswith(
        "; Max-Age=600; Path=/; Domain=example.com; Secure; HttpOnly; SameSite=lax"
    )
    sealed = read_cookie(header.split(";")[0], "sess")
    assert "civitai_access" not in header
    # The next request, even with only the old secret first, reads it back.
    again = SealedCookieTokenStore(CookieSealer(["new-secret"]), f"sess={sealed}", name="sess")
    assert again.load() == TOKENS
    assert json.loads(CookieSealer("new-secret").unseal(sealed) or "") == TOKENS.to_json_dict()


def test_sealed_cookie_store_clear_deletes_cookie() -> None:
    sealer = CookieSealer("s")
    store = SealedCookieTokenStore(sealer, f"civitai_session={sealer.seal('x')}")
    store.clear()
    assert store.load() is None
    assert store.set_cookie_header() == (
        "civitai_session=; Max-Age=0; Path=/; Secure; HttpOnly; SameSite=lax"
    )


STORE_SECRET = "store-test-secret-0123456789abcdef"


@pytest.mark.parametrize(
    "cookie",
    [
        "civitai_session=garbage",
        f"civitai_session={seal_cookie('not json', STORE_SECRET)}",
        f"civitai_session={seal_cookie('[1]', STORE_SECRET)}",
        f"civitai_session={seal_cookie(json.dumps({'access_token': 'a'}), STORE_SECRET)}",
        f"civitai_session={seal_cookie(json.dumps(TOKENS.to_json_dict()), STORE_SECRET[::-1])}",
        "civitai_session=",
        "",
    ],
    ids=["garbage", "not-json", "not-object", "no-refresh", "other-secret", "empty-value", "none"],
)
def test_sealed_cookie_store_bad_cookie_reads_as_empty(cookie: str) -> None:
    assert SealedCookieTokenStore(CookieSealer(STORE_SECRET), cookie).load() is None


def test_sealed_cookie_store_checks_attributes_up_front() -> None:
    with pytest.raises(ValueError, match="cookie name"):
        SealedCookieTokenStore(CookieSealer("s"), None, name="bad name")
    with pytest.raises(ValueError, match="Secure"):
        SealedCookieTokenStore(CookieSealer("s"), None, same_site="none", secure=False)


@pytest.mark.parametrize("max_age", [0, -1])
def test_a_sealed_cookie_store_refuses_a_lifetime_that_deletes_what_it_saves(max_age: int) -> None:
    """``Max-Age`` of 0 or less tells the browser to drop the cookie: every save (a
    rotated pair too) was lost, and the user signed out, without an error."""
    with pytest.raises(ConfigurationError, match="max_age"):
        SealedCookieTokenStore(CookieSealer(STORE_SECRET), None, max_age=max_age)


def test_sealed_cookie_store_repr_hides_contents() -> None:
    sealer = CookieSealer("s")
    store = SealedCookieTokenStore(sealer, None)
    store.save(TOKENS)
    header = store.set_cookie_header()
    assert header is not None
    sealed = read_cookie(header.split(";")[0], "civitai_session")
    assert sealed
    text = repr(store)
    assert "civitai_access" not in text
    assert sealed[:24] not in text


@settings(max_examples=60, deadline=None)
@given(
    access=st.integers(1, 3000),
    refresh=st.integers(0, 1500),
    name=st.sampled_from(["civitai_session", "s", "__Host-session"]),
)
def test_a_sealed_cookie_store_saves_only_what_it_can_open_again(
    access: int, refresh: int, name: str
) -> None:
    tokens = TokenSet(
        access_token="a" * access,
        refresh_token="r" * refresh or None,
        expires_at=1_767_225_600.0,
    )
    sealer = CookieSealer(STORE_SECRET)
    store = SealedCookieTokenStore(sealer, None, name=name)
    store.save(TOKENS)  # a small set first: a refused save must keep it
    payload = json.dumps(tokens.to_json_dict(), separators=(",", ":"))
    sealed_length = 24 + 1 + 32 + 1 + 2 * len(payload.encode())  # iv:tag:ciphertext, hex
    fits = len(name) + 1 + sealed_length <= MAX_SEALED_LENGTH
    saved = tokens if fits else TOKENS
    if fits:
        store.save(tokens)
    else:
        with pytest.raises(TokenCookieTooLargeError) as info:
            store.save(tokens)
        assert isinstance(info.value, CivitaiError)
        assert info.value.size == len(name) + 1 + sealed_length
        assert info.value.limit == MAX_SEALED_LENGTH
        assert "aaaa" not in str(info.value)
        assert "rrrr" not in str(info.value)
    assert store.load() == saved
    header = store.set_cookie_header()
    assert header is not None
    pair = header.split(";")[0]
    assert len(pair) <= MAX_SEALED_LENGTH  # one cookie a browser keeps
    again = SealedCookieTokenStore(CookieSealer(STORE_SECRET), pair, name=name)
    assert again.load() == saved  # and the next request opens it


def test_a_token_set_past_one_cookie_is_refused_at_save_not_lost_later() -> None:
    big = TokenSet(access_token="x" * 2500, refresh_token="y" * 500, expires_at=1.0)
    store = SealedCookieTokenStore(CookieSealer(STORE_SECRET), None)
    with pytest.raises(TokenCookieTooLargeError, match="server-side store"):
        store.save(big)
    assert store.set_cookie_header() is None  # nothing changed, nothing to send
    small_sealer = CookieSealer(STORE_SECRET, max_length=200)
    with pytest.raises(TokenCookieTooLargeError):  # the sealer could not open it again
        SealedCookieTokenStore(small_sealer, None).save(TOKENS)
