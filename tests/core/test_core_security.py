"""Tokens only over https (loopback excepted) and never in logs or messages (issue 13, 4-5)."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest
import respx

from civitai_app_sdk._redact import redact
from civitai_app_sdk._transport import Call, Settings, SyncTransport
from civitai_app_sdk.errors import (
    ConfigurationError,
    NotFoundError,
    OrchestratorError,
    RequestValidationError,
    TransportError,
)
from civitai_app_sdk.oauth import OAuthClient, fetch_me
from civitai_app_sdk.orchestrator import AsyncOrchestratorClient, OrchestratorClient

SECRET = "tok-SECRET-91c2"
CAPABILITY = "ENCRYPTEDcapabilityTOKEN123"


@pytest.mark.parametrize("url", ["http://api.example.com", "http://10.0.0.5:8080", "HTTP://x.test"])
@pytest.mark.parametrize("kind", [OrchestratorClient, AsyncOrchestratorClient])
def test_no_bearer_token_over_plain_http(kind: type, url: str) -> None:
    with pytest.raises(ConfigurationError, match="https"):
        kind(SECRET, base_url=url)


def test_bearer_token_from_the_environment_is_refused_over_http(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CIVITAI_API_TOKEN", SECRET)
    monkeypatch.setenv("CIVITAI_API_URL", "http://evil.example")
    with pytest.raises(ConfigurationError) as info:
        OrchestratorClient()
    assert SECRET not in str(info.value)


@pytest.mark.parametrize("url", ["http://127.0.0.1:9", "http://localhost:9", "http://[::1]:9"])
def test_plain_http_is_allowed_to_loopback(url: str) -> None:
    OrchestratorClient(SECRET, base_url=url).close()


@pytest.mark.parametrize("path", [".evil.example/x", "@evil.example/x", ":8443/x", "x", ""])
def test_a_path_without_a_leading_slash_never_moves_the_token_to_another_host(path: str) -> None:
    sent: list[httpx.Request] = []
    settings = Settings.create(token=SECRET, base_url="https://orch.test")
    transport = SyncTransport(settings, transport=httpx.MockTransport(sent.append))  # type: ignore[arg-type]
    with pytest.raises(RequestValidationError, match="start with '/'"):
        transport.send(Call("GET", path))
    assert sent == []


def test_a_calls_own_token_is_refused_over_plain_http_to_the_settings_origin() -> None:
    sent: list[httpx.Request] = []
    settings = Settings.create(token=None, token_env=None, base_url="http://evil.example")
    transport = SyncTransport(settings, transport=httpx.MockTransport(sent.append))  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="https"):
        transport.send(Call("GET", "/x", token=SECRET))
    assert sent == []


def test_oauth_bearer_calls_refuse_plain_http() -> None:
    with pytest.raises(ConfigurationError):
        fetch_me(SECRET, site_url="http://civitai.example")
    with pytest.raises(ConfigurationError):
        OAuthClient("app", site_url="http://civitai.example")


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        (f"https://o.test/v2/consumer/blobs/content/{CAPABILITY}?x=1", "/blobs/content/***?x=1"),
        (f"https://o.test/v2/consumer/blobs/archive/{CAPABILITY}", "/blobs/archive/***"),
        (f"https://o.test/v2/consumer/blobs/blocked/{CAPABILITY}.jpeg", "/blobs/blocked/***"),
        (f"https://cdn.test/a.png?sig={CAPABILITY}&exp=1", "?sig=***&exp=1"),
        (f"https://cdn.test/a.png?x=1&token={CAPABILITY}", "&token=***"),
        (f"https://s3.test/a?X-Amz-Signature={CAPABILITY}", "X-Amz-Signature=***"),
        (f"failed: Authorization: Bearer {CAPABILITY}", "Bearer ***"),
    ],
)
def test_redact_masks_capabilities_in_text(text: str, kept: str) -> None:
    shown = redact(text)
    assert CAPABILITY not in shown
    assert kept in shown


def test_redact_masks_secret_headers_whole() -> None:
    headers = {
        "Authorization": f"Bearer {SECRET}",
        "Cookie": f"session={SECRET}",
        "set-cookie": f"a={SECRET}",
        "Location": f"https://o.test/v2/consumer/blobs/content/{CAPABILITY}",
        "Accept": "application/json",
    }
    shown = redact(headers)
    assert SECRET not in str(shown)
    assert CAPABILITY not in str(shown)
    assert shown["Accept"] == "application/json"


def test_blob_redirect_never_logs_the_capability_url(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="civitai_app_sdk")
    content = f"https://o.test/v2/consumer/blobs/content/{CAPABILITY}"
    with respx.mock() as api:
        api.get("https://o.test/v2/consumer/blobs/b1").respond(302, headers={"Location": content})
        api.get(content).respond(200, content=b"png")
        with OrchestratorClient(SECRET, base_url="https://o.test") as client:
            assert client.get_blob("b1") == b"png"
    assert "/blobs/content/***" in caplog.text
    assert CAPABILITY not in caplog.text
    assert SECRET not in caplog.text


def test_error_messages_never_carry_a_capability() -> None:
    content = f"https://o.test/v2/consumer/blobs/content/{CAPABILITY}"
    with respx.mock() as api:
        api.get("https://o.test/v2/consumer/blobs/b1").respond(302, headers={"Location": content})
        api.get(content).mock(side_effect=httpx.ConnectError(f"cannot reach {content}"))
        with (
            OrchestratorClient(SECRET, base_url="https://o.test", max_retries=0) as client,
            pytest.raises(TransportError) as info,
        ):
            client.get_blob("b1")
    assert CAPABILITY not in str(info.value)
    assert CAPABILITY not in repr(info.value)


@pytest.mark.parametrize(
    ("url", "secret"),
    [
        (f"https://o.test/v2/consumer/blobs/content/{CAPABILITY}", CAPABILITY),
        (f"https://cdn.test/b1?sig={CAPABILITY}&exp=2026", CAPABILITY),
    ],
)
def test_a_capability_the_server_echoes_bare_is_masked(url: str, secret: str) -> None:
    """An expired link's 403 that said "token ENCRYPTED... expired" put the capability
    in the message, as the bearer token already was not."""
    problem = {"title": "Forbidden", "detail": f"token {secret} expired"}
    with respx.mock() as api:
        api.get("https://o.test/v2/consumer/blobs/b1").respond(302, headers={"Location": url})
        api.get(url).respond(403, json=problem)
        with (
            OrchestratorClient(SECRET, base_url="https://o.test", max_retries=0) as client,
            pytest.raises(OrchestratorError) as info,
        ):
            client.get_blob("b1")
    assert "token *** expired" in str(info.value)
    for shown in (str(info.value), repr(info.value), str(info.value.body)):
        assert secret not in shown


def test_an_expired_archive_token_echoed_by_the_server_is_masked(tmp_path: Path) -> None:
    archive = f"https://o.test/v2/consumer/blobs/archive/{CAPABILITY}"
    with respx.mock() as api:
        api.get(archive).respond(410, json={"title": "Gone", "detail": f"{CAPABILITY} expired"})
        with (
            OrchestratorClient(SECRET, base_url="https://o.test") as client,
            pytest.raises(OrchestratorError) as info,
        ):
            client.download_archive(CAPABILITY, tmp_path)
    assert CAPABILITY not in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_civitai_log_env_turns_on_debug_logging(monkeypatch: pytest.MonkeyPatch) -> None:
    from civitai_app_sdk import _logging

    monkeypatch.setenv("CIVITAI_LOG", "debug")
    _logging.configure_from_env.cache_clear()
    root = logging.getLogger(_logging.LOGGER_NAME)
    before = list(root.handlers)
    try:
        with respx.mock() as api:
            api.get("https://o.test/v2/consumer/workflows/w").respond(404)
            with (
                OrchestratorClient(SECRET, base_url="https://o.test") as client,
                pytest.raises(NotFoundError),
            ):
                client.get("w")
        assert root.level == logging.DEBUG
        assert len(root.handlers) == len(before) + 1
    finally:
        root.handlers[:] = before
        root.setLevel(logging.NOTSET)
        _logging.configure_from_env.cache_clear()
