"""Submit is safe to retry by default; per-call and per-copy options (issues 12 and 13)."""

from __future__ import annotations

import json

import httpx
import pytest
import respx
from core_helpers import API, BODY, workflow

from civitai_app_sdk.errors import CivitaiError, ServerError, TransportError
from civitai_app_sdk.orchestrator import AsyncOrchestratorClient, OrchestratorClient

BASE = API
WORKFLOW = workflow()


def _keys(route: respx.Route) -> list[str]:
    return [json.loads(call.request.content)["externalId"] for call in route.calls]


def test_submit_generates_a_key_and_every_error_carries_it() -> None:
    with respx.mock(base_url=BASE) as api:
        route = api.post("/v2/consumer/workflows").mock(
            side_effect=[
                httpx.Response(500, json={"title": "lost"}),
                httpx.Response(200, json=WORKFLOW),
            ]
        )
        client = OrchestratorClient("t", base_url=BASE, sleep=lambda _: None)
        with pytest.raises(ServerError) as info:
            client.submit(BODY)
        key = info.value.external_id
        assert key is not None
        assert key.startswith("sdk-")
        assert "may have been created" in str(info.value)
        assert "submit(body, external_id=exc.external_id)" in str(info.value)
        assert key in str(info.value)
        client.submit(BODY, external_id=info.value.external_id)
    assert _keys(route) == [key, key]


def test_a_lost_answer_is_retried_with_the_same_key_then_reported_with_it() -> None:
    with respx.mock(base_url=BASE) as api:
        route = api.post("/v2/consumer/workflows").mock(side_effect=httpx.ReadError("reset"))
        with (
            OrchestratorClient("t", base_url=BASE, sleep=lambda _: None) as client,
            pytest.raises(TransportError) as info,
        ):
            client.submit(BODY)
    assert route.call_count == 4
    assert set(_keys(route)) == {info.value.external_id}


@pytest.mark.anyio
async def test_async_submit_errors_carry_the_key_too() -> None:
    async def no_sleep(_: float) -> None:
        return None

    with respx.mock(base_url=BASE) as api:
        route = api.post("/v2/consumer/workflows").respond(502, text="<html>bad gateway</html>")
        async with AsyncOrchestratorClient("t", base_url=BASE, sleep=no_sleep) as client:
            with pytest.raises(CivitaiError) as info:
                await client.submit(BODY, external_id="order-1")
    assert info.value.external_id == "order-1"
    assert set(_keys(route)) == {"order-1"}


def test_idempotent_false_sends_no_key_and_reports_none() -> None:
    with respx.mock(base_url=BASE) as api:
        route = api.post("/v2/consumer/workflows").respond(500)
        with OrchestratorClient("t", base_url=BASE) as client, pytest.raises(ServerError) as info:
            client.submit(BODY, idempotent=False)
    assert "externalId" not in json.loads(route.calls.last.request.content)
    assert info.value.external_id is None


def test_per_call_timeout_headers_and_query() -> None:
    with respx.mock(base_url=BASE) as api:
        route = api.get("/v2/consumer/workflows/wf-1").respond(200, json=WORKFLOW)
        with OrchestratorClient("t", base_url=BASE, timeout=30) as client:
            client.get(
                "wf-1", timeout=2.5, extra_headers={"X-Trace": "abc"}, extra_query={"a": "1"}
            )
    request = route.calls.last.request
    assert request.extensions["timeout"]["read"] == 2.5
    assert request.headers["x-trace"] == "abc"
    assert request.url.params["a"] == "1"


def test_with_options_shares_the_pool_and_leaves_the_original() -> None:
    with respx.mock(base_url=BASE) as api:
        route = api.get("/v2/consumer/workflows/wf-1").mock(
            side_effect=[httpx.Response(503), httpx.Response(200, json=WORKFLOW)]
        )
        with OrchestratorClient("t", base_url=BASE, sleep=lambda _: None) as client:
            quick = client.with_options(timeout=1.5, max_retries=0)
            assert quick._transport.http is client._transport.http
            assert (client.settings.max_retries, quick.settings.max_retries) == (3, 0)
            with pytest.raises(ServerError):
                quick.get("wf-1")
            quick.close()
            assert not client._transport.http.is_closed
            client.get("wf-1")
    assert route.calls[0].request.extensions["timeout"]["read"] == 1.5
