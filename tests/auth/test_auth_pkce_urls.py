"""PKCE (RFC 7636), state, base URLs, form encoding and the authorize URL vs Node 0.14."""

from __future__ import annotations

import base64
import json
import re
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from civitai_app_sdk.oauth import (
    DEFAULT_ISSUER,
    PkcePair,
    build_authorize_url,
    generate_pkce,
    generate_state,
    pkce_challenge,
)
from civitai_app_sdk.oauth.urls import endpoint_url, form_encode, normalize_base_url
from civitai_app_sdk.scopes import TokenScope
from tests.pinned import pinned_json

FIXTURES = Path(__file__).parent / "fixtures"
NODE = json.loads((FIXTURES / "node_oauth_requests.json").read_text("utf-8"))


@pytest.fixture(scope="module")
def discovery() -> dict[str, Any]:
    """The pinned discovery document (these tests skip without it; see tests/pinned.py)."""
    loaded: dict[str, Any] = pinned_json("discovery")
    return loaded


CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSkMw-cM"  # any 43 base64url characters
B64URL = re.compile(r"[A-Za-z0-9_-]+")


# RFC 7636 appendix B: the 32 octets, their base64url verifier and its S256 challenge.
RFC_OCTETS = bytes(
    [
        *(116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186),
        *(22, 212, 37, 77, 105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121),
    ]
)
RFC_VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
RFC_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_rfc7636_appendix_b_vector() -> None:
    assert base64.urlsafe_b64encode(RFC_OCTETS).rstrip(b"=").decode() == RFC_VERIFIER
    assert pkce_challenge(RFC_VERIFIER) == RFC_CHALLENGE


def test_generate_pkce_is_base64url_of_32_random_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(secrets, "token_bytes", lambda n: RFC_OCTETS[:n])
    assert generate_pkce() == PkcePair(verifier=RFC_VERIFIER, challenge=RFC_CHALLENGE)


def test_generate_pkce_shape() -> None:
    pair = generate_pkce()
    assert pair.method == "S256"
    assert len(pair.verifier) == 43
    assert B64URL.fullmatch(pair.verifier)
    assert pair.challenge == pkce_challenge(pair.verifier)
    assert len(pair.challenge) == 43
    assert generate_pkce().verifier != pair.verifier


def test_pkce_pair_repr_hides_verifier() -> None:
    pair = PkcePair(verifier="v" * 43, challenge=pkce_challenge("v" * 43))
    assert "v" * 43 not in repr(pair)
    assert pair.challenge in repr(pair)


@pytest.mark.parametrize(
    "verifier", ["short", "x" * 42, "x" * 129, "a" * 42 + " ", "é" * 43, "a+" * 30]
)
def test_pkce_challenge_rejects_invalid_verifiers(verifier: str) -> None:
    with pytest.raises(ValueError, match="verifier"):
        pkce_challenge(verifier)


@given(st.text(alphabet="ABCabc0123456789-._~", min_size=43, max_size=128))
def test_pkce_challenge_accepts_every_valid_verifier(verifier: str) -> None:
    assert len(pkce_challenge(verifier)) == 43


def test_generate_state_lengths() -> None:
    assert len(generate_state()) == 43
    assert len(generate_state(16)) == 22
    assert B64URL.fullmatch(generate_state(64))
    assert generate_state() != generate_state()
    with pytest.raises(ValueError, match="random bytes"):
        generate_state(8)
    with pytest.raises(TypeError):
        generate_state(True)


def test_default_issuer_is_the_discovery_issuer(discovery: dict[str, Any]) -> None:
    assert discovery["issuer"] == DEFAULT_ISSUER
    assert (
        endpoint_url(DEFAULT_ISSUER, "/api/auth/oauth/authorize")
        == (discovery["authorization_endpoint"])
    )
    assert endpoint_url(DEFAULT_ISSUER, "/api/auth/oauth/token") == discovery["token_endpoint"]
    assert (
        endpoint_url(DEFAULT_ISSUER, "/api/auth/oauth/revoke") == (discovery["revocation_endpoint"])
    )
    assert (
        endpoint_url(DEFAULT_ISSUER, "/api/auth/oauth/device")
        == (discovery["device_authorization_endpoint"])
    )


def _node_kwargs(node_input: dict[str, object]) -> dict[str, object]:
    kwargs = {
        "client_id": node_input["clientId"],
        "redirect_uri": node_input["redirectUri"],
        "scope": node_input["scope"],
        "state": node_input["state"],
        "code_challenge": node_input["codeChallenge"],
        # 0.14's default base is https://civitai.com; ours is the issuer.
        "base_url": node_input.get("baseUrl", "https://civitai.com"),
    }
    return kwargs


@pytest.mark.parametrize("case", NODE["authorize"], ids=lambda case: case["input"]["clientId"])
def test_authorize_url_is_identical_to_node(case: dict[str, object]) -> None:
    assert build_authorize_url(**_node_kwargs(case["input"])) == case["url"]  # type: ignore[arg-type]


def test_authorize_url_defaults_to_issuer_and_orders_parameters(
    discovery: dict[str, Any],
) -> None:
    url = build_authorize_url(
        client_id="c", redirect_uri="https://a.b/cb", scope=1, state="s", code_challenge=CHALLENGE
    )
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == discovery["authorization_endpoint"]
    assert [key for key, _ in parse_qsl(parts.query)] == [
        "client_id",
        "redirect_uri",
        "response_type",
        "state",
        "scope",
        "code_challenge",
        "code_challenge_method",
    ]


def test_authorize_url_accepts_names_and_nonce() -> None:
    url = build_authorize_url(
        client_id="c",
        redirect_uri="https://a.b/cb",
        scope=["UserRead", TokenScope.BuzzRead],
        state="s",
        code_challenge=CHALLENGE,
        nonce="n 1",
    )
    assert "&scope=65537&" in url
    assert url.endswith("&code_challenge_method=S256&nonce=n+1")


def test_authorize_url_keeps_base_path_and_drops_trailing_slash() -> None:
    url = build_authorize_url(
        client_id="c",
        redirect_uri="r",
        scope=1,
        state="s",
        code_challenge=CHALLENGE,
        base_url="HTTPS://Example.COM:443/civitai/proxy/",
    )
    assert url.startswith("https://example.com/civitai/proxy/api/auth/oauth/authorize?")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"scope": ["UserRead", "Typo"]}, "unknown"),
        ({"scope": 2**27}, "outside"),
        ({"scope": -1}, "outside|negative"),
        ({"code_challenge_method": "plain"}, "S256"),
        ({"code_challenge": "short"}, "code_challenge"),
        ({"client_id": ""}, "client_id"),
        ({"redirect_uri": ""}, "redirect_uri"),
        ({"state": ""}, "state"),
        ({"base_url": "ftp://example.com"}, "http"),
    ],
)
def test_authorize_url_is_strict(kwargs: dict[str, object], match: str) -> None:
    args: dict[str, object] = {
        "client_id": "c",
        "redirect_uri": "r",
        "scope": 1,
        "state": "s",
        "code_challenge": CHALLENGE,
        **kwargs,
    }
    with pytest.raises(ValueError, match=match):
        build_authorize_url(**args)  # type: ignore[arg-type]


def test_authorize_scope_rejects_bool() -> None:
    with pytest.raises(TypeError):
        build_authorize_url(
            client_id="c", redirect_uri="r", scope=True, state="s", code_challenge=CHALLENGE
        )


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        ("https://civitai.com", "https://civitai.com"),
        ("https://civitai.com/", "https://civitai.com"),
        ("https://civitai.com//", "https://civitai.com"),
        ("https://example.com/proxy/civitai/", "https://example.com/proxy/civitai"),
        ("https://example.com:8443", "https://example.com:8443"),
        ("http://localhost:3000/", "http://localhost:3000"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://[::1]:8080", "http://[::1]:8080"),
        ("http://127.9.8.7", "http://127.9.8.7"),
    ],
)
def test_normalize_base_url(base: str, expected: str) -> None:
    assert normalize_base_url(base) == expected


@pytest.mark.parametrize(
    "base",
    [
        "http://civitai.com",
        "civitai.com",
        "https://",
        "https://user:pw@civitai.com",
        "https://civitai.com?x=1",
        "https://civitai.com#frag",
        "https://civitai.com:99999",
        "https://exa mple.com",
        "https://例え.jp",
        "javascript:alert(1)",
        "http://app.localhost",  # a *.localhost name may be resolved through DNS
        "http://localhost.",
        "http://[::ffff:127.0.0.1]",
    ],
)
def test_normalize_base_url_rejects(base: str) -> None:
    with pytest.raises(ValueError, match="base URL"):
        normalize_base_url(base)


@pytest.mark.parametrize(
    "base",
    [
        "https://me:hunter2pw@civitai.com",
        "http://me:hunter2pw@example.com",
        "ftp://me:hunter2pw@x",
        "https://me:hunter2pw@civitai.com:99999",
        "https://:hunter2pw@civitai.com/p?q=1",
    ],
)
def test_a_refused_base_url_never_repeats_its_password(base: str) -> None:
    """`civitai-orch login --auth-url https://me:pw@…` (or CIVITAI_AUTH_URL) printed
    the password in the error that refused it."""
    with pytest.raises(ValueError, match="base URL") as info:
        normalize_base_url(base)
    assert "hunter2pw" not in str(info.value)
    assert "***@" in str(info.value)


def test_form_encode_matches_url_search_params() -> None:
    assert form_encode([("a", "x y"), ("b", "~*-._!'()/é")]) == (
        "a=x+y&b=%7E*-._%21%27%28%29%2F%C3%A9"
    )
    for case in NODE["requests"]:
        pairs = parse_qsl(case["body"], keep_blank_values=True)
        assert form_encode(pairs) == case["body"]
