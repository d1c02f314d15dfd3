"""An upload's ``content_type`` that cannot be a header is refused before anything is sent."""

from __future__ import annotations

import anyio
import httpx
import pytest

from civitai_app_sdk.errors import RequestValidationError
from civitai_app_sdk.orchestrator import AsyncOrchestratorClient, OrchestratorClient
from tests.orchestrator.conftest import BASE, TOKEN

BAD = [
    "image/png\r\nX-Injected: 1",
    "image/png\n",
    "image/\x00png",
    "image/png\x7f",
    "   ",
    " image/png",
    "image/png ",
    "imagé/png",
    "png",
    "image/",
    5,
    b"image/png",
]
GOOD = ["image/png", "video/mp4", "text/plain; charset=utf-8", 'application/x-thing;a="b c"']


def _transport(seen: list[httpx.Request]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201, json={"type": "image", "id": "X.png", "available": True})

    return httpx.MockTransport(handler)


@pytest.mark.parametrize("content_type", BAD)
def test_bad_content_type_is_a_validation_error_not_a_network_one(content_type: object) -> None:
    seen: list[httpx.Request] = []
    with (
        OrchestratorClient(TOKEN, base_url=BASE, transport=_transport(seen)) as client,
        pytest.raises(RequestValidationError, match=r"content_type: .* is not a media type"),
    ):
        client.upload_blob(b"abc", content_type=content_type)  # type: ignore[arg-type]

    async def main() -> None:
        transport = _transport(seen)
        async with AsyncOrchestratorClient(TOKEN, base_url=BASE, transport=transport) as client:
            with pytest.raises(RequestValidationError, match="content_type"):
                await client.upload_blob(b"abc", content_type=content_type)  # type: ignore[arg-type]

    anyio.run(main)
    assert seen == []


@pytest.mark.parametrize("content_type", GOOD)
def test_good_content_type_is_sent_as_given(content_type: str) -> None:
    seen: list[httpx.Request] = []
    with OrchestratorClient(TOKEN, base_url=BASE, transport=_transport(seen)) as client:
        client.upload_blob(b"abc", content_type=content_type)
    assert seen[0].headers["content-type"] == content_type
