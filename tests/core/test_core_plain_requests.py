"""The SDK's own client builds and sends requests without httpx.Client's per-request work.

A client the SDK created holds no cookies, auth, hooks or proxies, so its requests are
built directly and (sync, no redirect) handed to the pool. These tests hold that this
changes nothing on the wire, and that everything else still goes through httpx.Client.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import logging
import socket
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import anyio
import httpx
import pytest
from core_helpers import API, workflow
from hypothesis import given
from hypothesis import strategies as st

from civitai_app_sdk._request import _API_URLS, _ParsedUrls
from civitai_app_sdk._transport import (
    AsyncTransport,
    Call,
    RequestBuilder,
    Settings,
    SyncTransport,
    build_request,
    to_url,
    with_options,
)
from civitai_app_sdk.errors import ClientClosedError, RequestTimeoutError, TransportError
from civitai_app_sdk.local.hostile import HostileServer
from civitai_app_sdk.orchestrator import AsyncOrchestratorClient, OrchestratorClient

TOKEN = "plain-token"
_NAME = st.text("abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=12)
_VALUE = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=20).map(str.strip)


def _wire(request: httpx.Request) -> tuple[Any, ...]:
    headers = sorted((k.lower(), v) for k, v in request.headers.multi_items())
    return (request.method, str(request.url), headers, request.read(), request.extensions)


def _answer(sent: list[httpx.Request]) -> Callable[[httpx.Request], httpx.Response]:
    """A MockTransport handler recording each request and answering a workflow."""

    def handle(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json=workflow())

    return handle


def _refused(*args: Any, **kwargs: Any) -> Any:
    """In place of the clients' ``send``: the SDK's own client must not use it."""
    raise AssertionError("the client's send() was used")


@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE"]),
    path=st.sampled_from(["/v2/consumer/workflows", "/v2/consumer/workflows/a%2Fb", "/x"]),
    params=st.lists(st.tuples(_NAME, _VALUE), max_size=3).map(tuple),
    body=st.none() | st.dictionaries(_NAME, _VALUE, max_size=3),
    extra=st.dictionaries(
        st.sampled_from(["Accept", "accept", "User-Agent", "X-Trace", "x-trace"]),
        _VALUE.filter(bool),
        max_size=3,
    ),
)
def test_a_plain_request_is_the_one_the_clients_build_request_makes(
    method: str,
    path: str,
    params: tuple[tuple[str, str], ...],
    body: dict[str, str] | None,
    extra: dict[str, str],
) -> None:
    settings = Settings.create(token=TOKEN, base_url=API)
    call = with_options(Call(method, path, params, json=body), {"extra_headers": extra})
    with httpx.Client() as client:
        plain = build_request(
            RequestBuilder.of(settings, client, plain=True), settings, call, TOKEN
        )
        merged = build_request(
            RequestBuilder.of(settings, client, plain=False), settings, call, TOKEN
        )
    assert _wire(plain) == _wire(merged)


def test_an_extra_header_replaces_a_default_whatever_its_case() -> None:
    sent: list[httpx.Request] = []
    settings = Settings.create(token=TOKEN, base_url=API)
    transport = SyncTransport(settings, transport=httpx.MockTransport(_answer(sent)))
    call = with_options(Call("GET", "/x"), {"extra_headers": {"aCCept": "text/plain"}})
    transport.send(call)
    assert sent[0].headers.get_list("accept") == ["text/plain"]


def test_the_sdks_own_client_sends_through_its_pool_not_client_send(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sent: list[httpx.Request] = []
    with OrchestratorClient(
        TOKEN, base_url=API, transport=httpx.MockTransport(_answer(sent))
    ) as client:
        monkeypatch.setattr(httpx.Client, "send", _refused)
        assert client.get("wf-1").id == "wf-1"
        assert client.with_options(timeout=5).get("wf-1").id == "wf-1"
    assert [r.headers["authorization"] for r in sent] == [f"Bearer {TOKEN}"] * 2


def test_an_injected_client_keeps_its_hooks_headers_and_send() -> None:
    seen: list[httpx.Request] = []
    sent: list[httpx.Request] = []
    http = httpx.Client(
        transport=httpx.MockTransport(_answer(sent)),
        headers={"X-Team": "blue"},
        event_hooks={"request": [seen.append]},
    )
    with OrchestratorClient(TOKEN, base_url=API, http_client=http) as client:
        client.get("wf-1")
    assert seen == sent
    assert sent[0].headers["x-team"] == "blue"
    assert sent[0].headers["authorization"] == f"Bearer {TOKEN}"
    http.close()


def test_a_redirect_or_url_credentials_still_go_through_client_send() -> None:
    sent: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        if request.url.path == "/blob":
            return httpx.Response(307, headers={"location": "https://cdn.test/file"})
        return httpx.Response(200, content=b"bytes")

    settings = Settings.create(token=TOKEN, base_url=API)
    transport = SyncTransport(settings, transport=httpx.MockTransport(handle))
    answer = transport.send(Call("GET", "/blob", follow_redirects=True))
    assert answer.content == b"bytes"
    assert [str(r.url) for r in sent] == [f"{API}/blob", "https://cdn.test/file"]
    transport.send(to_url("GET", "https://user:pw@files.test/upload"))
    assert sent[-1].headers["authorization"].startswith("Basic ")


def test_the_sdks_clients_keep_no_cookies() -> None:
    sent: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        if request.url.path == "/blob":
            return httpx.Response(
                307, headers={"location": f"{API}/file", "set-cookie": "b=2; Path=/"}
            )
        return httpx.Response(200, json=workflow(), headers={"set-cookie": "a=1; Path=/"})

    settings = Settings.create(token=TOKEN, base_url=API)
    sync = SyncTransport(settings, transport=httpx.MockTransport(handle))
    for call in (Call("GET", "/x"), Call("GET", "/blob", follow_redirects=True), Call("GET", "/x")):
        sync.send(call)

    async def twice() -> None:
        transport = AsyncTransport(settings, transport=httpx.MockTransport(handle))
        await transport.send(Call("GET", "/blob", follow_redirects=True))
        await transport.send(Call("GET", "/x"))
        await transport.aclose()

    anyio.run(twice)
    assert len(sent) == 7
    assert all("cookie" not in request.headers for request in sent)


def test_a_closed_client_refuses_to_send_as_httpx_does() -> None:
    sent: list[httpx.Request] = []
    client = OrchestratorClient(TOKEN, base_url=API, transport=httpx.MockTransport(_answer(sent)))
    copy = client.with_options(max_retries=0)
    client.close()
    for closed in (client, copy):
        with pytest.raises(RuntimeError, match="client has been closed") as refused:
            closed.get("wf-1")
        assert isinstance(refused.value, ClientClosedError)  # a CivitaiError too
    assert sent == []


def test_a_gzip_answer_read_through_the_cap_holds_the_decoded_body() -> None:
    body = json.dumps(workflow()).encode()

    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, content=gzip.compress(body), headers={"content-encoding": "gzip"}
        )

    settings = Settings.create(token=TOKEN, base_url=API)
    answer = SyncTransport(settings, transport=httpx.MockTransport(handle)).send(Call("GET", "/x"))
    assert answer.content == body
    assert answer.json() == workflow()
    assert answer.is_closed


def test_only_api_urls_without_a_capability_are_kept_parsed() -> None:
    settings = Settings.create(token=TOKEN, base_url=API)
    sent: list[httpx.Request] = []
    transport = SyncTransport(settings, transport=httpx.MockTransport(_answer(sent)))
    kept = _API_URLS._urls
    kept.clear()
    transport.send(to_url("GET", "https://files.test/object?sig=capability"))
    transport.send(Call("GET", "/v2/consumer/blobs/archive/encrypted-token"))
    assert kept == {}
    assert sent[-1].url == f"{API}/v2/consumer/blobs/archive/encrypted-token"
    for _ in range(3):
        transport.send(Call("GET", "/v2/consumer/workflows/wf-1"))
    assert list(kept) == [f"{API}/v2/consumer/workflows/wf-1"]


def test_the_parsed_url_cache_keeps_its_size_and_its_newest() -> None:
    urls = _ParsedUrls(3)
    for n in range(5):
        assert str(urls.get(f"{API}/w/{n}")) == f"{API}/w/{n}"
    assert list(urls._urls) == [f"{API}/w/{n}" for n in (2, 3, 4)]
    assert urls.get(f"{API}/w/4") is urls.get(f"{API}/w/4")
    with pytest.raises(httpx.InvalidURL):
        urls.get(f"{API}/w/\x00")
    assert len(urls._urls) == 3


def test_the_async_client_sends_through_its_pool_and_refuses_once_closed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sent: list[httpx.Request] = []

    async def main() -> None:
        client = AsyncOrchestratorClient(
            TOKEN, base_url=API, transport=httpx.MockTransport(_answer(sent))
        )
        monkeypatch.setattr(httpx.AsyncClient, "send", _refused)
        assert (await client.get("wf-1")).id == "wf-1"
        await client.aclose()
        with pytest.raises(RuntimeError, match="client has been closed") as refused:
            await client.get("wf-1")
        assert isinstance(refused.value, ClientClosedError)  # a CivitaiError too

    anyio.run(main)
    assert len(sent) == 1


@pytest.fixture
def env_proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, list[bytes]]]:
    """A listening "proxy" named by every proxy variable; it records what reaches it."""
    seen: list[bytes] = []
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(5)

    def serve() -> None:
        with contextlib.suppress(OSError):
            while True:
                conn, _ = listener.accept()
                with conn:
                    seen.append(conn.recv(65536))
                    conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n")

    threading.Thread(target=serve, daemon=True).start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.setenv(name, url)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    yield url, seen
    listener.close()


def test_no_client_of_the_sdk_sends_a_loopback_token_to_a_proxy_from_the_environment(
    env_proxy: tuple[str, list[bytes]],
) -> None:
    _, seen = env_proxy
    closed_port = "http://127.0.0.1:9"
    with (
        OrchestratorClient(TOKEN, base_url=closed_port, max_retries=0) as sync,
        pytest.raises(TransportError),
    ):
        sync.get("wf-1")

    async def main() -> None:
        async with AsyncOrchestratorClient(TOKEN, base_url=closed_port, max_retries=0) as client:
            with pytest.raises(TransportError):
                await client.get("wf-1")

    anyio.run(main)
    assert seen == []


def test_a_proxy_given_as_the_transport_is_used(env_proxy: tuple[str, list[bytes]]) -> None:
    proxy, seen = env_proxy
    transport = httpx.HTTPTransport(proxy=proxy)
    with (
        OrchestratorClient(TOKEN, base_url=API, transport=transport, max_retries=0) as client,
        pytest.raises(TransportError, match="ProxyError"),
    ):
        client.get("wf-1")
    assert len(seen) == 1
    assert seen[0].startswith(b"CONNECT orch.test:443")
    assert TOKEN.encode() not in seen[0]  # the token travels inside the tunnel only


def test_a_proxy_given_as_the_async_transport_is_used(env_proxy: tuple[str, list[bytes]]) -> None:
    proxy, seen = env_proxy

    async def main() -> None:
        transport = httpx.AsyncHTTPTransport(proxy=proxy)
        async with AsyncOrchestratorClient(
            TOKEN, base_url=API, transport=transport, max_retries=0
        ) as client:
            with pytest.raises(TransportError, match="ProxyError"):
                await client.get("wf-1")

    anyio.run(main)
    assert len(seen) == 1
    assert seen[0].startswith(b"CONNECT orch.test:443")
    assert TOKEN.encode() not in seen[0]


def test_a_failure_in_the_pool_names_its_request_as_client_send_does() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused")  # as the pool raises it: no request

    settings = Settings.create(token=TOKEN, base_url=API, max_retries=0)
    call = Call("GET", "/v2/consumer/workflows/wf-1")

    async def asynchronous() -> BaseException:
        transport = AsyncTransport(settings, transport=httpx.MockTransport(refuse))
        with pytest.raises(TransportError) as caught:
            await transport.send(call)
        await transport.aclose()
        return caught.value

    with pytest.raises(TransportError) as sync:
        SyncTransport(settings, transport=httpx.MockTransport(refuse)).send(call)
    for failure in (sync.value, anyio.run(asynchronous)):
        cause = failure.__cause__
        assert isinstance(cause, httpx.ConnectError)
        assert str(cause.request.url) == f"{API}/v2/consumer/workflows/wf-1"


def test_httpx_logs_each_request_of_either_client_with_its_capability_masked(
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = Settings.create(token=TOKEN, base_url=API)
    calls = (Call("GET", "/v2/consumer/workflows/wf-1"), to_url("GET", f"{API}/o?sig=secret"))

    async def asynchronous() -> None:
        transport = AsyncTransport(settings, transport=httpx.MockTransport(_answer([])))
        for call in calls:
            await transport.send(call)
        await transport.aclose()

    caplog.set_level(logging.INFO, logger="httpx")
    sync = SyncTransport(settings, transport=httpx.MockTransport(_answer([])))
    for call in calls:
        sync.send(call)
    anyio.run(asynchronous)
    lines = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    expected = [
        f'HTTP Request: GET {API}/v2/consumer/workflows/wf-1 "HTTP/1.1 200 OK"',
        f'HTTP Request: GET {API}/o?sig=*** "HTTP/1.1 200 OK"',
    ]
    assert lines == expected * 2


@pytest.mark.parametrize("injected", [False, True])
def test_header_names_go_on_the_wire_as_written(injected: bool) -> None:
    sent: list[httpx.Request] = []
    settings = Settings.create(token=TOKEN, base_url=API)
    mock = httpx.MockTransport(_answer(sent))
    transport = (
        SyncTransport(settings, http_client=httpx.Client(transport=mock))
        if injected
        else SyncTransport(settings, transport=mock)
    )
    extra = {"X-Trace": "1", "accept": "text/plain"}
    transport.send(with_options(Call("POST", "/x", json={}), {"extra_headers": extra}))
    names = sorted(name.decode() for name, _ in sent[0].headers.raw)
    assert names == [
        "Accept-Encoding",
        "Authorization",
        "Connection",
        "Content-Length",
        "Content-Type",
        "Host",
        "User-Agent",
        "X-Trace",
        "accept",
    ]


class _Unread(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A body still to be read, as a pool hands it out (sync or async)."""

    def __iter__(self) -> Iterator[bytes]:
        yield json.dumps(workflow()).encode()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield json.dumps(workflow()).encode()


def test_every_answer_knows_how_long_it_took_as_httpx_client_send_sets_it() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=_Unread())

    settings = Settings.create(token=TOKEN, base_url=API)
    call = Call("GET", "/v2/consumer/workflows/wf-1")

    async def asynchronous() -> list[httpx.Response]:
        transport = AsyncTransport(settings, transport=httpx.MockTransport(handle))
        async with transport.stream(call) as streamed:
            await streamed.aread()
        answers = [await transport.send(call), streamed]
        await transport.aclose()
        return answers

    sync = SyncTransport(settings, transport=httpx.MockTransport(handle))
    with sync.stream(call) as streamed:
        streamed.read()
    answers = [sync.send(call), streamed, *anyio.run(asynchronous)]
    assert all(answer.elapsed.total_seconds() >= 0 for answer in answers)


@pytest.mark.anyio
async def test_requests_cancelled_mid_answer_or_mid_body_give_their_connection_back() -> None:
    # the async client hands requests to its pool itself: a cancel scope ending one while
    # the server holds its answer or halfway through its body, or a body left unread,
    # must still free the socket
    settings = Settings.create(token=TOKEN, base_url=API, max_retries=0, max_connections=1)
    short = httpx.Timeout(0.5, pool=0.3)
    transport = AsyncTransport(settings)
    with HostileServer("hang") as hang, HostileServer("trickle", interval=0.02) as trickle:
        for _ in range(3):
            with anyio.move_on_after(0.1) as waiting:
                await transport.send(to_url("GET", f"{hang.url}/x"))
            assert waiting.cancelled_caught
            with anyio.move_on_after(0.15) as reading:
                async with transport.stream(to_url("GET", f"{trickle.url}/x")) as streamed:
                    async for _chunk in streamed.aiter_raw():
                        pass
            assert reading.cancelled_caught
            async with transport.stream(to_url("GET", f"{trickle.url}/x")):
                pass  # left unread
        with pytest.raises(RequestTimeoutError):  # not PoolExhaustedError: the pool is free
            await transport.send(with_options(to_url("GET", f"{hang.url}/x"), {"timeout": short}))
    await transport.aclose()
