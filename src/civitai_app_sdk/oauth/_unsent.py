"""Telling a request that never left this machine from one the server may have read.

A refresh token is single use, so a client must not send it twice. But a refresh that
failed before any byte reached the server (no connection, no free pooled connection,
a closed client or event loop) did not use the token up: it may be sent again.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final, Protocol

import httpx

__all__ = ["never_sent", "release_if_unsent"]

_UNSENT: Final = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.UnsupportedProtocol,
)


class _Releasable(Protocol):
    def release(self, value: str) -> None: ...


def never_sent(error: BaseException) -> bool:
    """Whether ``error`` (or an exception it wraps) proves no request byte was sent.

    True for connect errors and timeouts, pool timeouts, unsupported URL schemes, and
    a plain ``RuntimeError`` (a closed client or event loop, raised before any I/O).
    """
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, _UNSENT) or type(current) is RuntimeError:
            return True
        seen.add(id(current))
        current = current.__cause__
    return False


@contextmanager
def release_if_unsent(guard: _Releasable, value: str) -> Iterator[None]:
    """Give ``value`` back to ``guard`` when the request sending it never left."""
    try:
        yield
    except BaseException as error:
        if never_sent(error):
            guard.release(value)
        raise
