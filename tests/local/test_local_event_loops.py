"""An async client reused across ``asyncio.run`` calls (a common mistake).

Handed to the transport's owner: today the second run's request fails with httpx's bare
``RuntimeError: Event loop is closed`` (the pooled connection belongs to the first,
closed loop). The SDK should raise a typed error saying how to use the client (create it
inside the loop that uses it), or drop the dead connections and send.
"""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from civitai_app_sdk.errors import CivitaiError
from civitai_app_sdk.local import LocalServer
from civitai_app_sdk.orchestrator import AsyncOrchestratorClient


@pytest.mark.xfail(strict=True, reason="bare RuntimeError from httpx (transport, reported)")
def test_an_async_client_reused_in_a_new_event_loop_fails_typed_or_works(
    server: LocalServer,
) -> None:
    client = AsyncOrchestratorClient("tok", base_url=server.url)
    asyncio.run(client.list())
    with contextlib.suppress(CivitaiError):  # typed, and its message says what to do
        asyncio.run(client.list())
