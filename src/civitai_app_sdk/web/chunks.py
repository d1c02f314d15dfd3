"""Cookie values split over several cookies when they outgrow one (browsers cap ~4 KB).

Sans-IO: :class:`ChunkedCookie` reads a value from a ``Cookie`` header and writes it
back as ``Set-Cookie`` values. A value that fits is one cookie, ``name=value``. A larger
one becomes ``name=chunks.N`` plus ``name.1`` … ``name.N``. Writing also deletes the
chunks a previous, longer value left behind, so a stale tail can never be read back.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

import attrs

from ..cookies import build_set_cookie_header, read_cookie
from ..errors import ConfigurationError
from .errors import CookieTooLargeError

__all__ = ["COOKIE_LIMIT", "DEFAULT_MAX_CHUNKS", "ChunkedCookie", "cookie_names"]

COOKIE_LIMIT: Final = 4000
"""Most bytes of ``name=value`` put in one cookie (browsers keep at least 4,096)."""
DEFAULT_MAX_CHUNKS: Final = 8
"""Most chunks one value may use (eight cookies of ~4 KB)."""
_MARKER: Final = re.compile(r"chunks\.([1-9][0-9]?)")


def cookie_names(header: str | None) -> set[str]:
    """The names of the cookies in a ``Cookie`` header."""
    names = set()
    for piece in (header or "").split(";"):
        name, sep, _ = piece.strip().partition("=")
        if sep and name:
            names.add(name)
    return names


@attrs.frozen
class ChunkedCookie:
    """One logical cookie, written as one or more real ones with the same attributes."""

    name: str
    max_age: int
    secure: bool
    http_only: bool = True
    same_site: str = "lax"
    path: str = "/"
    limit: int = COOKIE_LIMIT
    max_chunks: int = DEFAULT_MAX_CHUNKS

    def __attrs_post_init__(self) -> None:
        """Check the attributes once (an invalid name or prefix fails here, not later)."""
        if self.limit < 64 or not 1 <= self.max_chunks <= 99:
            raise ConfigurationError("cookie limit must be >= 64 and max_chunks 1..99")
        if len(self.chunk_name(self.max_chunks)) > self.limit // 2:
            raise ConfigurationError(f"cookie name {self.name[:40]!r}… leaves no room for a value")
        try:
            self._header(self.chunk_name(self.max_chunks), "", self.max_age)
        except ValueError as exc:
            raise ConfigurationError(f"cookie {self.name!r}: {exc}") from None

    @property
    def capacity(self) -> int:
        """An upper bound, in characters, of a value :meth:`split` accepts."""
        return self.max_chunks * self.limit

    def chunk_name(self, index: int) -> str:
        """The name of chunk ``index`` (1-based)."""
        return f"{self.name}.{index}"

    def _header(self, name: str, value: str, max_age: int) -> str:
        return build_set_cookie_header(
            name,
            value,
            max_age=max_age,
            path=self.path,
            secure=self.secure,
            http_only=self.http_only,
            same_site=self.same_site,
        )

    def read(self, header: str | None) -> str | None:
        """The value held in ``header``: the cookie itself or its joined chunks.

        ``None`` when the cookie is absent, a chunk is missing or the chunk count is out
        of range (a half-written value is as good as none).
        """
        head = read_cookie(header, self.name)
        if head is None:
            return None
        marker = _MARKER.fullmatch(head)
        if marker is None:
            return head
        count = int(marker.group(1))
        if count > self.max_chunks:
            return None
        parts = []
        for index in range(1, count + 1):
            part = read_cookie(header, self.chunk_name(index))
            if not part:
                return None
            parts.append(part)
        return "".join(parts)

    def split(self, value: str) -> list[tuple[str, str]]:
        """``(name, value)`` pairs that carry ``value``, each within :attr:`limit` bytes.

        Raises :class:`CookieTooLargeError` past :attr:`max_chunks` chunks and
        :class:`ConfigurationError` for a value that could be mistaken for a chunk marker.
        """
        if _MARKER.fullmatch(value):
            raise ConfigurationError("a cookie value may not look like a chunk marker")
        if len(self.name) + 1 + len(value) <= self.limit:
            return [(self.name, value)]
        room = self.limit - len(self.chunk_name(self.max_chunks)) - 1
        pieces = [value[i : i + room] for i in range(0, len(value), room)]
        if len(pieces) > self.max_chunks:
            raise CookieTooLargeError(
                f"the session needs {len(pieces)} cookies (at most {self.max_chunks}); "
                "keep it in a server-side store instead"
            )
        named = [(self.chunk_name(i), piece) for i, piece in enumerate(pieces, 1)]
        return [(self.name, f"chunks.{len(pieces)}"), *named]

    def set_cookie_headers(self, value: str | None, present: Iterable[str] = ()) -> list[str]:
        """``Set-Cookie`` values that store ``value`` (``None``: delete the cookie).

        ``present`` are the cookie names the request carried: chunks of this cookie
        among them that the new value does not use are deleted (``Max-Age=0``).
        """
        pairs = [] if value is None else self.split(value)
        written = {name for name, _ in pairs}
        headers = [self._header(name, piece, self.max_age) for name, piece in pairs]
        mine = {self.name} | {self.chunk_name(i) for i in range(1, self.max_chunks + 1)}
        stale = sorted((set(present) & mine) - written)
        if value is None and self.name not in stale:
            stale.insert(0, self.name)
        headers.extend(self._header(name, "", 0) for name in stale)
        return headers
