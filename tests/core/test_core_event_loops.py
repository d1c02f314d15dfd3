"""An async client used from more than one event loop, against the local server.

httpx alone fails the second ``asyncio.run`` with a bare ``RuntimeError: Event loop is
closed`` (its pooled sockets belong to the first loop). The SDK's own pool drops the
connections of a loop that no longer runs and goes on; a loop still running elsewhere
gets a typed error.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import httpx
import pytest

from civitai_app_sdk.errors import CivitaiError, ConfigurationError
from civitai_app_sdk.local import LocalServer
from civitai_app_sdk.orchestrator import AsyncOrchestratorClient

TOKEN = "loops-token"
BODY = {"steps": [{"$type": "textToImage", "input": {"prompt": "loops", "quantity": 1}}]}


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer() as running:
        yield running


def _connections(client: AsyncOrchestratorClient) -> int:
    pool = client._transport._pool
    assert isinstance(pool, httpx.AsyncHTTPTransport)
    return len(pool._pool.connections)


def test_a_client_serves_one_asyncio_run_after_another(server: LocalServer) -> None:
    client = AsyncOrchestratorClient(TOKEN, base_url=server.url)
    submitted = asyncio.run(client.submit(BODY))
    assert _connections(client) == 1  # kept alive, bound to the ended loop
    for _ in range(3):
        again = asyncio.run(client.get(submitted.id or ""))
        assert again.id == submitted.id
    assert _connections(client) == 1  # the dead one was dropped, not piled up
    asyncio.run(client.aclose())


def test_a_loop_stopped_without_closing_counts_as_ended(server: LocalServer) -> None:
    client = AsyncOrchestratorClient(TOKEN, base_url=server.url)
    first = asyncio.new_event_loop()
    try:
        first.run_until_complete(client.list())
        page = asyncio.run(client.list())  # would wait forever on the stopped loop's socket
        assert page.items is not None
    finally:
        first.close()
        asyncio.run(client.aclose())


def test_copies_share_the_binding_so_a_new_loop_drops_connections_once(
    server: LocalServer,
) -> None:
    client = AsyncOrchestratorClient(TOKEN, base_url=server.url)
    copy = client.with_options(max_retries=0)
    asyncio.run(client.list())

    async def both() -> None:
        # a second drop (by the copy) would cut the other's request in flight
        for _ in range(5):
            await asyncio.gather(client.list(), copy.list(), client.list(), copy.list())

    asyncio.run(both())
    asyncio.run(client.aclose())


def test_a_loop_still_running_elsewhere_gets_a_typed_error_and_keeps_its_pool(
    server: LocalServer,
) -> None:
    client = AsyncOrchestratorClient(TOKEN, base_url=server.url)
    other = asyncio.new_event_loop()
    thread = threading.Thread(target=other.run_forever, daemon=True)
    thread.start()
    try:
        asyncio.run_coroutine_threadsafe(client.list(), other).result(timeout=10)
        with pytest.raises(ConfigurationError, match="one client per event loop") as caught:
            asyncio.run(client.list())
        assert isinstance(caught.value, CivitaiError)
        # the running loop's connections were left alone and still serve it
        asyncio.run_coroutine_threadsafe(client.list(), other).result(timeout=10)
        assert _connections(client) == 1
        asyncio.run_coroutine_threadsafe(client.aclose(), other).result(timeout=10)
    finally:
        other.call_soon_threadsafe(other.stop)
        thread.join(timeout=10)
        other.close()


def test_a_transport_the_caller_passed_that_is_not_a_socket_pool_is_left_alone() -> None:
    calls: list[int] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(200, json={"items": [], "next": None})

    client = AsyncOrchestratorClient(
        TOKEN, base_url="http://127.0.0.1:9", transport=httpx.MockTransport(answer)
    )
    assert client._transport._loops is None
    for _ in range(2):
        asyncio.run(client.list())
    assert len(calls) == 2
