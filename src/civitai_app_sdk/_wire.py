"""Whether any byte of a request may have left: httpcore's trace of a call's attempts.

A call that carries a single-use value (an authorization code, a refresh token) must
not be sent again once the server may have read it. A cancellation (a task cancelled,
an event loop shut down by ``asyncio.run``) says nothing of where the request was. The
transports hand a :class:`WireWatch` to httpcore as the request's ``trace`` extension:
httpcore reports each step before it takes it, so a call cut while it was still
connecting is known never to have written a byte of its request.
"""

from __future__ import annotations

from typing import Final

__all__ = ["WireWatch"]

_WRITE: Final = ".send_request_headers.started"
"""The step httpcore reports just before it writes a request (HTTP/1.1 and HTTP/2)."""


class WireWatch:
    """What httpcore reported of one call's attempts (see the module docstring)."""

    __slots__ = ("_traced", "_written")

    def __init__(self) -> None:
        """Nothing reported yet."""
        self._traced = False
        self._written = False

    def saw(self, event: str, info: object) -> None:
        """httpcore's sync ``trace`` callback: note ``event``."""
        self._traced = True
        if event.endswith(_WRITE):
            self._written = True

    async def asaw(self, event: str, info: object) -> None:
        """httpcore's async ``trace`` callback (it never suspends: a cancellation cannot
        come between the report and the note)."""
        self.saw(event, info)

    def unsent(self) -> bool:
        """Whether no byte of any attempt's request can have left: httpcore traced the
        call (it opened a connection for it) and never began writing. A transport that
        traces nothing (a mock, another HTTP stack) proves nothing: ``False``."""
        return self._traced and not self._written
