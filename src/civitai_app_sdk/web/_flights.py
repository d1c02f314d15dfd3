"""Refreshes in flight, as the web core shares them between requests and event loops.

Under asyncio a refresh runs as its own task (an ``asyncio.Future``); under trio
(through anyio), which starts no task outside a task group, the request that starts it
sends it shielded from its cancellation (a :class:`RunFlight`). Either is read the same
way from other event loops (:func:`elsewhere`).
"""

from __future__ import annotations

import concurrent.futures
import threading
from typing import Final, Protocol

import anyio

from .._event_loops import has_ended
from ..oauth import TokenSet
from .errors import SignInUnavailableError

__all__ = ["CUT", "Flight", "RunFlight", "elsewhere", "ended_in_child"]

_POLL_ELSEWHERE: Final = 0.02
"""Seconds between looks at a refresh another event loop runs."""
CUT: Final = "The sign-in could not be renewed just now. You are still signed in: please try again."
"""What a request is told when the refresh it waited for was cut (the session stays)."""


class Flight(Protocol):
    """What the core reads of a refresh in flight."""

    def get_loop(self) -> object:
        """The event loop (asyncio's, or trio's token) that sends it."""
        ...

    def done(self) -> bool:
        """Whether it has ended."""
        ...

    def cancelled(self) -> bool:
        """Whether it was cut before it ended."""
        ...

    def result(self) -> TokenSet:
        """The new tokens, or the failure raised."""
        ...

    def exception(self) -> BaseException | None:
        """The failure, if any."""
        ...


class RunFlight(concurrent.futures.Future[TokenSet]):
    """A refresh a request of a trio run sends; the run's other requests wait for
    :attr:`ended`, other loops poll it."""

    def __init__(self, loop: object) -> None:
        """A refresh about to be sent in ``loop`` (trio's token)."""
        super().__init__()
        self._loop = loop
        self.ended = anyio.Event()

    def get_loop(self) -> object:
        """The trio token of the run that sends it."""
        return self._loop


def ended_in_child(flight: Flight) -> bool:
    """Whether ``flight`` had ended, asked in a forked child: a :class:`RunFlight` gets a
    fresh condition first, as a thread of the parent ending it may have held its own at
    the fork (the child would wait for it, inside ``os.fork()``, for good)."""
    if isinstance(flight, RunFlight):
        flight._condition = threading.Condition()
    return flight.done()


async def elsewhere(flight: Flight) -> TokenSet | None:
    """The outcome of a refresh that another event loop ran or runs (an app that starts
    a loop per request, or several loops in threads); None when it cannot give one
    (cancelled, or its loop stopped half way, before this request came): a new refresh
    is sent. One cut while this request waits, its loop stopped or its task cancelled,
    is :class:`SignInUnavailableError` (the token may be spent: the session stays).

    The other loop's future is only read: it is polled, as nothing can be awaited
    across loops that may stop at any time. Its loop is asked before it: a refresh that
    ended just before its loop stopped is then seen ended, not cut.
    """
    other = flight.get_loop()
    ended = has_ended(other)
    if flight.done():
        return None if flight.cancelled() else flight.result()
    if ended:
        return None
    while not flight.done():
        if has_ended(other) and not flight.done():
            raise SignInUnavailableError(CUT)
        await anyio.sleep(_POLL_ELSEWHERE)
    if flight.cancelled():
        raise SignInUnavailableError(CUT)
    return flight.result()
