"""Where a simulated workflow is at a given time: pure functions of its schedule."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import attrs

__all__ = ["TERMINAL", "StepState", "Timings", "rollup", "step_states"]

TERMINAL: Final = frozenset({"succeeded", "failed", "expired", "canceled"})
"""Statuses a workflow, step or job never leaves."""


@attrs.frozen
class Timings:
    """Seconds a step spends in each phase before it finishes."""

    unassigned: float = 0.2
    preparing: float = 0.2
    scheduled: float = 0.2
    processing: float = 1.2

    @property
    def total(self) -> float:
        """Seconds from a step's start to its end."""
        return self.unassigned + self.preparing + self.scheduled + self.processing


@attrs.frozen
class StepState:
    """A step's status at one instant; times are epoch seconds."""

    status: str
    started_at: float | None = None
    completed_at: float | None = None
    progress: float | None = None


def _phase(start: float, timings: Timings, fails: bool, now: float) -> StepState:
    elapsed = now - start
    processing_at = start + timings.unassigned + timings.preparing + timings.scheduled
    if elapsed < timings.unassigned:
        return StepState("unassigned")
    if elapsed < timings.unassigned + timings.preparing:
        return StepState("preparing")
    if now < processing_at:
        return StepState("scheduled")
    end = processing_at + timings.processing
    if now < end:
        progress = (now - processing_at) / timings.processing if timings.processing else 0.0
        return StepState("processing", processing_at, progress=round(progress, 3))
    return StepState("failed" if fails else "succeeded", processing_at, end)


def step_states(
    created_at: float,
    timings: Timings,
    failing: Sequence[bool],
    canceled_at: float | None,
    now: float,
) -> list[StepState]:
    """Each step's state at ``now``; steps run one after another.

    A failed step cancels the steps after it; a cancel at ``canceled_at`` cancels every
    step not finished by then.
    """
    states: list[StepState] = []
    start = created_at
    halted_at: float | None = None
    for fails in failing:
        end = start + timings.total
        if halted_at is not None:
            state = (
                StepState("canceled", None, halted_at)
                if now >= halted_at
                else StepState("unassigned")
            )
        elif canceled_at is not None and canceled_at < end and now >= canceled_at:
            started = _phase(start, timings, False, canceled_at).started_at
            state = StepState("canceled", started, canceled_at)
        elif now < start:
            state = StepState("unassigned")
        else:
            state = _phase(start, timings, fails, now)
        if state.status in TERMINAL - {"succeeded"} and halted_at is None:
            halted_at = state.completed_at
        states.append(state)
        start = end
    return states


def rollup(states: Sequence[StepState]) -> str:
    """A workflow's status from its steps' statuses."""
    statuses = [s.status for s in states]
    for final in ("failed", "expired", "canceled"):
        if final in statuses:
            return final
    if all(s == "succeeded" for s in statuses):
        return "succeeded"
    active = [s for s in statuses if s != "succeeded"]
    return "processing" if "processing" in active else active[0]
