"""A 2xx web page (a captive portal, a proxy, a website at the API's URL) is no answer.

Before, the calls that read no body (``cancel``, tag changes, ``delete``) took such a
page for success, so a user cancelling to stop spending Buzz was told it worked while the
workflow ran on; the blob reads handed out, and ``download_blob`` saved, the page as the
image.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
import respx

from civitai_app_sdk.errors import BlobBlockedError, ResponseValidationError
from civitai_app_sdk.orchestrator import AsyncOrchestratorClient, OrchestratorClient

BASE = "https://orch.test"
TOKEN = "0123456789abcdef0123456789abcdef"
PAGE = "<!doctype html><html><body>Sign in to the Wi-Fi</body></html>"
WF = "/v2/consumer/workflows/wf-1"

Call = Callable[[Any], Any]

NO_BODY: dict[str, tuple[str, str, Call, str]] = {
    "cancel": ("PUT", WF, lambda c: c.cancel("wf-1"), "cancel may not have happened"),
    "add_tag": ("POST", f"{WF}/tags", lambda c: c.add_tag("wf-1", "t"), "not have been added"),
    "remove_tag": (
        "DELETE",
        f"{WF}/tags/t",
        lambda c: c.remove_tag("wf-1", "t"),
        "not have been removed",
    ),
    "delete": ("DELETE", WF, lambda c: c.delete("wf-1"), "may not have happened"),
}


def _both(call: Call) -> list[Any]:
    """What ``call`` gives with the sync client, then with the async one (or its error)."""
    outcomes: list[Any] = []
    with OrchestratorClient(TOKEN, base_url=BASE) as client:
        try:
            outcomes.append(call(client))
        except Exception as error:  # compared below
            outcomes.append(error)

    async def main() -> None:
        async with AsyncOrchestratorClient(TOKEN, base_url=BASE) as client:
            try:
                outcomes.append(await call(client))
            except Exception as error:  # compared below
                outcomes.append(error)

    anyio.run(main)
    return outcomes


@pytest.mark.parametrize("name", list(NO_BODY))
@pytest.mark.parametrize("header", [{"content-type": "text/html; charset=utf-8"}, {}])
def test_a_web_page_for_a_call_with_no_body_is_an_error(name: str, header: dict[str, str]) -> None:
    method, path, call, consequence = NO_BODY[name]
    with respx.mock(base_url=BASE) as api:
        api.route(method=method, path=path).respond(200, content=PAGE.encode(), headers=header)
        outcomes = _both(call)
    for error in outcomes:
        assert isinstance(error, ResponseValidationError), error
        assert consequence in str(error)
        assert "web page" in str(error)
        assert "CIVITAI_API_URL" in str(error)
        assert "Upgrade" not in str(error)
        assert error.status == 200
        assert error.body_text == PAGE
        assert pickle.loads(pickle.dumps(error)).hint == error.hint


@pytest.mark.parametrize("name", list(NO_BODY))
def test_an_empty_or_json_answer_to_a_call_with_no_body_still_succeeds(name: str) -> None:
    method, path, call, _ = NO_BODY[name]
    with respx.mock(base_url=BASE) as api:
        route = api.route(method=method, path=path)
        route.side_effect = [
            respx.MockResponse(204),
            respx.MockResponse(200, json={"ok": True}),
            respx.MockResponse(204),
            respx.MockResponse(200, json={"ok": True}),
        ]
        assert _both(call) == [None, None]
        assert _both(call) == [None, None]


def test_a_web_page_for_a_json_answer_names_the_url_not_an_upgrade() -> None:
    with respx.mock(base_url=BASE) as api:
        api.get(WF).respond(200, html=PAGE)
        outcomes = _both(lambda c: c.get("wf-1"))
    for error in outcomes:
        assert isinstance(error, ResponseValidationError)
        assert "web page" in str(error)
        assert "CIVITAI_API_URL" in str(error)
        assert "Upgrade" not in str(error)


BLOB = "/v2/consumer/blobs/B1.png"


def _blob_route(api: respx.Router, content_type: str, content: bytes) -> None:
    headers = {"content-type": content_type, "content-length": str(len(content))}
    for method in ("GET", "HEAD"):
        api.route(method=method, path=BLOB).respond(
            302, headers={"location": "https://cdn.test/signed/B1.png?sig=s"}
        )
        api.route(method=method, host="cdn.test").respond(200, content=content, headers=headers)


def _download(tmp: Path) -> Callable[[Any], Any]:
    def call(client: Any) -> Any:
        return client.download_blob("B1.png", dir=tmp)

    return call


def _reads(tmp: Path) -> dict[str, Call]:
    return {
        "get_blob": lambda c: c.get_blob("B1.png"),
        "blob_size": lambda c: c.blob_size("B1.png"),
        "download_blob": _download(tmp),
    }


@pytest.mark.parametrize("read", ["get_blob", "blob_size", "download_blob"])
@pytest.mark.parametrize("kind", ["text/html", "text/html; charset=utf-8", "application/xhtml+xml"])
def test_a_web_page_where_a_blob_is_expected_is_refused_and_nothing_is_saved(
    tmp_path: Path, read: str, kind: str
) -> None:
    with respx.mock(base_url=BASE, assert_all_called=False) as api:
        _blob_route(api, kind, PAGE.encode())
        outcomes = _both(_reads(tmp_path)[read])
    for error in outcomes:
        assert isinstance(error, ResponseValidationError), error
        assert not isinstance(error, BlobBlockedError)
        assert "web page" in str(error)
        assert "sig=" not in str(error)  # the signed URL is a capability
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("kind", ["application/octet-stream", "image/png", "image/svg+xml", ""])
def test_other_content_types_are_still_blobs(tmp_path: Path, kind: str) -> None:
    content = b"<html>not really, the bytes of the blob</html>"
    with respx.mock(base_url=BASE, assert_all_called=False) as api:
        _blob_route(api, kind, content)
        assert _both(lambda c: c.get_blob("B1.png")) == [content, content]
        assert _both(lambda c: c.blob_size("B1.png")) == [len(content), len(content)]
        paths = _both(lambda c: c.download_blob("B1.png", dir=tmp_path, overwrite=True))
    assert all(isinstance(p, Path) and p.read_bytes() == content for p in paths)


def test_a_web_page_for_an_archive_is_refused_and_nothing_is_saved(tmp_path: Path) -> None:
    async def archive_async() -> Any:
        async with AsyncOrchestratorClient(TOKEN, base_url=BASE) as client:
            return await client.download_archive("enc", tmp_path)

    def archive_sync() -> Any:
        with OrchestratorClient(TOKEN, base_url=BASE) as client:
            return client.download_archive("enc", tmp_path)

    runs: list[Callable[[], Any]] = [archive_sync, lambda: anyio.run(archive_async)]
    with respx.mock(base_url=BASE) as api:
        api.get("/v2/consumer/blobs/archive/enc").respond(200, html=PAGE)
        for run in runs:
            with pytest.raises(ResponseValidationError, match="web page"):
                run()
    assert list(tmp_path.iterdir()) == []


def test_a_blocked_blob_is_still_reported_as_blocked(tmp_path: Path) -> None:
    blocked = f"{BASE}/v2/consumer/blobs/blocked/enc-token"
    with respx.mock(base_url=BASE) as api:
        api.get(BLOB).respond(308, headers={"location": blocked})
        api.get("/v2/consumer/blobs/blocked/enc-token").respond(200, html=PAGE)
        outcomes = _both(_download(tmp_path))
    assert all(isinstance(error, BlobBlockedError) for error in outcomes)
    assert list(tmp_path.iterdir()) == []
