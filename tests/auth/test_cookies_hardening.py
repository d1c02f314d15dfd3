"""Cookie hardening: the 4 KB cap, prefix case, weak-secret warnings, the module cache."""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from civitai_app_sdk import cookies
from civitai_app_sdk.cookies import (
    MAX_SEALED_LENGTH,
    MIN_SECRET_LENGTH,
    CookieSealer,
    WeakCookieSecretWarning,
    build_set_cookie_header,
    seal_cookie,
    sealed_length,
    unseal_cookie,
)
from civitai_app_sdk.errors import CivitaiError, SealedCookieTooLargeError

FIXTURES = Path(__file__).parent / "fixtures"
NODE_SEALED = json.loads((FIXTURES / "node_sealed_cookies.json").read_text("utf-8"))
STRONG = "a-strong-cookie-secret-0123456789abcdef"
SEALER = CookieSealer(STRONG)
OVERHEAD = 24 + 1 + 32 + 1  # hex IV, ':', hex tag, ':'


def no_derivation(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(secret: str) -> bytes:
        raise AssertionError("a key was derived")

    monkeypatch.setattr(cookies, "_derive_key", refuse)


# -- 4 KB cap ------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(length=st.integers(min_value=0, max_value=3000))
def test_sealed_values_open_exactly_up_to_4_kb(length: int) -> None:
    """What seals opens again; a value whose sealed form would pass 4 KB is refused
    when sealed (it used to seal to a cookie no unseal opened: a session lost)."""
    value = "x" * length
    if OVERHEAD + 2 * length > MAX_SEALED_LENGTH:
        with pytest.raises(SealedCookieTooLargeError):
            SEALER.seal(value)
        return
    sealed = SEALER.seal(value)
    assert len(sealed) == OVERHEAD + 2 * length == sealed_length(value)
    assert SEALER.unseal(sealed) == value
    assert unseal_cookie(sealed, STRONG) == value


def test_the_boundary_is_4096_characters() -> None:
    fits = "y" * ((MAX_SEALED_LENGTH - OVERHEAD) // 2)
    assert len(SEALER.seal(fits)) == MAX_SEALED_LENGTH
    assert SEALER.unseal(SEALER.seal(fits)) == fits
    with pytest.raises(SealedCookieTooLargeError):
        SEALER.seal(fits + "y")


@pytest.mark.parametrize("seal", [SEALER.seal, lambda value: seal_cookie(value, STRONG)])
@pytest.mark.parametrize("value", ["s" * 2020, "é" * 1010, "\U0001f600" * 600])
def test_a_value_too_large_to_unseal_is_not_sealed(seal: Callable[[str], str], value: str) -> None:
    """A session sealed past 4 KB could never be read back; sealing says so instead,
    as a typed error that names no part of the value."""
    with pytest.raises(SealedCookieTooLargeError, match="store less in it") as info:
        seal(value)
    assert isinstance(info.value, CivitaiError)
    assert isinstance(info.value, ValueError)
    assert info.value.length == sealed_length(value) > MAX_SEALED_LENGTH
    assert info.value.limit == MAX_SEALED_LENGTH
    assert value[:8] not in str(info.value)


def test_a_larger_max_length_seals_what_it_opens() -> None:
    big = CookieSealer(STRONG, max_length=3 * MAX_SEALED_LENGTH)
    value = "z" * MAX_SEALED_LENGTH
    assert big.unseal(big.seal(value)) == value
    with pytest.raises(SealedCookieTooLargeError):
        big.seal(value * 2)


@settings(max_examples=40, deadline=None)
@given(extra=st.integers(min_value=1, max_value=200_000))
def test_oversized_well_formed_values_are_refused_before_any_key_work(extra: int) -> None:
    ciphertext_bytes = (MAX_SEALED_LENGTH - OVERHEAD) // 2 + extra
    sealed = f"{os.urandom(12).hex()}:{os.urandom(16).hex()}:{'ab' * ciphertext_bytes}"
    cold = CookieSealer(["never-derived-secret-0123456789abcdef"])
    with pytest.MonkeyPatch.context() as patch:
        no_derivation(patch)
        assert cold.unseal(sealed) is None
        assert unseal_cookie(sealed, ["another-never-derived-secret-0123456789"]) is None


@pytest.mark.parametrize("bad", ["4096", None, 4096.5, True, 0, -1, OVERHEAD - 1])
def test_a_max_length_that_cannot_work_is_refused_when_made(bad: object) -> None:
    """A str or None max_length made every unseal raise TypeError (an unseal that
    "never raises"; in a web app every request); 0, True or anything shorter than an
    empty sealed value silently opened no cookie at all (every session dropped)."""
    from civitai_app_sdk.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="max_length"):
        CookieSealer(STRONG, max_length=bad)  # type: ignore[arg-type]


def test_the_smallest_max_length_opens_an_empty_value() -> None:
    assert CookieSealer(STRONG, max_length=OVERHEAD).unseal(SEALER.seal("")) == ""


# -- __Host- / __Secure- prefixes in any letter case ---------------------------------


def any_case(text: str) -> st.SearchStrategy[str]:
    return st.tuples(*(st.sampled_from([c.lower(), c.upper()]) for c in text)).map("".join)


@given(prefix=any_case("__secure-") | any_case("__host-"))
def test_prefix_rules_ignore_letter_case(prefix: str) -> None:
    name = f"{prefix}sid"
    with pytest.raises(ValueError, match="requires Secure"):
        build_set_cookie_header(name, "v", secure=False)
    assert build_set_cookie_header(name, "v").startswith(f"{name}=v;")


@given(prefix=any_case("__host-"))
def test_host_prefix_in_any_case_needs_root_path_and_no_domain(prefix: str) -> None:
    name = f"{prefix}sid"
    with pytest.raises(ValueError, match="Path=/"):
        build_set_cookie_header(name, "v", domain="example.com")
    with pytest.raises(ValueError, match="Path=/"):
        build_set_cookie_header(name, "v", path="/app")


@given(prefix=any_case("__secure-"))
def test_secure_prefix_in_any_case_allows_domain_and_path(prefix: str) -> None:
    header = build_set_cookie_header(f"{prefix}sid", "v", domain="example.com", path="/app")
    assert "Domain=example.com" in header


# -- weak secrets --------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(secret=st.text(min_size=1, max_size=MIN_SECRET_LENGTH - 1))
def test_short_secrets_warn_but_still_work(secret: str) -> None:
    with pytest.warns(WeakCookieSecretWarning, match=f"#1 has {len(secret)} characters"):
        sealer = CookieSealer(["strong-rotation-head-0123456789abcdef", secret])
    with pytest.warns(WeakCookieSecretWarning):
        under_short = CookieSealer(secret).seal("v")
    assert sealer.unseal(under_short) == "v"


@given(secret=st.text(min_size=MIN_SECRET_LENGTH, max_size=80))
def test_long_secrets_do_not_warn(secret: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        CookieSealer(secret)


def test_warning_never_shows_the_secret() -> None:
    with pytest.warns(WeakCookieSecretWarning) as caught:
        CookieSealer("hunter2")
    with pytest.warns(WeakCookieSecretWarning) as module_caught:
        unseal_cookie("x", "hunter3")
    for record in [*caught, *module_caught]:
        assert "hunter" not in str(record.message)
        assert record.filename == __file__  # points at the caller, not at the SDK


@pytest.mark.parametrize("item", NODE_SEALED, ids=lambda item: item["value"][:12])
def test_node_cookies_under_short_secrets_still_open(item: dict[str, str]) -> None:
    if len(item["secret"]) >= MIN_SECRET_LENGTH:
        pytest.skip("the fixture's secret is long enough")
    with pytest.warns(WeakCookieSecretWarning):
        sealer = CookieSealer(item["secret"])
    assert sealer.unseal(item["sealed"]) == item["value"]


# -- the cache behind seal_cookie / unseal_cookie ------------------------------------


def test_module_cache_is_bounded_and_rederives_evicted_keys(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []
    real = cookies._derive_key

    def counting(secret: str) -> bytes:
        calls.append(secret)
        return real(secret)

    monkeypatch.setattr(cookies, "_derive_key", counting)
    monkeypatch.setattr(cookies, "_shared", {})
    secrets = [f"bounded-cache-secret-{i:02d}-0123456789abcdef" for i in range(40)]
    sealed = [seal_cookie("v", s) for s in secrets]
    assert len(cookies._shared) <= 16
    assert calls == secrets
    assert unseal_cookie(sealed[-1], secrets[-1]) == "v"
    assert len(calls) == 40  # recent: still cached
    assert unseal_cookie(sealed[0], secrets[0]) == "v"
    assert calls[-1] == secrets[0]  # evicted: derived again


@pytest.mark.parametrize("secrets", [[], "", ["a" * 40, ""], ["a" * 40] * 2])
def test_module_functions_apply_the_sealer_rules(secrets: list[str] | str) -> None:
    with pytest.raises(ValueError, match="secret"):
        unseal_cookie("x", secrets)
    with pytest.raises(ValueError, match="secret"):
        CookieSealer(secrets)


def test_module_rotation_matches_the_sealer() -> None:
    old, new = "old-rotation-secret-0123456789abcdef", "new-rotation-secret-0123456789abcdef"
    legacy = seal_cookie("session", old)
    assert unseal_cookie(legacy, [new, old]) == "session"
    assert unseal_cookie(legacy, (new, old)) == "session"
    assert unseal_cookie(legacy, [new]) is None
    assert unseal_cookie(seal_cookie("fresh", new), [new, old]) == "fresh"
