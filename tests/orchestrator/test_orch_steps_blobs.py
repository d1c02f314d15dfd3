"""Steps, tags, blobs (bytes and streamed downloads) and resource lookup, sync and async."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from civitai_app_sdk.errors import ForbiddenError, NotFoundError, TransportError
from civitai_app_sdk.orchestrator.blobs import extension_for

STEP = {
    "$type": "textToImage",
    "name": "$0",
    "status": "succeeded",
    "priority": "normal",
    "metadata": {},
    "input": {"prompt": "x", "cfgScale": 5},
    "output": {"images": [{"type": "image", "id": "A.png", "available": True}]},
}
RESOURCE = {
    "air": "urn:air:sdxl:checkpoint:civitai:101055@128078",
    "size": 6_938_040_682,
    "hashes": {"SHA256": "31E35C80FC"},
    "downloadUrls": ["https://civitai.com/api/download/models/128078"],
    "fileFormat": "safeTensor",
    "canGenerate": True,
    "checkPermission": False,
    "hasMatureContentRestriction": False,
    "hasNSFWContentRestriction": False,
}


def test_get_step_encodes_dollar_names(client: Any, api: Any) -> None:
    route = api.get("/v2/consumer/workflows/w1/steps/%240").respond(200, json=STEP)
    step = client.get_step("w1", "$0")
    assert step.output.images[0].id == "A.png"
    assert route.called


def test_unknown_step_type_is_kept(client: Any, api: Any) -> None:
    api.get("/v2/consumer/workflows/w1/steps/s").respond(
        200, json={**STEP, "$type": "holoGen", "output": {"thing": 1}}
    )
    step = client.get_step("w1", "s")
    assert step.field_type == "holoGen"


def test_tags(client: Any, api: Any) -> None:
    add = api.post("/v2/consumer/workflows/w1/tags").respond(204)
    remove = api.delete("/v2/consumer/workflows/w1/tags/project%3Ax").respond(204)
    client.add_tag("w1", "project:x")
    client.remove_tag("w1", "project:x")
    assert json.loads(add.calls.last.request.content) == "project:x"
    assert remove.called
    with pytest.raises(ValueError, match="tag"):
        client.add_tag("w1", "")


def test_get_blob_follows_redirect(client: Any, api: Any) -> None:
    api.get("/v2/consumer/blobs/A.png").respond(
        308, headers={"location": "https://orch.test/v2/consumer/blobs/content/tok"}
    )
    api.get("/v2/consumer/blobs/content/tok").respond(200, content=b"PNGDATA")
    assert client.get_blob("A.png") == b"PNGDATA"


@pytest.mark.parametrize(
    ("location", "token_sent"),
    [
        ("https://orch.test/v2/consumer/blobs/content/tok", True),
        ("https://cdn.test/content/tok?sig=s", False),
        ("https://orch.test:8443/content/tok", False),
        # https -> http is refused (test_orch_redirect_hops.py)
    ],
)
def test_the_token_never_follows_a_blob_redirect_off_its_origin(
    client: Any, api: Any, tmp_path: Path, location: str, token_sent: bool
) -> None:
    api.get("/v2/consumer/blobs/A.png").respond(308, headers={"location": location})
    content = api.get(location.split("?")[0]).respond(200, content=b"png")
    assert client.get_blob("A.png") == b"png"
    assert client.download_blob("A.png", dir=tmp_path).read_bytes() == b"png"
    for call in content.calls:
        assert ("authorization" in call.request.headers) is token_sent


@pytest.mark.parametrize(
    "location", ["data:text/plain,x", "mailto:a@b.test", "javascript:x", "https://xn--/x"]
)
def test_a_redirect_to_a_location_that_cannot_be_followed_is_a_transport_error(
    client: Any, api: Any, tmp_path: Path, location: str
) -> None:
    """httpx's bare ``InvalidURL`` or idna's ``IDNAError`` (no ``CivitaiError``) escaped
    every blob read."""
    api.get("/v2/consumer/blobs/A.png").respond(308, headers={"location": location})
    with pytest.raises(TransportError, match="RemoteProtocolError: Invalid URL in location"):
        client.get_blob("A.png")
    with pytest.raises(TransportError):
        client.download_blob("A.png", dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("location", ["file:///etc/passwd", "ftp://127.0.0.1/x?sig=s"])
def test_a_redirect_to_another_scheme_is_not_followed(tmp_path: Path, location: str) -> None:
    """A real pool (respx would answer any scheme): no file is read, nothing is saved."""
    import http.server
    import threading

    from civitai_app_sdk.orchestrator import OrchestratorClient

    class Redirecting(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(308)
            self.send_header("location", location)
            self.send_header("content-length", "0")
            self.end_headers()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Redirecting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with OrchestratorClient("t", base_url=url, max_retries=0) as client:
            with pytest.raises(TransportError, match="UnsupportedProtocol") as info:
                client.download_blob("A.png", dir=tmp_path)
            with pytest.raises(TransportError):
                client.get_blob("A.png")
    finally:
        server.shutdown()
        server.server_close()
    assert "sig=s" not in str(info.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.anyio
async def test_async_redirect_to_a_location_that_cannot_be_followed(
    aclient: Any, api: Any, tmp_path: Path
) -> None:
    api.get("/v2/consumer/blobs/A.png").respond(308, headers={"location": "data:x"})
    with pytest.raises(TransportError, match="Invalid URL in location"):
        await aclient.download_blob("A.png", dir=tmp_path / "sub")
    assert not (tmp_path / "sub").exists()


def test_get_blob_forbidden(client: Any, api: Any) -> None:
    route = api.get("/v2/consumer/blobs/A.png").respond(403, json={"title": "nsfw level"})
    with pytest.raises(ForbiddenError):
        client.get_blob("A.png", nsfw_level="pg")
    assert route.calls.last.request.url.params["nsfwLevel"] == "pg"


def test_download_blob_picks_extension_from_content_type(
    client: Any, api: Any, tmp_path: Path
) -> None:
    api.get("/v2/consumer/blobs/ABC.bin").respond(
        200, content=b"\xff\xd8jpeg" * 10_000, headers={"content-type": "image/jpeg"}
    )
    path = client.download_blob("ABC.bin", dir=tmp_path)
    assert path == tmp_path / "ABC.jpeg"
    assert path.read_bytes().startswith(b"\xff\xd8")
    assert [p.name for p in tmp_path.iterdir()] == ["ABC.jpeg"]


def test_download_to_file_path(client: Any, api: Any, tmp_path: Path) -> None:
    api.get("/v2/consumer/blobs/V").respond(
        200, content=b"mp4", headers={"content-type": "video/mp4"}
    )
    assert client.download_blob("V", path=tmp_path / "out" / "clip") == tmp_path / "out" / "clip"
    assert client.download_blob("V", path=tmp_path / "named.bin") == tmp_path / "named.bin"
    assert client.download_blob("V", dir=tmp_path / "new") == tmp_path / "new" / "V.mp4"


def test_failed_download_leaves_no_file(client: Any, api: Any, tmp_path: Path) -> None:
    api.get("/v2/consumer/blobs/X.png").respond(404)
    with pytest.raises(NotFoundError):
        client.download_blob("X.png", dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("content_type", "blob_id", "ext"),
    [
        ("image/png", "A.jpeg", ".png"),
        ("image/webp; charset=binary", "A", ".webp"),
        ("audio/mpeg", "A", ".mp3"),
        (None, "A.jpeg", ".jpeg"),
        ("application/x-unknown-thing", "A", ".bin"),
        ("image/tiff", "A", ".tiff"),
        ("application/x-tar", "A", ".tar"),
        # types that would name a file that runs when opened: a hostile server's choice
        ("application/hta", "A", ".bin"),
        ("application/x-msdos-program", "A", ".bin"),
        ("text/javascript", "A", ".bin"),
        ("application/x-sh; charset=x", "A", ".bin"),
        ("application/java-archive", "A", ".bin"),
        # nor does a blob id's own extension of that kind
        (None, "A.hta", ".bin"),
        ("application/octet-stream", "A.EXE", ".bin"),
        (None, "A.js", ".bin"),
        ("application/octet-stream", "A.safetensors", ".safetensors"),
        (None, "A.fbx", ".fbx"),
    ],
)
def test_extension_for(content_type: str | None, blob_id: str, ext: str) -> None:
    assert extension_for(content_type, blob_id) == ext


def test_get_resource(client: Any, api: Any) -> None:
    route = api.get("/v2/resources/urn:air:sdxl:checkpoint:civitai:101055@128078").respond(
        200, json=RESOURCE
    )
    info = client.get_resource(RESOURCE["air"])
    assert info.can_generate
    assert info.size == 6_938_040_682
    assert route.called
    with pytest.raises(ValueError, match="huggingface"):
        client.get_resource("huggingface/x")


@pytest.mark.anyio
async def test_async_steps_tags_blobs_resources(aclient: Any, api: Any, tmp_path: Path) -> None:
    api.get("/v2/consumer/workflows/w1/steps/%240").respond(200, json=STEP)
    api.post("/v2/consumer/workflows/w1/tags").respond(204)
    api.delete("/v2/consumer/workflows/w1/tags/t").respond(204)
    api.get("/v2/consumer/blobs/A.png").respond(
        200, content=b"png", headers={"content-type": "image/png"}
    )
    api.get(url__regex=r"/v2/resources/.*").respond(200, json=RESOURCE)
    assert (await aclient.get_step("w1", "$0")).name == "$0"
    await aclient.add_tag("w1", "t")
    await aclient.remove_tag("w1", "t")
    assert await aclient.get_blob("A.png") == b"png"
    assert (await aclient.download_blob("A.png", dir=tmp_path)).read_bytes() == b"png"
    assert (await aclient.get_resource(RESOURCE["air"])).air == RESOURCE["air"]


@pytest.mark.anyio
async def test_async_core_and_errors(
    aclient: Any, api: Any, make_workflow: Any, clock: Any
) -> None:
    from civitai_app_sdk.errors import InsufficientBuzzError
    from civitai_app_sdk.orchestrator import (
        build_text_to_image_body,
        estimate_workflow,
        get_workflow,
        submit_workflow,
    )

    body = build_text_to_image_body({"prompt": "cat"})
    submit = api.post("/v2/consumer/workflows").mock(
        side_effect=[
            httpx.Response(200, json=make_workflow("unassigned")),
            httpx.Response(403, json="Not enough buzz"),
            httpx.ReadError("lost"),
            httpx.Response(200, json=make_workflow()),
        ]
    )
    get = api.get("/v2/consumer/workflows/w1").mock(
        side_effect=[httpx.Response(503), httpx.Response(200, json=make_workflow("succeeded"))]
    )
    api.put("/v2/consumer/workflows/w1").respond(204)
    api.get("/v2/consumer/workflows").respond(200, json={"next": "", "items": [make_workflow()]})
    assert (await estimate_workflow(aclient, body)).cost.total == 4
    with pytest.raises(InsufficientBuzzError):
        await submit_workflow(aclient, body)
    assert (await aclient.submit(body, external_id="k1")).status == "processing"
    assert submit.call_count == 4
    assert (await get_workflow(aclient, "w1")).status == "succeeded"
    assert get.call_count == 2
    assert len(clock.sleeps) == 2  # one after the lost submit, one after the 503
    await aclient.cancel("w1")
    page = await aclient.list(tags="x")
    assert len(page.items) == 1


class _CutStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A body that breaks after its first chunk."""

    def __iter__(self) -> Any:
        yield b"\x89PNG partial"
        raise httpx.ReadError("connection cut")

    async def __aiter__(self) -> Any:
        yield b"\x89PNG partial"
        raise httpx.ReadError("connection cut")


def test_download_cut_mid_body_is_a_transport_error_and_leaves_no_file(
    client: Any, api: Any, tmp_path: Path
) -> None:
    route = api.get("/v2/consumer/blobs/C.png").mock(
        return_value=httpx.Response(200, headers={"content-type": "image/png"}, stream=_CutStream())
    )
    with pytest.raises(TransportError, match="ReadError"):
        client.download_blob("C.png", dir=tmp_path)
    assert route.call_count == 1
    assert list(tmp_path.iterdir()) == []


def test_a_body_shorter_than_its_content_length_leaves_no_file(tmp_path: Path) -> None:
    """On the wire (respx does not check lengths): 3 of 100 announced bytes, then the
    connection closes. The download fails and nothing that looks complete is left."""
    import socket
    import threading

    from civitai_app_sdk.orchestrator import OrchestratorClient

    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        conn, _ = listener.accept()  # once: a failure mid-body is not retried
        with conn:
            conn.recv(65536)
            conn.sendall(
                b"HTTP/1.1 200 OK\r\ncontent-type: image/png\r\ncontent-length: 100\r\n\r\nPNG"
            )

    threading.Thread(target=serve, daemon=True).start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    try:
        with (
            OrchestratorClient("t", base_url=url) as client,
            pytest.raises(TransportError, match="complete message body"),
        ):
            client.download_blob("A.png", dir=tmp_path)
    finally:
        listener.close()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.anyio
async def test_async_download_cut_mid_body_leaves_no_file(
    aclient: Any, api: Any, tmp_path: Path
) -> None:
    api.get("/v2/consumer/blobs/C.png").mock(
        return_value=httpx.Response(200, headers={"content-type": "image/png"}, stream=_CutStream())
    )
    with pytest.raises(TransportError):
        await aclient.download_blob("C.png", dir=tmp_path / "sub")
    assert list((tmp_path / "sub").iterdir()) == []


def test_a_partial_answer_is_refused_and_nothing_is_saved(
    client: Any, api: Any, tmp_path: Path
) -> None:
    """A 206 (a proxy or cache handing out part of the file, no range asked for) was
    saved as the whole blob: a file that looked complete."""
    from civitai_app_sdk.errors import ResponseValidationError

    part = {"content-type": "image/png", "content-range": "bytes 0-3/100000"}
    api.get("/v2/consumer/blobs/C.png").respond(206, content=b"\x89PNG", headers=part)
    api.get("/v2/consumer/blobs/archive/enc").respond(206, content=b"PK", headers=part)
    for read in (
        lambda: client.download_blob("C.png", dir=tmp_path),
        lambda: client.get_blob("C.png"),
        lambda: client.download_archive("enc", tmp_path),
    ):
        with pytest.raises(ResponseValidationError, match="only part of the"):
            read()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.anyio
async def test_async_partial_answer_is_refused(aclient: Any, api: Any, tmp_path: Path) -> None:
    from civitai_app_sdk.errors import ResponseValidationError

    api.get("/v2/consumer/blobs/C.png").respond(206, content=b"\x89PNG")
    with pytest.raises(ResponseValidationError, match="HTTP 206"):
        await aclient.download_blob("C.png", dir=tmp_path / "sub")
    assert not (tmp_path / "sub").exists()


# --- download_blob: explicit dir= or path=, never a silent overwrite ---------------------


def test_download_blob_needs_exactly_one_of_dir_and_path(
    client: Any, api: Any, tmp_path: Path
) -> None:
    from civitai_app_sdk.errors import ConfigurationError

    route = api.get("/v2/consumer/blobs/A.png").respond(200, content=b"png")
    for kwargs in ({}, {"dir": tmp_path, "path": tmp_path / "x.png"}):
        with pytest.raises(ConfigurationError, match="exactly one of dir= or path="):
            client.download_blob("A.png", **kwargs)
    assert not route.called


def test_download_blob_never_overwrites_unless_asked(client: Any, api: Any, tmp_path: Path) -> None:
    from civitai_app_sdk.errors import CivitaiError
    from civitai_app_sdk.orchestrator.blobs import BlobExistsError

    api.get("/v2/consumer/blobs/A.png").mock(
        side_effect=[httpx.Response(200, content=b"new", headers={"content-type": "image/png"})] * 3
    )
    existing = tmp_path / "A.png"
    existing.write_bytes(b"old")
    for kwargs in ({"dir": tmp_path}, {"path": existing}):
        with pytest.raises(BlobExistsError) as info:
            client.download_blob("A.png", **kwargs)
        assert isinstance(info.value, CivitaiError | FileExistsError)
        assert info.value.path == existing
    assert existing.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["A.png"]  # no temp left behind
    assert client.download_blob("A.png", dir=tmp_path, overwrite=True) == existing
    assert existing.read_bytes() == b"new"


def test_an_existing_path_is_refused_before_anything_is_sent(
    client: Any, api: Any, tmp_path: Path
) -> None:
    from civitai_app_sdk.orchestrator.blobs import BlobExistsError

    route = api.get("/v2/consumer/blobs/A.png").respond(200, content=b"new")
    existing = tmp_path / "mine.png"
    existing.write_bytes(b"old")
    with pytest.raises(BlobExistsError):
        client.download_blob("A.png", path=existing)
    assert not route.called
    assert existing.read_bytes() == b"old"


def test_two_blobs_into_a_new_directory_are_two_files(
    client: Any, api: Any, tmp_path: Path
) -> None:
    for name in ("ONE.jpeg", "TWO.jpeg"):
        api.get(f"/v2/consumer/blobs/{name}").respond(
            200, content=name.encode(), headers={"content-type": "image/jpeg"}
        )
    out = tmp_path / "not-yet"
    paths = [client.download_blob(n, dir=out) for n in ("ONE.jpeg", "TWO.jpeg")]
    assert [p.read_bytes() for p in paths] == [b"ONE.jpeg", b"TWO.jpeg"]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes")
@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_downloaded_files_follow_the_umask(
    client: Any, api: Any, tmp_path: Path, umask: int
) -> None:
    import os
    import stat

    api.get("/v2/consumer/blobs/A.png").respond(200, content=b"png")
    old = os.umask(umask)
    try:
        path = client.download_blob("A.png", dir=tmp_path)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask


def test_a_full_disk_is_a_local_file_error_and_leaves_no_file(
    client: Any, api: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno
    import io
    import os

    from civitai_app_sdk.errors import LocalFileError

    class Full(io.FileIO):
        def write(self, data: Any) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

    api.get("/v2/consumer/blobs/A.png").respond(200, content=b"png")
    monkeypatch.setattr(os, "fdopen", lambda fd, mode: Full(fd, "wb"))
    with pytest.raises(LocalFileError, match="No space left") as info:
        client.download_blob("A.png", dir=tmp_path)
    assert info.value.errno == errno.ENOSPC
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks need a privilege")
@pytest.mark.parametrize("kind", ["symlink", "dangling symlink", "directory"])
def test_a_download_never_writes_through_a_symlink_or_over_a_directory(
    client: Any, api: Any, tmp_path: Path, kind: str
) -> None:
    """A link planted under the blob's name (a shared folder) must not lead the bytes
    to the file it names; with ``overwrite=True`` the link itself is replaced."""
    from civitai_app_sdk.errors import LocalFileError
    from civitai_app_sdk.orchestrator.blobs import BlobExistsError

    api.get("/v2/consumer/blobs/A.png").respond(200, content=b"blob")
    out, victim = tmp_path / "out", tmp_path / "victim"
    out.mkdir()
    if kind == "directory":
        (out / "A.png").mkdir()
    else:
        if kind == "symlink":
            victim.write_bytes(b"precious")
        (out / "A.png").symlink_to(victim)
    with pytest.raises(BlobExistsError):
        client.download_blob("A.png", dir=out)
    if kind == "directory":
        with pytest.raises(LocalFileError):
            client.download_blob("A.png", dir=out, overwrite=True)
        assert (out / "A.png").is_dir()
    else:
        client.download_blob("A.png", dir=out, overwrite=True)
        assert not (out / "A.png").is_symlink()
        assert (out / "A.png").read_bytes() == b"blob"
        assert victim.exists() is (kind == "symlink")
        assert kind != "symlink" or victim.read_bytes() == b"precious"
    assert sorted(p.name for p in out.iterdir()) == ["A.png"]


def test_a_file_made_while_the_blob_downloads_is_never_overwritten(
    client: Any, api: Any, tmp_path: Path
) -> None:
    """Two downloads of one blob at once: the one that finishes second finds the name
    taken (it was free when it started) and keeps its hands off the other's file."""
    target = tmp_path / "A.png"

    class Racing(httpx.SyncByteStream):
        def __iter__(self) -> Any:
            yield b"mine"
            target.write_bytes(b"the other download's")

    api.get("/v2/consumer/blobs/A.png").mock(
        return_value=httpx.Response(200, headers={"content-type": "image/png"}, stream=Racing())
    )
    from civitai_app_sdk.orchestrator.blobs import BlobExistsError

    with pytest.raises(BlobExistsError):
        client.download_blob("A.png", dir=tmp_path)
    assert target.read_bytes() == b"the other download's"
    assert [p.name for p in tmp_path.iterdir()] == ["A.png"]


def test_long_blob_ids_name_files_a_file_system_can_hold(
    client: Any, api: Any, tmp_path: Path
) -> None:
    """An id over 255 bytes (or its extension) ended every download into ``dir=`` in
    "File name too long"; two long ids cut alike must still not share a file."""
    api.get(path__startswith="/v2/consumer/blobs/").respond(
        200, content=b"png", headers={"content-type": "image/png"}
    )
    ids = ["é" * 200 + "A", "é" * 200 + "B", "C." + "x" * 300]
    paths = [client.download_blob(blob_id, dir=tmp_path) for blob_id in ids]
    assert len(set(paths)) == 3
    assert all(len(p.name.encode()) <= 255 and p.parent == tmp_path for p in paths)
    assert paths[2].suffix == ".png"


@pytest.mark.parametrize("failure", [PermissionError(13, "in use"), KeyboardInterrupt()])
def test_without_hard_links_a_failed_rename_leaves_no_empty_file(
    client: Any, api: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: BaseException
) -> None:
    """Where hard links are refused (FAT, some network shares) the name is reserved by an
    empty file first: a rename refused then (a scanner holding the file) or Ctrl-C left
    that empty file, which looked like a finished download and blocked the next one."""
    import os

    from civitai_app_sdk.errors import LocalFileError

    def no_link(*args: Any, **kwargs: Any) -> None:
        raise OSError(1, "hard links not allowed here")

    def refused(*args: Any, **kwargs: Any) -> None:
        raise failure

    api.get("/v2/consumer/blobs/A.png").respond(200, content=b"png")
    monkeypatch.setattr(os, "link", no_link)
    monkeypatch.setattr(os, "replace", refused)
    with pytest.raises(LocalFileError if isinstance(failure, OSError) else KeyboardInterrupt):
        client.download_blob("A.png", dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


@given(st.text(min_size=1, max_size=40))
def test_a_blob_id_never_names_a_file_outside_dir(blob_id: str) -> None:
    from civitai_app_sdk.orchestrator.blobs import target_path

    target = target_path(blob_id, "image/png", dir="/srv/out")
    assert target.parent == Path("/srv/out")
    assert target.name not in {"", ".", ".."}
    assert not target.name.startswith(".")
    assert target.name.isprintable()  # no NUL (a bare ValueError) nor newline in a name
    assert not set(target.name) & set('<>:"\\|?*')  # nor what a Windows name cannot hold
    assert target.name.split(".")[0].rstrip(" ").upper() not in {"CON", "NUL", "AUX", "PRN"}


@pytest.mark.parametrize(
    ("blob_id", "name"),
    [
        ("CON.png", "_CON.png"),
        ("nul", "_nul.png"),
        ("com1.tar.gz", "_com1.tar.png"),
        ("Lpt9 .x", "_Lpt9 .png"),
        ("a:b<c>.png", "a_b_c_.png"),
        ("CONSOLE.png", "CONSOLE.png"),
    ],
)
def test_a_blob_id_names_a_file_windows_can_hold(
    client: Any, api: Any, tmp_path: Path, blob_id: str, name: str
) -> None:
    """``CON.png`` is the console on Windows and ``a:b.png`` a stream of the file ``a``:
    a blob id the server chose saved there, or nowhere."""
    api.get(path__startswith="/v2/consumer/blobs/").respond(
        200, content=b"png", headers={"content-type": "image/png"}
    )
    assert client.download_blob(blob_id, dir=tmp_path) == tmp_path / name
    assert [p.name for p in tmp_path.iterdir()] == [name]


def test_a_blob_id_with_control_characters_downloads_to_a_plain_name(
    client: Any, api: Any, tmp_path: Path
) -> None:
    """A NUL in the id made the download end in a bare ValueError (embedded null byte)."""
    api.get("/v2/consumer/blobs/a%00b%0Ac").respond(200, content=b"png")
    path = client.download_blob("a\x00b\nc", dir=tmp_path)
    assert path == tmp_path / "a_b_c.bin"
    assert path.read_bytes() == b"png"
