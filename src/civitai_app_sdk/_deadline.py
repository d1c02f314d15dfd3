"""Whole-request deadlines: a request ends by its deadline whatever the server does.

httpx's timeouts bound each network operation, so a server that trickles a body byte by
byte, or holds a long-poll past the caller's patience, keeps a request alive far longer
than ``timeout=``. Here a request gets one deadline (``time.monotonic()`` seconds): the
pure functions below compute it and clamp httpx timeouts to it; :func:`deadline_scope`
publishes it to :class:`DeadlineBackend`, which the SDK's own sync connection pool uses
to cut every socket operation at the deadline (async requests use a cancel scope).
"""

from __future__ import annotations

import contextvars
import math
import ssl
import time
from collections.abc import Iterable
from typing import Any, Final

import httpcore
import httpx

from .errors import ConfigurationError

__all__ = [
    "POLL_GRACE",
    "DeadlineBackend",
    "clamp_timeout",
    "current_deadline",
    "deadline_scope",
    "download_deadline",
    "install",
    "is_seconds",
    "may_retry",
    "remaining",
    "request_deadline",
]

POLL_GRACE: Final = 0.25
"""Seconds a request of a poll may run past the poll's deadline (for an answer in flight)."""
_FLOOR: Final = 0.001
"""Smallest timeout handed to a socket operation (0 would mean "no wait" or "forever")."""

_current: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "civitai_request_deadline", default=None
)


def request_deadline(
    now: float, total: float, wait: float = 0.0, limit: float | None = None
) -> float:
    """When a request started at ``now`` must end: ``total`` plus the server ``wait``.

    ``limit`` (same clock) is an outer deadline, such as a poll's; the request never
    outlives it by more than :data:`POLL_GRACE`.
    """
    end = now + total + max(wait, 0.0)
    return end if limit is None else min(end, limit + POLL_GRACE)


def is_seconds(value: object) -> bool:
    """Whether ``value`` is a finite number of seconds > 0 (an int or float, not a bool)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return 0 < value < math.inf


def download_deadline(total: float | None, now: float | None = None) -> float | None:
    """When a download given ``total`` seconds must end (``None``: only its idle limit)."""
    if total is None:
        return None
    if not is_seconds(total):
        raise ConfigurationError("total_timeout must be a positive, finite number of seconds")
    return (time.monotonic() if now is None else now) + total


def remaining(deadline: float, now: float) -> float:
    """Seconds left until ``deadline`` (never negative)."""
    return max(0.0, deadline - now)


def clamp_timeout(timeout: httpx.Timeout, left: float) -> httpx.Timeout:
    """``timeout`` with every part cut to ``left`` seconds (at least a millisecond)."""
    left = max(left, _FLOOR)

    def cut(part: float | None) -> float:
        return left if part is None else min(part, left)

    return httpx.Timeout(
        connect=cut(timeout.connect),
        read=cut(timeout.read),
        write=cut(timeout.write),
        pool=cut(timeout.pool),
    )


def may_retry(attempt: int, max_retries: int, deadline: float | None) -> bool:
    """Whether attempt ``attempt + 1`` may follow: within ``max_retries``, or a deadline.

    A call bounded by a deadline (a poll's request) retries transient failures until the
    deadline, however many that takes; the caller then checks the pause fits before it.
    """
    return deadline is not None or attempt < max_retries


def current_deadline() -> float | None:
    """The deadline of the request running in this thread or task, if any."""
    return _current.get()


class deadline_scope:  # a function to its callers: `with deadline_scope(d):`
    """Publish ``deadline`` to :class:`DeadlineBackend` for the requests in this block
    (``None``: none, whatever an outer block set).

    A class rather than a generator: it wraps every send and read of every request.
    """

    def __init__(self, deadline: float | None) -> None:
        """Hold ``deadline`` until the block starts."""
        self._deadline = deadline
        self._token: contextvars.Token[float | None] | None = None

    def __enter__(self) -> None:
        """Publish the deadline."""
        self._token = _current.set(self._deadline)

    def __exit__(self, *exc_info: object) -> None:
        """Restore what an outer block published."""
        if self._token is not None:
            _current.reset(self._token)


def _budget(timeout: float | None, what: str) -> float | None:
    """``timeout`` cut to the current deadline; raises the matching timeout when it passed."""
    deadline = _current.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        kind = httpcore.ConnectTimeout if what == "connect" else httpcore.ReadTimeout
        raise kind(f"the request's deadline passed ({what})")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A socket stream whose every read and write ends by the current deadline."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _budget(timeout, "read"))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _budget(timeout, "write"))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        tls = self._inner.start_tls(ssl_context, server_hostname, _budget(timeout, "connect"))
        return _DeadlineStream(tls)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    """A network backend cutting connects, reads and writes at :func:`current_deadline`."""

    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        """Wrap the backend that really opens sockets."""
        self._inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        """Open a TCP stream within the deadline; its operations keep to it too."""
        stream = self._inner.connect_tcp(
            host, port, _budget(timeout, "connect"), local_address, socket_options
        )
        return _DeadlineStream(stream)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        """Open a Unix socket stream within the deadline."""
        stream = self._inner.connect_unix_socket(path, _budget(timeout, "connect"), socket_options)
        return _DeadlineStream(stream)

    def sleep(self, seconds: float) -> None:
        """Sleep as the wrapped backend does."""
        self._inner.sleep(seconds)


def install(transport: httpx.HTTPTransport) -> httpx.HTTPTransport:
    """Make ``transport``'s connection pool keep to :func:`current_deadline`.

    httpx offers no public hook for the network backend, so this wraps the one its pool
    holds; a pool without one (a future httpx) is refused loudly rather than left
    unbounded.
    """
    pool = getattr(transport, "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    if not isinstance(backend, httpcore.NetworkBackend):
        raise ConfigurationError("this httpx version hides its network backend; use httpx 0.28")
    if not isinstance(backend, DeadlineBackend):
        pool._network_backend = DeadlineBackend(backend)  # type: ignore[union-attr]
    return transport
