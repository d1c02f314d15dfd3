"""Cookie chunking: values past ~4 KB split, read back whole, stale chunks deleted."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from civitai_app_sdk.errors import CivitaiError, ConfigurationError
from civitai_app_sdk.web import COOKIE_LIMIT, ChunkedCookie, CookieTooLargeError

OCTETS = st.text(alphabet="0123456789abcdef:-_", min_size=1, max_size=30_000)


def as_request(headers: list[str]) -> str:
    """The Cookie header a browser sends after storing ``headers``."""
    jar: dict[str, str] = {}
    for header in headers:
        pair, _, attrs = header.partition("; ")
        name, _, value = pair.partition("=")
        if "Max-Age=0" in attrs.split("; "):
            jar.pop(name, None)
        else:
            jar[name] = value
    return "; ".join(f"{k}={v}" for k, v in jar.items())


@given(OCTETS)
def test_any_value_round_trips_and_every_cookie_fits(value: str) -> None:
    cookie = ChunkedCookie("__Host-s", 3600, True)
    headers = cookie.set_cookie_headers(value)
    for header in headers:
        assert len(header.partition("; ")[0]) <= COOKIE_LIMIT
        assert header.startswith("__Host-s")
        assert "; Secure; HttpOnly; SameSite=lax" in header
    assert cookie.read(as_request(headers)) == value
    assert (len(headers) == 1) == (len(value) + len("__Host-s=") <= COOKIE_LIMIT)


@given(OCTETS, OCTETS)
def test_rewriting_a_shorter_value_deletes_the_old_tail(first: str, second: str) -> None:
    cookie = ChunkedCookie("s", 3600, False)
    before = as_request(cookie.set_cookie_headers(first))
    after = as_request(before_headers := cookie.set_cookie_headers(second, present=_names(before)))
    merged = as_request([*_as_set(before), *before_headers])
    assert cookie.read(merged) == second
    assert cookie.read(after) == second
    assert set(_names(merged)) <= {"s"} | {f"s.{i}" for i in range(1, 9)}
    assert len(_names(merged)) == len(before_headers) - sum(
        "Max-Age=0" in h for h in before_headers
    )


def _names(header: str) -> list[str]:
    return [piece.split("=")[0] for piece in header.split("; ") if piece]


def _as_set(header: str) -> list[str]:
    return [f"{piece}; Max-Age=60" for piece in header.split("; ") if piece]


def test_deleting_clears_the_cookie_and_its_chunks() -> None:
    cookie = ChunkedCookie("s", 3600, False)
    present = _names(as_request(cookie.set_cookie_headers("a" * 9000)))
    assert present == ["s", "s.1", "s.2", "s.3"]
    headers = cookie.set_cookie_headers(None, present)
    assert sorted(h.split("=")[0] for h in headers) == present
    assert all("Max-Age=0" in h for h in headers)
    assert cookie.set_cookie_headers(None) == ["s=; Max-Age=0; Path=/; HttpOnly; SameSite=lax"]


@pytest.mark.parametrize(
    "header",
    [
        "s=chunks.3; s.1=aa; s.3=cc",  # a chunk is missing
        "s=chunks.9; s.1=a",  # more chunks than allowed
        "s=chunks.2; s.1=aa; s.2=",  # an empty chunk
    ],
)
def test_a_half_written_value_reads_as_none(header: str) -> None:
    assert ChunkedCookie("s", 60, False).read(header) is None


def test_too_large_a_value_is_a_typed_error_suggesting_a_store() -> None:
    cookie = ChunkedCookie("s", 60, False, max_chunks=2)
    with pytest.raises(CookieTooLargeError, match="server-side store") as caught:
        cookie.set_cookie_headers("a" * 9000)
    assert isinstance(caught.value, CivitaiError)


def test_a_value_looking_like_a_marker_is_refused() -> None:
    with pytest.raises(ConfigurationError):
        ChunkedCookie("s", 60, False).split("chunks.2")


def test_prefix_rules_are_checked_at_construction() -> None:
    with pytest.raises(ConfigurationError, match="Secure"):
        ChunkedCookie("__Host-s", 60, secure=False)
