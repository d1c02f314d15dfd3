"""A download's body, read within bounds: its size, its decoded size and the memory used.

Downloads ask for the bytes as stored (``Accept-Encoding: identity``), but a server or a
proxy may compress them anyway: the raw bytes are read and ``gzip``/``deflate`` decoded a
step of at most 1 MiB at a time, any other encoding refused with
:class:`UnsupportedEncodingError`, as for every answer (:mod:`civitai_app_sdk._decoding`).

Three limits apply, each raising before a byte past it is handed on: ``max_size``
bounds the bytes received and the bytes decoded (a declared ``Content-Length`` past it
is refused before any is read), and the decoded bytes may not outgrow 100 times those
received plus 1 MiB (:class:`DecompressionBombError`). :class:`BoundedBody` decides
(sans I/O); :func:`decoded_chunks` and :func:`adecoded_chunks` feed it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Final

import httpx

from .._decoding import RAW_CHUNK, Decoder, shown
from ..errors import ConfigurationError, DecompressionBombError, ResponseTooLargeError

__all__ = [
    "DEFAULT_MAX_SIZE",
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
_MAX_RATIO: Final = 100
"""Decoded bytes allowed per byte received (media is compressed already: a gzip of it
stays near 1; a bomb of zeros reaches 1,000)."""
_SLACK: Final = 1 << 20
"""Decoded bytes allowed on top (1 MiB), so a small text blob may shrink well."""
_RAISE_HINT: Final = (
    "Pass a larger max_size= (bytes; None: no cap) if the file is meant to be that large"
)
_UNSUPPORTED_HINT: Final = (
    "The server (or a proxy) compressed the file although the SDK asked for it as "
    "stored; retry later, or report it"
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
        self._decoder = Decoder(response, "the download", _UNSUPPORTED_HINT)
        self.held = self._decoder.held
        length = response.headers.get("content-length", "")
        if max_size is not None and length.isdigit() and int(length) > max_size:
            message = f"the download declares {int(length):,} bytes, more than max_size"
            raise _too_large(f"{message} ({max_size:,} bytes); nothing was written", max_size)

    def feed(self, raw: bytes) -> Iterator[bytes]:
        """The bytes ``raw`` (the next chunk as received) decodes to; raises before
        yielding a byte past ``max_size`` or the ratio."""
        self.received += len(raw)
        self._within_cap(self.received)
        for piece in self._decoder.pieces(raw):
            self.decoded += len(piece)
            self._within_cap(self.decoded)
            self._within_ratio()
            yield piece

    def finish(self) -> None:
        """Raise if a compressed body ended before its end."""
        self._decoder.finish()

    def _within_cap(self, count: int) -> None:
        cap = self.max_size
        if cap is not None and count > cap:
            message = f"the download grew past max_size ({cap:,} bytes) and was stopped"
            raise _too_large(f"{message}; nothing was kept", cap)

    def _within_ratio(self) -> None:
        limit = _MAX_RATIO * self.received + _SLACK
        if self.decoded > limit:
            encoding = shown(self._decoder.encoding)
            raise DecompressionBombError(
                f"the download decoded ({encoding}) to more than {limit:,} bytes from "
                f"{self.received:,} bytes received; it was stopped and nothing was kept",
                limit=limit,
            )


def _too_large(message: str, cap: int) -> ResponseTooLargeError:
    return ResponseTooLargeError(message, limit=cap, hint=_RAISE_HINT)


def decoded_chunks(response: httpx.Response, max_size: int | None) -> Iterator[bytes]:
    """``response``'s body, decoded and bounded (see the module); the headers are
    checked now, the body as the chunks are taken."""
    body = BoundedBody(response, max_size)
    return _chunks(response, body)


def _chunks(response: httpx.Response, body: BoundedBody) -> Iterator[bytes]:
    parts = response.iter_raw(RAW_CHUNK) if body.held is None else (body.held,)
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
    async for raw in response.aiter_raw(RAW_CHUNK):
        for piece in body.feed(raw):
            yield piece
    body.finish()
