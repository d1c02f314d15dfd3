"""The minimum-speed rule of streamed downloads: too few bytes over a sliding window ends one.

A per-read timeout never ends a download that a server trickles a byte at a time, and a
total timeout has to be sized for the largest file. So every streamed body also has a
floor: once ``window`` seconds of it have passed, the bytes that arrived in the last
``window`` seconds must reach ``min_bytes``, else :class:`DownloadTooSlowError`. It is
checked as bytes arrive; a server that sends nothing at all is cut by the idle timeout.
"""

from __future__ import annotations

import collections
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Final

import httpx

from ._deadline import is_seconds
from .errors import ConfigurationError, DownloadTooSlowError

__all__ = [
    "DEFAULT_MIN_SPEED",
    "MinSpeed",
    "SpeedMeter",
    "check_min_speed",
    "meter_response",
]

MinSpeed = tuple[int, float]
"""``(min_bytes, window_seconds)``: at least ``min_bytes`` in every ``window_seconds``."""
DEFAULT_MIN_SPEED: Final[MinSpeed] = (32 * 1024, 60.0)
"""At least 32 KiB in every 60 s (about 0.5 KiB/s): a slow link passes, a trickle does not."""


def check_min_speed(min_speed: object) -> MinSpeed | None:
    """``min_speed`` as a ``(bytes, seconds)`` pair, ``None`` unchanged (no floor).

    Raises :class:`ConfigurationError` unless the bytes are an int >= 1 and the window a
    finite number of seconds > 0.
    """
    if min_speed is None:
        return None
    if isinstance(min_speed, tuple) and len(min_speed) == 2:
        size, window = min_speed
        if (
            isinstance(size, int)
            and not isinstance(size, bool)
            and size >= 1
            and is_seconds(window)
        ):
            return size, float(window)
    raise ConfigurationError(
        f"min_speed must be None or (min_bytes >= 1, window seconds > 0), not {min_speed!r}"
    )


class SpeedMeter:
    """Counts a body's bytes over a sliding window and raises when they fall short.

    ``what`` names the download in the error; ``clock`` is ``time.monotonic`` but in tests.
    """

    def __init__(
        self,
        min_speed: MinSpeed,
        what: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Start the window now."""
        self.min_bytes, self.window = min_speed
        self.what = what
        self._clock = clock
        self._start = clock()
        self._arrivals: collections.deque[tuple[float, int]] = collections.deque()
        self._in_window = 0

    def add(self, size: int) -> None:
        """Record ``size`` bytes arriving now; raise if the last window got too few.

        Arrivals leave the count when they fall out of the window, and earlier when the
        newer ones alone reach the floor: those can never be needed again (by the time a
        newer one leaves, so have they), so a fast download keeps a few entries, not one
        per chunk of the window, and a count under the floor is still exact.
        """
        now = self._clock()
        arrivals = self._arrivals
        arrivals.append((now, size))
        self._in_window += size
        while arrivals and (
            arrivals[0][0] <= now - self.window
            or self._in_window - arrivals[0][1] >= self.min_bytes
        ):
            self._in_window -= arrivals.popleft()[1]
        if now - self._start >= self.window and self._in_window < self.min_bytes:
            raise DownloadTooSlowError(
                f"{self.what}: only {self._in_window} bytes arrived in the last "
                f"{self.window:g} s (the floor is {self.min_bytes})",
                min_bytes=self.min_bytes,
                window=self.window,
            )


class _MeteredStream(httpx.SyncByteStream):
    def __init__(self, inner: httpx.SyncByteStream, meter: SpeedMeter) -> None:
        self._inner, self._meter = inner, meter

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._inner:
            self._meter.add(len(chunk))
            yield chunk

    def close(self) -> None:
        self._inner.close()


class _AsyncMeteredStream(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.AsyncByteStream, meter: SpeedMeter) -> None:
        self._inner, self._meter = inner, meter

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            self._meter.add(len(chunk))
            yield chunk

    async def aclose(self) -> None:
        await self._inner.aclose()


def meter_response(
    response: httpx.Response, min_speed: MinSpeed | None, what: str, *, asynchronous: bool
) -> None:
    """Make reading ``response``'s unread body (read with ``async for`` when
    ``asynchronous``) keep to ``min_speed`` (``None``: no floor)."""
    if min_speed is None:
        return
    meter = SpeedMeter(min_speed, what)
    stream = response.stream
    if asynchronous and isinstance(stream, httpx.AsyncByteStream):
        response.stream = _AsyncMeteredStream(stream, meter)
    elif not asynchronous and isinstance(stream, httpx.SyncByteStream):
        response.stream = _MeteredStream(stream, meter)
