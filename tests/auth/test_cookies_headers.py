"""Set-Cookie building (0.14 order and defaults, injection refused) and Cookie reading."""

from __future__ import annotations

import pytest

from civitai_app_sdk.cookies import build_set_cookie_header, read_cookie


def test_defaults_match_node() -> None:
    assert (
        build_set_cookie_header("civ_session", "abc")
        == "civ_session=abc; Max-Age=3600; Path=/; Secure; HttpOnly; SameSite=lax"
    )


def test_every_attribute_in_node_order() -> None:
    header = build_set_cookie_header(
        "sid",
        "v",
        max_age=0,
        path="",
        secure=True,
        http_only=False,
        same_site="Strict",
        domain="example.com",
    )
    assert header == "sid=v; Max-Age=0; Path=; Domain=example.com; Secure; SameSite=Strict"


def test_negative_max_age_kept_and_insecure_lax() -> None:
    header = build_set_cookie_header("sid", "", max_age=-1, secure=False, domain="")
    assert header == "sid=; Max-Age=-1; Path=/; HttpOnly; SameSite=lax"


def test_sealed_value_is_a_valid_cookie_value() -> None:
    value = "0" * 24 + ":" + "f" * 32 + ":abcd"
    assert build_set_cookie_header("s", value).startswith(f"s={value}; ")


@pytest.mark.parametrize(
    "name", ["", "a b", "a;b", "a=b", "a,b", "a\r\nSet-Cookie: x", "a\n", "ä", "a\tb", "(x)"]
)
def test_bad_names_rejected(name: str) -> None:
    with pytest.raises(ValueError, match="name"):
        build_set_cookie_header(name, "v")


@pytest.mark.parametrize(
    "value",
    ["a;b", "a\r\nSet-Cookie: evil=1", "a\nb", "a,b", "a b", 'a"b', "a\\b", "a\x00", "é", "\x7f"],
)
def test_injecting_values_rejected(value: str) -> None:
    with pytest.raises(ValueError, match="value") as info:
        build_set_cookie_header("sid", value)
    assert value not in str(info.value)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"path": "/; Domain=evil.com"}, "path"),
        ({"path": "/\r\nX: y"}, "path"),
        ({"path": "/a,b"}, "path"),
        ({"domain": "evil.com; Secure"}, "domain"),
        ({"domain": "a b"}, "domain"),
        ({"domain": "ex\nample.com"}, "domain"),
        ({"same_site": "lax; Domain=x"}, "same_site"),
        ({"same_site": "sometimes"}, "same_site"),
        ({"same_site": "none", "secure": False}, "Secure"),
        ({"max_age": 1.5}, "max_age"),
        ({"max_age": True}, "max_age"),
    ],
)
def test_bad_attributes_rejected(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        build_set_cookie_header("sid", "v", **kwargs)  # type: ignore[arg-type]


def test_same_site_none_with_secure_is_fine() -> None:
    assert build_set_cookie_header("sid", "v", same_site="None").endswith(
        "Secure; HttpOnly; SameSite=None"
    )


def test_cookie_prefix_rules() -> None:
    assert build_set_cookie_header("__Host-sid", "v").startswith("__Host-sid=v;")
    with pytest.raises(ValueError, match="Secure"):
        build_set_cookie_header("__Secure-sid", "v", secure=False)
    with pytest.raises(ValueError, match="Path"):
        build_set_cookie_header("__Host-sid", "v", domain="example.com")
    with pytest.raises(ValueError, match="Path"):
        build_set_cookie_header("__Host-sid", "v", path="/app")


@pytest.mark.parametrize(
    ("header", "name", "expected"),
    [
        (None, "a", None),
        ("", "a", None),
        ("a=1", "a", "1"),
        ("a=1; b=2", "b", "2"),
        ("a=1;b=2", "b", "2"),
        ("a=first; a=second", "a", "first"),
        ("ab=1", "a", None),
        ("a=b=c", "a", "b=c"),
        ("a=", "a", ""),
        ("a", "a", None),
        ("sid =1", "sid", None),
        ("A=1", "a", None),
        ('a="quoted%20"', "a", '"quoted%20"'),
        ("x=1, a=2", "a", None),  # a comma is not a separator
        ("x=1,a=2", "x", "1,a=2"),
        ("\ufeff\u00a0a=1", "a", "1"),  # JS trim strips BOM and NBSP
        ("\u001ca=1", "a", None),  # but not the information separators
        ("\u0085a=1", "a", None),  # nor NEL
        ("  a=1  ;b=2", "a", "1"),
        ("a=1\u2028", "a", "1"),
    ],
)
def test_read_cookie_matches_node_rules(
    header: str | None, name: str, expected: str | None
) -> None:
    assert read_cookie(header, name) == expected
