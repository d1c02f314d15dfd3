"""Fault injection: 429 with Retry-After, 5xx as JSON and HTML, latency, drops, failing steps."""

from __future__ import annotations

import time

import httpx
import pytest
from local_helpers import TOKEN, text_to_image

from civitai_app_sdk.local import FaultRule, LocalConfig, LocalServer, ManualClock

WORKFLOWS = "/v2/consumer/workflows"
BEARER = {"Authorization": f"Bearer {TOKEN}"}


def serve(clock: ManualClock, *rules: FaultRule, **options: object) -> LocalServer:
    return LocalServer(LocalConfig(faults=rules, **options), clock=clock)  # type: ignore[arg-type]


def test_rate_limit_then_recovery(clock: ManualClock) -> None:
    with serve(clock, FaultRule("429", times=2, seconds=3)) as server:
        responses = [httpx.get(server.url + WORKFLOWS, headers=BEARER) for _ in range(3)]
    assert [r.status_code for r in responses] == [429, 429, 200]
    assert responses[0].headers["retry-after"] == "3"
    assert responses[0].json()["status"] == 429


def test_server_errors_json_and_html(clock: ManualClock) -> None:
    rules = (FaultRule("503", path="workflows$"), FaultRule("502-html", path="workflows$"))
    with serve(clock, *rules) as server:
        first = httpx.get(server.url + WORKFLOWS, headers=BEARER)
        second = httpx.get(server.url + WORKFLOWS, headers=BEARER)
    assert (first.status_code, first.headers["content-type"]) == (503, "application/problem+json")
    assert second.status_code == 502
    assert second.headers["content-type"].startswith("text/html")
    assert second.text.startswith("<!DOCTYPE")


def test_latency_delays_only_matching_requests(clock: ManualClock) -> None:
    with serve(clock, FaultRule("latency", times=1, seconds=0.3, method="GET")) as server:
        start = time.monotonic()
        httpx.get(server.url + "/.well-known/jwks.json")
        assert time.monotonic() - start >= 0.3


def test_drop_runs_the_request_but_loses_the_answer(clock: ManualClock) -> None:
    rule = FaultRule("drop", method="POST", path="^/v2/consumer/workflows$")
    with serve(clock, rule) as server, httpx.Client(base_url=server.url, headers=BEARER) as api:
        with pytest.raises(httpx.RemoteProtocolError):
            api.post(WORKFLOWS, json=text_to_image())
        assert len(api.get(WORKFLOWS).json()["items"]) == 1
        assert api.post(WORKFLOWS, json=text_to_image()).status_code == 200


def test_rules_are_bounded() -> None:
    with pytest.raises(ValueError, match="times"):
        FaultRule("500", times=10**9)
    with pytest.raises(ValueError, match="seconds"):
        FaultRule("latency", seconds=3600)


def test_a_failing_step_fails_the_workflow_and_refunds(clock: ManualClock) -> None:
    with (
        serve(clock, fail_steps=frozenset({"upscale"})) as server,
        httpx.Client(base_url=server.url, headers=BEARER) as api,
    ):
        body = text_to_image()
        body["steps"].append({**body["steps"][0], "name": "upscale"})
        body["steps"].append({**body["steps"][0], "name": "last"})
        workflow = api.post(WORKFLOWS, params={"wait": 60}, json=body).json()
        assert workflow["status"] == "failed"
        assert [s["status"] for s in workflow["steps"]] == ["succeeded", "failed", "canceled"]
        assert "output" not in workflow["steps"][1]
        credits = [t for t in workflow["transactions"]["list"] if t["type"] == "credit"]
        assert sum(t["amount"] for t in credits) == 8


def test_lost_and_late_hit_submits_only_never_the_estimate(clock: ManualClock) -> None:
    rules = (FaultRule("lost", times=1), FaultRule("late", times=1, seconds=0.4))
    with serve(clock, *rules) as server, httpx.Client(base_url=server.url, headers=BEARER) as api:
        estimate = api.post(WORKFLOWS, params={"whatif": "true"}, json=text_to_image())
        assert estimate.status_code == 200  # neither rule spent a hit on the estimate
        assert api.get(WORKFLOWS).status_code == 200
        with pytest.raises(httpx.RemoteProtocolError):
            api.post(WORKFLOWS, json=text_to_image())
        start = time.monotonic()
        late = api.post(WORKFLOWS, json=text_to_image())
        assert time.monotonic() - start >= 0.4
        assert late.status_code == 200
        items = api.get(WORKFLOWS).json()["items"]
    assert len(items) == 2  # both submits were processed (and charged)
    assert late.json()["id"] in {w["id"] for w in items}
    assert [r.hits for r in rules] == [1, 1]


def test_late_answer_arrives_after_the_client_gave_up(clock: ManualClock) -> None:
    rule = FaultRule("late", seconds=0.5)
    with serve(clock, rule) as server, httpx.Client(base_url=server.url, headers=BEARER) as api:
        with pytest.raises(httpx.ReadTimeout):
            api.post(WORKFLOWS, json=text_to_image(), timeout=0.1)
        assert len(api.get(WORKFLOWS).json()["items"]) == 1


@pytest.mark.parametrize("status", [502, 504])
def test_gateway_errors_have_a_json_problem_body(clock: ManualClock, status: int) -> None:
    with serve(clock, FaultRule(str(status), path="workflows$")) as server:  # type: ignore[arg-type]
        answer = httpx.get(server.url + WORKFLOWS, headers=BEARER)
    assert answer.status_code == status
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["status"] == status
    assert answer.json()["title"] in {"Bad Gateway", "Gateway Timeout"}


def test_chance_draws_are_seeded_and_repeatable(clock: ManualClock) -> None:
    def statuses(seed: int) -> list[int]:
        rule = FaultRule("503", times=1000, chance=0.5, path="workflows$")
        with (
            serve(clock, rule, fault_seed=seed) as server,
            httpx.Client(base_url=server.url, headers=BEARER) as api,
        ):
            return [api.get(WORKFLOWS).status_code for _ in range(40)]

    first = statuses(7)
    assert first == statuses(7)
    assert 5 < first.count(503) < 35
    assert first != statuses(8)
