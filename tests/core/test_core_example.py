"""examples/safe_retry.py retries a failed submit with its key: one workflow, one key."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import httpx
import pytest
import respx
from core_helpers import API, BODY, workflow

from civitai_app_sdk.errors import ForbiddenError, ServerError
from civitai_app_sdk.orchestrator import OrchestratorClient

EXAMPLE = Path(__file__).parents[2] / "examples" / "safe_retry.py"
WORKFLOW = workflow("processing")


def load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("safe_retry_example", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_lost_submit_is_retried_with_the_same_key() -> None:
    with respx.mock(base_url=API) as api:
        route = api.post("/v2/consumer/workflows").mock(
            side_effect=[httpx.Response(500), httpx.Response(200, json=WORKFLOW)]
        )
        with OrchestratorClient("tok", base_url=API) as client:
            workflow = load().submit_once(client, BODY)
    assert workflow.id == "wf-1"
    keys = [json.loads(call.request.content)["externalId"] for call in route.calls]
    assert len(keys) == 2
    assert keys[0] == keys[1]


def test_a_second_failure_is_raised_with_the_key() -> None:
    with respx.mock(base_url=API) as api:
        api.post("/v2/consumer/workflows").respond(403, json={"title": "no"})
        with (
            OrchestratorClient("tok", base_url=API) as client,
            pytest.raises(ForbiddenError) as info,
        ):
            load().submit_once(client, BODY)
    assert info.value.external_id is not None
    assert not isinstance(info.value, ServerError)
