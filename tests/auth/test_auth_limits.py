"""The OAuth clients run on the request core, so its deadlines and body caps hold for them.

A hanging or trickling server ends a token call by the client's ``timeout``; an answer
past 1 MiB is refused (``invalid_response``) after reading at most that much, and an
error answer keeps only its first 64 KiB.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
import respx

from civitai_app_sdk._limits import MAX_ERROR_BODY, MAX_JSON_BODY
from civitai_app_sdk.errors import CivitaiError, RequestTimeoutError, ResponseTooLargeError
from civitai_app_sdk.local.hostile import HostileServer
from civitai_app_sdk.oauth import AsyncOAuthClient, OAuthClient, OAuthError
from civitai_app_sdk.oauth._core import MAX_OAUTH_BODY
from tests.streams import MIB, Counted

BASE = "https://auth.civitai.com"
TOKEN_URL = f"{BASE}/api/auth/oauth/token"
SITE = "https://civitai.com"
SLACK = 0.6
"""Scheduling slack allowed on top of a deadline on a busy two-core machine."""


def call(mode: str, method: str, *args: Any, **options: Any) -> Any:
    """``method`` of a fresh sync or async public OAuth client built with ``options``."""
    if mode == "sync":
        with OAuthClient("app_123", **options) as client:
            return getattr(client, method)(*args)

    async def go() -> Any:
        async with AsyncOAuthClient("app_123", **options) as client:
            return await getattr(client, method)(*args)

    return asyncio.run(go())


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("behaviour", ["hang", "trickle"])
def test_an_oauth_call_ends_by_its_timeout(mode: str, behaviour: Any) -> None:
    with HostileServer(behaviour, interval=0.1) as server:
        options = {"base_url": server.url, "site_url": server.url, "timeout": 1.0}
        start = time.monotonic()
        with pytest.raises(RequestTimeoutError):
            call(mode, "fetch_me", "tok", max_retries=0, **options)
        assert time.monotonic() - start < 1.0 + SLACK
        start = time.monotonic()
        with pytest.raises(RequestTimeoutError):  # a grant: never repeated after a timeout
            call(mode, "refresh_token", "rt", **options)
        assert time.monotonic() - start < 1.0 + SLACK


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_an_oversized_token_answer_is_refused_after_reading_at_most_the_cap(mode: str) -> None:
    # the cap was the API's 64 MiB: a 60 MB token answer of "{}"s took a sign-in to 1.6 GB
    body = Counted(MAX_JSON_BODY + 8 * MIB)
    with respx.mock:
        respx.post(TOKEN_URL).mock(return_value=httpx.Response(200, stream=body))
        with pytest.raises(OAuthError) as info:
            call(mode, "refresh_token", "rt", base_url=BASE)
    assert info.value.error == "invalid_response"
    assert "larger than 1,048,576 bytes" in str(info.value)
    cause = info.value.__cause__
    assert isinstance(cause, ResponseTooLargeError)
    assert cause.limit == MAX_OAUTH_BODY
    assert body.pulled <= MAX_OAUTH_BODY + MIB


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_an_oversized_user_answer_is_refused_at_the_oauth_cap(mode: str) -> None:
    body = Counted(4 * MIB)
    with respx.mock:
        respx.get(f"{SITE}/api/v1/me").mock(return_value=httpx.Response(200, stream=body))
        with pytest.raises(OAuthError, match="invalid_response"):
            call(mode, "fetch_me", "tok", site_url=SITE)
    assert body.pulled <= MAX_OAUTH_BODY + MIB


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_an_oauth_error_answer_is_read_up_to_64_kib(mode: str) -> None:
    body = Counted(50 * MIB, chunk=4096)
    with respx.mock:
        respx.post(TOKEN_URL).mock(return_value=httpx.Response(400, stream=body))
        with pytest.raises(CivitaiError):
            call(mode, "refresh_token", "rt", base_url=BASE)
    assert body.pulled <= MAX_ERROR_BODY + 4096
