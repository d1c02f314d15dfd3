"""Every JSON answer is decoded in bounded memory, as downloads are, sync and async.

httpx decoded each gzip chunk it read in one go: one 61 KB chunk became 60 MiB in memory
before the body's cap (1 MiB for OAuth, 64 MiB for the API) was checked. Answers are now
read raw and decoded a MiB at a time; an encoding that cannot be decoded so is refused,
and the SDK asks only for gzip and deflate.
"""

from __future__ import annotations

import gzip
import tracemalloc
import zlib
from collections.abc import Callable
from typing import Any

import anyio
import httpx
import pytest
import respx

from civitai_app_sdk._transport import AsyncTransport, Call, Settings, SyncTransport
from civitai_app_sdk.errors import (
    BadRequestError,
    CivitaiError,
    NotFoundError,
    ResponseTooLargeError,
    ResponseValidationError,
    TransportError,
    UnsupportedEncodingError,
)
from civitai_app_sdk.oauth import AsyncOAuthClient, OAuthClient, OAuthError
from civitai_app_sdk.orchestrator import AsyncOrchestratorClient, OrchestratorClient
from tests.orchestrator.conftest import BASE, TOKEN, errors_on_both_clients, workflow_json
from tests.streams import MIB, Counted, Sent

BOMB = gzip.compress(b"\0" * 60 * MIB, compresslevel=9)
"""60 MiB of zeros in one gzip chunk of about 61 KB."""
WF = "/v2/consumer/workflows/w1"
JSON = {"content-type": "application/json"}
ISSUER = "https://auth.civitai.com"


def _answer(body: bytes | Counted, status: int = 200, **headers: str) -> httpx.Response:
    """An answer whose body is still to be read, as from the network (respx reads and
    decodes a ``content=`` body whole)."""
    stream = Sent(body) if isinstance(body, bytes) else body
    return httpx.Response(status, headers={**JSON, **headers}, stream=stream)


def _peak(run: Callable[[], Any]) -> tuple[int, BaseException | None]:
    """The peak traced memory while ``run`` runs, and what it raised."""
    tracemalloc.start()
    try:
        run()
    except CivitaiError as exc:
        return tracemalloc.get_traced_memory()[1], exc
    finally:
        tracemalloc.stop()
    return 0, None


def _settings() -> Settings:
    return Settings.create(token=TOKEN, base_url=BASE)


def test_the_bomb_is_one_chunk() -> None:
    assert len(BOMB) < 64 * 1024


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_one_gzip_chunk_is_decoded_a_mib_at_a_time_against_a_small_cap(mode: str) -> None:
    """The 1 MiB cap held only after the whole 60 MiB chunk was decoded (189 MB peak)."""
    call = Call("GET", "/x", max_body=MIB)

    def run() -> None:
        if mode == "sync":
            SyncTransport(_settings()).send(call)
            return

        async def main() -> None:
            transport = AsyncTransport(_settings())
            try:
                await transport.send(call)
            finally:
                await transport.aclose()

        anyio.run(main)

    with respx.mock(base_url=BASE) as api:
        api.get("/x").mock(side_effect=lambda _: _answer(BOMB, **{"content-encoding": "gzip"}))
        peak, error = _peak(run)
    assert isinstance(error, ResponseTooLargeError)
    assert error.limit == MIB
    assert peak < 8 * MIB, f"peak {peak:,} bytes"


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_an_oauth_answer_bomb_never_takes_more_than_a_few_mib(mode: str) -> None:
    def run() -> None:
        if mode == "sync":
            with OAuthClient("app_123") as client:
                client.refresh_token("rt")
            return

        async def main() -> None:
            async with AsyncOAuthClient("app_123") as client:
                await client.refresh_token("rt")

        anyio.run(main)

    with respx.mock:
        respx.post(f"{ISSUER}/api/auth/oauth/token").mock(
            side_effect=lambda _: _answer(BOMB, **{"content-encoding": "gzip"})
        )
        peak, error = _peak(run)
    assert isinstance(error, OAuthError)
    assert error.error == "invalid_response"
    assert peak < 8 * MIB, f"peak {peak:,} bytes"


def _raw_deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


ENCODED = [
    ("gzip", gzip.compress),
    ("x-gzip", gzip.compress),
    ("deflate", zlib.compress),
    ("deflate", _raw_deflate),
    ("identity", lambda data: data),
    ("", lambda data: data),
]


@pytest.mark.parametrize(("encoding", "encode"), ENCODED)
def test_a_compressed_answer_is_read_as_before(
    encoding: str, encode: Callable[[bytes], bytes]
) -> None:
    body = workflow_json(id="w1")
    packed = encode(httpx.Response(200, json=body).content)
    headers = {"content-encoding": encoding} if encoding else {}

    async def both() -> list[str]:
        with OrchestratorClient(TOKEN, base_url=BASE) as client:
            first = client.get("w1").id
        async with AsyncOrchestratorClient(TOKEN, base_url=BASE) as aclient:
            return [first, (await aclient.get("w1")).id]

    with respx.mock(base_url=BASE) as api:
        api.get(WF).mock(side_effect=lambda _: _answer(packed, **headers))
        assert anyio.run(both) == ["w1", "w1"]


@pytest.mark.parametrize("encoding", ["br", "zstd", "compress", "x-magic", "gzip, gzip"])
def test_an_answer_in_an_encoding_that_cannot_be_bounded_is_refused_unread(encoding: str) -> None:
    bodies: list[Counted] = []

    def answer(_: httpx.Request) -> httpx.Response:
        bodies.append(Counted(MIB))
        return _answer(bodies[-1], **{"content-encoding": encoding})

    with respx.mock(base_url=BASE) as api:
        api.get(WF).mock(side_effect=answer)
        errors = errors_on_both_clients(lambda client: client.get("w1"))
    for error in errors:
        assert isinstance(error, UnsupportedEncodingError)
        assert isinstance(error, ResponseValidationError)
        assert error.encoding == encoding
        assert "the GET /v2/consumer/workflows/w1 answer came compressed as" in str(error)
        assert "gzip or deflate" in error.hint
    assert [body.pulled for body in bodies] == [0, 0]  # refused, not retried


@pytest.mark.parametrize(("status", "kind"), [(404, NotFoundError), (400, BadRequestError)])
def test_an_error_answer_in_such_an_encoding_keeps_its_status(status: int, kind: type) -> None:
    br = {"content-encoding": "br"}
    with respx.mock(base_url=BASE) as api:
        api.get(WF).mock(side_effect=lambda _: _answer(b"\x8b\x00", status, **br))
        errors = errors_on_both_clients(lambda client: client.get("w1"))
    assert [type(error) for error in errors] == [kind, kind]


def test_a_gzip_answer_cut_short_is_a_transport_failure() -> None:
    packed = gzip.compress(httpx.Response(200, json=workflow_json()).content)
    with respx.mock(base_url=BASE) as api:
        api.get(WF).mock(
            side_effect=lambda _: _answer(packed[:-20], **{"content-encoding": "gzip"})
        )
        errors = errors_on_both_clients(lambda client: client.get("w1"))
    for error in errors:
        assert isinstance(error, TransportError)
        assert "cannot decode the GET /v2/consumer/workflows/w1 answer" in str(error)


def test_an_error_answer_cut_short_keeps_its_status_and_what_decoded() -> None:
    packed = gzip.compress(b'{"detail": "not here"}' + b" " * 10_000)
    with respx.mock(base_url=BASE) as api:
        api.get(WF).mock(
            side_effect=lambda _: _answer(packed[:-20], 404, **{"content-encoding": "gzip"})
        )
        errors = errors_on_both_clients(lambda client: client.get("w1"))
    for error in errors:
        assert isinstance(error, NotFoundError)
        assert "not here" in str(error)


def test_a_head_answer_naming_any_encoding_has_no_body_to_decode() -> None:
    head = {"content-length": "7", "content-encoding": "br"}

    async def both() -> list[int | None]:
        with OrchestratorClient(TOKEN, base_url=BASE) as client:
            first = client.blob_size("B1")
        async with AsyncOrchestratorClient(TOKEN, base_url=BASE) as aclient:
            return [first, await aclient.blob_size("B1")]

    with respx.mock(base_url=BASE) as api:
        api.head("/v2/consumer/blobs/B1").mock(side_effect=lambda _: _answer(b"", **head))
        assert anyio.run(both) == [None, None]  # the length is the encoded body's, as before


@pytest.mark.parametrize("injected", [False, True])
def test_only_gzip_and_deflate_are_asked_for_whatever_httpx_offers(
    monkeypatch: pytest.MonkeyPatch, injected: bool
) -> None:
    """httpx offers br and zstd when their packages are installed: such an answer would
    now be refused, so the SDK does not ask for one."""
    monkeypatch.setattr(httpx._client, "ACCEPT_ENCODING", "gzip, deflate, br, zstd")
    body = workflow_json(id="w1")

    async def both() -> None:
        sync_http = httpx.Client() if injected else None
        async_http = httpx.AsyncClient() if injected else None
        with OrchestratorClient(TOKEN, base_url=BASE, http_client=sync_http) as client:
            client.get("w1")
        async with AsyncOrchestratorClient(TOKEN, base_url=BASE, http_client=async_http) as ac:
            await ac.get("w1")

    with respx.mock(base_url=BASE) as api:
        route = api.get(WF).respond(200, json=body)
        assert "br" in httpx.Client().headers["accept-encoding"]
        anyio.run(both)
    assert [c.request.headers["accept-encoding"] for c in route.calls] == ["gzip, deflate"] * 2
