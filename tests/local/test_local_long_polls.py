"""Long-polls the local server holds end when nobody waits for them any more.

A client that gave up (a cancelled poll) used to leave its request held for up to the
server's ``max_wait``; stopping the server with a poll held took the whole grace period,
logged a traceback and answered that poll with a 500.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

from local_helpers import TOKEN

from civitai_app_sdk.local import LocalConfig, LocalServer
from civitai_app_sdk.local.timeline import Timings
from civitai_app_sdk.orchestrator import OrchestratorClient, is_terminal

SLOW = LocalConfig(token=TOKEN, timings=Timings(processing=1000.0))
BODY = {"currencies": [], "steps": [{"$type": "echo", "input": {"message": "hi"}}]}


def test_a_hold_ends_once_its_client_has_gone() -> None:
    with LocalServer(SLOW) as server, OrchestratorClient(TOKEN, base_url=server.url) as client:
        workflow_id = client.submit(BODY).id
        assert workflow_id is not None
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            if not sent:
                sent.append({})
                return {"type": "http.request", "body": b"", "more_body": False}
            return {"type": "http.disconnect"}  # the client is gone

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        scope = {
            "type": "http",
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": f"/v2/consumer/workflows/{workflow_id}",
            "raw_path": f"/v2/consumer/workflows/{workflow_id}".encode(),
            "query_string": b"wait=60",
            "headers": [(b"authorization", f"Bearer {TOKEN}".encode())],
            "client": ("127.0.0.1", 1),
            "server": ("127.0.0.1", server.port),
        }
        started = time.monotonic()
        asyncio.run(asyncio.wait_for(server.app(scope, receive, send), 10))
        assert time.monotonic() - started < 2.0  # not the 60 s asked for


def test_stopping_answers_a_held_poll_with_its_snapshot() -> None:
    server = LocalServer(SLOW).start()
    client = OrchestratorClient(TOKEN, base_url=server.url, max_retries=0)
    workflow_id = client.submit(BODY).id
    assert workflow_id is not None
    outcome: list[object] = []

    def hold() -> None:
        try:
            outcome.append(client.get(workflow_id, wait=60).status)
        except Exception as error:
            outcome.append(error)

    waiter = threading.Thread(target=hold)
    waiter.start()
    time.sleep(0.5)
    started = time.monotonic()
    server.stop()
    waiter.join(10)
    client.close()
    assert time.monotonic() - started < 1.5  # not the grace period and a cancellation
    assert len(outcome) == 1
    assert not isinstance(outcome[0], Exception), outcome  # a 202 snapshot, not a 500
    assert not is_terminal(outcome[0])  # type: ignore[arg-type]
