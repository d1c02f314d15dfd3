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

from .._retry import RetryPastDeadline
from ..errors import (
    BadRequestError,
    PollTimeoutError,
    RequestTimeoutError,
    RequestValidationError,
)
from ._params import MAX_WAIT
from .status import is_terminal

__all__ = [
    "BACKOFF_SCHEDULE",
    "DEFAULT_POLL_TIMEOUT",
    "LONG_POLL_HOLD",
    "MAX_WAIT",
    "UPDATE_HOLD",
    "PollPlan",
    "poll_async",
    "poll_sync",
]

LONG_POLL_HOLD: Final = 60.0
"""Hold asked for by each long-poll request made by `poll`."""
UPDATE_HOLD: Final = 12.0
"""Hold asked for while an ``on_update`` callback watches (a progress bar): shorter than
:data:`LONG_POLL_HOLD`, so the status and step counts it shows move."""
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
    floor: float = 0.0
    _early: int = 0

    def wait_for(self, now: float) -> int:
        """Seconds of server hold to ask for on the next request (0 means none)."""
        if not self.long_poll:
            return 0
        return max(0, min(math.floor(self.hold), math.floor(self.deadline - now)))

    def pause_after(self, asked: int, elapsed: float, now: float) -> float:
        """Seconds to sleep before the next request, given how long the last one took.

        A request the server held is followed at once; after one it answered early the
        pause follows :data:`BACKOFF_SCHEDULE`, never shorter than ``floor``. A short hold
        counts only if the server kept at least half of it, so a server that ignores
        ``wait`` is never asked again at once (a 1 s hold answered instantly is early).
        """
        if asked > 0 and elapsed >= max(asked - _EARLY_SLACK, asked / 2):
            self._early = 0
            return 0.0
        pause = max(self.floor, BACKOFF_SCHEDULE[min(self._early, len(BACKOFF_SCHEDULE) - 1)])
        self._early += 1
        return max(0.0, min(pause, self.deadline - now))

    def expired(self, now: float) -> bool:
        """Whether the overall deadline has passed."""
        return now >= self.deadline


def _check_seconds(value: float, name: str) -> None:
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if not (number and value >= 0 and math.isfinite(value)):
        raise RequestValidationError(
            [f"{name}: must be a finite number of seconds >= 0"], "argument"
        )


@attrs.define
class _Run:
    """One poll in progress: its plan, the request in flight and the last snapshot.

    Both loops below drive it, so they cannot differ in what they decide.
    """

    workflow_id: str
    timeout: float
    clock: Callable[[], float]
    plan: PollPlan
    last: Workflow | None = None
    asked: int = 0
    started: float = 0.0
    received: float = 0.0

    @classmethod
    def begin(
        cls,
        workflow_id: str,
        timeout: float,
        interval: float,
        clock: Callable[[], float],
        *,
        watched: bool,
    ) -> _Run:
        """A run of ``timeout`` seconds from now; ``interval`` floors pauses (both >= 0).

        ``watched`` (an ``on_update`` callback is set) asks for :data:`UPDATE_HOLD`.
        """
        _check_seconds(timeout, "timeout")
        _check_seconds(interval, "interval")
        hold = UPDATE_HOLD if watched else LONG_POLL_HOLD
        plan = PollPlan(deadline=clock() + timeout, hold=hold, floor=interval)
        return cls(workflow_id, timeout, clock, plan)

    def next_wait(self) -> int:
        """The server hold for the next request; starts timing it."""
        self.asked = self.plan.wait_for(self.clock())
        self.started = self.clock()
        return self.asked

    def failed(self, error: BadRequestError | RetryPastDeadline) -> None:
        """After a failed request: go on without ``wait`` if it was refused, else raise.

        A retry cut short by the deadline ends the poll with :class:`PollTimeoutError`
        (``last`` is the last snapshot, ``None`` before the first). Before the first
        snapshot, an answer that is itself an error (a 503 asking for a retry past the
        deadline) is raised as it is.
        """
        if isinstance(error, BadRequestError):
            if self.asked == 0:
                raise error
            self.plan.long_poll = False  # an older deployment that rejects an integer wait
            return
        if self.last is None and not isinstance(error.error, RequestTimeoutError):
            raise error.error
        raise self._timeout_error() from error.error

    def got(self, snapshot: Workflow) -> None:
        """Record a snapshot (before ``on_update`` runs, so it is not timed)."""
        self.received = self.clock()
        self.last = snapshot

    def pause(self) -> float | None:
        """``None`` when the last snapshot is final, else the pause before the next request.

        Raises :class:`PollTimeoutError` when the deadline has passed.
        """
        if is_terminal(self.last):
            return None
        if self.plan.expired(self.received):
            raise self._timeout_error()
        return self.plan.pause_after(self.asked, self.received - self.started, self.received)

    def check_deadline(self) -> None:
        """Raise :class:`PollTimeoutError` if the deadline passed during a pause."""
        if self.plan.expired(self.clock()):
            raise self._timeout_error()

    def _timeout_error(self) -> PollTimeoutError:
        last = self.last
        if last is None:
            return PollTimeoutError(
                f"workflow {self.workflow_id}: no answer came within the poll's "
                f"{self.timeout:g} s, so its state is unknown",
                last=None,
            )
        status = last.status.value if last.status is not None else "unknown"
        return PollTimeoutError(
            f"workflow {self.workflow_id} was still {status} after {self.timeout:g} s", last=last
        )


def poll_sync(
    fetch: Callable[[int, float], Workflow],
    workflow_id: str,
    *,
    timeout: float,
    on_update: OnUpdate | None,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
    interval: float = 0.0,
) -> Workflow:
    """Fetch until the workflow is terminal; raise :class:`PollTimeoutError` at the deadline.

    ``fetch(wait, deadline)`` gets the workflow, asking the server to hold up to ``wait``
    seconds and retrying failures only while the retry starts before ``deadline``
    (``clock`` time). ``interval`` is the shortest pause after an early answer.
    """
    run = _Run.begin(workflow_id, timeout, interval, clock, watched=on_update is not None)
    while True:
        try:
            snapshot = fetch(run.next_wait(), run.plan.deadline)
        except (BadRequestError, RetryPastDeadline) as error:
            run.failed(error)
            continue
        run.got(snapshot)
        if on_update is not None:
            on_update(snapshot)
        pause = run.pause()
        if pause is None:
            return snapshot
        if pause > 0:
            sleep(pause)
        run.check_deadline()


async def poll_async(
    fetch: Callable[[int, float], Awaitable[Workflow]],
    workflow_id: str,
    *,
    timeout: float,  # noqa: ASYNC109 - the deadline error must carry the last snapshot
    on_update: OnUpdate | None,
    clock: Callable[[], float],
    sleep: Callable[[float], Awaitable[None]],
    interval: float = 0.0,
) -> Workflow:
    """Async twin of :func:`poll_sync`; ``on_update`` may be a coroutine function."""
    run = _Run.begin(workflow_id, timeout, interval, clock, watched=on_update is not None)
    while True:
        try:
            snapshot = await fetch(run.next_wait(), run.plan.deadline)
        except (BadRequestError, RetryPastDeadline) as error:
            run.failed(error)
            continue
        run.got(snapshot)
        if on_update is not None:
            result = on_update(snapshot)
            if inspect.isawaitable(result):
                await result
        pause = run.pause()
        if pause is None:
            return snapshot
        if pause > 0:
            await sleep(pause)
        run.check_deadline()
