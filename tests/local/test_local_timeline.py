"""Workflows move through the real statuses on the clock."""

from __future__ import annotations

from civitai_app_sdk.local.timeline import Timings, rollup, step_states

T = Timings(1, 1, 1, 2)


def statuses(failing: list[bool], now: float, canceled_at: float | None = None) -> list[str]:
    return [s.status for s in step_states(0.0, T, failing, canceled_at, now)]


def test_one_step_goes_through_every_status_in_order() -> None:
    seen = [statuses([False], t)[0] for t in (0, 1, 2, 3, 4, 5, 99)]
    assert seen == [
        "unassigned",
        "preparing",
        "scheduled",
        "processing",
        "processing",
        "succeeded",
        "succeeded",
    ]


def test_progress_and_times_while_processing() -> None:
    state = step_states(0.0, T, [False], None, 4.0)[0]
    assert (state.started_at, state.completed_at, state.progress) == (3.0, None, 0.5)
    done = step_states(0.0, T, [False], None, 9.0)[0]
    assert (done.completed_at, done.progress) == (5.0, None)


def test_steps_run_one_after_another_and_roll_up() -> None:
    assert statuses([False, False], 4) == ["processing", "unassigned"]
    assert rollup(step_states(0.0, T, [False, False], None, 4)) == "processing"
    assert statuses([False, False], 10) == ["succeeded", "succeeded"]


def test_a_failed_step_cancels_the_next_and_fails_the_workflow() -> None:
    states = step_states(0.0, T, [True, False], None, 6)
    assert [s.status for s in states] == ["failed", "canceled"]
    assert rollup(states) == "failed"


def test_cancel_stops_unfinished_steps_only() -> None:
    assert statuses([False, False], 7, canceled_at=6) == ["succeeded", "canceled"]
    assert statuses([False, False], 5.5, canceled_at=6) == ["succeeded", "unassigned"]
