"""The async clients under trio (through anyio), as httpx supports it.

The transport only awaits anyio, so the orchestrator client runs under ``trio.run``;
what used asyncio directly (the token provider's refresh, the device grant's default
sleep) must too, and one client may go from a trio run to an asyncio run and back.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import anyio
import httpx
import pytest
import respx

from civitai_app_sdk.errors import ConfigurationError
from civitai_app_sdk.local import LocalServer
from civitai_app_sdk.oauth import (
    AsyncOAuthClient,
    DeviceAuthorization,
    MemoryTokenStore,
    OAuthClient,
    RefreshingTokenProvider,
    TokenSet,
)
from civitai_app_sdk.orchestrator import AsyncOrchestratorClient

pytest.importorskip("trio")

TOKEN = "trio-token"
BODY: Any = {"steps": [{"$type": "textToImage", "input": {"prompt": "trio", "quantity": 1}}]}
TOKEN_URL = "https://auth.civitai.com/api/auth/oauth/token"
DEVICE_TOKEN_URL = "https://auth.civitai.com/api/auth/oauth/device-token"
NOW = 1_700_000_000.0


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer() as running:
        yield running


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


def test_the_orchestrator_client_runs_under_trio(server: LocalServer) -> None:
    async def scenario() -> None:
        async with AsyncOrchestratorClient(
            TOKEN, base_url=server.url, max_connections=2, timeout=5
        ) as client:
            submitted = await client.submit(BODY)
            done = await client.poll(submitted.id or "", timeout=10)
            assert done.id == submitted.id
            async with anyio.create_task_group() as group:
                for _ in range(8):
                    group.start_soon(client.list)
            for turns in range(30):  # cancelled at each point, the pool stays usable
                with anyio.move_on_after(0.0005 * turns):
                    async with anyio.create_task_group() as group:
                        for _ in range(3):
                            group.start_soon(client.list)
            with anyio.fail_after(5):
                assert (await client.get(submitted.id or "")).id == submitted.id

    anyio.run(scenario, backend="trio")


@pytest.mark.parametrize(
    "backends", [("trio", "asyncio", "trio"), ("asyncio", "trio", "asyncio")], ids="-".join
)
def test_one_client_goes_from_trio_to_asyncio_and_back(
    server: LocalServer, backends: tuple[str, ...]
) -> None:
    client = AsyncOrchestratorClient(TOKEN, base_url=server.url)
    for backend in backends:  # httpcore kept the first run's backend: a bare RuntimeError
        page = anyio.run(client.list, backend=backend)
        assert page.items is not None
    anyio.run(client.aclose, backend=backends[-1])


def test_a_trio_run_still_going_in_another_thread_gets_a_typed_error(
    server: LocalServer,
) -> None:
    client = AsyncOrchestratorClient(TOKEN, base_url=server.url)
    first_done, go_on = threading.Event(), threading.Event()
    seen: list[object] = []

    async def elsewhere() -> None:
        seen.append(await client.list())
        first_done.set()
        await anyio.to_thread.run_sync(go_on.wait, 10)
        seen.append(await client.list())  # its connections were left alone
        await client.aclose()

    thread = threading.Thread(target=anyio.run, args=(elsewhere,), kwargs={"backend": "trio"})
    thread.start()
    try:
        assert first_done.wait(10)
        with pytest.raises(ConfigurationError, match="one client per event loop"):
            anyio.run(client.list, backend="trio")  # used to hang or cut the other's requests
    finally:
        go_on.set()
        thread.join(10)
    assert len(seen) == 2


def _expiring() -> MemoryTokenStore:
    return MemoryTokenStore(TokenSet(access_token="at-0", refresh_token="rt-0", expires_at=NOW))


@pytest.mark.parametrize("kind", ["async_client", "client"])
def test_the_refreshing_provider_refreshes_once_under_trio(
    mock: respx.MockRouter, kind: str
) -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        time.sleep(0.05)  # the other tasks arrive while it runs
        return httpx.Response(
            200, json={"access_token": "at-1", "refresh_token": "rt-1", "expires_in": 3600}
        )

    route = mock.post(TOKEN_URL).mock(side_effect=slow)
    client: Any = (AsyncOAuthClient if kind == "async_client" else OAuthClient)(
        "app", clock=lambda: NOW
    )
    store = _expiring()
    provider = RefreshingTokenProvider(store, clock=lambda: NOW, **{kind: client})
    seen: list[str] = []

    async def ask() -> None:
        seen.append(await provider.aget_token())

    async def scenario() -> None:
        async with anyio.create_task_group() as group:
            for _ in range(5):
                group.start_soon(ask)

    anyio.run(scenario, backend="trio")
    assert seen == ["at-1"] * 5
    assert route.call_count == 1
    stored = store.load()
    assert stored is not None
    assert stored.refresh_token == "rt-1"


def test_a_cancelled_caller_under_trio_still_stores_the_rotated_pair(
    mock: respx.MockRouter,
) -> None:
    mock.post(TOKEN_URL).respond(
        200, json={"access_token": "at-1", "refresh_token": "rt-1", "expires_in": 3600}
    )
    store = _expiring()
    provider = RefreshingTokenProvider(
        store, async_client=AsyncOAuthClient("app", clock=lambda: NOW), clock=lambda: NOW
    )

    async def scenario() -> None:
        with anyio.CancelScope() as scope:
            scope.cancel()
            await provider.aget_token()

    anyio.run(scenario, backend="trio")
    stored = store.load()
    assert stored is not None
    assert stored.refresh_token == "rt-1"


def test_the_device_grant_waits_under_trio(mock: respx.MockRouter) -> None:
    mock.post(DEVICE_TOKEN_URL).mock(
        side_effect=[
            httpx.Response(400, json={"error": "authorization_pending"}),
            httpx.Response(200, json={"access_token": "at-d", "expires_in": 3600}),
        ]
    )
    grant = DeviceAuthorization(
        device_code="d" * 64,
        user_code="ABCD-EFGH",
        verification_uri="https://civitai.com/login/oauth/device",
        expires_at=time.time() + 60,
        interval=0.01,
    )

    async def scenario() -> TokenSet:
        async with AsyncOAuthClient("app") as client:
            return await client.wait_for_device_token(grant)  # the default sleep

    assert anyio.run(scenario, backend="trio").access_token == "at-d"
