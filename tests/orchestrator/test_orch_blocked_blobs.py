"""A blob that moderation blocked: the API redirects its read to a placeholder image.

Before, ``get_blob`` handed out and ``download_blob`` saved that placeholder as if it
were the output.
"""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
import respx

from civitai_app_sdk.errors import BlobBlockedError, ForbiddenError
from civitai_app_sdk.orchestrator import AsyncOrchestratorClient, OrchestratorClient

BASE = "https://orch.test"
TOKEN = "0123456789abcdef0123456789abcdef"
PLACEHOLDER = b"\x89PNG placeholder"


def _blocked(api: respx.Router) -> None:
    api.get("/v2/consumer/blobs/B1.png").respond(
        308, headers={"location": f"{BASE}/v2/consumer/blobs/blocked/enc-token"}
    )
    api.head("/v2/consumer/blobs/B1.png").respond(
        308, headers={"location": f"{BASE}/v2/consumer/blobs/blocked/enc-token"}
    )
    api.route(path="/v2/consumer/blobs/blocked/enc-token").respond(
        200, content=PLACEHOLDER, headers={"content-type": "image/png"}
    )


def test_reads_of_a_blocked_blob_raise_and_save_nothing(tmp_path: Path) -> None:
    with respx.mock(base_url=BASE) as api, OrchestratorClient(TOKEN, base_url=BASE) as client:
        _blocked(api)
        with pytest.raises(BlobBlockedError, match="blocked") as caught:
            client.get_blob("B1.png")
        assert isinstance(caught.value, ForbiddenError)
        assert caught.value.status == 200
        assert "enc-token" not in str(caught.value)  # the placeholder's URL is a capability
        with pytest.raises(BlobBlockedError):
            client.blob_size("B1.png")
        with pytest.raises(BlobBlockedError):
            client.download_blob("B1.png", dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_the_async_download_of_a_blocked_blob_saves_nothing(tmp_path: Path) -> None:
    async def main() -> None:
        with respx.mock(base_url=BASE, assert_all_called=False) as api:
            _blocked(api)
            async with AsyncOrchestratorClient(TOKEN, base_url=BASE) as client:
                with pytest.raises(BlobBlockedError):
                    await client.download_blob("B1.png", dir=tmp_path)
                with pytest.raises(BlobBlockedError):
                    await client.get_blob("B1.png")

    anyio.run(main)
    assert list(tmp_path.iterdir()) == []


def test_a_blob_named_like_the_placeholder_route_is_still_read() -> None:
    # only the redirect's target decides: an id holding "blocked" is an ordinary blob
    with respx.mock(base_url=BASE) as api, OrchestratorClient(TOKEN, base_url=BASE) as client:
        api.get("/v2/consumer/blobs/blocked").respond(
            308, headers={"location": f"{BASE}/v2/consumer/blobs/content/tok"}
        )
        api.get("/v2/consumer/blobs/content/tok").respond(200, content=b"DATA")
        assert client.get_blob("blocked") == b"DATA"
