"""Downloads are bounded: a size cap (``max_size``), and decoding in bounded memory.

A body that never ended at a normal speed was bounded only by ``total_timeout``, the
minimum speed or the disk; ``download_blob`` and ``download_archive`` (sync and async) now
stop one past ``max_size`` (16 GiB by default) and refuse a declared length past it before
reading. httpx decoded each 64 KiB chunk of gzip in one go (up to 64 MiB in memory before
the ratio guard saw it); gzip and deflate are now decoded 1 MiB at a time, and other
encodings, which cannot be, are refused. No file is left by a refused download.
"""

from __future__ import annotations

import gzip
import random
import tracemalloc
import zlib
from pathlib import Path
from typing import Any

import httpx
import pytest

from civitai_app_sdk._decoding import STEP
from civitai_app_sdk.errors import (
    CivitaiError,
    ConfigurationError,
    DecompressionBombError,
    ResponseTooLargeError,
    ResponseValidationError,
    TransportError,
    UnsupportedEncodingError,
)
from civitai_app_sdk.orchestrator._bounded_body import DEFAULT_MAX_SIZE, BoundedBody
from tests.orchestrator.conftest import BASE, TOKEN
from tests.streams import MIB, Counted, Sent

KIB = 1 << 10
BLOB = "/v2/consumer/blobs/B.png"
ARCHIVE = "/v2/consumer/blobs/archive/enc"
KINDS = ["blob", "archive", "async blob", "async archive"]
GZIP_BOMB = gzip.compress(b"\0" * 60 * MIB, compresslevel=9)
"""60 MiB of zeros in one chunk of gzip under 64 KiB."""


def _route(api: Any, kind: str) -> Any:
    return api.get(ARCHIVE if "archive" in kind else BLOB)


async def _download(kind: str, client: Any, aclient: Any, where: Path, **options: Any) -> Path:
    """One download of ``kind`` into the directory ``where``."""
    if kind == "blob":
        result: Path = client.download_blob("B.png", dir=where, **options)
    elif kind == "archive":
        result = client.download_archive("enc", where, **options)
    elif kind == "async blob":
        result = await aclient.download_blob("B.png", dir=where, **options)
    else:
        result = await aclient.download_archive("enc", where, **options)
    return result


def _response(body: Counted | bytes, **headers: str) -> httpx.Response:
    """A 200 answer streaming ``body`` as sent (respx decodes ``content=`` whole)."""
    stream = Sent(body) if isinstance(body, bytes) else body
    return httpx.Response(200, headers={"content-type": "image/png", **headers}, stream=stream)


def _left(where: Path) -> list[str]:
    return sorted(p.name for p in where.rglob("*"))


# --- the size cap ---------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("kind", KINDS)
async def test_an_endless_body_stops_at_the_cap_and_leaves_no_file(
    kind: str, client: Any, aclient: Any, api: Any, tmp_path: Path
) -> None:
    body = Counted(256 * MIB, chunk=64 * KIB)  # endless for a 1 MiB cap
    _route(api, kind).mock(return_value=_response(body))
    with pytest.raises(ResponseTooLargeError) as info:
        await _download(kind, client, aclient, tmp_path, max_size=MIB)
    assert not isinstance(info.value, DecompressionBombError)
    assert info.value.limit == MIB
    assert "max_size=" in str(info.value)  # how to raise it
    assert "download_blob()" not in str(info.value)  # not the in-memory answers' advice
    assert body.pulled <= MIB + 2 * 64 * KIB
    assert _left(tmp_path) == []


@pytest.mark.anyio
@pytest.mark.parametrize("kind", KINDS)
async def test_a_declared_length_past_the_cap_is_refused_before_reading(
    kind: str, client: Any, aclient: Any, api: Any, tmp_path: Path
) -> None:
    body = Counted(4 * MIB)
    _route(api, kind).mock(return_value=_response(body, **{"content-length": str(4 * MIB)}))
    with pytest.raises(ResponseTooLargeError, match="declares 4,194,304 bytes") as info:
        await _download(kind, client, aclient, tmp_path, max_size=MIB)
    assert info.value.limit == MIB
    assert body.pulled == 0
    assert _left(tmp_path) == []


@pytest.mark.anyio
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("declared", [True, False])
async def test_a_body_of_exactly_the_cap_is_kept(
    kind: str, declared: bool, client: Any, aclient: Any, api: Any, tmp_path: Path
) -> None:
    headers = {"content-length": str(MIB)} if declared else {}
    _route(api, kind).mock(return_value=_response(Counted(MIB, chunk=4096), **headers))
    path = await _download(kind, client, aclient, tmp_path, max_size=MIB)
    assert path.stat().st_size == MIB
    assert _left(tmp_path) == [path.name]


@pytest.mark.anyio
@pytest.mark.parametrize("kind", KINDS)
async def test_one_byte_past_the_cap_is_refused(
    kind: str, client: Any, aclient: Any, api: Any, tmp_path: Path
) -> None:
    _route(api, kind).mock(return_value=_response(Counted(MIB + 1, chunk=4096)))
    with pytest.raises(ResponseTooLargeError):
        await _download(kind, client, aclient, tmp_path, max_size=MIB)
    assert _left(tmp_path) == []


@pytest.mark.anyio
@pytest.mark.parametrize("kind", KINDS)
async def test_the_default_cap_is_16_gib_and_none_lifts_it(
    kind: str, client: Any, aclient: Any, api: Any, tmp_path: Path
) -> None:
    assert DEFAULT_MAX_SIZE == 16 << 30
    huge = {"content-length": str(DEFAULT_MAX_SIZE + 1)}
    answers = [_response(Counted(0), **huge), _response(Counted(3), **huge)]
    _route(api, kind).mock(side_effect=answers)
    with pytest.raises(ResponseTooLargeError) as info:
        await _download(kind, client, aclient, tmp_path / "default")
    assert info.value.limit == DEFAULT_MAX_SIZE
    path = await _download(kind, client, aclient, tmp_path / "none", max_size=None)
    assert path.read_bytes() == b"   "  # no cap: the declared length is not checked


@pytest.mark.anyio
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("bad", [0, -1, True, 1.5, "1G"])
async def test_a_bad_max_size_is_refused_before_sending(
    kind: str, bad: object, client: Any, aclient: Any, api: Any, tmp_path: Path
) -> None:
    route = _route(api, kind).respond(200, content=b"x")
    with pytest.raises(ConfigurationError, match="max_size must be None"):
        await _download(kind, client, aclient, tmp_path, max_size=bad)
    assert not route.called


@pytest.mark.anyio
@pytest.mark.parametrize("kind", KINDS)
async def test_the_cap_counts_decoded_bytes_of_a_compressed_body(
    kind: str, client: Any, aclient: Any, api: Any, tmp_path: Path
) -> None:
    """2 MiB of text gzipped to well under 1 MiB, within the ratio: the cap still holds."""
    letters = bytes(b"acgt"[i % 4] for i in range(256))  # 2 bits a byte: shrinks 3 times
    packed = gzip.compress(random.Random(1).randbytes(2 * MIB).translate(letters), 1)
    assert len(packed) < MIB
    _route(api, kind).mock(return_value=_response(packed, **{"content-encoding": "gzip"}))
    with pytest.raises(ResponseTooLargeError, match="grew past max_size"):
        await _download(kind, client, aclient, tmp_path, max_size=MIB)
    assert _left(tmp_path) == []


# --- decoding in bounded memory -------------------------------------------------------------


def _unread(**headers: str) -> httpx.Response:
    """An answer whose body is still to be read, as from the network."""
    request = httpx.Request("GET", "https://orch.test/x")
    return httpx.Response(200, headers=headers, stream=Sent(b""), request=request)


def test_one_64_kib_chunk_of_gzip_is_decoded_a_mib_at_a_time() -> None:
    bomb = GZIP_BOMB
    assert len(bomb) <= 64 * KIB
    headers = {"content-encoding": "gzip"}
    body = BoundedBody(_unread(**headers), None)
    sizes: list[int] = []
    with pytest.raises(DecompressionBombError):
        sizes.extend(len(piece) for piece in body.feed(bomb))  # kept up to the error
    assert max(sizes) <= STEP
    assert sum(sizes) <= 100 * len(bomb) + MIB  # stopped at the ratio, not at 60 MiB


@pytest.mark.anyio
@pytest.mark.parametrize("kind", KINDS)
async def test_a_gzip_bomb_never_takes_more_than_a_few_mib_at_once(
    kind: str, client: Any, aclient: Any, api: Any, tmp_path: Path
) -> None:
    """httpx decoded the 60 KiB chunk to its 60 MiB in one go before the guard saw it."""
    _route(api, kind).mock(return_value=_response(GZIP_BOMB, **{"content-encoding": "gzip"}))
    tracemalloc.start()
    try:
        with pytest.raises(DecompressionBombError):
            await _download(kind, client, aclient, tmp_path, max_size=None)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * MIB, f"peak {peak:,} bytes"  # 190 MB when httpx decoded it
    assert _left(tmp_path) == []


def _raw_deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


SAMPLE = random.Random(0).randbytes(300_000) + b"tEXt" * 100_000  # shrinks, as media does
ENCODED = [
    pytest.param("gzip", gzip.compress(SAMPLE), id="gzip"),
    pytest.param("x-gzip", gzip.compress(SAMPLE), id="x-gzip"),
    pytest.param("GZIP", gzip.compress(SAMPLE), id="upper-case"),
    pytest.param("identity, gzip", gzip.compress(SAMPLE), id="identity-then-gzip"),
    pytest.param("deflate", zlib.compress(SAMPLE), id="deflate-zlib"),
    pytest.param("deflate", _raw_deflate(SAMPLE), id="deflate-raw"),  # as some servers send
]


@pytest.mark.anyio
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("encoding", "content"), ENCODED)
async def test_a_body_compressed_anyway_is_decoded(
    kind: str, encoding: str, content: bytes, client: Any, aclient: Any, api: Any, tmp_path: Path
) -> None:
    answer = _response(content, **{"content-encoding": encoding})
    _route(api, kind).mock(return_value=answer)
    path = await _download(kind, client, aclient, tmp_path)
    assert path.read_bytes() == SAMPLE


@pytest.mark.anyio
@pytest.mark.parametrize("kind", KINDS)
async def test_a_deflate_bomb_is_refused(
    kind: str, client: Any, aclient: Any, api: Any, tmp_path: Path
) -> None:
    bomb = zlib.compress(b"\0" * 8 * MIB, 9)
    _route(api, kind).mock(return_value=_response(bomb, **{"content-encoding": "deflate"}))
    with pytest.raises(DecompressionBombError):
        await _download(kind, client, aclient, tmp_path)
    assert _left(tmp_path) == []


@pytest.mark.anyio
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("encoding", ["br", "zstd", "compress", "x-magic", "gzip, gzip"])
async def test_an_encoding_that_cannot_be_bounded_is_refused_before_reading(
    kind: str, encoding: str, client: Any, aclient: Any, api: Any, tmp_path: Path
) -> None:
    body = Counted(MIB)
    _route(api, kind).mock(return_value=_response(body, **{"content-encoding": encoding}))
    with pytest.raises(UnsupportedEncodingError, match="nothing was kept") as info:
        await _download(kind, client, aclient, tmp_path)
    assert isinstance(info.value, ResponseValidationError)
    assert isinstance(info.value, CivitaiError)
    assert info.value.encoding == encoding
    assert body.pulled == 0
    assert _left(tmp_path) == []


@pytest.mark.anyio
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("broken", ["cut short", "not gzip"])
async def test_a_broken_compressed_body_leaves_no_file(
    kind: str, broken: str, client: Any, aclient: Any, api: Any, tmp_path: Path
) -> None:
    packed = gzip.compress(SAMPLE)
    content = packed[: len(packed) // 2] if broken == "cut short" else b"plain bytes"
    _route(api, kind).mock(return_value=_response(content, **{"content-encoding": "gzip"}))
    with pytest.raises(TransportError, match="cannot decode the download"):
        await _download(kind, client, aclient, tmp_path)
    assert _left(tmp_path) == []


@pytest.mark.anyio
@pytest.mark.parametrize("kind", KINDS)
async def test_an_empty_body_marked_gzip_is_an_empty_file(
    kind: str, client: Any, aclient: Any, api: Any, tmp_path: Path
) -> None:
    _route(api, kind).mock(return_value=_response(b"", **{"content-encoding": "gzip"}))
    assert (await _download(kind, client, aclient, tmp_path)).read_bytes() == b""


LETTERS = bytes(b"acgt"[i % 4] for i in range(256))


@pytest.mark.parametrize("size", [1, STEP - 1, STEP + 1, 3 * STEP])
@pytest.mark.parametrize("coding", ["gzip", "deflate"])
@pytest.mark.parametrize("chunk", [4 * KIB, 8 * MIB])
def test_every_byte_comes_out_whatever_the_steps_and_chunks(
    size: int, coding: str, chunk: int
) -> None:
    """A step that fills up with input used up leaves output in zlib: it is drained."""
    data = random.Random(size).randbytes(size).translate(LETTERS)
    packed = gzip.compress(data, 1) if coding == "gzip" else zlib.compress(data, 1)
    headers = {"content-encoding": coding}
    body = BoundedBody(_unread(**headers), None)
    pieces = [
        p for start in range(0, len(packed), chunk) for p in body.feed(packed[start:][:chunk])
    ]
    body.finish()
    assert b"".join(pieces) == data
    assert max(map(len, pieces)) <= STEP
    assert body.decoded == size
    assert body.received == len(packed)


def test_output_left_in_zlib_by_a_full_step_is_drained() -> None:
    """The shortest start of a stream of zeros that decodes past a step ends inside a
    run: the step fills up just as that input is used up, and zlib holds the rest."""
    packed = zlib.compress(bytes(3 * STEP), 9)

    def decoded(size: int) -> bytes:
        return zlib.decompressobj().decompress(packed[:size])

    low, high = 1, len(packed)
    while low < high:  # the decoded length grows with the input: bisect
        middle = (low + high) // 2
        low, high = (middle + 1, high) if len(decoded(middle)) <= STEP else (low, middle)
    headers = {"content-encoding": "deflate"}
    body = BoundedBody(_unread(**headers), None)
    pieces = list(body.feed(packed[:low]))
    assert len(pieces[0]) == STEP
    assert b"".join(pieces) == decoded(low)


def test_a_hostile_encoding_is_quoted_escaped_and_cut_in_the_message() -> None:
    encoding = "\x1b[2J" + "x" * 5000
    answer = _unread(**{"content-encoding": encoding})
    with pytest.raises(UnsupportedEncodingError) as info:
        BoundedBody(answer, None)
    assert "\x1b" not in str(info.value)
    assert len(str(info.value)) < 500
    assert info.value.encoding == encoding


@pytest.mark.anyio
@pytest.mark.parametrize("kind", KINDS)
async def test_an_answer_httpx_has_read_already_is_saved_as_it_is_within_the_cap(
    kind: str, tmp_path: Path
) -> None:
    """A mock transport's ``httpx.Response(content=...)`` is read (and decoded) when
    made, so its raw bytes are gone: its decoded body is saved, within the cap."""
    from civitai_app_sdk.orchestrator import AsyncOrchestratorClient, OrchestratorClient

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-encoding": "gzip"}, content=packed)

    packed = gzip.compress(SAMPLE)
    mock = httpx.MockTransport(answer)
    with OrchestratorClient(TOKEN, base_url=BASE, transport=mock) as client:
        async with AsyncOrchestratorClient(TOKEN, base_url=BASE, transport=mock) as aclient:
            saved = await _download(kind, client, aclient, tmp_path / "a")
            assert saved.read_bytes() == SAMPLE
            with pytest.raises(ResponseTooLargeError):
                await _download(kind, client, aclient, tmp_path / "b", max_size=len(SAMPLE) - 1)
    assert _left(tmp_path / "b") == []
