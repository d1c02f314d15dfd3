"""What the SDK keeps of each answer: its elapsed time, a debug log line, and a place
in the captures of :func:`capture_responses`."""

from __future__ import annotations

import contextlib
import contextvars
import datetime
import logging
import time
from collections.abc import Iterator

import attrs
import httpx

from ._redact import redact
from ._request import Call
from .errors import NothingCapturedError

logger = logging.getLogger("civitai_app_sdk.transport")


@attrs.define
class CapturedResponses:
    """The raw responses of the calls made inside :func:`capture_responses`."""

    responses: list[httpx.Response] = attrs.Factory(list)

    @property
    def last(self) -> httpx.Response:
        """The most recent response (headers, status, body); :class:`NothingCapturedError`
        (a :class:`LookupError`) when no call was made yet."""
        if not self.responses:
            raise NothingCapturedError("no response was captured")
        return self.responses[-1]


_captures: contextvars.ContextVar[tuple[CapturedResponses, ...]] = contextvars.ContextVar(
    "civitai_captures", default=()
)


@contextlib.contextmanager
def capture_responses() -> Iterator[CapturedResponses]:
    """Collect the raw httpx responses of calls made in this block (thread/task local)."""
    captured = CapturedResponses()
    reset = _captures.set((*_captures.get(), captured))
    try:
        yield captured
    finally:
        _captures.reset(reset)


def timed(response: httpx.Response, started: float) -> None:
    """Set ``response.elapsed``: the time since ``started`` (``time.monotonic()``)."""
    response.elapsed = datetime.timedelta(seconds=time.monotonic() - started)


def finish(call: Call, response: httpx.Response, started: float) -> None:
    """Time, log and capture an answer (its body read, unless it streams)."""
    timed(response, started)
    if logger.isEnabledFor(logging.DEBUG):
        logger.debug(
            "%s %s -> %s in %.3fs; request headers %s",
            call.method,
            redact(str(response.request.url)),
            response.status_code,
            time.monotonic() - started,
            redact(response.request.headers),
        )
    for captured in _captures.get():
        captured.responses.append(response)
