"""The sync orchestrator client end to end against the local server."""

from __future__ import annotations

from pathlib import Path

import pytest
from local_helpers import TOKEN, text_to_image

from civitai_app_sdk.errors import (
    BadRequestError,
    InsufficientBuzzError,
    PollTimeoutError,
    TransportError,
)
from civitai_app_sdk.local import FaultRule, LocalConfig, LocalServer, ManualClock, Timings
from civitai_app_sdk.orchestrator import OrchestratorClient

SUBMIT = "^/v2/consumer/workflows$"


def client(server: LocalServer, **options: object) -> OrchestratorClient:
    return OrchestratorClient(TOKEN, base_url=server.url, **options)  # type: ignore[arg-type]


def charged(server: LocalServer) -> int:
    return 5000 - sum(server.state.store.ledger.balance().values())


def test_estimate_submit_poll_and_download(server: LocalServer, tmp_path: Path) -> None:
    with client(server) as orchestrator:
        estimate = orchestrator.estimate(text_to_image(quantity=2))
        assert estimate.cost.total == 8
        assert charged(server) == 0
        submitted = orchestrator.submit(text_to_image(quantity=2))
        assert submitted.id is not None
        updates: list[str] = []
        final = orchestrator.poll(
            submitted.id, timeout=60, on_update=lambda w: updates.append(w.status.value)
        )
        assert final.status.value == "succeeded"
        assert updates[-1] == "succeeded"
        blob = final.model_dump(by_alias=True)["steps"][0]["output"]["images"][0]
        path = orchestrator.download_blob(blob["id"], tmp_path)
        assert path.read_bytes().startswith(b"\x89PNG")
        assert charged(server) == 8


def test_dropped_submit_without_external_id_is_not_retried(clock: ManualClock) -> None:
    config = LocalConfig(faults=(FaultRule("drop", method="POST", path=SUBMIT),))
    with LocalServer(config, clock=clock) as server, client(server) as orchestrator:
        with pytest.raises(TransportError):
            orchestrator.submit(text_to_image(), idempotent=False)
        assert len(server.state.store.workflows) == 1
        assert charged(server) == 4


def test_dropped_submit_with_external_id_is_retried_and_charged_once(clock: ManualClock) -> None:
    config = LocalConfig(faults=(FaultRule("drop", method="POST", path=SUBMIT),))
    with LocalServer(config, clock=clock) as server, client(server) as orchestrator:
        workflow = orchestrator.submit(text_to_image(), external_id="order-7")
        assert workflow.external_id == "1-order-7"
        assert config.faults[0].hits == 1
        assert len(server.state.store.workflows) == 1
        assert charged(server) == 4


def test_rate_limit_is_waited_out(clock: ManualClock) -> None:
    config = LocalConfig(faults=(FaultRule("429", times=1, seconds=1, method="GET"),))
    with LocalServer(config, clock=clock) as server, client(server) as orchestrator:
        page = orchestrator.list()
        assert config.faults[0].hits == 1
        assert page.items == []


def test_polling_stops_at_the_deadline_with_the_last_snapshot() -> None:
    config = LocalConfig(timings=Timings(0.1, 0.1, 0.1, 120))
    with LocalServer(config) as server, client(server) as orchestrator:
        workflow = orchestrator.submit(text_to_image())
        assert workflow.id is not None
        with pytest.raises(PollTimeoutError) as caught:
            orchestrator.poll(workflow.id, timeout=1.5)
        assert caught.value.last is not None
        assert caught.value.last.status.value == "processing"


def test_errors_map_to_the_sdk_exceptions(clock: ManualClock) -> None:
    config = LocalConfig(balance={"yellow": 3})
    with LocalServer(config, clock=clock) as server, client(server) as orchestrator:
        with pytest.raises(InsufficientBuzzError):
            orchestrator.submit(text_to_image())
        with pytest.raises(BadRequestError, match="tags"):
            orchestrator.submit(text_to_image(tags=["x" * 201]))


def test_estimate_is_retried_after_a_drop_and_never_charges(clock: ManualClock) -> None:
    config = LocalConfig(faults=(FaultRule("drop", times=2, method="POST", path=SUBMIT),))
    with LocalServer(config, clock=clock) as server, client(server) as orchestrator:
        estimate = orchestrator.estimate(text_to_image(quantity=2))
        assert estimate.cost.total == 8
        assert config.faults[0].hits == 2
        assert charged(server) == 0
        assert not server.state.store.workflows
