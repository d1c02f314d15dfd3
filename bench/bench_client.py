"""Orchestrator client: per-request overhead vs raw httpx, and requests needed to poll."""

from __future__ import annotations

import json
import statistics
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from civitai_app_sdk.orchestrator import OrchestratorClient

TOKEN = "0123456789abcdef0123456789abcdef"
ROUNDS = 7
PER_ROUND = 200


def _workflow(status: str) -> dict[str, Any]:
    image = {
        "type": "image",
        "id": "JNFDW54JNTATNW42HACYCWSQP0.jpeg",
        "available": True,
        "url": "https://orchestration-new.civitai.com/v2/consumer/blobs/JNFDW54JNTATNW42HACYCWSQP0.jpeg?sig=x",
        "width": 1024,
        "height": 1024,
    }
    step = {
        "$type": "textToImage",
        "name": "step_0",
        "status": status,
        "priority": "normal",
        "metadata": {},
        "timeout": "00:10:00",
        "startedAt": "2026-01-21T22:21:27.1000000Z",
        "completedAt": "2026-01-21T22:21:39.3195353Z",
        "input": {
            "prompt": "a lighthouse on a cliff at dusk, volumetric light, highly detailed",
            "negativePrompt": "blurry, low quality",
            "model": "urn:air:sdxl:checkpoint:civitai:101055@128078",
            "width": 1024,
            "height": 1024,
            "steps": 25,
            "cfgScale": 5,
            "quantity": 4,
        },
        "jobs": [
            {"id": f"0b0f1c2d-0000-4000-8000-00000000000{i}", "status": status, "cost": 1.0}
            for i in range(4)
        ],
        "output": {"images": [{**image, "id": f"BLOB{i}.jpeg"} for i in range(4)]},
    }
    return {
        "id": "8484131-20260121222126332",
        "createdAt": "2026-01-21T22:21:26.3320000Z",
        "status": status,
        "arguments": {},
        "callbacks": [],
        "currencies": ["blue", "yellow"],
        "forceRefunded": False,
        "metadata": {"app": "bench"},
        "tags": ["civitai", "bench"],
        "tips": {"civitai": 0, "creators": 0},
        "upgradeMode": "manual",
        "cost": {"base": 16, "tips": {"civitai": 0, "creators": 0}, "total": 16},
        "transactions": {"list": [{"type": "debit", "amount": 16, "accountType": "blue"}]},
        "steps": [step],
    }


PAYLOAD = json.dumps(_workflow("succeeded")).encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(PAYLOAD)))
        self.end_headers()
        self.wfile.write(PAYLOAD)

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request log."""


def per_call(fn: Any, rounds: int = ROUNDS, per_round: int = PER_ROUND) -> float:
    """Median seconds per call of ``fn`` over ``rounds`` rounds of ``per_round`` calls."""
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(per_round):
            fn()
        samples.append((time.perf_counter() - start) / per_round)
    return statistics.median(samples)


def overhead() -> None:
    """client.get (parsed Workflow) vs httpx.Client.get of the same bytes over loopback."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    url = f"{base}/v2/consumer/workflows/8484131-20260121222126332"
    try:
        with (
            httpx.Client(headers={"Authorization": f"Bearer {TOKEN}"}) as raw,
            OrchestratorClient(TOKEN, base_url=base) as client,
        ):
            for _ in range(50):
                raw.get(url)
                client.get("8484131-20260121222126332")
            raw_bytes = per_call(lambda: raw.get(url))
            raw_json = per_call(lambda: raw.get(url).json())
            ours = per_call(lambda: client.get("8484131-20260121222126332"))
    finally:
        server.shutdown()
        server.server_close()
    print(f"payload: {len(PAYLOAD)} bytes (4-image textToImage workflow)")
    print(f"raw httpx.Client.get: {raw_bytes * 1e6:.0f} us/request")
    print(f"raw httpx.Client.get + .json(): {raw_json * 1e6:.0f} us/request")
    print(f"OrchestratorClient.get (typed Workflow): {ours * 1e6:.0f} us/request")
    print(f"ratio client.get / raw get: {ours / raw_bytes:.2f}x (the target row is in `speed`)")
    print(f"ratio client.get / raw get+json: {ours / raw_json:.2f}x")


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def _server(clock: _Clock, finish_at: float, counter: list[int]) -> httpx.MockTransport:
    """GetWorkflow honouring `wait` on a fake clock; the workflow finishes at `finish_at`."""
    done = json.dumps(_workflow("succeeded")).encode()
    running = json.dumps(_workflow("processing")).encode()

    def handle(request: httpx.Request) -> httpx.Response:
        counter[0] += 1
        wait = int(request.url.params.get("wait", "0"))
        if clock.now + wait >= finish_at:
            clock.now = max(clock.now, finish_at)
            return httpx.Response(200, content=done)
        clock.now += wait
        return httpx.Response(202, content=running)

    return httpx.MockTransport(handle)


def poll_counts(duration: float = 30.0) -> None:
    """Requests to see a `duration`-second workflow finish: long-poll vs fixed 1 s polling."""
    clock, ours = _Clock(), [0]
    with OrchestratorClient(
        TOKEN, transport=_server(clock, duration, ours), clock=clock, sleep=clock.sleep
    ) as client:
        client.poll("w", timeout=120)
    clock, fixed = _Clock(), [0]
    with OrchestratorClient(
        TOKEN, transport=_server(clock, duration, fixed), clock=clock, sleep=clock.sleep
    ) as client:
        while client.get("w").status != "succeeded":
            clock.sleep(1.0)
    print(f"poll a {duration:g} s workflow: {ours[0]} request(s) with poll() (server wait)")
    print(f"poll a {duration:g} s workflow: {fixed[0]} requests with a fixed 1 s poll")
    fewer = fixed[0] / ours[0]
    verdict = "ok" if fewer >= 10 else "short"
    print(f"ratio fixed / ours: {fewer:.0f}x fewer requests (target >= 10x: {verdict})")


def run() -> None:
    """Print the overhead and poll-count figures."""
    overhead()
    poll_counts()
