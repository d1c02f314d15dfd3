"""A body's content encoding, decoded in bounded memory: every JSON answer and download.

httpx would decode each chunk it reads in one go (64 KiB of gzip can become 64 MiB in
memory at once, whatever cap the reader then applies), so the SDK reads the raw bytes
and :class:`Decoder` decodes ``gzip``/``deflate`` a step of at most :data:`STEP` bytes at
a time. Any other encoding (``br``, ``zstd``, ``compress``, an unknown one, or more than
one) is refused with :class:`UnsupportedEncodingError`, as its memory cannot be bounded
so; the SDK asks for :data:`ACCEPT_ENCODING` only, so only a misbehaving server sends one.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator
from typing import Final

import httpx

from ._failures import request_id
from ._redact import redact
from .errors import UnsupportedEncodingError

__all__ = ["ACCEPT_ENCODING", "RAW_CHUNK", "STEP", "Decoder", "shown"]

ACCEPT_ENCODING: Final = "gzip, deflate"
"""What the SDK's requests accept, whatever httpx would offer (``br`` and ``zstd`` when
their packages are installed): the encodings :class:`Decoder` decodes."""
STEP: Final = 1 << 20
"""The most bytes decoded at once (1 MiB): the memory one step of decoding may take."""
RAW_CHUNK: Final = 1 << 16
"""Bytes read from the connection at a time (64 KiB)."""
_DECODED: Final = frozenset({"gzip", "x-gzip", "deflate"})
_ZLIB_WBITS: Final = {"gzip": zlib.MAX_WBITS | 16, "x-gzip": zlib.MAX_WBITS | 16}
_BODILESS: Final = frozenset({204, 304})


class _Inflater:
    """One ``gzip`` or ``deflate`` stream, decoded at most :data:`STEP` bytes at a time.

    ``deflate`` is the zlib format, or raw deflate when the first bytes say so (as
    httpx reads it). Bytes after the end of the stream are ignored, unread.
    """

    def __init__(self, coding: str, request: httpx.Request, what: str) -> None:
        self._raw_deflate_possible = coding == "deflate"
        self._zlib = zlib.decompressobj(_ZLIB_WBITS.get(coding, zlib.MAX_WBITS))
        self._request = request
        self._what = what
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
        """Raise if the stream stopped before its end (a body cut short is not kept)."""
        if self._fed and not self._zlib.eof:
            raise self._broken("the compressed body ended before its end")

    def _broken(self, why: str) -> httpx.DecodingError:
        message = f"cannot decode {redact(self._what)}: {why}"
        return httpx.DecodingError(message, request=self._request)


class Decoder:
    """Turns one response's raw chunks into its decoded bytes (sans I/O).

    Made from the response before any byte is read: it refuses at once an encoding it
    cannot decode in bounded memory. ``what`` names the body in messages ("the
    download"; redacted when a message is made); ``hint`` replaces the refusal's. ``held``
    is the body when httpx has read (and decoded) it already, as a mock transport's
    answer is: it is fed as it is. An answer without a body (to ``HEAD``, a 204 or a
    304) has nothing to decode.
    """

    def __init__(self, response: httpx.Response, what: str, hint: str | None = None) -> None:
        """Check ``response``'s ``Content-Encoding``; raise if it is refused."""
        self.held = _held(response)
        self.encoding = response.headers.get("content-encoding", "")
        self._inflater: _Inflater | None = None
        if not self.encoding or self.held is not None or _bodiless(response):
            return
        codings = [c.strip().lower() for c in self.encoding.split(",")]
        codings = [c for c in codings if c and c != "identity"]
        if len(codings) > 1 or (codings and codings[0] not in _DECODED):
            raise _unsupported(response, self.encoding, what, hint)
        if codings:
            self._inflater = _Inflater(codings[0], response.request, what)

    def pieces(self, raw: bytes) -> Iterable[bytes]:
        """What ``raw`` (the next chunk as received) decodes to, at most :data:`STEP`
        bytes a piece."""
        return (raw,) if self._inflater is None else self._inflater.pieces(raw)

    def finish(self) -> None:
        """Raise ``httpx.DecodingError`` if a compressed body ended before its end."""
        if self._inflater is not None:
            self._inflater.finish()


def _held(response: httpx.Response) -> bytes | None:
    """``response``'s body if httpx has read it already, else ``None``."""
    if not response.is_stream_consumed:  # as from the network: known without raising
        return None
    try:
        return response.content
    except httpx.ResponseNotRead:
        return None


def _bodiless(response: httpx.Response) -> bool:
    return response.request.method == "HEAD" or response.status_code in _BODILESS


def shown(encoding: str) -> str:
    """A server's ``Content-Encoding`` as a message quotes it: escaped, and cut at 100
    characters."""
    return repr(encoding[:100]) + ("…" if len(encoding) > 100 else "")


def _unsupported(
    response: httpx.Response, encoding: str, what: str, hint: str | None
) -> UnsupportedEncodingError:
    return UnsupportedEncodingError(
        f"{redact(what)} came compressed as {shown(encoding)}, which is not decoded in "
        "bounded memory (only gzip or deflate, once); nothing was kept",
        encoding=encoding,
        hint=hint,
        status=response.status_code,
        request_id=request_id(response),
        headers=response.headers,
        response=response,
    )
