"""A download's body, read within bounds: its size, its decoded size and the memory used.

Downloads ask for the bytes as stored (``Accept-Encoding: identity``), but a server or a
proxy may compress them anyway. httpx would decode each chunk it reads in one go (64 KiB
of gzip can become 64 MiB in memory at once), so the raw bytes are read here and
``gzip``/``deflate`` are decoded a step of at most :data:`STEP` bytes at a time; any
other encoding (``br``, ``zstd``, ``compress``, an unknown one, or more than one) is
refused with :class:`UnsupportedEncodingError`, as its memory cannot be bounded so.

Three limits apply, each raising before a byte past it is handed on: ``max_size``
bounds the bytes received and the bytes decoded (a declared ``Content-Length`` past it
is refused before any is read), and the decoded bytes may not outgrow 100 times those
received plus 1 MiB (:class:`DecompressionBombError`). :class:`BoundedBody` decides
(sans I/O); :func:`decoded_chunks` and :func:`adecoded_chunks` feed it.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator, Iterator
from typing import Final

import httpx

from .._failures import request_id
from ..errors import (
    ConfigurationError,
    DecompressionBombError,
    ResponseTooLargeError,
    UnsupportedEncodingError,
)

__all__ = [
    "DEFAULT_MAX_SIZE",
    "STEP",
    "BoundedBody",
    "adecoded_chunks",
    "check_max_size",
    "decoded_chunks",
]

DEFAULT_MAX_SIZE: Final = 16 << 30
"""A download's default cap, 16 GiB. The largest files the API makes (videos of a few
hundred MB, LoRAs and checkpoints from training: an SDXL checkpoint is about 7 GB, the
zip of a workflow's outputs) fit with room to spare, while a body that never ends stops
after minutes at 100 MB/s, before it can fill most disks."""
STEP: Final = 1 << 20
"""The most bytes decoded at once (1 MiB): the memory one step of decoding may take."""
_RAW_CHUNK: Final = 1 << 16
"""Bytes read from the connection at a time (64 KiB)."""
_MAX_RATIO: Final = 100
"""Decoded bytes allowed per byte received (media is compressed already: a gzip of it
stays near 1; a bomb of zeros reaches 1,000)."""
_SLACK: Final = 1 << 20
"""Decoded bytes allowed on top (1 MiB), so a small text blob may shrink well."""
_ZLIB_WBITS: Final = {"gzip": zlib.MAX_WBITS | 16, "x-gzip": zlib.MAX_WBITS | 16}
_RAISE_HINT: Final = (
    "Pass a larger max_size= (bytes; None: no cap) if the file is meant to be that large"
)


def check_max_size(max_size: object) -> int | None:
    """``max_size`` as given when it is a whole number of bytes >= 1, or ``None`` (no cap).

    Raises :class:`ConfigurationError` otherwise (nothing is sent).
    """
    if max_size is None or (
        isinstance(max_size, int) and not isinstance(max_size, bool) and max_size >= 1
    ):
        return max_size
    raise ConfigurationError(
        f"max_size must be None (no cap) or a whole number of bytes >= 1, not {max_size!r}"
    )


class _Inflater:
    """One ``gzip`` or ``deflate`` stream, decoded at most :data:`STEP` bytes at a time.

    ``deflate`` is the zlib format, or raw deflate when the first bytes say so (as
    httpx reads it). Bytes after the end of the stream are ignored, unread.
    """

    def __init__(self, coding: str, request: httpx.Request) -> None:
        self._raw_deflate_possible = coding == "deflate"
        self._zlib = zlib.decompressobj(_ZLIB_WBITS.get(coding, zlib.MAX_WBITS))
        self._request = request
        self._fed = False

    def pieces(self, data: bytes) -> Iterator[bytes]:
        """The bytes ``data`` decodes to, in pieces of at most :data:`STEP` bytes.

        A full step may leave output inside zlib with no input left: it is drained
        (with ``b""``) before the next bytes are fed.
        """
        while not self._zlib.eof:
            try:
                out = self._zlib.decompress(data, STEP)
            except zlib.error as exc:
                if self._fed or not self._raw_deflate_possible:
                    raise self._broken(str(exc)) from exc
                self._zlib, self._raw_deflate_possible = zlib.decompressobj(-zlib.MAX_WBITS), False
                continue
            self._fed = True
            data = self._zlib.unconsumed_tail
            if out:
                yield out
            if not data and len(out) < STEP:
                return

    def finish(self) -> None:
        """Raise if the stream stopped before its end (a file cut short is not kept)."""
        if self._fed and not self._zlib.eof:
            raise self._broken("the compressed body ended before its end")

    def _broken(self, why: str) -> httpx.DecodingError:
        return httpx.DecodingError(f"cannot decode the download: {why}", request=self._request)


class BoundedBody:
    """Turns a download's raw chunks into its bytes, within ``max_size`` and the ratio.

    Made from the response before anything is written: it refuses at once an encoding
    it cannot decode in bounded memory and a declared length past ``max_size``.
    ``held`` is the body when httpx has read (and decoded) it already, as a mock
    transport's answer is: it is fed as it is.
    """

    def __init__(self, response: httpx.Response, max_size: int | None) -> None:
        """Check ``response``'s headers; raise before any byte is read if they are refused."""
        self.max_size = max_size
        self.received = 0
        self.decoded = 0
        self.held = _held(response)
        self._encoding = response.headers.get("content-encoding", "")
        codings = [c.strip().lower() for c in self._encoding.split(",")]
        codings = [c for c in codings if c and c != "identity" and self.held is None]
        if len(codings) > 1 or (codings and codings[0] not in {"gzip", "x-gzip", "deflate"}):
            raise _unsupported(response, self._encoding)
        self._inflater = _Inflater(codings[0], response.request) if codings else None
        length = response.headers.get("content-length", "")
        if max_size is not None and length.isdigit() and int(length) > max_size:
            message = f"the download declares {int(length):,} bytes, more than max_size"
            raise _too_large(f"{message} ({max_size:,} bytes); nothing was written", max_size)

    def feed(self, raw: bytes) -> Iterator[bytes]:
        """The bytes ``raw`` (the next chunk as received) decodes to; raises before
        yielding a byte past ``max_size`` or the ratio."""
        self.received += len(raw)
        self._within_cap(self.received)
        pieces = (raw,) if self._inflater is None else self._inflater.pieces(raw)
        for piece in pieces:
            self.decoded += len(piece)
            self._within_cap(self.decoded)
            self._within_ratio()
            yield piece

    def finish(self) -> None:
        """Raise if a compressed body ended before its end."""
        if self._inflater is not None:
            self._inflater.finish()

    def _within_cap(self, count: int) -> None:
        cap = self.max_size
        if cap is not None and count > cap:
            message = f"the download grew past max_size ({cap:,} bytes) and was stopped"
            raise _too_large(f"{message}; nothing was kept", cap)

    def _within_ratio(self) -> None:
        limit = _MAX_RATIO * self.received + _SLACK
        if self.decoded > limit:
            encoding = _shown(self._encoding)
            raise DecompressionBombError(
                f"the download decoded ({encoding}) to more than {limit:,} bytes from "
                f"{self.received:,} bytes received; it was stopped and nothing was kept",
                limit=limit,
            )


def _held(response: httpx.Response) -> bytes | None:
    """``response``'s body if httpx has read it already, else ``None``."""
    try:
        return response.content
    except httpx.ResponseNotRead:
        return None


def _shown(encoding: str) -> str:
    """A server's ``Content-Encoding`` as a message quotes it: escaped, and cut at 100
    characters."""
    return repr(encoding[:100]) + ("…" if len(encoding) > 100 else "")


def _too_large(message: str, cap: int) -> ResponseTooLargeError:
    return ResponseTooLargeError(message, limit=cap, hint=_RAISE_HINT)


def _unsupported(response: httpx.Response, encoding: str) -> UnsupportedEncodingError:
    return UnsupportedEncodingError(
        f"the download came compressed as {_shown(encoding)}, which is not decoded in bounded "
        "memory (only gzip or deflate, once); nothing was kept",
        encoding=encoding,
        status=response.status_code,
        request_id=request_id(response),
        headers=response.headers,
        response=response,
    )


def decoded_chunks(response: httpx.Response, max_size: int | None) -> Iterator[bytes]:
    """``response``'s body, decoded and bounded (see the module); the headers are
    checked now, the body as the chunks are taken."""
    body = BoundedBody(response, max_size)
    return _chunks(response, body)


def _chunks(response: httpx.Response, body: BoundedBody) -> Iterator[bytes]:
    parts = response.iter_raw(_RAW_CHUNK) if body.held is None else (body.held,)
    for raw in parts:
        yield from body.feed(raw)
    body.finish()


def adecoded_chunks(response: httpx.Response, max_size: int | None) -> AsyncIterator[bytes]:
    """Async twin of :func:`decoded_chunks`."""
    body = BoundedBody(response, max_size)
    return _achunks(response, body)


async def _achunks(response: httpx.Response, body: BoundedBody) -> AsyncIterator[bytes]:
    if body.held is not None:
        for piece in body.feed(body.held):
            yield piece
        return
    async for raw in response.aiter_raw(_RAW_CHUNK):
        for piece in body.feed(raw):
            yield piece
    body.finish()
