"""1,000 concurrent workflows on one default async client, and poll overrun under hostility.

The workflows run longer than the pool timeout, so every task holds a long-poll at once:
with a pool too small for that, the tasks past its size fail instead of finishing. The
overrun part measures how far ``poll(timeout=T)`` runs past ``T`` when the server hangs
or trickles its answer (the SDK promises at most 1 s).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections import Counter

from civitai_app_sdk_generated.params import WorkflowTemplateParam

from civitai_app_sdk.errors import CivitaiError
from civitai_app_sdk.local import LocalConfig, LocalServer, Timings
from civitai_app_sdk.local.hostile import HostileServer, Mode
from civitai_app_sdk.orchestrator import AsyncOrchestratorClient, OrchestratorClient

TASKS = int(os.environ.get("BENCH_CONCURRENT", "1000"))
RUN_SECONDS = float(os.environ.get("BENCH_RUN_SECONDS", "35"))
"""How long each workflow runs: longer than the 30 s pool timeout, so polls overlap."""
POLL_TIMEOUT = 3.0
UNIT_COST = 4
BODY: WorkflowTemplateParam = {
    "currencies": [],
    "steps": [{"$type": "textToImage", "input": {"prompt": "concurrency", "cfgScale": 7}}],
}


class _PoolWaits(logging.Handler):
    """Counts retries caused by waiting too long for a pooled connection."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "PoolTimeout" in record.getMessage():
            self.count += 1


async def _one(client: AsyncOrchestratorClient) -> tuple[str, str]:
    try:
        workflow = await client.submit(BODY)
        assert workflow.id is not None
        final = await client.poll(workflow.id, timeout=RUN_SECONDS + 60)
    except CivitaiError as exc:
        return "", type(exc).__name__
    return workflow.id, final.status.value


async def _concurrent(server: LocalServer) -> tuple[list[tuple[str, str]], float]:
    async with AsyncOrchestratorClient("bench-token", base_url=server.url) as client:
        await client.estimate(BODY)  # warm the server's models before timing
        start = time.perf_counter()
        results = await asyncio.gather(*(_one(client) for _ in range(TASKS)))
        return list(results), time.perf_counter() - start


def _thousand() -> bool:
    timings = Timings(0.1, 0.1, 0.1, RUN_SECONDS)
    config = LocalConfig(balance={"yellow": UNIT_COST * TASKS}, timings=timings)
    waits = _PoolWaits()
    transport_log = logging.getLogger("civitai_app_sdk.transport")
    transport_log.addHandler(waits)
    transport_log.setLevel(logging.INFO)
    with LocalServer(config) as server:
        try:
            results, elapsed = asyncio.run(_concurrent(server))
        finally:
            transport_log.removeHandler(waits)
        store = server.state.store
        charged = UNIT_COST * TASKS - sum(store.ledger.balance().values())
        stored = len(store.workflows)
    outcomes = Counter(outcome for _, outcome in results)
    unique = len({workflow_id for workflow_id, _ in results if workflow_id})
    done = outcomes["succeeded"] == TASKS and waits.count == 0
    once = unique == stored == TASKS and charged == UNIT_COST * TASKS
    print(f"{TASKS} concurrent async workflows of {RUN_SECONDS:g} s, one default client")
    print(f"  elapsed {elapsed:.1f} s; outcomes {dict(outcomes)}")
    print(f"  requests that timed out waiting for a pooled connection: {waits.count}")
    print(f"  all done: {done}; each charged once: {once} (stored {stored}, {charged} Buzz)")
    return done and once


def _overrun_sync(mode: Mode) -> tuple[float, str]:
    with (
        HostileServer(mode) as server,
        OrchestratorClient("bench-token", base_url=server.url) as client,
    ):
        start = time.monotonic()
        try:
            client.poll("w1", timeout=POLL_TIMEOUT)
        except CivitaiError as exc:
            return time.monotonic() - start - POLL_TIMEOUT, type(exc).__name__
    return time.monotonic() - start - POLL_TIMEOUT, "returned"


async def _overrun_async(mode: Mode) -> tuple[float, str]:
    with HostileServer(mode) as server:
        async with AsyncOrchestratorClient("bench-token", base_url=server.url) as client:
            start = time.monotonic()
            try:
                await client.poll("w1", timeout=POLL_TIMEOUT)
            except CivitaiError as exc:
                return time.monotonic() - start - POLL_TIMEOUT, type(exc).__name__
    return time.monotonic() - start - POLL_TIMEOUT, "returned"


def _overruns() -> bool:
    print(f"poll(timeout={POLL_TIMEOUT:g}) overrun, default clients (promise: under 1 s)")
    worst = 0.0
    for mode in ("hang", "trickle"):
        for kind in ("sync", "async"):
            if kind == "sync":
                overrun, ended = _overrun_sync(mode)
            else:
                overrun, ended = asyncio.run(_overrun_async(mode))
            worst = max(worst, overrun)
            print(f"  {mode:8} {kind:5}: +{overrun:.2f} s ({ended})")
    return worst < 1.0


def run() -> None:
    """Print both measurements; fail when a promise is broken."""
    overruns_ok = _overruns()
    thousand_ok = _thousand()
    if not (overruns_ok and thousand_ok):
        raise SystemExit("concurrency bench failed")
