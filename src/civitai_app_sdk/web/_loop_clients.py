"""One OAuth client per running event loop, for the web helpers.

An async client's connections belong to the event loop that opened them, and a client
in use by a running loop refuses another (:class:`~civitai_app_sdk._event_loops.LoopGuard`).
Frameworks that run each request's async code in a new loop in a worker thread (async
views through asgiref, Django's adapters, ``asyncio.run`` per request) run several loops
at once, so the web core gives each running loop its own client. A loop that no longer
runs gives its client up to the next loop that needs one (the client drops the old
loop's connections): there are never more clients than loops that ran at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from .._event_loops import has_ended, running_loop
from .._fork import reset_in_child
from ..oauth import AsyncOAuthClient

__all__ = ["LoopClients"]


class LoopClients:
    """``first``, then the clients ``make`` creates, each lent to one running loop."""

    def __init__(self, first: AsyncOAuthClient, make: Callable[[], AsyncOAuthClient]) -> None:
        """Lend ``first`` to the first loop; ``make`` more when every client is in use."""
        self._make = make
        self._lent: list[tuple[object | None, AsyncOAuthClient]] = [(None, first)]
        self._lock = threading.Lock()  # loops in threads share it
        reset_in_child(self, LoopClients._in_child)

    def _in_child(self) -> None:
        """In a forked child: a fresh lock, and every client free (the parent's loops
        do not run there)."""
        self._lock = threading.Lock()
        self._lent = [(None, client) for _, client in self._lent]

    def current(self) -> AsyncOAuthClient:
        """The running loop's client: the one it has, else one a loop that no longer
        runs had, else a new one."""
        loop = running_loop()
        with self._lock:
            for owner, client in self._lent:
                if owner is loop:
                    return client
            for index, (owner, client) in enumerate(self._lent):
                if owner is None or has_ended(owner):
                    self._lent[index] = (loop, client)
                    return client
            client = self._make()
            self._lent.append((loop, client))
            return client

    async def aclose(self) -> None:
        """Close every client but those of loops still running elsewhere (which cannot
        be closed from this loop, and are dropped)."""
        loop = running_loop()
        with self._lock:
            lent, self._lent = self._lent, []
        for owner, client in lent:
            if owner is None or owner is loop or has_ended(owner):
                await client.aclose()
