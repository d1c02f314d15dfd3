"""serve-local caps JSON and form bodies: past MAX_BODY it answers 413 without reading on.

Each request goes over a raw loopback socket so the test controls what is sent: the
request stops right after the cap, and the answer must come without more bytes (before
the cap the server read a body of any size whole into memory).
"""

from __future__ import annotations

import json
import socket

import pytest
from local_helpers import TOKEN

from civitai_app_sdk.local import LocalServer
from civitai_app_sdk.local.bodies import MAX_BODY
from civitai_app_sdk.orchestrator import OrchestratorClient

PATHS = ["/v2/consumer/workflows", "/api/auth/oauth/token"]
_CHUNK = b"x" * (1024 * 1024)


def _head(server: LocalServer, path: str, framing: str) -> bytes:
    kind = "application/json" if path.startswith("/v2") else "application/x-www-form-urlencoded"
    return (
        f"POST {path} HTTP/1.1\r\nHost: {server.host}:{server.port}\r\n"
        f"Authorization: Bearer {TOKEN}\r\nContent-Type: {kind}\r\n{framing}\r\n\r\n"
    ).encode()


def _answer(conn: socket.socket) -> tuple[int, dict[str, object]]:
    """The status and JSON body of one answer (read up to its Content-Length)."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += conn.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:])
    assert headers["content-type"] == "application/problem+json"
    while len(body) < int(headers["content-length"]):
        body += conn.recv(65536)
    return int(lines[0].split()[1]), json.loads(body)


@pytest.mark.parametrize("path", PATHS)
def test_a_declared_length_past_the_cap_is_refused_before_reading(
    server: LocalServer, path: str
) -> None:
    with socket.create_connection((server.host, server.port), timeout=10) as conn:
        conn.sendall(_head(server, path, f"Content-Length: {MAX_BODY + 1}"))
        status, problem = _answer(conn)  # not one byte of the body was sent
    assert status == 413
    assert problem["status"] == 413
    assert problem["title"] == "Content Too Large"
    assert str(MAX_BODY) in str(problem["detail"])


@pytest.mark.parametrize("path", PATHS)
def test_a_chunked_body_is_refused_once_it_passes_the_cap(server: LocalServer, path: str) -> None:
    with socket.create_connection((server.host, server.port), timeout=10) as conn:
        conn.sendall(_head(server, path, "Transfer-Encoding: chunked"))
        for _ in range(MAX_BODY // len(_CHUNK)):
            conn.sendall(b"%x\r\n%s\r\n" % (len(_CHUNK), _CHUNK))
        conn.sendall(b"1\r\nx\r\n")  # one byte past the cap, and the body never ends
        status, problem = _answer(conn)
    assert status == 413
    assert problem["status"] == 413


def test_a_blob_upload_larger_than_the_cap_still_streams_in(server: LocalServer) -> None:
    data = b"\x89PNG\r\n\x1a\n" + bytes(MAX_BODY)
    with OrchestratorClient(TOKEN, base_url=server.url) as orchestrator:
        blob = orchestrator.upload_blob(data, content_type="image/png")
    assert len(server.state.uploads.files[blob.id].data) == len(data)
