"""Bounded bodies and the connection pool: how much an answer may weigh, how many sockets.

A JSON answer is read in chunks and refused past :data:`MAX_JSON_BODY` (decoded bytes,
so a compressed bomb is caught too); an error answer keeps its first
:data:`MAX_ERROR_BODY` bytes and the rest is never read. The raw bytes are decoded a
step of at most 1 MiB at a time, as downloads are (:mod:`._decoding`): an answer in an
encoding that cannot be decoded so raises :class:`UnsupportedEncodingError` and one cut
short is a transport failure (an error's body is then left unread, or kept as far as it
decoded). Reading also stops at the request's deadline. Blob downloads stream to disk and are
never buffered.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterable
from typing import Final

import httpx

from ._decoding import RAW_CHUNK, Decoder
from ._redact import redact
from .errors import ConfigurationError, ResponseTooLargeError, UnsupportedEncodingError

__all__ = [
    "DEFAULT_MAX_CONNECTIONS",
    "MAX_ERROR_BODY",
    "MAX_JSON_BODY",
    "BodyBuffer",
    "aread_capped",
    "limits_for",
    "read_capped",
]

MAX_JSON_BODY: Final = 64 * 1024 * 1024
"""Largest answer body the SDK holds in memory (64 MiB); a bigger one raises
:class:`~civitai_app_sdk.errors.ResponseTooLargeError`."""
MAX_ERROR_BODY: Final = 64 * 1024
"""Bytes of a failed answer's body that are read (64 KiB); the rest is discarded."""
DEFAULT_MAX_CONNECTIONS: Final = 1024
"""Connections one client may open at once. Each long-poll (``poll``, ``wait=``) holds
one for up to a minute, so the pool is sized for a thousand concurrent polls."""
_KEEPALIVE: Final = 100
_UNSUPPORTED_HINT: Final = (
    "The server (or a proxy) compressed the answer in an encoding the SDK does not ask "
    "for (it asks for gzip or deflate); retry later, or report it"
)


class BodyBuffer:
    """Collects a body's chunks up to ``limit`` bytes.

    ``truncate`` keeps the first ``limit`` bytes and reports itself full; otherwise a body
    past the limit raises :class:`ResponseTooLargeError` naming ``what`` (redacted then,
    so a request that fits pays nothing for it).
    """

    def __init__(self, limit: int, *, truncate: bool, what: str) -> None:
        """An empty buffer for at most ``limit`` bytes."""
        if limit < 0:
            raise ValueError("limit must be >= 0")
        self.limit = limit
        self.truncate = truncate
        self.what = what
        self._parts: list[bytes] = []
        self.size = 0

    def declared(self, response: httpx.Response) -> None:
        """Refuse at once a strict body whose ``Content-Length`` is already too large.

        A HEAD answer has no body: its length describes the resource, not the answer.
        """
        if response.request.method == "HEAD":
            return
        length = response.headers.get("content-length", "")
        if not self.truncate and length.isdigit() and int(length) > self.limit:
            raise self._too_large(int(length))

    def add(self, chunk: bytes) -> bool:
        """Keep ``chunk``; ``True`` once no more is wanted (a truncated body is full)."""
        room = self.limit - self.size
        if len(chunk) > room:
            if not self.truncate:
                raise self._too_large(self.size + len(chunk))
            chunk = chunk[:room]
        self._parts.append(chunk)
        self.size += len(chunk)
        return self.truncate and self.size >= self.limit

    def value(self) -> bytes:
        """The bytes collected so far."""
        return b"".join(self._parts)

    def _too_large(self, size: int) -> ResponseTooLargeError:
        return ResponseTooLargeError(
            f"the {redact(self.what)} answer is larger than {self.limit:,} bytes (at least "
            f"{size:,}); the SDK stopped reading it",
            limit=self.limit,
        )


def _holding(response: httpx.Response, content: bytes) -> httpx.Response:
    """``response``, closed, now holding ``content`` as its read body.

    This is the state ``Response.read()`` leaves (httpx keeps a read body in
    ``_content``, and offers no public way to read a body through a cap): ``content``,
    ``text`` and ``json()`` work, and the headers stay as the server sent them.
    """
    response._content = content
    return response


def _take(buffer: BodyBuffer, pieces: Iterable[bytes], deadline: float | None) -> bool:
    """Add the decoded ``pieces`` of one chunk to ``buffer``; ``True`` once it is full,
    ``ReadTimeout`` past ``deadline``."""
    for piece in pieces:
        if buffer.add(piece):
            return True
    if deadline is not None and time.monotonic() >= deadline:
        raise httpx.ReadTimeout("the request's deadline passed while reading the body")
    return False


def _decoder(
    response: httpx.Response, buffer: BodyBuffer, deadline: float | None
) -> Decoder | None:
    """The decoder of the rest of ``response``'s body; ``None`` when none is left to read.

    A body httpx has read already (a mock's) is taken into ``buffer`` now. An error's
    body in an encoding that cannot be decoded in bounded memory is left unread: the
    status still tells what happened.
    """
    buffer.declared(response)
    try:
        decoder = Decoder(response, f"the {buffer.what} answer", _UNSUPPORTED_HINT)
    except UnsupportedEncodingError:
        if buffer.truncate:
            return None
        raise
    if decoder.held is not None:
        _take(buffer, decoder.pieces(decoder.held), deadline)
        return None
    return decoder


def read_capped(
    response: httpx.Response, buffer: BodyBuffer, deadline: float | None = None
) -> httpx.Response:
    """Read a streamed ``response`` into ``buffer``, decoded in bounded steps, and close
    it; a read response back.

    Raises ``httpx.ReadTimeout`` when ``deadline`` (``time.monotonic()``) passes between
    chunks, :class:`ResponseTooLargeError` past a strict buffer's limit,
    :class:`UnsupportedEncodingError` for a strict body in an encoding not decoded in
    bounded memory, and ``httpx.DecodingError`` for a body that does not decode or (a
    strict one) ends before its end.
    """
    try:
        decoder = _decoder(response, buffer, deadline)
        if decoder is not None:
            for raw in response.iter_raw(RAW_CHUNK):
                if _take(buffer, decoder.pieces(raw), deadline):
                    break
            else:
                if not buffer.truncate:
                    decoder.finish()
    finally:
        response.close()
    return _holding(response, buffer.value())


async def aread_capped(
    response: httpx.Response, buffer: BodyBuffer, deadline: float | None = None
) -> httpx.Response:
    """Async twin of :func:`read_capped`."""
    try:
        decoder = _decoder(response, buffer, deadline)
        if decoder is not None:
            raws: AsyncIterator[bytes] = response.aiter_raw(RAW_CHUNK)
            async for raw in raws:
                if _take(buffer, decoder.pieces(raw), deadline):
                    break
            else:
                if not buffer.truncate:
                    decoder.finish()
    finally:
        await response.aclose()
    return _holding(response, buffer.value())


def limits_for(max_connections: int) -> httpx.Limits:
    """The httpx pool limits for a client allowed ``max_connections`` sockets."""
    if not isinstance(max_connections, int) or max_connections < 1:
        raise ConfigurationError("max_connections must be a whole number >= 1")
    return httpx.Limits(
        max_connections=max_connections,
        max_keepalive_connections=min(max_connections, _KEEPALIVE),
    )
