"""One sync client shared by many threads, as a threaded service uses it.

httpcore's pool, tidying itself on one thread, could judge a connection another thread
had just started to use "idle with bytes waiting" and close it under that thread: the
request failed with ``Bad file descriptor`` though the network was fine. The SDK's pool
spares the connections its requests hold.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from civitai_app_sdk.local import LocalServer
from civitai_app_sdk.orchestrator import OrchestratorClient

TOKEN = "threads-token"
BODY: Any = {"steps": [{"$type": "textToImage", "input": {"prompt": "threads", "quantity": 1}}]}
THREADS = 16


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer() as running:
        yield running


def test_sixteen_threads_share_one_client_without_a_failed_request(server: LocalServer) -> None:
    # no retries: a request failed by the client itself would show
    with OrchestratorClient(
        TOKEN, base_url=server.url, max_connections=4, max_retries=0, timeout=10
    ) as client:
        ids = [client.submit(BODY).id or "" for _ in range(THREADS)]

        def work(index: int) -> int:
            for _ in range(30):
                assert client.get(ids[index]).id == ids[index]
                assert client.list(take=2).items is not None
            return index

        with ThreadPoolExecutor(THREADS) as pool:
            assert sorted(pool.map(work, range(THREADS))) == list(range(THREADS))
        transport: Any = client._transport._pool
        pool_state = transport._pool
        assert len(pool_state.connections) <= 4
        assert pool_state._requests == []
