"""`civitai-orch workflows --take N` whose page is over the 64 MiB an answer may hold.

A thousand workflows with large inputs (ComfyUI graphs) make such a page. The error
said "check CIVITAI_API_URL", which is not at fault; it now says to ask for fewer with
``--take``. The SDK's own hint named only ``download_blob()``, for blobs.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
import respx

from civitai_app_sdk import errors
from civitai_app_sdk._limits import MAX_JSON_BODY
from civitai_app_sdk.cli._exit import ExitCode
from civitai_app_sdk.orchestrator import OrchestratorClient
from tests.cli.conftest import API, Run

HUGE = {"content-length": str(MAX_JSON_BODY + 1), "content-type": "application/json"}
"""An answer that says it is over the cap (refused before its body is read)."""


@pytest.fixture
def api(authed: Run) -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as mock:
        mock.get(f"{API}/v2/consumer/workflows").respond(200, headers=HUGE, content=b"{}")
        yield mock


def test_a_page_too_large_says_to_ask_for_fewer(api: respx.MockRouter, authed: Run) -> None:
    result = authed("workflows", "--take", "1000", "--json")
    assert result.exit_code == ExitCode.ERROR
    message = json.loads(result.stdout)["error"]["message"]
    assert "--take" in message
    assert "CIVITAI_API_URL" not in message


def test_the_sdk_says_so_for_a_page_too() -> None:
    with respx.mock(base_url="https://orch.test") as mock:
        mock.get("/v2/consumer/workflows").mock(
            return_value=httpx.Response(200, headers=HUGE, content=b"{}")
        )
        with (
            OrchestratorClient("tok", base_url="https://orch.test") as client,
            pytest.raises(errors.ResponseTooLargeError) as info,
        ):
            client.list(take=1000)
    assert "take=" in str(info.value)
