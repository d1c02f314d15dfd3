"""A followed redirect (a blob's read or download) keeps the caller's ``extra_headers``
on the first request's origin and never leaves https for plain http: sync and async,
over the SDK's own client or an injected one."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from civitai_app_sdk.errors import TransportError
from civitai_app_sdk.orchestrator import AsyncOrchestratorClient, OrchestratorClient

BASE = "https://orch.test"
TOKEN = "0123456789abcdef0123456789abcdef"
BLOB = "/v2/consumer/blobs/A.png"
KEY = {"X-Api-Key": "key-0123456789abcdef"}


def _chain(hops: list[str], sent: list[httpx.Request]) -> httpx.MockTransport:
    """A server whose blob read redirects through ``hops`` (absolute URLs) to the bytes."""

    def handle(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        url = str(request.url)
        step = 0 if request.url.path == BLOB else hops.index(url) + 1
        if step < len(hops):
            return httpx.Response(302, headers={"location": hops[step]})
        return httpx.Response(200, content=b"png")

    return httpx.MockTransport(handle)


@contextlib.contextmanager
def _client(mock: httpx.MockTransport, injected: bool) -> Iterator[OrchestratorClient]:
    """A client over ``mock``: its own, or an injected ``httpx.Client``."""
    with contextlib.ExitStack() as stack:
        http = stack.enter_context(httpx.Client(transport=mock)) if injected else None
        pool = None if injected else mock
        yield stack.enter_context(
            OrchestratorClient(TOKEN, base_url=BASE, http_client=http, transport=pool)
        )


@contextlib.asynccontextmanager
async def _aclient(
    mock: httpx.MockTransport, injected: bool
) -> AsyncIterator[AsyncOrchestratorClient]:
    """An async client over ``mock``: its own, or an injected ``httpx.AsyncClient``."""
    async with contextlib.AsyncExitStack() as stack:
        http = (
            await stack.enter_async_context(httpx.AsyncClient(transport=mock)) if injected else None
        )
        pool = None if injected else mock
        yield await stack.enter_async_context(
            AsyncOrchestratorClient(TOKEN, base_url=BASE, http_client=http, transport=pool)
        )


@pytest.mark.parametrize(
    ("hops", "keyed"),
    [
        (["https://orch.test/v2/consumer/blobs/content/tok"], [True, True]),
        (["https://cdn.test/content/tok?sig=s"], [True, False]),
        (["https://orch.test:8443/content/tok"], [True, False]),
        (["http://127.0.0.1:8080/content/tok"], [True, False]),  # loopback: followed
        # once off the origin the header is gone, also on the hop back to it
        (["https://cdn.test/a", "https://orch.test/b"], [True, False, False]),
    ],
)
@pytest.mark.parametrize("injected", [False, True])
def test_extra_headers_stay_on_the_origin_of_a_blob_read(
    tmp_path: Path, hops: list[str], keyed: list[bool], injected: bool
) -> None:
    sent: list[httpx.Request] = []
    mock = _chain(hops, sent)
    with _client(mock, injected) as client:
        assert client.get_blob("A.png", extra_headers=KEY) == b"png"
        assert [("x-api-key" in r.headers) for r in sent] == keyed
        sent.clear()
        saved = client.download_blob("A.png", dir=tmp_path, extra_headers=KEY)
        assert saved.read_bytes() == b"png"
        assert [("x-api-key" in r.headers) for r in sent] == keyed


@pytest.mark.anyio
@pytest.mark.parametrize("injected", [False, True])
async def test_async_extra_headers_stay_on_the_origin_of_a_blob_read(
    tmp_path: Path, injected: bool
) -> None:
    sent: list[httpx.Request] = []
    mock = _chain(["https://cdn.test/a", "https://orch.test/b"], sent)
    async with _aclient(mock, injected) as client:
        assert await client.get_blob("A.png", extra_headers=KEY) == b"png"
        await client.download_blob("A.png", dir=tmp_path, extra_headers=KEY)
    assert [("x-api-key" in r.headers) for r in sent] == [True, False, False] * 2


HTTP_HOPS = [
    ["http://cdn.test/content/tok?sig=secret-signature"],
    ["https://cdn.test/a", "http://cdn.test/content/tok?sig=secret-signature"],
    # plain http on loopback is allowed, but cannot launder a later hop off it
    ["http://127.0.0.1:8080/a", "http://cdn.test/content/tok?sig=secret-signature"],
]


def _refused(error: BaseException, sent: list[httpx.Request]) -> None:
    text = str(error)
    assert "redirected to an insecure URL (plain http to cdn.test)" in text
    assert "secret-signature" not in text
    assert all(r.url.host != "cdn.test" or r.url.scheme == "https" for r in sent)


@pytest.mark.parametrize("hops", HTTP_HOPS)
@pytest.mark.parametrize("injected", [False, True])
def test_a_redirect_from_https_to_plain_http_is_refused(
    tmp_path: Path, hops: list[str], injected: bool
) -> None:
    sent: list[httpx.Request] = []
    mock = _chain(hops, sent)
    with _client(mock, injected) as client:
        with pytest.raises(TransportError) as read:
            client.get_blob("A.png")
        _refused(read.value, sent)
        assert len(sent) == len(hops)  # refused at once, not retried
        with pytest.raises(TransportError) as download:
            client.download_blob("A.png", dir=tmp_path)
        _refused(download.value, sent)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.anyio
@pytest.mark.parametrize("injected", [False, True])
async def test_async_a_redirect_from_https_to_plain_http_is_refused(
    tmp_path: Path, injected: bool
) -> None:
    sent: list[httpx.Request] = []
    mock = _chain(HTTP_HOPS[0], sent)
    async with _aclient(mock, injected) as client:
        with pytest.raises(TransportError) as read:
            await client.get_blob("A.png")
        _refused(read.value, sent)
        with pytest.raises(TransportError) as download:
            await client.download_blob("A.png", dir=tmp_path / "sub")
        _refused(download.value, sent)
    assert not (tmp_path / "sub").exists()


def test_plain_http_between_loopback_hosts_is_followed() -> None:
    sent: list[httpx.Request] = []
    mock = _chain(["http://localhost:9/a", "http://[::1]:9/b"], sent)
    with OrchestratorClient(TOKEN, base_url="http://127.0.0.1:9", transport=mock) as client:
        assert client.get_blob("A.png") == b"png"
    assert len(sent) == 3


def test_httpx_redirect_rules_still_hold_for_an_injected_client() -> None:
    """Too many redirects fail, and are not retried; the client's auth is not added again
    on a hop (as with httpx's own redirects)."""
    sent: list[httpx.Request] = []
    mock = _chain([f"https://cdn.test/{n}" for n in range(4)], sent)
    with (
        httpx.Client(transport=mock, max_redirects=3, auth=("u", "p")) as http,
        OrchestratorClient(TOKEN, base_url=BASE, http_client=http) as client,
        pytest.raises(TransportError, match="TooManyRedirects"),
    ):
        client.get_blob("A.png")
    assert len(sent) == 4
    assert [("authorization" in r.headers) for r in sent] == [True, False, False, False]


APP_DEFAULTS = {
    "X-Api-Key": "app-key-0123456789",
    "X-Tenant": "tenant-1",
    "Accept-Language": "fr",
    "User-Agent": "my-app/1.0",
}
"""An app's injected client's default headers: two of them are the app's secrets."""
SECRETS = ("x-api-key", "x-tenant")


def _defaults_seen(sent: list[httpx.Request]) -> list[list[str]]:
    """Per request, which of :data:`APP_DEFAULTS` it carried."""
    return [[name for name in APP_DEFAULTS if name.lower() in r.headers] for r in sent]


ALL = list(APP_DEFAULTS)
HARMLESS = ["Accept-Language", "User-Agent"]


@pytest.mark.parametrize(
    ("hops", "seen"),
    [
        (["https://orch.test/v2/consumer/blobs/content/tok"], [ALL, ALL]),
        (["https://cdn.test/content/tok?sig=s"], [ALL, HARMLESS]),
        (["https://orch.test:8443/content/tok"], [ALL, HARMLESS]),
        (["https://cdn.test/a", "https://orch.test/b"], [ALL, HARMLESS, HARMLESS]),
    ],
)
def test_an_injected_clients_default_headers_stay_on_the_origin(
    tmp_path: Path, hops: list[str], seen: list[list[str]]
) -> None:
    """They followed a redirect to any host (an X-Api-Key reached the CDN); only those
    that say what the client is (agent, languages, encodings) may leave the origin."""
    sent: list[httpx.Request] = []
    with (
        httpx.Client(transport=_chain(hops, sent), headers=APP_DEFAULTS) as http,
        OrchestratorClient(TOKEN, base_url=BASE, http_client=http) as client,
    ):
        assert client.get_blob("A.png") == b"png"
        assert _defaults_seen(sent) == seen
        sent.clear()
        client.download_blob("A.png", dir=tmp_path)
        assert _defaults_seen(sent) == seen
    assert sent[0].headers["user-agent"] == sent[-1].headers["user-agent"]  # the SDK's own


@pytest.mark.anyio
async def test_async_an_injected_clients_default_headers_stay_on_the_origin(
    tmp_path: Path,
) -> None:
    sent: list[httpx.Request] = []
    mock = _chain(["https://orch.test/b", "https://cdn.test/c"], sent)
    async with (
        httpx.AsyncClient(transport=mock, headers=APP_DEFAULTS) as http,
        AsyncOrchestratorClient(TOKEN, base_url=BASE, http_client=http) as client,
    ):
        assert await client.get_blob("A.png") == b"png"
        await client.download_blob("A.png", dir=tmp_path)
    assert _defaults_seen(sent) == [ALL, ALL, HARMLESS] * 2
    assert not any(name in r.headers for r in sent[2::3] for name in SECRETS)


def test_an_injected_clients_headers_the_sdk_replaced_are_the_sdks() -> None:
    """A default Authorization is the app's; the SDK's bearer replaces it on the API and
    httpx drops it off the origin, as before."""
    sent: list[httpx.Request] = []
    mock = _chain(["https://orch.test/b", "https://cdn.test/c"], sent)
    headers = {"Authorization": "Basic YXBwOnNlY3JldA==", "Cookie": "session=app"}
    with (
        httpx.Client(transport=mock, headers=headers) as http,
        OrchestratorClient(TOKEN, base_url=BASE, http_client=http) as client,
    ):
        client.get_blob("A.png")
    assert [r.headers.get("authorization") for r in sent] == [f"Bearer {TOKEN}"] * 2 + [None]
    assert "cookie" not in sent[2].headers
