"""A client used before ``os.fork``: the child opens its own connections.

Copied keep-alive sockets would let parent and child write on one TCP connection and
read each other's answers (another workflow than the one asked for).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest

from civitai_app_sdk.local import LocalServer
from civitai_app_sdk.orchestrator import OrchestratorClient

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="no os.fork here")

TOKEN = "fork-token"
BODY: Any = {"steps": [{"$type": "textToImage", "input": {"prompt": "fork", "quantity": 1}}]}


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer() as running:
        yield running


def _in_child(client: OrchestratorClient, workflow_id: str) -> dict[str, Any]:
    """What the child sees: the pool it inherited, then its own requests."""
    pool: Any = client._transport._pool
    inherited = len(pool._pool.connections)
    ids = [client.get(workflow_id).id for _ in range(20)]
    return {"inherited": inherited, "ids": ids, "now": len(pool._pool.connections)}


def test_a_forked_child_does_not_use_the_parents_connections(server: LocalServer) -> None:
    with OrchestratorClient(TOKEN, base_url=server.url, max_connections=1) as client:
        mine, theirs = client.submit(BODY).id or "", client.submit(BODY).id or ""
        pool: Any = client._transport._pool
        (connection,) = pool._pool.connections  # kept alive for the next request
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child reports through the pipe
            os.close(read)
            try:
                report: dict[str, Any] = _in_child(client, theirs)
            except BaseException as error:  # anything goes back to the parent
                report = {"error": repr(error)}
            os.write(write, json.dumps(report).encode())
            os._exit(0)
        os.close(write)
        try:
            seen = [client.get(mine).id for _ in range(20)]  # while the child asks too
        finally:
            _, status = os.waitpid(pid, 0)
            with os.fdopen(read, "rb") as pipe:
                report = json.loads(pipe.read())
        assert status == 0
        assert report == {"inherited": 0, "ids": [theirs] * 20, "now": 1}
        assert seen == [mine] * 20
        # the child closed only its copy: the parent's connection still serves it
        assert pool._pool.connections == [connection]
        assert client.get(mine).id == mine
