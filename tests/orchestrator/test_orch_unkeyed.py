"""Calls that spend Buzz without an idempotency key say so when they may have run.

A recipe (the API gives them no key) or ``submit(idempotent=False)`` whose answer is lost
may have been charged; its error must warn against a blind retry (the keyed submit's
errors give the key instead), and errors that prove nothing ran must not cry wolf.
"""

from __future__ import annotations

from typing import Any

import anyio
import httpx
import pytest
import respx

from civitai_app_sdk.errors import CivitaiError, OrchestratorError
from civitai_app_sdk.local import FaultRule, LocalConfig, LocalServer
from civitai_app_sdk.orchestrator import AsyncOrchestratorClient, OrchestratorClient

BASE = "https://orch.test"
RECIPE = "/v2/consumer/recipes/echo"
WORKFLOWS = "/v2/consumer/workflows"
BODY = {"currencies": [], "steps": [{"$type": "echo", "input": {"message": "hi"}}]}
WARNING = "may have run and spent Buzz"

OUTCOMES = [
    (httpx.Response(500, json={"title": "boom"}), True),
    (httpx.Response(502, text="<html>bad gateway</html>"), True),
    (httpx.ReadError("reset"), True),
    (httpx.ReadTimeout("slow"), True),
    (httpx.Response(200, json=[1, 2]), True),  # ran, but the answer is unreadable
    (httpx.Response(400, json={"title": "bad"}), False),
    (httpx.Response(403, json="Insufficient buzz"), False),
    (httpx.Response(404, json={"title": "no"}), False),
    (httpx.Response(429, json={"title": "slow"}), False),
    (httpx.ConnectError("refused"), False),
]


@pytest.mark.parametrize(("outcome", "warned"), OUTCOMES)
def test_a_recipe_error_warns_only_when_the_recipe_may_have_run(outcome: Any, warned: bool) -> None:
    with respx.mock(base_url=BASE) as mock:
        mock.post(RECIPE).mock(side_effect=[outcome] * 4)
        with (
            OrchestratorClient("tok", base_url=BASE, sleep=lambda _: None) as client,
            pytest.raises(CivitaiError) as caught,
        ):
            client.recipes.echo({"message": "hi"})
    assert (WARNING in str(caught.value)) is warned
    assert "client.list()" in str(caught.value) or not warned


@pytest.mark.parametrize(("outcome", "warned"), OUTCOMES[:3] + OUTCOMES[-2:])
def test_an_unkeyed_submit_error_warns_and_a_keyed_one_gives_the_key(
    outcome: Any, warned: bool
) -> None:
    with respx.mock(base_url=BASE) as mock:
        mock.post(WORKFLOWS).mock(side_effect=[outcome] * 8)
        with OrchestratorClient("tok", base_url=BASE, sleep=lambda _: None) as client:
            with pytest.raises(CivitaiError) as unkeyed:
                client.submit(BODY, idempotent=False)
            with pytest.raises(CivitaiError) as keyed:
                client.submit(BODY)
    assert (WARNING in str(unkeyed.value)) is warned
    assert unkeyed.value.external_id is None
    assert WARNING not in str(keyed.value)
    assert keyed.value.external_id is not None


def test_an_estimated_recipe_never_warns() -> None:
    with respx.mock(base_url=BASE) as mock:
        route = mock.post(RECIPE).respond(503, json={"title": "busy"})
        with (
            OrchestratorClient("tok", base_url=BASE, sleep=lambda _: None) as client,
            pytest.raises(OrchestratorError) as caught,
        ):
            client.recipes.echo({"message": "hi"}, whatif=True)
    assert WARNING not in str(caught.value)
    assert route.call_count == 4  # a whatif runs nothing: it is retried


def test_a_recipe_charged_then_cut_off_warns_on_both_clients() -> None:
    """The local server runs and charges the recipe, then drops the connection."""
    rules = (FaultRule("drop", times=2, path="recipes"),)
    with LocalServer(LocalConfig(faults=rules)) as server:
        with (
            OrchestratorClient("tok", base_url=server.url) as client,
            pytest.raises(CivitaiError, match=WARNING),
        ):
            client.recipes.echo({"message": "hi"})

        async def main() -> None:
            async with AsyncOrchestratorClient("tok", base_url=server.url) as aclient:
                await aclient.recipes.echo({"message": "hi"})

        with pytest.raises(CivitaiError, match=WARNING):
            anyio.run(main)
        assert len(server.state.store.workflows) == 2


@pytest.mark.parametrize(("outcome", "warned"), OUTCOMES[:3] + OUTCOMES[-2:])
def test_a_workflow_patch_may_spend_buzz_and_says_so(outcome: Any, warned: bool) -> None:
    # A JSON Patch can set allowMatureContent, as the PUT can: yellow Buzz for mature output.
    with respx.mock(base_url=BASE) as mock:
        route = mock.patch(f"{WORKFLOWS}/wf-1").mock(side_effect=[outcome] * 4)
        with (
            OrchestratorClient("tok", base_url=BASE, sleep=lambda _: None) as client,
            pytest.raises(CivitaiError) as caught,
        ):
            client.patch("wf-1", [{"op": "replace", "path": "/allowMatureContent", "value": True}])
    assert (f"The patch {WARNING}" in str(caught.value)) is warned
    assert route.call_count == 1 or not warned  # sent once; a refusal or no connection: again
