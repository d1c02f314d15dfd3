"""One OAuth client per running event loop, for the web helpers.

An async client's connections belong to the event loop that opened them, and a client
in use by a running loop refuses another (:class:`~civitai_app_sdk._event_loops.LoopGuard`).
Frameworks that run each request's async code in a new loop in a worker thread (async
views through asgiref, Django's adapters, ``asyncio.run`` per request) run several loops
at once, so the web core gives each loop its own client. A loop that will not run again
(an asyncio loop closed, a trio run exited) has its client closed at the next look-up;
one garbage-collected unclosed drops it: at most one client per loop still alive.
"""

from __future__ import annotations

import sys
import threading
import weakref
from collections.abc import Callable

from .._event_loops import has_ended, running_loop
from .._fork import reset_in_child
from ..oauth import AsyncOAuthClient

__all__ = ["LoopClients"]


def _over(loop: object) -> bool:
    """Whether ``loop`` will never run again (a stopped asyncio loop may run again)."""
    asyncio = sys.modules.get("asyncio")
    if asyncio is not None and isinstance(loop, asyncio.AbstractEventLoop):
        return bool(loop.is_closed())
    return has_ended(loop)


class LoopClients:
    """The clients ``make`` creates, one per running event loop."""

    def __init__(self, make: Callable[[], AsyncOAuthClient]) -> None:
        """Create clients with ``make`` as loops ask for them."""
        self._make = make
        self._clients: weakref.WeakKeyDictionary[object, AsyncOAuthClient] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()  # loops in threads share it
        reset_in_child(self, LoopClients._in_child)

    def _in_child(self) -> None:
        """A fresh lock in a forked child (a thread of the parent may have held it)."""
        self._lock = threading.Lock()

    async def current(self) -> AsyncOAuthClient:
        """The running loop's client, made on its first request; the clients of loops
        that are over are closed first."""
        loop = running_loop()
        with self._lock:
            ended = self._take(_over)
            client = self._clients.get(loop)
            if client is None:
                client = self._clients[loop] = self._make()
        for old in ended:  # their connections are dropped (LoopGuard), then they close
            await old.aclose()
        return client

    async def aclose(self) -> None:
        """Close the running loop's client and those of loops that are over; the
        clients of loops still running elsewhere are dropped (they cannot be closed
        from this loop)."""
        loop = running_loop()
        with self._lock:
            closable = self._take(lambda other: other is loop or _over(other))
            self._clients.clear()
        for client in closable:
            await client.aclose()

    def _take(self, which: Callable[[object], bool]) -> list[AsyncOAuthClient]:
        """Remove and return the clients of the loops ``which`` picks (lock held)."""
        picked = [loop for loop in list(self._clients) if which(loop)]
        return [self._clients.pop(loop) for loop in picked]
