"""Every failure a public call meets is a CivitaiError: no raw httpx or builtin escapes."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from civitai_app_sdk.errors import (
    CivitaiError,
    ConfigurationError,
    LocalFileError,
    NotFoundError,
    RequestValidationError,
    TransportError,
)
from civitai_app_sdk.oauth import AsyncOAuthClient, OAuthClient, OAuthError
from civitai_app_sdk.orchestrator import AsyncOrchestratorClient, OrchestratorClient

BASE = "https://orch.test"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_redirect_loop_is_a_transport_error() -> None:
    with respx.mock(base_url=BASE) as api:
        api.get("/v2/consumer/blobs/b1").respond(302, headers={"Location": f"{BASE}/loop"})
        api.get("/loop").respond(302, headers={"Location": f"{BASE}/v2/consumer/blobs/b1"})
        with (
            OrchestratorClient("t", base_url=BASE) as client,
            pytest.raises(TransportError) as info,
        ):
            client.get_blob("b1")
    assert isinstance(info.value.__cause__, httpx.TooManyRedirects)


def test_nul_in_an_id_is_sent_encoded_and_the_answer_is_typed() -> None:
    with respx.mock(base_url=BASE) as api:
        route = api.route().respond(404, json={"title": "Not Found"})
        with OrchestratorClient("t", base_url=BASE) as client, pytest.raises(NotFoundError):
            client.get("a\x00b")
    assert route.calls.last.request.url.raw_path == b"/v2/consumer/workflows/a%00b"


@pytest.mark.parametrize("token", ["a\x00b", "a\r\nX-Evil: 1", " "])
def test_nul_or_line_break_in_a_token_is_a_configuration_error(token: str) -> None:
    with pytest.raises(ConfigurationError):
        OrchestratorClient(token, base_url=BASE)


def test_nul_in_a_header_option_is_refused() -> None:
    client = OrchestratorClient("t", base_url=BASE)
    with pytest.raises(CivitaiError):
        client.get("w", extra_headers={"X-A": "a\x00"})
    with pytest.raises(RequestValidationError):
        client.get("w", extra_headers={"Authorization": "Bearer other"})


def test_a_300_character_file_name_the_os_refuses_is_a_local_file_error(tmp_path: Path) -> None:
    long_id = "b" * 300  # into dir= its name is cut to fit; path= is used as given
    with respx.mock(base_url=BASE) as api:
        api.get(f"/v2/consumer/blobs/{long_id}").respond(
            200, content=b"png", headers={"content-type": "image/png"}
        )
        with (
            OrchestratorClient("t", base_url=BASE) as client,
            pytest.raises(LocalFileError) as info,
        ):
            client.download_blob(long_id, path=tmp_path / f"{long_id}.png")
    assert isinstance(info.value, OSError)
    assert list(tmp_path.iterdir()) == []


def test_a_300_character_id_in_a_url_is_sent_and_answered_typed() -> None:
    with respx.mock(base_url=BASE) as api:
        api.route().respond(404)
        with OrchestratorClient("t", base_url=BASE) as client, pytest.raises(NotFoundError):
            client.get("w" * 300)


def test_closed_port_for_oauth_sync_is_a_transport_error() -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    client = OAuthClient("app", base_url=url, site_url=url, max_retries=0)
    with pytest.raises(TransportError):
        client.revoke_token("tok")
    with pytest.raises(TransportError):
        client.fetch_me("tok")


@pytest.mark.anyio
async def test_closed_port_for_oauth_async_is_a_transport_error() -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    async with AsyncOAuthClient("app", base_url=url, site_url=url, max_retries=0) as client:
        with pytest.raises(TransportError):
            await client.start_device_authorization(0)


@pytest.mark.anyio
async def test_closed_port_for_the_async_orchestrator_is_a_transport_error() -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    async with AsyncOrchestratorClient("t", base_url=url, max_retries=0) as client:
        with pytest.raises(TransportError):
            await client.get("w")


def test_oauth_errors_carry_status_code_headers_and_response() -> None:
    with respx.mock() as api:
        api.get("https://civitai.com/api/v1/me").respond(
            401, json={"error": "invalid_token"}, headers={"x-request-id": "r-9"}
        )
        with OAuthClient("app") as client, pytest.raises(OAuthError) as info:
            client.fetch_me("tok")
    error = info.value
    assert isinstance(error, CivitaiError)
    assert (error.status, error.status_code, error.request_id) == (401, 401, "r-9")
    assert error.response is not None
    assert error.response.status_code == 401


@pytest.mark.parametrize(
    "options",
    [{"timeout": 0}, {"timeout": float("inf")}, {"max_retries": -1}, {"max_retries": 1.5}],
)
def test_bad_options_are_configuration_errors(options: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        OrchestratorClient("t", base_url=BASE, **options)
    with OrchestratorClient("t", base_url=BASE) as client, pytest.raises(ConfigurationError):
        client.with_options(**options)


def test_missing_token_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CIVITAI_API_TOKEN", raising=False)
    with pytest.raises(ConfigurationError, match="CIVITAI_API_TOKEN"):
        OrchestratorClient(base_url=BASE)


def test_a_failure_without_an_answer_names_the_address_it_tried() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    transport = httpx.MockTransport(refuse)
    with (
        OrchestratorClient(
            "tok", base_url="https://orch.example:8443", max_retries=0, transport=transport
        ) as client,
        pytest.raises(TransportError) as orchestrator,
    ):
        client.get("w1")
    assert "GET /v2/consumer/workflows/w1 at https://orch.example:8443: ConnectError" in str(
        orchestrator.value
    )
    site = OAuthClient(
        "app",
        base_url="https://auth.example",
        site_url="https://site.example",
        max_retries=0,
        http_client=httpx.Client(transport=transport),
    )
    with pytest.raises(TransportError) as lookup:
        site.fetch_me("tok")
    assert "at https://site.example:" in str(lookup.value)  # not the orchestrator's address
