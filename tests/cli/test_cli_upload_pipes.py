"""`civitai-orch upload PATH` of a path that is no regular file: a named pipe, a process
substitution (``upload <(curl …)``, a ``/dev/fd/N`` pipe), ``/dev/stdin``.

They were refused with "no file to upload there. Fix these fields (names are the API's
camelCase JSON names)", as if the path did not exist. Their bytes are now copied to a
temporary file first, as stdin's are for ``-``, and uploaded as a file is. An empty
file (a regular one too) is a usage error before anything is sent, as an empty stdin is.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import respx

from tests.cli.conftest import API, Run

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 20
BLOB = {"type": "image", "id": "X.png", "available": True}

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")


@pytest.fixture
def blobs(authed: Run) -> Iterator[respx.Route]:
    with respx.mock(assert_all_called=False) as mock:
        yield mock.post(f"{API}/v2/consumer/blobs").respond(201, json=BLOB)


@contextlib.contextmanager
def _fifo_fed(path: Path, data: bytes) -> Iterator[None]:
    """A named pipe at ``path`` that a thread fills with ``data`` once it is opened (and
    that is opened here at the end if the command never did, so the thread ends)."""
    os.mkfifo(path)

    def feed() -> None:
        with path.open("wb") as out:
            out.write(data)

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    try:
        yield
    finally:
        if writer.is_alive():
            os.close(os.open(path, os.O_RDONLY | os.O_NONBLOCK))
        writer.join(timeout=30)


def test_a_named_pipe_is_uploaded_as_a_file(
    authed: Run, blobs: respx.Route, cli_home: Path
) -> None:
    fifo = cli_home / "work" / "picture"
    with _fifo_fed(fifo, PNG):
        result = authed("upload", str(fifo))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "X.png\n"
    sent = blobs.calls.last.request
    assert sent.content == PNG
    assert sent.headers["content-length"] == str(len(PNG))
    assert sent.headers["content-type"] == "image/png"  # read from its first bytes


def test_an_empty_named_pipe_is_a_usage_error(
    authed: Run, blobs: respx.Route, cli_home: Path
) -> None:
    fifo = cli_home / "work" / "nothing"
    with _fifo_fed(fifo, b""):
        result = authed("upload", str(fifo), "--json")
    assert result.exit_code == 2
    assert "was empty: nothing to upload" in json.loads(result.stdout)["error"]["message"]
    assert not blobs.called


def test_an_empty_file_is_a_usage_error_before_anything_is_sent(
    authed: Run, blobs: respx.Route, cli_home: Path
) -> None:
    empty = cli_home / "work" / "empty.png"
    empty.write_bytes(b"")
    result = authed("upload", str(empty))
    assert result.exit_code == 2
    assert "empty.png is empty: nothing to upload" in result.stderr
    assert not blobs.called
