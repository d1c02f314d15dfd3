"""The async orchestrator client end to end against the local server."""

from __future__ import annotations

from pathlib import Path

import pytest
from local_helpers import TOKEN, text_to_image

from civitai_app_sdk.errors import PollTimeoutError, TransportError
from civitai_app_sdk.local import FaultRule, LocalConfig, LocalServer, ManualClock, Timings
from civitai_app_sdk.orchestrator import AsyncOrchestratorClient

pytestmark = pytest.mark.anyio
SUBMIT = "^/v2/consumer/workflows$"


def client(server: LocalServer) -> AsyncOrchestratorClient:
    return AsyncOrchestratorClient(TOKEN, base_url=server.url)


async def test_submit_poll_download(server: LocalServer, tmp_path: Path) -> None:
    async with client(server) as orchestrator:
        workflow = await orchestrator.submit(text_to_image())
        assert workflow.id is not None
        final = await orchestrator.poll(workflow.id, timeout=60)
        assert final.status.value == "succeeded"
        blob_id = final.model_dump(by_alias=True)["steps"][0]["output"]["images"][0]["id"]
        path = await orchestrator.download_blob(blob_id, tmp_path)
        assert path.suffix == ".png"
        assert path.read_bytes().startswith(b"\x89PNG")


async def test_dropped_submit_is_retried_only_with_an_external_id(clock: ManualClock) -> None:
    rules = (FaultRule("drop", times=2, method="POST", path=SUBMIT),)
    with LocalServer(LocalConfig(faults=rules), clock=clock) as server:
        async with client(server) as orchestrator:
            with pytest.raises(TransportError):
                await orchestrator.submit(text_to_image(), idempotent=False)
            retried = await orchestrator.submit(text_to_image(), external_id="a-1")
        assert retried.external_id == "1-a-1"
        assert rules[0].hits == 2
        assert len(server.state.store.workflows) == 2
        assert sum(server.state.store.ledger.balance().values()) == 5000 - 8


async def test_rate_limit_is_waited_out(clock: ManualClock) -> None:
    rules = (FaultRule("429", times=1, seconds=1, method="GET"),)
    with LocalServer(LocalConfig(faults=rules), clock=clock) as server:
        async with client(server) as orchestrator:
            workflow = await orchestrator.submit(text_to_image())
            assert workflow.id is not None
            fetched = await orchestrator.get(workflow.id)
        assert fetched.id == workflow.id
        assert rules[0].hits == 1


async def test_polling_stops_at_the_deadline_with_the_last_snapshot() -> None:
    config = LocalConfig(timings=Timings(0.1, 0.1, 0.1, 120))
    with LocalServer(config) as server:
        async with client(server) as orchestrator:
            workflow = await orchestrator.submit(text_to_image())
            assert workflow.id is not None
            with pytest.raises(PollTimeoutError) as caught:
                await orchestrator.poll(workflow.id, timeout=1.5)
        assert caught.value.last is not None
        assert caught.value.last.status.value == "processing"
