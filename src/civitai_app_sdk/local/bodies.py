"""Request bodies read with a size cap, so a huge body costs the local server no memory.

The real API's limit is not documented; :data:`MAX_BODY` is a generous stand-in. Blob
uploads are not read here: they stream in with their own cap (see :mod:`.uploads`).
"""

from __future__ import annotations

from typing import Final

from starlette.requests import Request
from starlette.responses import Response

from .problems import problem

__all__ = ["MAX_BODY", "BodyTooLargeError", "capped_body"]

MAX_BODY: Final = 32 * 1024 * 1024
"""Largest JSON or form body read (bytes); more answers 413 without reading the rest."""


class BodyTooLargeError(Exception):
    """A request body past the cap: answered with a 413 ProblemDetails (see ``app``)."""

    def __init__(self, limit: int) -> None:
        """Keep the cap that was passed."""
        super().__init__(limit)
        self.limit = limit

    def response(self) -> Response:
        """The 413 answer."""
        return problem(413, f"The request body is larger than {self.limit} bytes.")


def _declared_length(request: Request) -> int | None:
    try:
        return int(request.headers["content-length"])
    except (KeyError, ValueError):
        return None


async def capped_body(request: Request, limit: int = MAX_BODY) -> bytes:
    """The whole body, or :class:`BodyTooLargeError` as soon as it is known to pass
    ``limit``: from its ``Content-Length`` before reading, or while a chunked body streams."""
    declared = _declared_length(request)
    if declared is not None and declared > limit:
        raise BodyTooLargeError(limit)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise BodyTooLargeError(limit)
    return bytes(body)
