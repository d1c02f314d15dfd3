"""Test bodies: a lazily produced response body that counts how much the client pulled."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx

MIB = 1 << 20


class Counted(httpx.SyncByteStream, httpx.AsyncByteStream):
    """``total`` bytes made on demand in ``chunk``-byte parts (sync or async); ``pulled``
    is how many the reader took."""

    def __init__(self, total: int, chunk: int = MIB) -> None:
        self.total, self.chunk, self.pulled = total, chunk, 0

    def __iter__(self) -> Iterator[bytes]:
        while self.pulled < self.total:
            size = min(self.chunk, self.total - self.pulled)
            self.pulled += size
            yield b" " * size

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for part in self:
            yield part


class Sent(httpx.SyncByteStream, httpx.AsyncByteStream):
    """``content`` as sent, in ``chunk``-byte parts (sync or async): unlike an
    ``httpx.ByteStream``, respx does not read (and decode) it when the mock answers."""

    def __init__(self, content: bytes, chunk: int = 1 << 16) -> None:
        self.content, self.chunk = content, chunk

    def __iter__(self) -> Iterator[bytes]:
        for start in range(0, len(self.content), self.chunk):
            yield self.content[start : start + self.chunk]

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for part in self:
            yield part
