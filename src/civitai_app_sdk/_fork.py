"""A process forked after a client was used does not share its parent's connections.

``os.fork`` copies a client's pool with its open keep-alive sockets: parent and child
would then write requests on one TCP connection and each read whichever answer comes
first, the other's workflow included. :func:`track` registers the pools of the SDK's
transports; in a forked child they forget every connection and request they held
(closing the child's copies of the sockets, which leaves the parent's open), so the
child opens its own. A pool of another shape than httpcore 1.0's is not tracked
(:func:`~civitai_app_sdk._pools.pool_of`).

The threads of the parent do not come along either: a lock one of them held at the fork
stays taken in the child for good, and a refresh one of them ran never ends there.
:func:`reset_in_child` registers what resets such state (fresh locks, no refresh in
flight) in a forked child.
"""

from __future__ import annotations

import contextlib
import os
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

import httpcore

from ._pools import pool_of

__all__ = ["reset_in_child", "track"]

T = TypeVar("T")

_POOLS: weakref.WeakSet[Any] = weakref.WeakSet()
_RESETS: dict[int, tuple[weakref.ref[Any], Callable[[Any], None]]] = {}
"""The resets to run in a forked child, by the ``id`` of their owner (an owner's own
``__eq__`` and ``__hash__``, as an app's subclass may define them, play no part)."""


def track(transport: object) -> None:
    """Have ``transport``'s connection pool (an httpx transport's) forgotten in a fork."""
    pool = pool_of(transport)
    if pool is not None:
        _POOLS.add(pool)


def reset_in_child(owner: T, reset: Callable[[T], None]) -> None:
    """Have ``reset(owner)`` called in a forked child while ``owner`` lives (``reset``
    holds no reference to it: a function, not a bound method)."""
    key = id(owner)

    def forget(ref: weakref.ref[Any]) -> None:  # before the id can be another's
        if _RESETS.get(key, (None,))[0] is ref:
            del _RESETS[key]

    _RESETS[key] = (weakref.ref(owner, forget), reset)


def _forget_in_child() -> None:
    """In a forked child: empty every tracked pool and give it a fresh lock, then run
    the resets :func:`reset_in_child` registered.

    The threads that held its requests (or its lock) did not come along. A sync pool's
    sockets are closed here (the child's copies only); an async pool's belong to an
    event loop of the parent and are left to the garbage collector.
    """
    for pool in list(_POOLS):
        held = pool._connections
        pool._connections, pool._requests = [], []
        pool._optional_thread_lock = type(pool._optional_thread_lock)()
        if isinstance(pool, httpcore.ConnectionPool):
            for connection in held:
                with contextlib.suppress(Exception):
                    connection.close()
    for ref, reset in list(_RESETS.values()):
        owner = ref()
        if owner is not None:
            reset(owner)


if hasattr(os, "register_at_fork"):  # not on Windows, which has no fork
    os.register_at_fork(after_in_child=_forget_in_child)
