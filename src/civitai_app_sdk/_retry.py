"""When a request may be repeated, and how long to wait before it is."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Final

import attrs
import httpx

from ._deadline import may_retry
from ._failures import is_html, retry_after
from .errors import CivitaiError, ConfigurationError

if TYPE_CHECKING:
    from ._request import Call

DEFAULT_MAX_RETRIES: Final = 3
"""Default number of retries after the first attempt (safe calls only)."""
NEVER_SENT: Final = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
"""httpx failures of a request that provably never left the machine (no connection)."""
_LAST_TRY: Final = 1.0
"""Seconds a poll's last retry keeps for itself before the poll's deadline."""
_RETRY_STATUSES: Final = frozenset({429, 502, 503, 504})


@attrs.frozen
class RetryPolicy:
    """When and how long to wait before repeating a request.

    The rule that keeps money safe lives here: a request that may have reached the
    server is repeated only when the call is ``idempotent`` (reads, and submits that
    carry an ``externalId``); one that provably never left the machine (connect
    failures) may always be repeated. 429, 502-504 and gateway HTML pages are retried
    for idempotent calls; other statuses never are. Delays grow exponentially with
    jitter; a server's ``Retry-After`` (up to ``max_retry_after``) makes one longer, never
    shorter. A call with a ``retry_deadline`` (a poll's request) is retried until that
    deadline rather than ``max_retries`` times (:meth:`fit`).
    """

    max_retries: int = DEFAULT_MAX_RETRIES
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    max_retry_after: float = 60.0

    def __attrs_post_init__(self) -> None:
        if isinstance(self.max_retries, bool) or not isinstance(self.max_retries, int):
            raise ConfigurationError("max_retries must be a whole number")
        if self.max_retries < 0:
            raise ConfigurationError("max_retries must be >= 0")

    @staticmethod
    def may_repeat(call: Call, error: Exception) -> bool:
        """Whether ``call`` may be sent again after ``error`` without charging twice."""
        return call.idempotent or isinstance(error, NEVER_SENT)

    def delay(
        self,
        call: Call,
        attempt: int,
        *,
        response: httpx.Response | None = None,
        error: Exception | None = None,
    ) -> float | None:
        """Seconds to wait before retry ``attempt + 1``, or ``None`` when it must not happen."""
        if not may_retry(attempt, self.max_retries, call.retry_deadline):
            return None
        asked: float | None = None
        if error is not None:
            if not isinstance(error, httpx.TransportError) or not self.may_repeat(call, error):
                return None
        elif response is not None:
            status = response.status_code
            gateway = status in _RETRY_STATUSES or (status >= 500 and is_html(response))
            if not (call.idempotent and gateway):
                return None
            asked = retry_after(response)
            if asked is not None and asked > self.max_retry_after:
                return None
        else:
            return None
        ceiling = min(self.backoff_cap, self.backoff_base * 2.0**attempt)
        backoff = ceiling * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not cryptography
        # never sooner than the server asked, nor than our own backoff: "Retry-After: 0"
        # must not turn a poll's retries (bounded by time, not count) into a busy loop
        return backoff if asked is None else max(asked, backoff)

    @staticmethod
    def fit(call: Call, delay: float, now: float, *, server_asked: bool) -> float | None:
        """``delay`` fitted before ``call.retry_deadline`` (``now`` on the same clock).

        Our own backoff is shortened so one last attempt still fits; a delay the server
        asked for (``Retry-After``) never is. ``None``: no retry can start in time.
        """
        if call.retry_deadline is None or now + delay <= call.retry_deadline:
            return delay
        left = call.retry_deadline - now
        if server_asked or left <= _LAST_TRY:
            return None
        return left - _LAST_TRY


class RetryPastDeadline(Exception):
    """A retry was due but would start after the call's ``retry_deadline``.

    ``error`` is the failure that would have been retried. Only calls that set a
    ``retry_deadline`` (the polling loop's) see this; it never reaches SDK users.
    """

    def __init__(self, error: CivitaiError) -> None:
        """Keep the failure that was not retried."""
        super().__init__(str(error))
        self.error = error
