"""Downloads ask for the bytes as stored and refuse a compression bomb, sync and async.

A hostile server answering ``Content-Encoding: gzip`` could turn 50 KB on the wire into
gigabytes on disk: every blob and archive download now sends ``Accept-Encoding:
identity`` (on every redirect hop) and stops a body that decodes to more than 100 times
the bytes received plus 1 MiB, leaving no file.
"""

from __future__ import annotations

import gzip
import os
import random
from pathlib import Path
from typing import Any

import pytest

from civitai_app_sdk.errors import DecompressionBombError, ResponseTooLargeError

BOMB = gzip.compress(b"\0" * 50_000_000)
"""50 MB of zeros, about 50 KB gzipped."""
GZIP = {"content-encoding": "gzip", "content-type": "image/png"}


def test_the_bomb_is_small_on_the_wire() -> None:
    assert len(BOMB) < 100_000


def test_blob_download_asks_for_identity_on_every_hop(
    client: Any, api: Any, tmp_path: Path
) -> None:
    first = api.get("/v2/consumer/blobs/A.png").respond(
        302, headers={"location": "https://cdn.test/A.png"}
    )
    cdn = api.get("https://cdn.test/A.png").respond(
        200, content=b"\x89PNG", headers={"content-type": "image/png"}
    )
    assert client.download_blob("A.png", dir=tmp_path).read_bytes() == b"\x89PNG"
    assert first.calls.last.request.headers["accept-encoding"] == "identity"
    assert cdn.calls.last.request.headers["accept-encoding"] == "identity"


def test_a_gzip_bomb_blob_is_refused_and_leaves_no_file(
    client: Any, api: Any, tmp_path: Path
) -> None:
    api.get("/v2/consumer/blobs/B.png").respond(200, content=BOMB, headers=GZIP)
    with pytest.raises(DecompressionBombError, match="nothing was kept") as info:
        client.download_blob("B.png", dir=tmp_path)
    assert isinstance(info.value, ResponseTooLargeError)
    assert info.value.limit < 50_000_000
    assert list(tmp_path.iterdir()) == []


@pytest.mark.anyio
async def test_async_gzip_bomb_blob_is_refused_and_leaves_no_file(
    aclient: Any, api: Any, tmp_path: Path
) -> None:
    route = api.get("/v2/consumer/blobs/B.png").respond(200, content=BOMB, headers=GZIP)
    with pytest.raises(DecompressionBombError):
        await aclient.download_blob("B.png", path=tmp_path / "b.png")
    assert route.calls.last.request.headers["accept-encoding"] == "identity"
    assert os.listdir(tmp_path) == []


def test_a_gzip_bomb_archive_is_refused_and_leaves_no_file(
    client: Any, api: Any, tmp_path: Path
) -> None:
    headers = {"content-encoding": "gzip", "content-type": "application/zip"}
    route = api.get("/v2/consumer/blobs/archive/enc").respond(200, content=BOMB, headers=headers)
    with pytest.raises(DecompressionBombError):
        client.download_archive("enc", tmp_path)
    assert route.calls.last.request.headers["accept-encoding"] == "identity"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.anyio
async def test_async_gzip_bomb_archive_is_refused_and_leaves_no_file(
    aclient: Any, api: Any, tmp_path: Path
) -> None:
    headers = {"content-encoding": "gzip", "content-type": "application/zip"}
    route = api.get("/v2/consumer/blobs/archive/enc").respond(200, content=BOMB, headers=headers)
    with pytest.raises(DecompressionBombError):
        await aclient.download_archive("enc", tmp_path / "a.zip")
    assert route.calls.last.request.headers["accept-encoding"] == "identity"
    assert os.listdir(tmp_path) == []


@pytest.mark.anyio
async def test_a_gzipped_blob_from_a_server_ignoring_identity_still_downloads(
    client: Any, aclient: Any, api: Any, tmp_path: Path
) -> None:
    body = random.Random(0).randbytes(500_000) + b"tEXt" * 100_000  # shrinks, as media does
    api.get("/v2/consumer/blobs/G.png").respond(200, content=gzip.compress(body), headers=GZIP)
    assert client.download_blob("G.png", dir=tmp_path / "s").read_bytes() == body
    assert (await aclient.download_blob("G.png", dir=tmp_path / "a")).read_bytes() == body
