"""A sync connection pool shared by threads never closes a connection a request holds.

Each time httpcore's pool hands out or takes back a connection it also tidies itself,
closing connections it judges expired or surplus. It judges without the connection's
own lock: an idle connection that another thread was just given, and that is already
sending its request, can be found "idle with bytes waiting" (the answer to that
request) and closed as if the server had hung up, under the thread reading it. With a
few threads sharing a client, some requests fail so (``[Errno 9] Bad file descriptor``)
though nothing is wrong with the network.

:func:`spare_held` makes the pool of an ``httpx.HTTPTransport`` leave alone, while it
tidies, the connections its live requests hold: they are neither closed nor handed to
another request; the request holding one finds out itself if it is broken. A held
connection that serves several requests at once (HTTP/2, with a user's
``httpx.HTTPTransport(http2=True)``) is still shared, as the pool would share it: first,
each queued request for its origin is given it. A pool of another shape than httpcore
1.0's is left as it is (:func:`~civitai_app_sdk._pools.pool_of`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import httpcore
import httpx

from ._pools import pool_of

__all__ = ["spare_held"]

_MARK: Final = "_civitai_spares_held"


class _Held:
    """Stands in the pool's list for a connection a request holds, while the pool tidies."""

    __slots__ = ("connection",)

    def __init__(self, connection: Any) -> None:
        self.connection = connection

    def is_closed(self) -> bool:
        return False

    def has_expired(self) -> bool:
        return False

    def is_idle(self) -> bool:
        return False

    def is_available(self) -> bool:
        return False

    def can_handle_request(self, origin: Any) -> bool:
        return False


def _multiplexes(connection: Any) -> bool:
    """Whether ``connection`` takes another request while it serves one: an HTTP/2
    connection (or one being opened that may become so), never an HTTP/1.1 one, which
    is available only when idle."""
    return not connection.is_idle() and connection.is_available()


def _share(pool: Any, held: list[Any]) -> None:
    """Give each queued request of ``pool`` a ``held`` connection that can take it at
    once, as the pool's own tidying would (before it opens a new connection)."""
    shared = [connection for connection in held if _multiplexes(connection)]
    for request in pool._requests if shared else ():
        if request.is_queued():
            origin = request.request.url.origin
            found = [c for c in shared if c.can_handle_request(origin) and c.is_available()]
            if found:
                request.assign_to_connection(found[0])


def _sparing(pool: Any, tidy: Callable[[], list[Any]]) -> Callable[[], list[Any]]:
    """``pool``'s tidying step (``tidy``), run with the held connections stood in for."""

    def assign() -> list[Any]:
        requests = pool._requests
        if not requests or (len(requests) == 1 and requests[0].connection is None):
            return tidy()  # one thread's request, holding nothing yet: the usual case
        held = {id(r.connection) for r in requests if r.connection is not None}
        _share(pool, [connection for connection in pool._connections if id(connection) in held])
        pool._connections = [
            _Held(connection) if id(connection) in held else connection
            for connection in pool._connections
        ]
        try:
            return tidy()
        finally:
            pool._connections = [
                item.connection if isinstance(item, _Held) else item for item in pool._connections
            ]

    return assign


def spare_held(transport: httpx.HTTPTransport) -> httpx.HTTPTransport:
    """Make ``transport``'s pool spare the connections its requests hold (once)."""
    pool = pool_of(transport)
    if not isinstance(pool, httpcore.ConnectionPool) or getattr(pool, _MARK, False):
        return transport
    tidy = pool._assign_requests_to_connections
    setattr(pool, "_assign_requests_to_connections", _sparing(pool, tidy))  # noqa: B010
    setattr(pool, _MARK, True)
    return transport
