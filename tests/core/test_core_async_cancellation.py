"""Cancelled async requests give their connection back to the client's pool.

httpcore 1.0 keeps a slot taken for good when a request is cancelled while it waits for a
connection just created for it, or while its answer is being closed (asyncio's own
cancellation passes anyio's shields). The SDK's pool reclaims those slots, so a busy
service whose requests time out does not end with every call failing for want of a
connection. Each test cancels at every await point of a request in turn.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest

from civitai_app_sdk.local import LocalServer
from civitai_app_sdk.orchestrator import AsyncOrchestratorClient

TOKEN = "cancel-token"
BODY: Any = {"steps": [{"$type": "textToImage", "input": {"prompt": "cancel", "quantity": 1}}]}


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer() as running:
        yield running


def _pool(client: AsyncOrchestratorClient) -> Any:
    transport = client._transport._pool
    assert isinstance(transport, httpx.AsyncHTTPTransport)
    return transport._pool


def _taken(client: AsyncOrchestratorClient) -> list[str]:
    """The connections of the pool that are neither idle nor closed."""
    return [
        repr(connection)
        for connection in _pool(client).connections
        if not connection.is_idle() and not connection.is_closed()
    ]


async def _cancel_at_every_step(
    client: AsyncOrchestratorClient, call: Callable[[], Awaitable[object]], tasks: int = 2
) -> int:
    """Start ``tasks`` calls and cancel them after 0, 1, 2… turns of the loop, until they
    end by themselves; after each round nothing may be left taken. The rounds run."""
    for turns in range(400):
        running = [asyncio.ensure_future(call()) for _ in range(tasks)]
        for _ in range(turns):
            await asyncio.sleep(0)
        finished = all(task.done() for task in running)
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        assert _taken(client) == [], f"cancelled after {turns} turns"
        assert len(_pool(client)._requests) == 0
        if finished:
            return turns
    raise AssertionError("the calls never ended")


def test_cancelling_requests_at_every_point_leaves_the_pool_usable(server: LocalServer) -> None:
    async def scenario() -> None:
        async with AsyncOrchestratorClient(
            TOKEN, base_url=server.url, max_connections=1, timeout=5
        ) as client:
            turns = await _cancel_at_every_step(client, client.list)
            assert turns > 5  # the rounds did reach past the pool into the answer
            page = await asyncio.wait_for(client.list(), 5)  # not PoolExhaustedError
            assert page.items is not None

    asyncio.run(scenario())


def test_cancelled_submits_leave_the_pool_usable(server: LocalServer) -> None:
    async def scenario() -> None:
        async with AsyncOrchestratorClient(
            TOKEN, base_url=server.url, max_connections=1, timeout=5
        ) as client:
            await _cancel_at_every_step(client, lambda: client.submit(BODY))
            submitted = await asyncio.wait_for(client.submit(BODY), 5)
            assert submitted.id

    asyncio.run(scenario())


async def _group(client: AsyncOrchestratorClient, failing: Awaitable[None] | None) -> None:
    """Three lists in a task group (which waits for all of them), beside a task that fails."""
    async with asyncio.TaskGroup() as group:
        for _ in range(3):
            group.create_task(_list(client))
        if failing is not None:
            group.create_task(failing)  # type: ignore[arg-type]


async def _list(client: AsyncOrchestratorClient) -> object:
    return await client.list()


def test_task_group_failures_and_timeouts_leave_the_pool_usable(server: LocalServer) -> None:
    async def fail_after(turns: int) -> None:
        for _ in range(turns):
            await asyncio.sleep(0)
        raise LookupError("a sibling failed")

    async def scenario() -> None:
        async with AsyncOrchestratorClient(
            TOKEN, base_url=server.url, max_connections=1, timeout=5
        ) as client:
            for turns in range(40):
                with pytest.raises(ExceptionGroup):
                    await _group(client, fail_after(turns))
                assert _taken(client) == [], f"a sibling failed after {turns} turns"
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(0.0002 * turns):
                        await _group(client, None)
                assert _taken(client) == [], f"timed out after {0.2 * turns} ms"
            pages = await asyncio.wait_for(asyncio.gather(*(client.list() for _ in range(3))), 5)
            assert len(pages) == 3

    asyncio.run(scenario())


def test_a_submit_cut_by_asyncio_timeout_is_retried_with_its_key_and_charged_once(
    server: LocalServer,
) -> None:
    async def scenario() -> tuple[str, str]:
        async with AsyncOrchestratorClient(TOKEN, base_url=server.url, timeout=10) as client:
            with pytest.raises(TimeoutError) as caught:
                async with asyncio.timeout(0.5):
                    await client.submit(BODY, wait=5)  # received and charged, answer held
            key = caught.value.__cause__.external_id  # type: ignore[union-attr]
            assert isinstance(key, str)
            again = await client.submit(BODY, external_id=key)
            return key, again.id or ""

    key, workflow_id = asyncio.run(scenario())
    records = server.state.store.workflows.values()
    charged = [record for record in records if record.template.external_id == key]
    assert [record.id for record in charged] == [workflow_id]  # the retry found it


def test_a_slot_reclaimed_from_a_cancelled_request_goes_to_the_request_queued_for_it(
    server: LocalServer,
) -> None:
    # the second of three requests is cancelled at every point in turn (once, the pool
    # has just made a connection for it); the third, queued behind it, must get the
    # freed slot at once, not when its pool timeout (10 s) ends its wait
    async def scenario() -> None:
        async with AsyncOrchestratorClient(
            TOKEN, base_url=server.url, max_connections=1, timeout=10
        ) as client:
            for turns in range(60):
                first, cancelled, queued = (asyncio.ensure_future(client.list()) for _ in "abc")
                started = time.monotonic()
                for _ in range(turns):
                    await asyncio.sleep(0)
                cancelled.cancel()
                await asyncio.gather(first, cancelled, queued, return_exceptions=True)
                assert time.monotonic() - started < 2, f"a request waited (cancel after {turns})"
                assert queued.exception() is None
                assert _taken(client) == []

    asyncio.run(scenario())
