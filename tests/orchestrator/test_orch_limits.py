"""Bounded bodies and the connection pool: caps hold, errors say what happened."""

from __future__ import annotations

import contextlib
import gzip
import socket
import threading
import time
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from civitai_app_sdk._limits import (
    DEFAULT_MAX_CONNECTIONS,
    MAX_ERROR_BODY,
    MAX_JSON_BODY,
    BodyBuffer,
    limits_for,
)
from civitai_app_sdk.errors import (
    CivitaiError,
    ConfigurationError,
    PoolExhaustedError,
    RequestTimeoutError,
    ResponseTooLargeError,
    ServerError,
    TransportError,
)
from civitai_app_sdk.local.hostile import HostileServer
from civitai_app_sdk.orchestrator import AsyncOrchestratorClient, OrchestratorClient
from tests.streams import MIB, Counted

WF = "/v2/consumer/workflows/w1"
BLOB = "/v2/consumer/blobs/B1"


@given(
    limit=st.integers(0, 64),
    chunks=st.lists(st.binary(max_size=20), max_size=10),
    truncate=st.booleans(),
)
def test_a_buffer_never_holds_more_than_its_limit(
    limit: int, chunks: list[bytes], truncate: bool
) -> None:
    buffer = BodyBuffer(limit, truncate=truncate, what="test")
    whole = b"".join(chunks)
    if not truncate and len(whole) > limit:

        def feed() -> None:
            for chunk in chunks:
                buffer.add(chunk)

        with pytest.raises(ResponseTooLargeError) as info:
            feed()
        assert info.value.limit == limit
        assert isinstance(info.value, CivitaiError)
        assert buffer.size <= limit
        return
    for chunk in chunks:
        if buffer.add(chunk):
            break
    assert buffer.size <= limit
    assert buffer.value() == whole[:limit]


def test_a_json_answer_past_the_cap_raises_a_typed_error_without_reading_on(
    client: Any, api: Any
) -> None:
    body = Counted(MAX_JSON_BODY + 8 * MIB)
    api.get(WF).mock(return_value=httpx.Response(200, stream=body))
    with pytest.raises(ResponseTooLargeError, match="larger than 67,108,864 bytes") as info:
        client.get("w1")
    assert info.value.limit == MAX_JSON_BODY == 64 * MIB
    assert body.pulled <= MAX_JSON_BODY + MIB


def test_a_declared_length_past_the_cap_is_refused_before_reading(client: Any, api: Any) -> None:
    body = Counted(100 * MIB)
    headers = {"content-length": str(100 * MIB)}
    api.get(WF).mock(return_value=httpx.Response(200, headers=headers, stream=body))
    with pytest.raises(ResponseTooLargeError):
        client.get("w1")
    assert body.pulled == 0


def test_a_compressed_bomb_is_capped_on_its_decoded_size(client: Any, api: Any) -> None:
    bomb = gzip.compress(b"0" * (MAX_JSON_BODY + MIB), compresslevel=9)
    assert len(bomb) < MIB
    headers = {"content-encoding": "gzip", "content-type": "application/json"}
    api.get(WF).respond(200, headers=headers, content=bomb)
    with pytest.raises(ResponseTooLargeError):
        client.get("w1")


def test_an_error_body_keeps_its_first_64_kib_only(client: Any, api: Any) -> None:
    body = Counted(50 * MIB, chunk=4096)
    api.get(WF).mock(return_value=httpx.Response(500, stream=body))
    with pytest.raises(ServerError) as info:
        client.get("w1")
    assert body.pulled <= MAX_ERROR_BODY + 4096
    assert isinstance(info.value.body, str)
    assert 0 < len(info.value.body) <= MAX_ERROR_BODY
    assert len(info.value.body_text) <= 2000


def test_get_blob_is_capped_and_download_blob_streams_past_the_cap(
    client: Any, api: Any, tmp_path: Path
) -> None:
    size = MAX_JSON_BODY + 3 * MIB
    api.get(BLOB).mock(
        side_effect=lambda _: httpx.Response(
            200, headers={"content-type": "image/png"}, stream=Counted(size)
        )
    )
    with pytest.raises(ResponseTooLargeError, match="download_blob"):
        client.get_blob("B1")
    path = client.download_blob("B1", dir=tmp_path)
    assert path.stat().st_size == size


def test_blob_size_uses_head_and_downloads_nothing(client: Any, api: Any) -> None:
    head = api.head(BLOB).respond(204, headers={"content-length": str(10**9)})
    get = api.get(BLOB).respond(200, content=b"x")
    assert client.blob_size("B1") == 10**9
    assert head.called
    assert not get.called


@pytest.mark.parametrize("encoding", ["gzip", "br", "gzip, deflate"])
def test_blob_size_is_unknown_when_the_length_is_of_a_compressed_answer(
    client: Any, api: Any, encoding: str
) -> None:
    """The length of a gzipped answer (the SDK accepts gzip) was given as the blob's
    size: 194 KB for a 200 MB blob."""
    api.head(BLOB).respond(200, headers={"content-length": "194421", "content-encoding": encoding})
    assert client.blob_size("B1") is None
    api.head(BLOB).respond(200, headers={"content-length": "7", "content-encoding": "identity"})
    assert client.blob_size("B1") == 7


def test_download_total_timeout_bounds_a_trickled_download(tmp_path: Path) -> None:
    with (
        HostileServer("trickle", interval=0.05) as server,
        OrchestratorClient("t", base_url=server.url, timeout=5.0) as client,
    ):
        with pytest.raises(TransportError):
            client.download_blob("B1", dir=tmp_path, total_timeout=0.5)
        with pytest.raises(ConfigurationError, match="total_timeout"):
            client.download_blob("B1", dir=tmp_path, total_timeout=0)
    assert list(tmp_path.iterdir()) == []


def test_max_connections_is_an_option_of_both_clients() -> None:
    assert DEFAULT_MAX_CONNECTIONS >= 1000
    for kind in (OrchestratorClient, AsyncOrchestratorClient):
        assert kind("t", base_url="http://127.0.0.1:1").settings.max_connections >= 1000
        assert (
            kind("t", base_url="http://127.0.0.1:1", max_connections=7).settings.max_connections
            == 7
        )
        with pytest.raises(ConfigurationError, match="max_connections"):
            kind("t", base_url="http://127.0.0.1:1", max_connections=0)
    assert limits_for(5).max_keepalive_connections == 5


@pytest.mark.anyio
async def test_pool_starvation_has_its_own_error_that_does_not_blame_the_network() -> None:
    with HostileServer("hang") as server:
        async with (
            AsyncOrchestratorClient(
                "t", base_url=server.url, timeout=1.0, max_connections=1, max_retries=0
            ) as client,
            anyio.create_task_group() as group,
        ):
            group.start_soon(lambda: client.get("w1", wait=5))  # holds the only connection
            for _ in range(3000):  # until w1 is connected: the pool wait of w2 starts then
                if server.connections:
                    break
                await anyio.sleep(0.01)
            assert server.connections == 1
            with pytest.raises(PoolExhaustedError) as info:
                await client.get("w2")
            group.cancel_scope.cancel()
    message = str(info.value)
    assert "all 1 connections of this client stayed busy" in message
    assert "max_connections=" in message
    assert "network" not in message.replace("the network is not at fault", "")


def test_a_passed_http_transport_keeps_the_deadline_against_a_trickled_header() -> None:
    # a header trickled a byte at a time never trips httpx's per-read timeout, and no
    # body chunk arrives to check the deadline between: only the deadline backend ends it
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        conn, _ = listener.accept()
        with conn, contextlib.suppress(OSError):
            conn.recv(65536)
            for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 200:
                if stop.wait(0.05):
                    return
                conn.sendall(bytes([byte]))

    threading.Thread(target=serve, daemon=True).start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    start = time.monotonic()
    try:
        with (
            OrchestratorClient(
                "t", base_url=url, timeout=1.0, max_retries=0, transport=httpx.HTTPTransport()
            ) as client,
            pytest.raises(RequestTimeoutError),
        ):
            client.get("w1")
    finally:
        stop.set()
        listener.close()
    assert time.monotonic() - start < 5.0  # the trickle alone lasts 10 s


def test_a_refused_body_names_its_request_with_capability_tokens_masked() -> None:
    """The name is redacted when the error is made (not for every request that fits)."""
    buffer = BodyBuffer(4, truncate=False, what="GET /v2/consumer/blobs/content/SECRETTOKEN")
    with pytest.raises(ResponseTooLargeError) as info:
        buffer.add(b"12345")
    assert "SECRETTOKEN" not in str(info.value)
    assert "/v2/consumer/blobs/content/" in str(info.value)
