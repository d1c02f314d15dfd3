"""Load test: N concurrent async workflows submitted and polled to completion locally."""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter

from civitai_app_sdk_generated.params import WorkflowTemplateParam

from civitai_app_sdk.local import LocalConfig, LocalServer, Timings
from civitai_app_sdk.orchestrator import AsyncOrchestratorClient

WORKFLOWS = int(os.environ.get("BENCH_WORKFLOWS", "200"))
BODY: WorkflowTemplateParam = {
    "steps": [{"$type": "textToImage", "input": {"prompt": "load", "cfgScale": 7}}],
}


async def _one(client: AsyncOrchestratorClient, index: int) -> tuple[str, str]:
    workflow = await client.submit(BODY, external_id=f"bench-{index}")
    assert workflow.id is not None
    final = await client.poll(workflow.id, timeout=120)
    return workflow.id, final.status.value


async def _load(server: LocalServer) -> tuple[list[tuple[str, str]], float]:
    async with AsyncOrchestratorClient("bench-token", base_url=server.url) as client:
        await client.estimate(BODY)  # warm the server's models before timing
        start = time.perf_counter()
        results = await asyncio.gather(*(_one(client, i) for i in range(WORKFLOWS)))
        return list(results), time.perf_counter() - start


def run() -> None:
    """Print throughput and check every workflow finished exactly once."""
    config = LocalConfig(balance={"yellow": 4 * WORKFLOWS}, timings=Timings(0.1, 0.1, 0.1, 0.5))
    with LocalServer(config) as server:
        results, elapsed = asyncio.run(_load(server))
        store = server.state.store
        statuses = Counter(status for _, status in results)
        unique = len({workflow_id for workflow_id, _ in results})
        charged = 4 * WORKFLOWS - sum(store.ledger.balance().values())
    print(f"workflows: {WORKFLOWS} concurrent, async client, local server")
    print(f"elapsed: {elapsed:.2f} s, throughput: {WORKFLOWS / elapsed:.1f} workflows/s")
    print(f"statuses: {dict(statuses)}")
    exactly_once = unique == WORKFLOWS == len(store.workflows) and charged == 4 * WORKFLOWS
    print(
        f"finished exactly once: {exactly_once} (ids {unique}, stored {len(store.workflows)}, "
        f"charged {charged} Buzz)"
    )
    if not exactly_once or statuses["succeeded"] != WORKFLOWS:
        raise SystemExit("load test failed")
