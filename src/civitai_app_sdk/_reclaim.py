"""Give an async connection pool back what a cancelled request left in it.

httpcore 1.0 loses connection slots to cancellation, and never gets them back: a request
cancelled while it waits for a connection the pool just created for it leaves that
connection in the pool, never connected and used by no one; and a native asyncio
cancellation (``task.cancel()``, ``asyncio.timeout``, a failing ``TaskGroup`` sibling),
which anyio's shields do not stop, can cut the closing of a response half way, leaving
its connection busy for a request that has ended. Once ``max_connections`` slots are lost
so, every later request of the client waits for the pool and fails
(:class:`~civitai_app_sdk.errors.PoolExhaustedError`) though the server is fine.

:func:`reclaim` runs after a request of the SDK's own pool ended with an exception (never
on the way of a request that succeeds): it drops the request a half-closed answer left
behind, closes and removes every connection that is neither idle, nor closed, nor held by
a request, and hands the freed slots to the requests queued for one. It works on
httpcore's pool internals; a pool of another shape is left as it is
(:func:`~civitai_app_sdk._pools.pool_of`).
"""

from __future__ import annotations

import contextlib
from typing import Any

import anyio
import httpx

from ._pools import pool_of

__all__ = ["reclaim"]


def _leftover(pool: Any, response: httpx.Response | None) -> None:
    """Drop the pool request of ``response`` when closing it was cut after it began."""
    requests: list[Any] = pool._requests
    stream = getattr(getattr(response, "stream", None), "_httpcore_stream", None)
    if getattr(stream, "_closed", False) is not True or getattr(stream, "_pool", None) is not pool:
        return
    request = getattr(stream, "_pool_request", None)
    if request in requests:
        requests.remove(request)


def _orphans(pool: Any) -> list[Any]:
    """Take out of ``pool`` the connections no request holds that are neither idle nor
    closed: nothing would ever use or free them."""
    held = {request.connection for request in pool._requests}
    lost = [
        connection
        for connection in pool._connections
        if connection not in held and not connection.is_idle() and not connection.is_closed()
    ]
    for connection in lost:
        pool._connections.remove(connection)
    return lost


async def reclaim(transport: httpx.AsyncHTTPTransport, response: httpx.Response | None) -> None:
    """After a failed or cancelled request on ``transport``: free the slots it left taken.

    ``response`` is the answer whose body was being read, if any. Closing the lost
    connections is shielded from the cancellation that is on its way up.
    """
    pool = pool_of(transport)
    if pool is None:
        return
    with pool._optional_thread_lock:
        _leftover(pool, response)
        lost = _orphans(pool)
        lost += pool._assign_requests_to_connections()  # else the queued wait out their timeout
    with anyio.CancelScope(shield=True):
        for connection in lost:
            with contextlib.suppress(Exception):  # the original failure is what matters
                await connection.aclose()
