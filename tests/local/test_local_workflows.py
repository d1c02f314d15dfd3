"""The orchestrator endpoints over HTTP: submit, whatif, wait, dedup, Buzz, list, cancel."""

from __future__ import annotations

import datetime as dt
import socket

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from local_helpers import text_to_image

from civitai_app_sdk.local import LocalConfig, LocalServer, ManualClock
from civitai_app_sdk.models import Workflow

WORKFLOWS = "/v2/consumer/workflows"


def balance(api: httpx.Client) -> int:
    pools = api.get("/api/trpc/buzz.getBuzzAccount").json()["result"]["data"]["json"]
    return int(sum(pools.values()))


def test_whatif_prices_without_running_or_charging(api: httpx.Client) -> None:
    before = balance(api)
    response = api.post(WORKFLOWS, params={"whatif": "true"}, json=text_to_image(quantity=3))
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "unassigned"
    assert body["cost"]["total"] == 12
    assert body["transactions"] == {
        "list": [{"type": "debit", "amount": 12, "accountType": "yellow"}],
        "insufficientBuzz": False,
    }
    assert "id" not in body
    assert balance(api) == before
    assert api.get(WORKFLOWS).json()["items"] == []


def test_submit_charges_and_the_body_is_a_valid_workflow(api: httpx.Client) -> None:
    before = balance(api)
    response = api.post(WORKFLOWS, json=text_to_image(tags=["t1"]))
    assert response.status_code == 200
    workflow = Workflow.model_validate(response.json())
    assert workflow.status.value == "unassigned"
    assert workflow.id is not None
    assert workflow.id.startswith("1-")
    assert balance(api) == before - workflow.cost.total
    assert workflow.transactions is not None
    assert [t.amount for t in workflow.transactions.list_] == [workflow.cost.total]


def test_wait_holds_until_terminal_with_output_blobs(api: httpx.Client) -> None:
    response = api.post(WORKFLOWS, params={"wait": 30}, json=text_to_image(quantity=2))
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "succeeded"
    step = body["steps"][0]
    assert step["status"] == "succeeded"
    images = step["output"]["images"]
    assert len(images) == 2
    assert all(i["type"] == "image" and i["url"] and i["id"].endswith(".png") for i in images)
    times = [dt.datetime.fromisoformat(body[k]) for k in ("completedAt", "startedAt", "createdAt")]
    assert times[0] > times[1] > times[2]


def test_a_short_wait_answers_202_with_the_running_snapshot(
    api: httpx.Client, clock: ManualClock
) -> None:
    start = clock.now()
    response = api.post(WORKFLOWS, params={"wait": 1}, json=text_to_image())
    assert response.status_code == 202
    assert response.json()["status"] == "processing"
    assert clock.now() - start == pytest.approx(1.0, abs=0.15)
    workflow_id = response.json()["id"]
    assert api.get(f"{WORKFLOWS}/{workflow_id}").status_code == 200
    final = api.get(f"{WORKFLOWS}/{workflow_id}", params={"wait": 60})
    assert (final.status_code, final.json()["status"]) == (200, "succeeded")


def test_external_id_dedups_and_charges_once(api: httpx.Client) -> None:
    before = balance(api)
    first = api.post(WORKFLOWS, json=text_to_image(externalId="job-42"))
    second = api.post(WORKFLOWS, json=text_to_image(externalId="job-42"))
    assert first.json()["id"] == second.json()["id"]
    assert first.json()["externalId"] == "1-job-42"
    assert balance(api) == before - first.json()["cost"]["total"]
    assert len(api.get(WORKFLOWS).json()["items"]) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (text_to_image(bogus=1), "$.bogus"),
        ({"currencies": [], "steps": [{"$type": "noSuchStep", "input": {}}]}, "$.steps[0]"),
        (
            {"currencies": [], "steps": [{"$type": "textToImage", "input": {}}]},
            "$.steps[0].input.prompt",
        ),
        (text_to_image(currencies=["purple"]), "$.currencies[0]"),
        ({"steps": []}, "$.steps"),
        (text_to_image(externalId="not valid!"), "$.externalId"),
    ],
)
def test_invalid_bodies_get_validation_problem_details(
    api: httpx.Client, body: dict[str, object], field: str
) -> None:
    response = api.post(WORKFLOWS, json=body)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == 400
    assert problem["title"] == "One or more validation errors occurred."
    assert field in problem["errors"]


def test_malformed_json_is_a_400(api: httpx.Client) -> None:
    response = api.post(WORKFLOWS, content=b"{nope", headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert "$" in response.json()["errors"]


@settings(
    max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.booleans(), min_size=1, max_size=8), st.integers(50_000, 200_000))
def test_json_nested_too_deeply_is_a_400(api: httpx.Client, unit: list[bool], depth: int) -> None:
    # It was a 500 from a RecursionError, logged as a crash, and it broke the kept-alive
    # connection: the client's next request was reset.
    arrays = (unit * (depth // len(unit) + 1))[:depth]  # True: an array, False: an object
    opening = "".join("[" if a else '{"a":' for a in arrays)
    body = opening + "0" + "".join("]" if a else "}" for a in reversed(arrays))
    response = api.post(WORKFLOWS, content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert "nested too deeply" in response.json()["errors"]["$"][0]
    assert api.get(WORKFLOWS).status_code == 200


def test_auth_is_required_and_a_fixed_token_is_enforced(clock: ManualClock) -> None:
    with LocalServer(LocalConfig(token="s3cret"), clock=clock) as server:
        anonymous = httpx.get(f"{server.url}{WORKFLOWS}")
        assert anonymous.status_code == 401
        assert anonymous.json()["status"] == 401
        wrong = httpx.get(f"{server.url}{WORKFLOWS}", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        right = httpx.get(f"{server.url}{WORKFLOWS}", headers={"Authorization": "Bearer s3cret"})
        assert right.status_code == 200


def test_unknown_workflow_is_a_problem_404(api: httpx.Client) -> None:
    response = api.get(f"{WORKFLOWS}/1-20270101000000000")
    assert response.status_code == 404
    assert response.json()["title"] == "Not Found"


def test_ephemeral_needs_wait_and_disappears_when_done(api: httpx.Client) -> None:
    assert api.post(WORKFLOWS, json=text_to_image(ephemeral=True)).status_code == 400
    done = api.post(WORKFLOWS, params={"wait": 30}, json=text_to_image(ephemeral=True)).json()
    assert done["status"] == "succeeded"
    assert api.get(f"{WORKFLOWS}/{done['id']}").status_code == 404


def test_a_crash_is_a_problem_500(
    api: httpx.Client, server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(*_: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(server.state.store, "prepare", crash)
    response = api.post(WORKFLOWS, json=text_to_image())
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == 500
    assert "boom" not in response.text


def test_unknown_routes_and_methods_are_problems(api: httpx.Client) -> None:
    for response in (api.get("/v2/nowhere"), api.delete(WORKFLOWS)):
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["status"] == response.status_code
        assert response.status_code in (404, 405)


def test_the_server_socket_disables_nagle(server: LocalServer) -> None:
    """Accepted sockets inherit TCP_NODELAY: without it a response's body, written after
    its headers, waited for the client's delayed ACK (about 40 ms per request)."""
    assert server._socket.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
