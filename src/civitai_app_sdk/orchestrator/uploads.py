"""Blob upload bodies that stream: a path, bytes or an open binary file, in chunks.

Nothing here holds a whole file in memory; a path is reopened for each attempt, so a
request that never left the machine can be sent again. A source that cannot be read (a
closed or text-mode file, a file the OS refuses) is a typed error, never a bare one.
"""

from __future__ import annotations

import contextlib
import errno
import io
import mimetypes
import os
import re
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO, Final

import anyio.to_thread

from ..errors import LocalFileError, RequestValidationError

__all__ = ["CHUNK", "OnProgress", "UploadBody", "UploadSource", "sniff"]

CHUNK: Final = 1 << 20
"""Bytes read and sent at a time."""

UploadSource = str | os.PathLike[str] | bytes | bytearray | memoryview | BinaryIO
"""What :meth:`upload_blob` takes: a file path, the bytes, or a binary file open for reading."""

OnProgress = Callable[[int, int | None], None]
"""Called as ``on_progress(bytes_sent, total_bytes_or_None)`` after every chunk."""

_MAGIC: Final = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"ID3", "audio/mpeg"),
    (b"fLaC", "audio/flac"),
    (b"OggS", "audio/ogg"),
    (b"glTF", "model/gltf-binary"),
    (b"\x1a\x45\xdf\xa3", "video/webm"),
)
_TOKEN: Final = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_MEDIA_TYPE: Final = re.compile(rf"{_TOKEN}/{_TOKEN}(?:[ \t]*;[ -~\t]*[!-~])?")
"""``type/subtype`` and any ``; parameters``: visible ASCII, no edge whitespace."""


def _media_type(value: object) -> str:
    """``value`` if it is a media type that can go in a header; else an error."""
    if not isinstance(value, str) or not _MEDIA_TYPE.fullmatch(value):
        problem = (
            f"content_type: {value!r} is not a media type such as 'image/png' "
            "(ASCII 'type/subtype', optional '; parameters', no line breaks or control "
            "characters)"
        )
        raise RequestValidationError([problem], "upload")
    return value


def sniff(head: bytes) -> str | None:
    """The media type the first bytes of a file announce, when they are recognised."""
    for magic, media in _MAGIC:
        if head.startswith(magic):
            return media
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    if head[4:8] == b"ftyp":
        return "video/mp4"
    return None


class UploadBody:
    """A sized, re-readable stream of one upload's bytes, reporting progress.

    httpx gets :meth:`sync_stream` or :meth:`async_stream` (one kind each: an object that
    is both would be sent as a sync stream).
    """

    def __init__(
        self, source: UploadSource, content_type: str | None, on_progress: OnProgress | None
    ) -> None:
        """Inspect ``source`` (size, media type) without reading it.

        A ``content_type`` that cannot be a header's media type (a line break, a control or
        non-ASCII character, no ``/``) is a :class:`RequestValidationError`.
        """
        self._path: Path | None = None
        self._file: BinaryIO | None = None
        if isinstance(source, bytes | bytearray | memoryview):
            self._file = io.BytesIO(bytes(source))
        elif isinstance(source, str | os.PathLike):
            self._path = Path(source)
            if not self._path.is_file():
                raise RequestValidationError([f"{self._path}: no file to upload there"], "upload")
        elif hasattr(source, "read"):
            self._file = _readable(source)
        else:
            kind = type(source).__name__
            raise RequestValidationError([f"upload a path, bytes or a binary file, not {kind}"])
        self._start = self._file.tell() if self._file is not None and self._file.seekable() else 0
        self.size = self._measure()
        self.content_type = (
            self._guess_type()
            if content_type is None or content_type == ""
            else _media_type(content_type)
        )
        self._on_progress = on_progress

    def _measure(self) -> int | None:
        with _reading(self._path or self._file):
            if self._path is not None:
                return self._path.stat().st_size
            assert self._file is not None
            if not self._file.seekable():
                return None
            end = self._file.seek(0, os.SEEK_END)
            self._file.seek(self._start)
            return end - self._start

    def _guess_type(self) -> str:
        name = str(self._path) if self._path is not None else str(getattr(self._file, "name", ""))
        guessed = mimetypes.guess_type(name)[0] if name else None
        if guessed:
            return guessed
        with self._open() as handle:
            head = _read(handle, 16)
        return sniff(head) or "application/octet-stream"

    @contextlib.contextmanager
    def _open(self) -> Iterator[BinaryIO]:
        """The bytes from the start; a path is opened (and closed), a caller's file is not."""
        if self._path is not None:
            with _reading(self._path):
                handle = self._path.open("rb")
            with handle:
                yield handle
            return
        assert self._file is not None
        if self._file.seekable():
            with _reading(self._file):
                self._file.seek(self._start)
        yield self._file

    def headers(self) -> tuple[tuple[str, str], ...]:
        """``Content-Length`` when the size is known (otherwise the body goes chunked)."""
        return () if self.size is None else (("Content-Length", str(self.size)),)

    def _count(self, sent: int, chunk: bytes | None) -> int:
        """Bytes sent once ``chunk`` is (``None``: the end), refusing to break the size
        announced in ``Content-Length`` when the file grew or shrank meanwhile."""
        total = sent + len(chunk or b"")
        if self.size is not None and (total > self.size or (chunk is None and total < self.size)):
            raise LocalFileError(
                errno.EIO, f"the upload changed size while being sent ({self.size} bytes announced)"
            )
        return total

    def _report(self, sent: int) -> None:
        if self._on_progress is not None:
            self._on_progress(sent, self.size)

    def chunks(self) -> Iterator[bytes]:
        """The bytes, ``CHUNK`` at a time, from the start."""
        sent = 0
        with self._open() as handle:
            while chunk := _read(handle, CHUNK):
                sent = self._count(sent, chunk)
                yield chunk
                self._report(sent)
        self._count(sent, None)

    async def achunks(self) -> AsyncIterator[bytes]:
        """The bytes, ``CHUNK`` at a time, read in a worker thread."""
        sent = 0
        opened = self._open()
        handle = await anyio.to_thread.run_sync(opened.__enter__)
        try:
            while chunk := await anyio.to_thread.run_sync(_read, handle, CHUNK):
                sent = self._count(sent, chunk)
                yield chunk
                self._report(sent)
            self._count(sent, None)
        finally:
            opened.__exit__(None, None, None)

    def sync_stream(self) -> Iterable[bytes]:
        """The body for httpx's sync client; each iteration starts over."""
        return _SyncStream(self)

    def async_stream(self) -> AsyncIterable[bytes]:
        """The body for httpx's async client; each iteration starts over."""
        return _AsyncStream(self)


def _name(source: object) -> str:
    """How an error names an upload source (a path, or the file's name if it has one)."""
    if isinstance(source, Path):
        return str(source)
    name = getattr(source, "name", None)
    return str(name) if isinstance(name, str) else "the upload's file"


@contextlib.contextmanager
def _reading(source: object) -> Iterator[None]:
    """Turn the OS refusing to read ``source`` into :class:`LocalFileError`; a closed file
    into :class:`RequestValidationError`."""
    try:
        yield
    except OSError as exc:
        if isinstance(exc, LocalFileError):
            raise
        raise LocalFileError(
            exc.errno, f"cannot read {_name(source)}: {exc.strerror or exc}"
        ) from exc
    except ValueError as exc:  # io's word for an operation on a closed file
        raise RequestValidationError([f"{_name(source)}: {exc}"], "upload") from exc


def _read(handle: BinaryIO, size: int) -> bytes:
    """Up to ``size`` bytes of ``handle``; the OS refusing is a :class:`LocalFileError`."""
    with _reading(handle):
        chunk = handle.read(size)
    if chunk is None:  # a non-blocking file with nothing ready
        raise LocalFileError(errno.EAGAIN, f"{_name(handle)} is non-blocking: nothing to read")
    return chunk if isinstance(chunk, bytes) else bytes(chunk)


def _readable(source: BinaryIO) -> BinaryIO:
    """``source`` if it is an open file that reads bytes; else :class:`RequestValidationError`."""
    with _reading(source):
        probe = source.read(0)
    if not isinstance(probe, bytes | bytearray | memoryview | None):
        problem = f"{_name(source)}: opened in text mode; open the file with 'rb'"
        raise RequestValidationError([problem], "upload")
    return source


class _SyncStream:
    def __init__(self, body: UploadBody) -> None:
        self._body = body

    def __iter__(self) -> Iterator[bytes]:
        return self._body.chunks()


class _AsyncStream:
    def __init__(self, body: UploadBody) -> None:
        self._body = body

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._body.achunks()
