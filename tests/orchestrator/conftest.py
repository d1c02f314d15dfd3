"""Fixtures for the orchestrator client tests: realistic workflow JSON and fake clocks."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

BASE = "https://orch.test"
TOKEN = "0123456789abcdef0123456789abcdef"

_WORKFLOW: dict[str, Any] = {
    "id": "8484131-20260121222126332",
    "createdAt": "2026-01-21T22:21:26.3320000Z",
    "status": "processing",
    "arguments": {},
    "callbacks": [],
    "currencies": [],
    "forceRefunded": False,
    "metadata": {},
    "tags": ["civitai"],
    "tips": {"civitai": 0, "creators": 0},
    "upgradeMode": "manual",
    "cost": {"base": 4, "tips": {"civitai": 0, "creators": 0}, "total": 4},
    "transactions": {"list": [{"type": "debit", "amount": 4, "accountType": "blue"}]},
    "steps": [
        {
            "$type": "textToImage",
            "name": "step_0",
            "status": "processing",
            "priority": "normal",
            "metadata": {},
            "timeout": "00:10:00",
            "input": {
                "prompt": "a cat",
                "cfgScale": 5,
                "model": "urn:air:sdxl:checkpoint:civitai:1@2",
            },
            "jobs": [{"id": "b0f1", "status": "processing", "cost": 1.0}],
            "output": None,
        }
    ],
}

_IMAGE = {
    "type": "image",
    "id": "JNFDW54JNTATNW42HACYCWSQP0.jpeg",
    "available": True,
    "url": "https://orchestration-new.civitai.com/v2/consumer/blobs/JNFDW54JNTATNW42HACYCWSQP0.jpeg?sig=abc",
    "width": 1024,
    "height": 1024,
}


def errors_on_both_clients(call: Callable[[Any], Any]) -> list[BaseException]:
    """The errors ``call`` ends with on a sync client, then on an async one (at BASE)."""
    import anyio

    from civitai_app_sdk.errors import CivitaiError
    from civitai_app_sdk.orchestrator import AsyncOrchestratorClient, OrchestratorClient

    errors: list[BaseException] = []
    with OrchestratorClient(TOKEN, base_url=BASE, sleep=lambda _: None) as client:
        with pytest.raises(CivitaiError) as caught:
            call(client)
        errors.append(caught.value)

    async def main() -> None:
        async with AsyncOrchestratorClient(TOKEN, base_url=BASE) as client:
            with pytest.raises(CivitaiError) as caught:
                await call(client)
            errors.append(caught.value)

    anyio.run(main)
    return errors


def workflow_json(status: str = "processing", **changes: Any) -> dict[str, Any]:
    """A workflow body like the API's, with ``status`` (and step status) set."""
    data = copy.deepcopy(_WORKFLOW)
    data["status"] = status
    data["steps"][0]["status"] = status
    if status == "succeeded":
        data["steps"][0]["output"] = {"images": [dict(_IMAGE)]}
    data.update(changes)
    return data


@pytest.fixture
def make_workflow() -> Callable[..., dict[str, Any]]:
    """Factory of realistic workflow JSON bodies."""
    return workflow_json


class FakeClock:
    """A monotonic clock that only moves when told to (sleep advances it)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)


@pytest.fixture
def clock() -> FakeClock:
    """A fake clock whose sleeps return at once and advance time."""
    return FakeClock()


@pytest.fixture
def api() -> Any:
    """A respx router for the test base URL (every request must match a route)."""
    import respx

    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        yield router


@pytest.fixture
def client(clock: FakeClock) -> Any:
    """A sync client on the test base URL with the fake clock."""
    from civitai_app_sdk.orchestrator import OrchestratorClient

    with OrchestratorClient(TOKEN, base_url=BASE, clock=clock, sleep=clock.sleep) as c:
        yield c


@pytest.fixture
async def aclient(clock: FakeClock) -> Any:
    """An async client on the test base URL with the fake clock."""
    from civitai_app_sdk.orchestrator import AsyncOrchestratorClient

    async with AsyncOrchestratorClient(TOKEN, base_url=BASE, clock=clock, sleep=clock.asleep) as c:
        yield c
