"""The request loop as a sans-IO generator (:func:`exchange`) and what drives it.

:func:`exchange` builds each attempt, gives it its deadline and each body its size cap,
decides retries with :class:`~._retry.RetryPolicy` and maps failures to typed errors,
yielding the few effects that need I/O (:class:`NeedToken`, :class:`Send`,
:class:`Read`, :class:`Sleep`). A transport performs them and feeds the results back
through a :class:`Driver`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Generator
from typing import Any, TypeVar

import attrs
import httpx

from ._capture import finish
from ._deadline import request_deadline
from ._failures import error_for, retry_after, send_failure
from ._limits import MAX_ERROR_BODY, BodyBuffer
from ._redact import capabilities_in, mask_secrets, redact
from ._request import Call, RequestBuilder, build_request
from ._retry import RetryPastDeadline, RetryPolicy
from ._settings import DEFAULT_TIMEOUT, Settings, TokenSource
from ._wire import WireWatch
from .errors import CivitaiError

logger = logging.getLogger("civitai_app_sdk.transport")
R = TypeVar("R")


def _deadline_of(settings: Settings, call: Call, clock: Callable[[], float], now: float) -> float:
    """The ``time.monotonic()`` moment by which one attempt of ``call`` started at ``now``
    must end.

    A poll's ``retry_deadline`` is on ``clock`` (a test's may be fake): it is carried
    over to the monotonic clock as the time left.
    """
    limit = None if call.retry_deadline is None else now + (call.retry_deadline - clock())
    total = (call.timeout or settings.timeout).read or DEFAULT_TIMEOUT
    return request_deadline(now, total, call.wait, limit)


def _body_buffer(call: Call, answered: bool) -> BodyBuffer:
    """A strict buffer for an answer, a truncating one for an error's body."""
    if answered:
        return BodyBuffer(call.max_body, truncate=False, what=f"{call.method} {call.path}")
    return BodyBuffer(MAX_ERROR_BODY, truncate=True, what="error")


def _retry_or_raise(
    call: Call,
    attempt: int,
    delay: float | None,
    error: CivitaiError,
    now: float,
    *,
    server_asked: bool,
) -> float:
    """``delay`` (fitted to a poll's deadline) when the retry may go ahead; otherwise
    raise ``error`` (or :class:`RetryPastDeadline`)."""
    if delay is None:
        raise error
    fitted = RetryPolicy.fit(call, delay, now, server_asked=server_asked)
    if fitted is None:
        raise RetryPastDeadline(error) from error
    delay = fitted
    status = getattr(error, "status", None)
    why = f"HTTP {status}" if status else type(error.__cause__).__name__
    logger.info(
        "retrying %s %s in %.2fs (attempt %d): %s",
        call.method,
        redact(call.path),
        delay,
        attempt + 2,
        why,
    )
    return delay


@attrs.frozen
class Send:
    """Effect: send ``request`` by ``deadline`` (``time.monotonic()``), traced to
    ``watch`` if given; the answer, its body not yet read (or the httpx error), comes
    back. A redirect it follows drops the ``origin_only`` headers off ``request``'s
    origin (see :func:`~._hops.next_hop`)."""

    request: httpx.Request
    follow_redirects: bool
    deadline: float
    watch: WireWatch | None = None
    origin_only: tuple[str, ...] = ()


@attrs.frozen
class Read:
    """Effect: read ``response``'s body into ``buffer`` by ``deadline`` and close it; the
    read response comes back (a too large strict body raises ResponseTooLargeError)."""

    response: httpx.Response
    buffer: BodyBuffer
    deadline: float


@attrs.frozen
class Sleep:
    """Effect: wait ``seconds`` before the next attempt."""

    seconds: float


@attrs.frozen
class NeedToken:
    """Effect: ask the settings' :class:`TokenSource` for a current token."""

    source: TokenSource


Effect = Send | Read | Sleep | NeedToken
"""What :func:`exchange` asks its driver to do."""
Plan = Generator[Effect, Any, R]
"""A sans-IO procedure: yields effects, receives their results, returns ``R``."""


def exchange(
    settings: Settings,
    call: Call,
    builder: RequestBuilder,
    clock: Callable[[], float],
    stream: bool,
) -> Plan[httpx.Response]:
    """The request loop: returns the 2xx (or ``accept``-ed) answer or raises a typed error.

    Every attempt is built afresh (a refreshed token, the same idempotency key) and must
    end by its deadline (the timeout, plus any server ``wait``, within a poll's
    ``retry_deadline``); bodies are read through a size cap. Failures are retried only
    as :class:`RetryPolicy` allows. A 2xx body is left unread when ``stream``.
    """
    attempt = 0
    while True:
        token = call.token
        if token is None and call.base_url is None:
            source = settings.token
            token = (
                source if source is None or isinstance(source, str) else (yield NeedToken(source))
            )
        started = time.monotonic()
        deadline = _deadline_of(settings, call, clock, started)
        request = build_request(builder, settings, call, token, deadline, started)
        failure: CivitaiError
        asked = False
        try:
            response: httpx.Response = yield Send(
                request,
                call.follow_redirects,
                deadline,
                call.watch,
                tuple(name for name, _ in call.headers),
            )
            answered = response.is_success or response.status_code in call.accept
            if not (stream and answered):
                response = yield Read(response, _body_buffer(call, answered), deadline)
        except httpx.HTTPError as exc:
            failure = send_failure(settings, call, exc)
            delay = settings.retry.delay(call, attempt, error=exc)
        else:
            finish(call, response, started)
            if answered:
                return response
            failure = (call.errors or error_for)(call, response)
            urls = {str(request.url), str(response.url)}  # a redirect's target, too
            mask_secrets(failure, [token, *(c for url in urls for c in capabilities_in(url))])
            delay = settings.retry.delay(call, attempt, response=response)
            asked = delay is not None and delay == retry_after(response)  # the server's wait
        yield Sleep(_retry_or_raise(call, attempt, delay, failure, clock(), server_asked=asked))
        attempt += 1


class Driver:
    """Runs a :data:`Plan`, feeding each effect's result (or httpx error) back into it."""

    def __init__(self, plan: Plan[R]) -> None:
        self._plan = plan
        self.effect: Effect | None = None
        self.result: Any = None
        self.resume(None)

    def resume(self, value: Any) -> None:
        """Continue the plan with the last effect's result."""
        try:
            self.effect = self._plan.send(value)
        except StopIteration as stop:
            self._end(stop)

    def fail(self, error: httpx.HTTPError) -> None:
        """Continue the plan with the last effect's failure."""
        try:
            self.effect = self._plan.throw(error)
        except StopIteration as stop:
            self._end(stop)

    def _end(self, stop: StopIteration) -> None:
        self.effect, self.result = None, stop.value
