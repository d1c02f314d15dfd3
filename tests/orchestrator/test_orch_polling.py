"""poll(): server-held long-polls, backoff when the server answers early, deadlines."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from civitai_app_sdk.errors import NotFoundError, PollTimeoutError, RateLimitError, ServerError
from civitai_app_sdk.orchestrator import is_terminal, poll_workflow
from civitai_app_sdk.orchestrator.polling import PollPlan

WF = "/v2/consumer/workflows/w1"


def holding_server(clock: Any, make_workflow: Any, finish_at: float) -> Any:
    """A GetWorkflow handler honouring ``wait`` with the fake clock."""
    start = clock.now

    def respond(request: httpx.Request) -> httpx.Response:
        wait = int(request.url.params.get("wait", "0"))
        done_at = start + finish_at
        if clock.now + wait >= done_at:
            clock.now = max(clock.now, done_at)
            return httpx.Response(200, json=make_workflow("succeeded"))
        clock.now += wait
        return httpx.Response(202, json=make_workflow("processing"))

    return respond


def test_long_poll_finishes_in_one_request(
    client: Any, api: Any, make_workflow: Any, clock: Any
) -> None:
    route = api.get(WF).mock(side_effect=holding_server(clock, make_workflow, 30))
    workflow = client.poll("w1", timeout=120)
    assert workflow.status == "succeeded"
    assert route.call_count == 1
    assert route.calls.last.request.url.params["wait"] == "60"
    assert clock.sleeps == []


def test_a_watched_poll_asks_for_shorter_holds_so_updates_move(
    client: Any, api: Any, make_workflow: Any, clock: Any
) -> None:
    route = api.get(WF).mock(side_effect=holding_server(clock, make_workflow, 30))
    updates: list[str] = []
    workflow = client.poll("w1", timeout=120, on_update=lambda w: updates.append(w.status))
    assert workflow.status == "succeeded"
    assert [c.request.url.params["wait"] for c in route.calls] == ["12", "12", "12"]
    assert updates == ["processing", "processing", "succeeded"]
    assert clock.sleeps == []


def test_long_poll_repeats_holds_until_done(
    client: Any, api: Any, make_workflow: Any, clock: Any
) -> None:
    route = api.get(WF).mock(side_effect=holding_server(clock, make_workflow, 150))
    assert client.poll("w1", timeout=600).status == "succeeded"
    assert route.call_count == 3
    assert clock.sleeps == []


def test_backoff_when_server_answers_early(
    client: Any, api: Any, make_workflow: Any, clock: Any
) -> None:
    answers = [httpx.Response(202, json=make_workflow())] * 4 + [
        httpx.Response(200, json=make_workflow("failed"))
    ]
    route = api.get(WF).mock(side_effect=answers)
    assert client.poll("w1", timeout=100).status == "failed"
    assert route.call_count == 5
    assert clock.sleeps == [1.0, 2.0, 5.0, 10.0]


def test_timeout_raises_with_last_snapshot(
    client: Any, api: Any, make_workflow: Any, clock: Any
) -> None:
    api.get(WF).mock(side_effect=holding_server(clock, make_workflow, 10_000))
    with pytest.raises(PollTimeoutError, match="still processing after 30 s") as info:
        client.poll("w1")
    assert info.value.last.status == "processing"
    assert isinstance(info.value, TimeoutError)


def test_zero_timeout_fetches_once(client: Any, api: Any, make_workflow: Any, clock: Any) -> None:
    route = api.get(WF).respond(202, json=make_workflow())
    with pytest.raises(PollTimeoutError):
        client.poll("w1", timeout=0)
    assert route.call_count == 1
    assert "wait" not in route.calls.last.request.url.params


def test_falls_back_when_wait_is_rejected(
    client: Any, api: Any, make_workflow: Any, clock: Any
) -> None:
    def respond(request: httpx.Request) -> httpx.Response:
        if "wait" in request.url.params:
            return httpx.Response(400, json={"title": "wait must be a boolean"})
        return httpx.Response(200, json=make_workflow("succeeded"))

    route = api.get(WF).mock(side_effect=respond)
    assert client.poll("w1").status == "succeeded"
    assert route.call_count == 2


def test_other_errors_propagate(client: Any, api: Any) -> None:
    api.get(WF).respond(404, json={"title": "Not Found"})
    with pytest.raises(NotFoundError):
        client.poll("w1")


def test_bad_timeout(client: Any) -> None:
    with pytest.raises(ValueError, match="timeout"):
        client.poll("w1", timeout=-1)


def test_plan_caps_wait_to_deadline() -> None:
    plan = PollPlan(deadline=100.0)
    assert plan.wait_for(0.0) == 60
    assert plan.wait_for(75.5) == 24
    assert plan.pause_after(asked=24, elapsed=24.0, now=99.5) == 0.0
    assert plan.pause_after(asked=24, elapsed=0.1, now=99.5) == 0.5


@pytest.mark.anyio
async def test_async_poll_with_async_callback(
    aclient: Any, api: Any, make_workflow: Any, clock: Any
) -> None:
    api.get(WF).mock(side_effect=holding_server(clock, make_workflow, 70))
    seen: list[str] = []

    async def on_update(workflow: Any) -> None:
        seen.append(workflow.status)

    workflow = await poll_workflow(aclient, "w1", timeout=300, on_update=on_update)
    assert workflow.status == "succeeded"
    assert seen == ["processing"] * 5 + ["succeeded"]  # 12 s holds while watched


@pytest.mark.anyio
async def test_async_poll_timeout(aclient: Any, api: Any, make_workflow: Any, clock: Any) -> None:
    api.get(WF).respond(202, json=make_workflow())
    with pytest.raises(PollTimeoutError) as info:
        await aclient.poll("w1", timeout=5)
    assert not is_terminal(info.value.last)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("succeeded", True),
        ("canceled", True),
        ("cancelled", False),
        ("Succeeded", False),
        ("processing", False),
        ("brand-new", False),
        (None, False),
        ({"status": "failed"}, True),
        ({}, False),
    ],
)
def test_is_terminal(value: Any, expected: bool) -> None:
    assert is_terminal(value) is expected


def test_retry_that_would_pass_the_deadline_ends_the_poll_with_the_last_snapshot(
    client: Any, api: Any, make_workflow: Any, clock: Any
) -> None:
    route = api.get(WF).mock(
        side_effect=[
            httpx.Response(202, json=make_workflow()),
            httpx.Response(429, headers={"Retry-After": "50"}),
        ]
    )
    with pytest.raises(PollTimeoutError) as info:
        client.poll("w1", timeout=30)
    assert route.call_count == 2
    assert info.value.last.status == "processing"
    assert isinstance(info.value.__cause__, RateLimitError)
    assert 50.0 not in clock.sleeps
    assert clock.now - 1000.0 <= 30


def test_retry_past_the_deadline_before_any_snapshot_raises_the_failure(
    client: Any, api: Any, clock: Any
) -> None:
    api.get(WF).respond(503, headers={"Retry-After": "20"})
    with pytest.raises(ServerError):
        client.poll("w1", timeout=10)
    assert clock.sleeps == []


def test_retries_inside_the_deadline_still_happen(
    client: Any, api: Any, make_workflow: Any, clock: Any
) -> None:
    route = api.get(WF).mock(
        side_effect=[
            httpx.Response(503, headers={"Retry-After": "2"}),
            httpx.Response(200, json=make_workflow("succeeded")),
        ]
    )
    assert client.poll("w1", timeout=30).status == "succeeded"
    assert route.call_count == 2
    assert clock.sleeps == [2.0]


@pytest.mark.anyio
async def test_async_retry_past_the_deadline_ends_with_the_last_snapshot(
    aclient: Any, api: Any, make_workflow: Any, clock: Any
) -> None:
    route = api.get(WF).mock(
        side_effect=[
            httpx.Response(202, json=make_workflow()),
            httpx.Response(503, headers={"Retry-After": "40"}),
        ]
    )
    with pytest.raises(PollTimeoutError) as info:
        await aclient.poll("w1", timeout=30)
    assert route.call_count == 2
    assert info.value.last.status == "processing"
    assert isinstance(info.value.__cause__, ServerError)
    assert clock.now - 1000.0 <= 30


@pytest.mark.parametrize("asked", ["0", "-1", "nan", "inf", "0.0001"])
def test_a_poll_never_busy_loops_on_a_zero_or_nonsense_retry_after(
    client: Any, api: Any, clock: Any, asked: str
) -> None:
    """A poll retries until its deadline, not a number of times: a 503 asking for no wait
    (or for a NaN or negative one) must still be followed by a growing backoff, not
    thousands of requests (with the fake clock, a zero wait would loop forever)."""
    served: list[int] = []

    def busy(request: httpx.Request) -> httpx.Response:
        served.append(1)
        if len(served) > 50:
            raise AssertionError("the poll busy-loops on the server")
        return httpx.Response(503, headers={"Retry-After": asked}, json={"title": "busy"})

    api.get(WF).mock(side_effect=busy)
    with pytest.raises(ServerError):
        client.poll("w1", timeout=30)
    assert len(served) <= 10
    assert all(pause > 0 for pause in clock.sleeps)


def test_a_server_ignoring_wait_is_not_asked_again_at_once_near_the_deadline(
    client: Any, api: Any, make_workflow: Any, clock: Any
) -> None:
    """In a poll's last seconds the hold asked for is 1 s; a server that ignores ``wait``
    and answers at once must get the backoff, not a request per round trip (it used to
    get thousands in that last second; with the fake clock, an endless loop)."""
    plan = PollPlan(deadline=100.0)
    assert plan.pause_after(asked=1, elapsed=0.0, now=98.5) > 0
    assert plan.pause_after(asked=1, elapsed=1.0, now=98.5) == 0.0
    served: list[str | None] = []

    def instant(request: httpx.Request) -> httpx.Response:
        served.append(request.url.params.get("wait"))
        if len(served) > 50:
            raise AssertionError("the poll re-asks a server that does not hold")
        return httpx.Response(202, json=make_workflow())

    api.get(WF).mock(side_effect=instant)
    with pytest.raises(PollTimeoutError):
        client.poll("w1", timeout=30)
    assert len(served) <= 8


def test_a_zero_retry_after_keeps_the_last_try_before_the_deadline(
    client: Any, api: Any, make_workflow: Any, clock: Any
) -> None:
    """Our own backoff after a "Retry-After: 0" is shortened to fit one last request
    before the poll's deadline, as it is when no header came (the server asked nothing
    that forbids it)."""
    started = clock.now

    def busy_until_late(request: httpx.Request) -> httpx.Response:
        if clock.now - started < 28:
            return httpx.Response(503, headers={"Retry-After": "0"}, json={"title": "busy"})
        return httpx.Response(200, json=make_workflow("succeeded"))

    api.get(WF).mock(side_effect=busy_until_late)
    assert client.poll("w1", timeout=30).status == "succeeded"
