"""`civitai-orch upload -`: the file piped in on stdin, uploaded as a file path is.

``-`` was taken as a file name ("Path '-' does not exist", or a file called ``-``).
Stdin is copied to a temporary file first (a size, the same type detection, bytes that
can be sent again), up to a cap; a terminal or an empty stdin is a usage error.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import respx

from civitai_app_sdk.cli import _stdin_file
from civitai_app_sdk.cli._exit import CliError
from tests.cli.conftest import API, Run

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 20
BLOB = {"type": "image", "id": "X.png", "available": True}


@pytest.fixture
def spool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where the temporary copies go (checked empty afterwards)."""
    where = tmp_path / "spool"
    where.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(where))
    return where


@pytest.fixture
def blobs(authed: Run) -> Iterator[respx.Route]:
    with respx.mock(assert_all_called=False) as mock:
        yield mock.post(f"{API}/v2/consumer/blobs").respond(201, json=BLOB)


def test_stdin_is_uploaded_with_its_size_and_sniffed_type(
    authed: Run, blobs: respx.Route, spool: Path
) -> None:
    result = authed("upload", "-", input=PNG)  # type: ignore[arg-type]
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "X.png\n"
    sent = blobs.calls.last.request
    assert sent.content == PNG
    assert sent.headers["content-type"] == "image/png"
    assert sent.headers["content-length"] == str(len(PNG))
    assert list(spool.iterdir()) == []  # the copy is gone


def test_content_type_is_honoured_for_stdin(authed: Run, blobs: respx.Route, spool: Path) -> None:
    result = authed("upload", "-", "--content-type", "audio/wav", "--json", input=PNG)  # type: ignore[arg-type]
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["id"] == "X.png"
    assert blobs.calls.last.request.headers["content-type"] == "audio/wav"


def test_a_file_named_dash_is_reached_as_dot_slash_dash(
    authed: Run, blobs: respx.Route, cli_home: Path, spool: Path
) -> None:
    (cli_home / "work" / "-").write_bytes(b"GIF89a from the file")
    assert authed("upload", "-", input=PNG).exit_code == 0  # type: ignore[arg-type]
    assert blobs.calls.last.request.content == PNG
    assert authed("upload", "./-").exit_code == 0
    assert blobs.calls.last.request.content == b"GIF89a from the file"


def test_an_empty_stdin_is_a_usage_error(authed: Run, blobs: respx.Route, spool: Path) -> None:
    result = authed("upload", "-", "--json", input="")
    assert result.exit_code == 2
    assert "stdin was empty" in json.loads(result.stdout)["error"]["message"]
    assert not blobs.called
    assert list(spool.iterdir()) == []


def test_stdin_past_the_cap_is_refused_and_nothing_is_left(
    authed: Run, blobs: respx.Route, spool: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_stdin_file, "MAX_STDIN_FILE", 1000)
    monkeypatch.setattr(_stdin_file, "_CHUNK", 300)
    result = authed("upload", "-", input=PNG)  # type: ignore[arg-type]
    assert result.exit_code == 2
    assert "give the file's path instead" in result.stderr
    assert not blobs.called
    assert list(spool.iterdir()) == []


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pty")
def test_a_terminal_for_stdin_is_a_usage_error(tmp_path: Path) -> None:
    """Not a wait for typing that ends only at Ctrl-D."""
    pexpect = pytest.importorskip("pexpect")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIVITAI_")}
    env.update(
        CIVITAI_API_TOKEN="tty-token",
        CIVITAI_API_URL="http://127.0.0.1:9",
        CIVITAI_CONFIG_DIR=str(tmp_path / "config"),
        CIVITAI_KEYRING="0",
    )
    child = pexpect.spawn(
        sys.executable,
        ["-c", "from civitai_app_sdk.cli import run; run()", "upload", "-"],
        env=env,
        cwd=str(tmp_path),
        encoding="utf-8",
        timeout=30,
    )
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 2
    assert "stdin is a terminal" in (child.before or "")


def test_a_non_blocking_stdin_with_nothing_ready_is_not_taken_for_its_end(spool: Path) -> None:
    """A ``None`` read is no end of file: uploading what came so far would cut the file."""

    class NothingReady:
        def read(self, size: int) -> bytes | None:
            return None

    with (
        pytest.raises(CliError, match="non-blocking"),
        _stdin_file.stdin_as_file(NothingReady()) as _,  # type: ignore[arg-type]
    ):
        pass
    assert list(spool.iterdir()) == []


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="POSIX signals")
def test_a_hang_up_while_stdin_is_copied_leaves_no_copy(tmp_path: Path) -> None:
    """The terminal closed (an ssh session dropped) mid-copy: SIGHUP killed the process on
    the spot, leaving up to 2 GiB of the piped file in the temporary directory."""
    spool = tmp_path / "spool"
    spool.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIVITAI_")}
    env.update(
        CIVITAI_API_TOKEN="hup-token",
        CIVITAI_API_URL="http://127.0.0.1:9",  # never reached: stdin does not end
        CIVITAI_CONFIG_DIR=str(tmp_path / "config"),
        CIVITAI_KEYRING="0",
        TMPDIR=str(spool),
    )
    read, write = os.pipe()
    child = subprocess.Popen(
        [sys.executable, "-c", "from civitai_app_sdk.cli import run; run()", "upload", "-"],
        stdin=read,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=tmp_path,
    )
    os.close(read)
    try:
        os.write(write, PNG)
        deadline = time.monotonic() + 30
        while not any(spool.iterdir()):  # the copy is made
            assert time.monotonic() < deadline, "the copy never started"
            time.sleep(0.02)
        child.send_signal(signal.SIGHUP)
        _, stderr = child.communicate(timeout=30)
    finally:
        os.close(write)
        if child.poll() is None:
            child.kill()
    assert child.returncode == 130, stderr
    assert list(spool.iterdir()) == []
