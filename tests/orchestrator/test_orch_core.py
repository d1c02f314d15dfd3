"""Core client calls: estimate, submit, get, cancel, headers and parsing."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from civitai_app_sdk.errors import RequestValidationError
from civitai_app_sdk.orchestrator import OrchestratorClient, build_text_to_image_body

BODY = build_text_to_image_body({"prompt": "a cat"})


def test_estimate_sends_whatif_and_returns_cost(client: Any, api: Any, make_workflow: Any) -> None:
    route = api.post("/v2/consumer/workflows").respond(200, json=make_workflow("unassigned"))
    workflow = client.estimate(BODY)
    assert workflow.cost.total == 4
    request = route.calls.last.request
    assert request.url.params["whatif"] == "true"
    assert request.headers["authorization"].startswith("Bearer ")
    sent = json.loads(request.content)
    assert sent["steps"][0]["input"]["prompt"] == "a cat"
    assert "currencies" not in sent  # only what the caller gave, as 0.14 sends it


def test_submit_202_is_a_running_workflow(client: Any, api: Any, make_workflow: Any) -> None:
    route = api.post("/v2/consumer/workflows").respond(202, json=make_workflow("processing"))
    workflow = client.submit(BODY, wait=10)
    assert workflow.status == "processing"
    assert route.calls.last.request.url.params["wait"] == "10"


def test_get_and_cancel(client: Any, api: Any, make_workflow: Any) -> None:
    api.get("/v2/consumer/workflows/a%20b").respond(200, json=make_workflow("succeeded"))
    cancel = api.put("/v2/consumer/workflows/a%20b").respond(204)
    assert client.get("a b").status == "succeeded"
    client.cancel("a b")
    assert json.loads(cancel.calls.last.request.content) == {"status": "canceled"}


def test_invalid_body_is_rejected_before_sending(client: Any, api: Any) -> None:
    route = api.post("/v2/consumer/workflows").respond(200, json={})
    bad = {"steps": [{"$type": "textToImage", "input": {"prompt": "x", "cfgScale": 5, "x": 1}}]}
    with pytest.raises(RequestValidationError, match="/steps/0/input/x"):
        client.submit(bad)
    assert not route.called


def test_env_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIVITAI_API_TOKEN", "envtoken")
    monkeypatch.setenv("CIVITAI_API_URL", "http://127.0.0.1:9/base/")
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    with OrchestratorClient(transport=httpx.MockTransport(handler)) as c:
        c.remove_tag("w", "user:1")
    assert str(seen[0].url) == "http://127.0.0.1:9/base/v2/consumer/workflows/w/tags/user%3A1"
    assert seen[0].headers["authorization"] == "Bearer envtoken"


@pytest.mark.parametrize("value", [object(), b"\xff"])
def test_unserialisable_body_is_a_validation_error(client: Any, api: Any, value: object) -> None:
    route = api.post("/v2/consumer/workflows").respond(200, json={})
    bad = {"steps": [{"$type": "textToImage", "input": {"prompt": "x", "cfgScale": 5}}], "x": value}
    with pytest.raises(RequestValidationError, match="not JSON-serialisable"):
        client.submit(bad)
    assert not route.called
