"""Regressions from the adversarial audit of the OAuth helpers (issue 20)."""

from __future__ import annotations

from typing import Any

import pytest

from civitai_app_sdk.oauth import DeviceAuthorization, OAuthError

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
