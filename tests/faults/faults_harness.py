"""A seeded fault-injection run: many submits, callers retrying exactly as the README says.

Every logical submit carries a unique ``metadata.job``; afterwards the local server's store
tells how many workflows each job created and how much each was charged.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, Final

import attrs

from civitai_app_sdk.errors import CivitaiError
from civitai_app_sdk.local import FaultRule, LocalConfig, LocalServer
from civitai_app_sdk.orchestrator import AsyncOrchestratorClient, OrchestratorClient
from civitai_app_sdk.orchestrator.calls import Workflow

TOKEN: Final = "faults-token"
UNIT_COST: Final = 4
"""Buzz one single-image textToImage workflow costs on the local server."""
CLIENT_TIMEOUT: Final = 5.0
"""Generous: a busy machine slows every answer, and a caller whose answers all time out
gives up. Only ``late`` answers wait it out, so it adds little to a run."""
LATE_BY: Final = 2 * CLIENT_TIMEOUT
"""How late a ``late`` answer comes: after the client gave up on it."""
CALLER_ATTEMPTS: Final = 40
"""How often one caller retries before giving up (a give-up counts as a lost workflow)."""
SUBMITS: Final = int(os.environ.get("FAULTS_SUBMITS", "1000"))
"""Submits per run (sync and async each); ``make soak`` raises it."""


def fault_rules() -> tuple[FaultRule, ...]:
    """Every outage kind the local server can fake, each hitting a share of requests."""
    api = r"^/v2/consumer/workflows"
    many = 10_000
    return (
        FaultRule("lost", many, chance=0.05),
        FaultRule("late", many, seconds=LATE_BY, chance=0.02),
        FaultRule("502", many, chance=0.03, path=api),
        FaultRule("503", many, chance=0.03, path=api),
        FaultRule("504", many, chance=0.03, path=api),
        FaultRule("502-html", many, chance=0.02, path=api),
        FaultRule("429", many, seconds=0, chance=0.03, path=api),
        FaultRule("500", many, chance=0.01, path=api),
    )


def body(job: str) -> dict[str, Any]:
    """A one-image workflow tagged with its logical submit."""
    step = {"$type": "textToImage", "input": {"prompt": job, "cfgScale": 7, "quantity": 1}}
    return {"currencies": [], "metadata": {"job": job}, "steps": [step]}


@attrs.frozen
class Outcome:
    """What the store holds after a run, per logical submit."""

    jobs: int
    duplicates: int
    double_charged: int
    lost: int
    gave_up: int
    faults: dict[str, int]
    elapsed: float

    def summary(self) -> str:
        """One line for the test output and the soak log."""
        return (
            f"{self.jobs} submits in {self.elapsed:.1f} s: {self.duplicates} duplicate "
            f"workflows, {self.double_charged} double charges, {self.lost} lost "
            f"({self.gave_up} callers gave up); faults injected {self.faults}"
        )


@contextmanager
def faulty_server(seed: int) -> Iterator[LocalServer]:
    """A local server injecting :func:`fault_rules` with ``seed``."""
    config = LocalConfig(
        token=TOKEN, balance={"yellow": 10**9}, faults=fault_rules(), fault_seed=seed
    )
    with LocalServer(config) as server:
        yield server


def outcome(server: LocalServer, returned: dict[str, str | None], elapsed: float) -> Outcome:
    """Count duplicates, double charges and lost workflows of ``returned`` (job → id)."""
    per_job: dict[str, list[Any]] = {}
    for record in server.state.store.workflows.values():
        per_job.setdefault(str(record.metadata.get("job")), []).append(record)
    duplicates = sum(len(records) - 1 for records in per_job.values())
    charged = {
        job: sum(int(d["amount"]) for r in records for d in r.debits)
        for job, records in per_job.items()
    }
    double = sum(1 for amount in charged.values() if amount > UNIT_COST)
    lost = sum(
        1
        for job, workflow_id in returned.items()
        if workflow_id is None or workflow_id not in {r.id for r in per_job.get(job, [])}
    )
    faults = Counter({rule.kind: rule.hits for rule in server.app.rules})  # type: ignore[attr-defined]
    return Outcome(
        jobs=len(returned),
        duplicates=duplicates,
        double_charged=double,
        lost=lost,
        gave_up=sum(1 for v in returned.values() if v is None),
        faults=dict(faults),
        elapsed=elapsed,
    )


def _no_wait(seconds: float) -> None:
    time.sleep(min(seconds, 0.01))


async def _no_wait_async(seconds: float) -> None:
    await asyncio.sleep(min(seconds, 0.01))


def submit_without_keys(client: OrchestratorClient, job: str) -> str | None:
    """A caller that opts out of idempotency keys and retries blindly (what not to do)."""
    for _ in range(CALLER_ATTEMPTS):
        try:
            return client.submit(body(job), idempotent=False).id
        except CivitaiError:
            continue
    return None


def submit_sync(client: OrchestratorClient, job: str) -> str | None:
    """Submit once, retrying on any SDK error exactly as the README shows."""
    payload = body(job)
    if job.endswith("0"):
        for _ in range(CALLER_ATTEMPTS):  # whatif: never hit by lost/late, never charged
            try:
                client.estimate(payload)
                break
            except CivitaiError:
                continue
    external_id: str | None = None
    for _ in range(CALLER_ATTEMPTS):
        try:
            workflow: Workflow = client.submit(payload, external_id=external_id)
        except CivitaiError as exc:
            external_id = exc.external_id
            continue
        return workflow.id
    return None


async def submit_async(client: AsyncOrchestratorClient, job: str) -> str | None:
    """Async twin of :func:`submit_sync`."""
    payload = body(job)
    if job.endswith("0"):
        for _ in range(CALLER_ATTEMPTS):
            try:
                await client.estimate(payload)
                break
            except CivitaiError:
                continue
    external_id: str | None = None
    for _ in range(CALLER_ATTEMPTS):
        try:
            workflow = await client.submit(payload, external_id=external_id)
        except CivitaiError as exc:
            external_id = exc.external_id
            continue
        return workflow.id
    return None


def run_sync(
    seed: int,
    submits: int = SUBMITS,
    threads: int = 16,
    caller: Callable[[OrchestratorClient, str], str | None] = submit_sync,
) -> Outcome:
    """``submits`` logical submits by ``caller`` from ``threads`` threads, one sync client."""
    with (
        faulty_server(seed) as server,
        OrchestratorClient(
            TOKEN, base_url=server.url, timeout=CLIENT_TIMEOUT, sleep=_no_wait
        ) as client,
    ):
        jobs = [f"s{seed}-{i}" for i in range(submits)]
        start = time.monotonic()
        with ThreadPoolExecutor(threads) as pool:
            ids = list(pool.map(lambda job: caller(client, job), jobs))
        elapsed = time.monotonic() - start
        return outcome(server, dict(zip(jobs, ids, strict=True)), elapsed)


def run_async(seed: int, submits: int = SUBMITS, concurrency: int = 64) -> Outcome:
    """``submits`` logical submits as tasks on one async client, ``concurrency`` at a time."""

    async def main(server: LocalServer) -> tuple[dict[str, str | None], float]:
        limit = asyncio.Semaphore(concurrency)
        async with AsyncOrchestratorClient(
            TOKEN, base_url=server.url, timeout=CLIENT_TIMEOUT, sleep=_no_wait_async
        ) as client:

            async def one(job: str) -> str | None:
                async with limit:
                    return await submit_async(client, job)

            jobs = [f"a{seed}-{i}" for i in range(submits)]
            start = time.monotonic()
            ids = await asyncio.gather(*(one(job) for job in jobs))
            return dict(zip(jobs, ids, strict=True)), time.monotonic() - start

    with faulty_server(seed) as server:
        returned, elapsed = asyncio.run(main(server))
        return outcome(server, returned, elapsed)
