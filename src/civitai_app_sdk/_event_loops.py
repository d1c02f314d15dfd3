"""Which event loop an async connection pool's sockets belong to.

An ``httpx.AsyncHTTPTransport`` keeps idle connections whose sockets belong to the
event loop that opened them. Used again from another loop (a second ``asyncio.run``,
a test framework's loop per test), httpx fails with a bare ``RuntimeError: Event loop
is closed``. :class:`LoopGuard` notices the change before a request is sent: when the
old loop no longer runs, its dead connections are closed and the request goes on; when it is
still running (another thread), a :class:`~civitai_app_sdk.errors.ConfigurationError`
says how to use the client.
"""

from __future__ import annotations

import logging
import sys
from typing import Final

import httpx

from ._fork import reset_in_child
from .errors import ConfigurationError

__all__ = ["LoopGuard", "asyncio_loop", "has_ended", "running_loop"]

_log = logging.getLogger("civitai_app_sdk")
_SHARED_LOOPS: Final = (
    "this async client is in use by another running event loop (another thread): "
    "its connections belong to that loop; create one client per event loop"
)


def asyncio_loop() -> object | None:
    """The running asyncio event loop, or None (none runs, or another kind does).

    asyncio is not imported here (a sync command need not load it): a process that has
    not imported it runs no asyncio loop.
    """
    asyncio = sys.modules.get("asyncio")
    if asyncio is None:
        return None
    try:
        loop: object = asyncio.get_running_loop()
    except RuntimeError:
        return None
    return loop


def running_loop() -> object:
    """The running event loop: asyncio's loop object, or the native token of another."""
    loop = asyncio_loop()
    if loop is not None:
        return loop
    import anyio.lowlevel  # trio, through anyio

    return anyio.lowlevel.current_token().native_token


def has_ended(loop: object) -> bool:
    """Whether ``loop`` is not running: an asyncio loop stopped or closed, or a trio run
    that has exited (its token refuses a callback; a live run gets a no-op one).

    A loop of another kind cannot be asked and is taken as ended.
    """
    asyncio = sys.modules.get("asyncio")
    if asyncio is not None and isinstance(loop, asyncio.AbstractEventLoop):
        return not loop.is_running()
    call_soon = getattr(loop, "run_sync_soon", None)
    if call_soon is None:
        return True
    try:
        call_soon(_nothing)
    except RuntimeError:  # trio.RunFinishedError
        return True
    return False


def _nothing() -> None:
    """The callback that asks a trio run whether it still runs."""


class LoopGuard:
    """The loop a pool's connections belong to, shared by every transport over the pool."""

    def __init__(self, pool: httpx.AsyncBaseTransport) -> None:
        """No loop yet: the first request binds ``pool`` to its loop."""
        self._pool = pool
        self._loop: object | None = None
        reset_in_child(self, LoopGuard._in_child)

    def _in_child(self) -> None:
        """No loop in a forked child: the parent's (in another thread) does not run there,
        yet still says it runs; the pool was emptied (:mod:`._fork`)."""
        self._loop = None
        _forget_backend(self._pool)

    async def enter(self) -> None:
        """Bind the pool to the running loop; drop its connections from an ended one.

        Raises :class:`ConfigurationError` when the pool's loop is still running.
        """
        loop = running_loop()
        if loop is self._loop:
            return
        previous, self._loop = self._loop, loop
        if previous is None:
            return
        if not has_ended(previous):
            self._loop = previous
            raise ConfigurationError(_SHARED_LOOPS)
        try:  # empties the pool, which stays usable, then closes what it held
            await self._pool.aclose()
        except RuntimeError:  # a socket of the ended loop cannot be closed from this one
            _log.debug("connections of an ended event loop left to the garbage collector")
        _forget_backend(self._pool)


def _forget_backend(pool: httpx.AsyncBaseTransport) -> None:
    """Make ``pool`` pick its network backend again on its next connection.

    httpcore picks asyncio's or trio's on a pool's first connection and keeps it for
    good, so a pool first used under ``trio.run`` would fail under ``asyncio.run`` (a bare
    ``RuntimeError``), and the other way round. It drops httpcore's private choice
    (``AutoBackend._backend``, httpcore 1.0.9); a backend without one is left as it is.
    """
    backend = getattr(getattr(pool, "_pool", None), "_network_backend", None)
    if backend is not None and "_backend" in vars(backend):
        del backend._backend
