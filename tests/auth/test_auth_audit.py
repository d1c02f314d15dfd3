"""Regressions from the adversarial audit of the OAuth helpers (issue 20)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from civitai_app_sdk.errors import OrchestratorError
from civitai_app_sdk.oauth import DeviceAuthorization, OAuthClient, OAuthError
from civitai_app_sdk.orchestrator import OrchestratorClient

GOOD: dict[str, Any] = {
    "device_code": "dev-secret",
    "user_code": "ABCD-EFGH",
    "verification_uri": "https://auth.civitai.com/login/oauth/device",
    "verification_uri_complete": "https://auth.civitai.com/login/oauth/device?code=ABCD-EFGH",
    "expires_in": 600,
    "interval": 5,
}


def test_a_well_formed_device_answer_is_read() -> None:
    grant = DeviceAuthorization.from_response(GOOD, now=0.0)
    assert grant.verification_uri == GOOD["verification_uri"]
    assert grant.verification_uri_complete == GOOD["verification_uri_complete"]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("verification_uri", "javascript:alert(1)"),
        ("verification_uri", "file:///etc/passwd"),
        ("verification_uri", "https://"),
        ("verification_uri_complete", "javascript:alert(document.cookie)"),
        ("user_code", "ABCD\x1b]0;owned\x07"),
        ("verification_uri", "https://auth.example/\x1b[2J"),
        ("user_code", "AB\r\nCD"),
    ],
)
def test_a_hostile_device_answer_cannot_show_links_or_terminal_escapes(
    key: str, value: str
) -> None:
    # before: a javascript: link or terminal escapes were handed to the CLI to print/open
    with pytest.raises(OAuthError, match="invalid_response"):
        DeviceAuthorization.from_response({**GOOD, key: value}, now=0.0)


REFRESH = "rt-SECRET-refresh-0042"
CLIENT_SECRET = "cs-SECRET-client-0042"


def test_an_oauth_error_echoing_the_refresh_token_or_client_secret_masks_them() -> None:
    # before: a server echoing the grant put the refresh token (or the client secret)
    # into the OAuthError message, and from there into logs
    def answer(request: httpx.Request) -> httpx.Response:
        text = f"refresh token {REFRESH} for client secret {CLIENT_SECRET} is revoked"
        return httpx.Response(400, json={"error": "invalid_grant", "error_description": text})

    http = httpx.Client(transport=httpx.MockTransport(answer))
    client = OAuthClient("app", CLIENT_SECRET, http_client=http, max_retries=0)
    with pytest.raises(OAuthError) as info:
        client.refresh_token(REFRESH)
    shown = f"{info.value} {info.value!r} {info.value.error_description}"
    assert REFRESH not in shown
    assert CLIENT_SECRET not in shown
    assert info.value.error == "invalid_grant"
    assert "is revoked" in shown


@pytest.mark.parametrize(
    "body",
    [
        {"error": "invalid_grant", "detail": {"seen": [f"refresh_token={REFRESH}"]}},
        {"error": "invalid_grant", REFRESH: CLIENT_SECRET},
        {"error": f"bad {REFRESH}"},
        f"<pre>client_secret={CLIENT_SECRET}</pre>",
        [[[[f"{REFRESH} {CLIENT_SECRET}"]]]],
    ],
)
def test_an_echoed_secret_is_masked_in_the_error_body_too(body: object) -> None:
    # before: only the message and error_description were masked; OAuthError.body, which
    # apps log to see what the server said, still held the refresh token and client secret
    def answer(request: httpx.Request) -> httpx.Response:
        if isinstance(body, str):
            return httpx.Response(400, text=body)
        return httpx.Response(400, json=body)

    http = httpx.Client(transport=httpx.MockTransport(answer))
    client = OAuthClient("app", CLIENT_SECRET, http_client=http, max_retries=0)
    with pytest.raises(OAuthError) as info:
        client.refresh_token(REFRESH)
    shown = f"{info.value} {info.value!r} {info.value.error} {info.value.body!r}"
    assert REFRESH not in shown
    assert CLIENT_SECRET not in shown
    assert "***" in repr(info.value.body)


def test_masking_a_deeply_nested_error_body_does_not_recurse() -> None:
    depth = 700  # the JSON parser reads it; a recursive walk (two frames a level) overflowed
    deep = "[" * depth + f'"{REFRESH}"' + "]" * depth

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, text=deep)

    http = httpx.Client(transport=httpx.MockTransport(answer))
    client = OAuthClient("app", http_client=http, max_retries=0)
    with pytest.raises(OAuthError) as info:
        client.refresh_token(REFRESH)
    assert isinstance(info.value.body, list)
    assert REFRESH not in str(info.value.body)


def test_an_api_error_echoing_the_bearer_token_masks_it_in_its_body() -> None:
    token = "at-SECRET-access-0042"

    def answer(request: httpx.Request) -> httpx.Response:
        seen = request.headers["authorization"]
        problem = {"title": "Unauthorized", "detail": f"rejected {seen}", "errors": {"h": [seen]}}
        return httpx.Response(401, json=problem)

    http = httpx.Client(transport=httpx.MockTransport(answer))
    client = OrchestratorClient(token, base_url="https://api.example", http_client=http)
    with pytest.raises(OrchestratorError) as info:
        client.get("wf-1")
    error = info.value
    shown = f"{error} {error.body!r} {error.body_text} {error.problem!r}"
    assert token not in shown
    assert "rejected Bearer ***" in shown
