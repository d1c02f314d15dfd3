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
