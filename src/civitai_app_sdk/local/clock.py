"""Clocks for the simulated workflows: the real one, and a manual one for tests."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Protocol

from civitai_app_sdk.errors import RequestValidationError

__all__ = ["Clock", "ManualClock", "SystemClock"]


class Clock(Protocol):
    """Where the server reads the time (epoch seconds) and how it waits."""

    def now(self) -> float:
        """The current time, epoch seconds."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of this clock's time."""
        ...


class SystemClock:
    """Wall-clock time."""

    def now(self) -> float:
        """``time.time()``."""
        return time.time()

    async def sleep(self, seconds: float) -> None:
        """``asyncio.sleep``."""
        await asyncio.sleep(seconds)


class ManualClock:
    """Time that only moves when told to; a long-poll's wait moves it instantly.

    Safe to advance from a test thread while the server thread reads it.
    """

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        """Start at ``start`` epoch seconds."""
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> float:
        """The current manual time."""
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds``; a negative one is a
        :class:`~civitai_app_sdk.errors.RequestValidationError` (a ``ValueError``)."""
        if seconds < 0:
            raise RequestValidationError(["time only moves forward"], "argument")
        with self._lock:
            self._now += seconds

    async def sleep(self, seconds: float) -> None:
        """Advance by ``seconds`` and yield once to the event loop."""
        self.advance(max(seconds, 0.0))
        await asyncio.sleep(0)
