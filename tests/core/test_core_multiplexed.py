"""A connection that serves several requests at once (HTTP/2) is shared while it is held.

The SDK's sync pool hides the connections its requests hold while it tidies (see
``test_core_shared_threads``). With ``httpx.HTTPTransport(http2=True)`` that hid an
HTTP/2 connection from the other requests too: they could not share it and the pool
opened one connection each. No HTTP/2 server runs here (``h2`` is no dependency of the
SDK), so the pool is given connections that behave as httpcore's HTTP/2 ones do: not
idle while streams are open, and available for more until closed.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpcore
import httpx

from civitai_app_sdk._held import spare_held

REQUESTS = 3


class _Stream:
    def __init__(self, connection: _Multiplexed) -> None:
        self._connection = connection

    def __iter__(self) -> Iterator[bytes]:
        yield b"ok"

    def close(self) -> None:
        with self._connection.lock:
            self._connection.streams -= 1


class _Multiplexed:
    """A connection with HTTP/2's pool-facing behaviour; each request waits for the others."""

    def __init__(
        self, origin: httpcore.Origin, together: threading.Barrier, serving: threading.Event
    ) -> None:
        self._origin = origin
        self._together = together
        self._serving = serving
        self.lock = threading.Lock()
        self.streams = 0
        self.closed = False

    def handle_request(self, request: httpcore.Request) -> httpcore.Response:
        with self.lock:
            self.streams += 1
        self._serving.set()
        self._together.wait(timeout=10)  # every request in flight at once
        return httpcore.Response(200, content=_Stream(self))

    def can_handle_request(self, origin: httpcore.Origin) -> bool:
        return origin == self._origin

    def is_available(self) -> bool:
        return not self.closed

    def has_expired(self) -> bool:
        return False

    def is_idle(self) -> bool:
        return self.streams == 0 and not self.closed

    def is_closed(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True


def test_concurrent_requests_share_one_held_multiplexed_connection() -> None:
    transport = spare_held(httpx.HTTPTransport())
    pool: Any = transport._pool
    together, serving = threading.Barrier(REQUESTS), threading.Event()
    opened: list[_Multiplexed] = []

    def create_connection(origin: httpcore.Origin) -> _Multiplexed:
        opened.append(_Multiplexed(origin, together, serving))
        return opened[-1]

    pool.create_connection = create_connection

    def fetch(index: int) -> int:
        if index:  # the others ask once the first request's connection serves it
            assert serving.wait(timeout=10)
        response = pool.handle_request(httpcore.Request("GET", "https://h2.test/"))
        response.read()
        response.close()
        return response.status

    with ThreadPoolExecutor(REQUESTS) as threads:
        statuses = list(threads.map(fetch, range(REQUESTS)))
    assert statuses == [200] * REQUESTS
    assert len(opened) == 1
