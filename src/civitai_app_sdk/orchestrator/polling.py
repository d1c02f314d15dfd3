"""Waiting for a workflow: long-polls held by the server, backoff when it answers early.

:class:`PollPlan` decides, without doing I/O, how long to ask the server to hold each
request and how long to sleep between requests; :func:`poll_sync` and :func:`poll_async`
run it with a fetch function. All durations are seconds.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Awaitable, Callable
from typing import Final

import attrs
from civitai_app_sdk_generated import Workflow

from ..errors import BadRequestError, PollTimeoutError
from .status import is_terminal

__all__ = [
    "BACKOFF_SCHEDULE",
    "DEFAULT_POLL_TIMEOUT",
    "LONG_POLL_HOLD",
    "MAX_WAIT",
    "PollPlan",
    "poll_async",
    "poll_sync",
]

MAX_WAIT: Final = 90.0
"""Longest server hold (`wait`) one request may ask for; the edge cuts requests at 100 s."""
LONG_POLL_HOLD: Final = 60.0
"""Hold asked for by each long-poll request made by `poll`."""
DEFAULT_POLL_TIMEOUT: Final = 30.0
"""Default overall deadline of `poll`, as in the TypeScript SDK."""
BACKOFF_SCHEDULE: Final = (1.0, 2.0, 5.0, 10.0, 15.0, 30.0)
"""Pauses between requests when the server does not hold them (the docs' cadence)."""
_EARLY_SLACK: Final = 1.0

OnUpdate = Callable[[Workflow], object]
"""Called with every snapshot `poll` receives (may return an awaitable in async code)."""


@attrs.define
class PollPlan:
    """The schedule of one poll: server holds while they work, backoff when they do not."""

    deadline: float
    hold: float = LONG_POLL_HOLD
    long_poll: bool = True
    _early: int = 0

    def wait_for(self, now: float) -> int:
        """Seconds of server hold to ask for on the next request (0 means none)."""
        if not self.long_poll:
            return 0
        return max(0, min(math.floor(self.hold), math.floor(self.deadline - now)))

    def pause_after(self, asked: int, elapsed: float, now: float) -> float:
        """Seconds to sleep before the next request, given how long the last one took."""
        if asked > 0 and elapsed >= asked - _EARLY_SLACK:
            self._early = 0
            return 0.0
        pause = BACKOFF_SCHEDULE[min(self._early, len(BACKOFF_SCHEDULE) - 1)]
        self._early += 1
        return max(0.0, min(pause, self.deadline - now))

    def expired(self, now: float) -> bool:
        """Whether the overall deadline has passed."""
        return now >= self.deadline


def _timeout_error(workflow_id: str, timeout: float, last: Workflow) -> PollTimeoutError:
    status = last.status.value if last.status is not None else "unknown"
    return PollTimeoutError(
        f"workflow {workflow_id} was still {status} after {timeout:g} s", last=last
    )


def _check_timeout(timeout: float) -> None:
    if not (timeout >= 0 and math.isfinite(timeout)):
        raise ValueError("timeout must be a finite number of seconds >= 0")


def poll_sync(
    fetch: Callable[[int], Workflow],
    workflow_id: str,
    *,
    timeout: float,
    on_update: OnUpdate | None,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
) -> Workflow:
    """Fetch until the workflow is terminal; raise :class:`PollTimeoutError` at the deadline.

    ``fetch(wait)`` gets the workflow, asking the server to hold up to ``wait`` seconds.
    """
    _check_timeout(timeout)
    plan = PollPlan(deadline=clock() + timeout)
    while True:
        asked = plan.wait_for(clock())
        started = clock()
        try:
            snapshot = fetch(asked)
        except BadRequestError:
            if asked == 0:
                raise
            plan.long_poll = False  # an older deployment that rejects an integer wait
            continue
        now = clock()
        if on_update is not None:
            on_update(snapshot)
        if is_terminal(snapshot):
            return snapshot
        if plan.expired(now):
            raise _timeout_error(workflow_id, timeout, snapshot)
        pause = plan.pause_after(asked, now - started, now)
        if pause > 0:
            sleep(pause)
        if plan.expired(clock()):
            raise _timeout_error(workflow_id, timeout, snapshot)


async def poll_async(
    fetch: Callable[[int], Awaitable[Workflow]],
    workflow_id: str,
    *,
    timeout: float,  # noqa: ASYNC109 - the deadline error must carry the last snapshot
    on_update: OnUpdate | None,
    clock: Callable[[], float],
    sleep: Callable[[float], Awaitable[None]],
) -> Workflow:
    """Async twin of :func:`poll_sync`; ``on_update`` may be a coroutine function."""
    _check_timeout(timeout)
    plan = PollPlan(deadline=clock() + timeout)
    while True:
        asked = plan.wait_for(clock())
        started = clock()
        try:
            snapshot = await fetch(asked)
        except BadRequestError:
            if asked == 0:
                raise
            plan.long_poll = False
            continue
        now = clock()
        if on_update is not None:
            result = on_update(snapshot)
            if inspect.isawaitable(result):
                await result
        if is_terminal(snapshot):
            return snapshot
        if plan.expired(now):
            raise _timeout_error(workflow_id, timeout, snapshot)
        pause = plan.pause_after(asked, now - started, now)
        if pause > 0:
            await sleep(pause)
        if plan.expired(clock()):
            raise _timeout_error(workflow_id, timeout, snapshot)
