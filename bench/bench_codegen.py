"""Import times, response parsing speed versus `json.loads`, and codegen wall time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
IMPORT_BUDGET_S = 0.150
PARSE_TARGET_RATIO = 3.0


def typical_workflow() -> dict[str, Any]:
    """A succeeded four-image text-to-image workflow shaped like the service's answer."""
    images = [
        {
            "$type": "image",
            "type": "image",
            "id": f"JNFDW54JNTATNW42HACYCWSQP{i}.jpeg",
            "available": True,
            "url": f"https://orchestration-new.civitai.com/v2/consumer/blobs/JNFDW54JNTATNW42HACYCWSQP{i}.jpeg?sig=c2lnbmF0dXJlLXNpZ25hdHVyZQ&exp=2026-11-24T00:00:00Z",
            "urlExpiresAt": "2026-11-24T00:00:00.1234567Z",
            "previewUrl": f"https://orchestration-new.civitai.com/v2/consumer/blobs/JNFDW54JNTATNW42HACYCWSQP{i}.jpeg?preview=true",
            "jobId": f"6f1c2e0a-8a53-4c0e-9d5c-3c7a1f9b2d1{i}",
            "nsfwLevel": "pg",
            "width": 1024,
            "height": 1024,
        }
        for i in range(4)
    ]
    jobs = [
        {
            "id": f"6f1c2e0a-8a53-4c0e-9d5c-3c7a1f9b2d1{i}",
            "status": "succeeded",
            "cost": 1.25,
            "startedAt": "2026-11-23T10:11:13.1234567Z",
            "completedAt": "2026-11-23T10:11:29.7654321Z",
            "queuePosition": {"precedingJobs": 0, "precedingCost": 0, "support": "available"},
        }
        for i in range(4)
    ]
    step = {
        "$type": "textToImage",
        "name": "$0",
        "priority": "normal",
        "status": "succeeded",
        "timeout": "00:10:00",
        "metadata": {"app": "bench"},
        "startedAt": "2026-11-23T10:11:12.1234567Z",
        "completedAt": "2026-11-23T10:11:30.1234567Z",
        "input": {
            "model": "urn:air:sdxl:checkpoint:civitai:101055@128078",
            "prompt": "a lighthouse on a cliff at dusk, dramatic clouds, oil painting, "
            "highly detailed, warm light, crashing waves, seagulls",
            "negativePrompt": "blurry, lowres, watermark, text, deformed",
            "scheduler": "eulerA",
            "steps": 30,
            "cfgScale": 7,
            "width": 1024,
            "height": 1024,
            "seed": 1234567890,
            "clipSkip": 2,
            "quantity": 4,
            "batchSize": 1,
            "additionalNetworks": {
                "urn:air:sdxl:lora:civitai:123456@654321": {"type": "lora", "strength": 0.8}
            },
        },
        "output": {"images": images},
        "jobs": jobs,
    }
    return {
        "id": "8484131-20261123101112123",
        "createdAt": "2026-11-23T10:11:12.1234567Z",
        "startedAt": "2026-11-23T10:11:12.5234567Z",
        "completedAt": "2026-11-23T10:11:30.1234567Z",
        "status": "succeeded",
        "arguments": {},
        "callbacks": [],
        "cost": {"base": 40, "total": 40, "tips": {"civitai": 0, "creators": 0}},
        "currencies": ["blue", "yellow"],
        "forceRefunded": False,
        "metadata": {"app": "bench", "user": "8484131"},
        "tags": ["civitai-app-sdk", "bench"],
        "tips": {"civitai": 0, "creators": 0},
        "upgradeMode": "manual",
        "allowMatureContent": False,
        "nsfwLevel": "pg",
        "transactions": {
            "list": [{"type": "debit", "amount": 40, "id": "tx-1", "accountType": "blue"}]
        },
        "steps": [step],
    }


def import_time(module: str, runs: int = 5) -> float:
    """Best wall time of `import module` in a fresh interpreter, bytecode cached as usual."""
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    best = float("inf")
    for _ in range(runs + 1):  # the first run writes the bytecode cache
        out = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
            env=env,
        )
        best = min(best, float(out.stdout))
    return best


def per_call(func: Any, arg: Any, seconds: float = 1.0) -> float:
    """Mean seconds per call, over about `seconds` of repetitions (best of 3 batches)."""
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < 0.1:
        func(arg)
        n += 1
    batch = max(1, int(n * seconds / 0.1 / 3))
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(batch):
            func(arg)
        best = min(best, (time.perf_counter() - start) / batch)
    return best


def run() -> None:
    """Print the figures and ratios of this part of the SDK."""
    facade = import_time("civitai_app_sdk")
    models = import_time("civitai_app_sdk_generated.models")
    verdict = "ok" if facade < IMPORT_BUDGET_S else "OVER BUDGET"
    print(f"import civitai_app_sdk            {facade * 1000:8.1f} ms  (budget 150 ms: {verdict})")
    face = import_time("civitai_app_sdk.models")
    print(f"import civitai_app_sdk.models     {face * 1000:8.1f} ms  (lazy face)")
    print(f"first use of the models (import)  {models * 1000:8.1f} ms")

    from civitai_app_sdk_generated.models import Workflow

    raw = json.dumps(typical_workflow()).encode()
    Workflow.model_validate_json(raw)
    ours = per_call(Workflow.model_validate_json, raw)
    base = per_call(json.loads, raw)
    ratio = ours / base
    target = "ok" if ratio <= PARSE_TARGET_RATIO else "above target"
    print(
        f"Workflow.model_validate_json      {ours * 1e6:8.1f} us  vs json.loads "
        f"{base * 1e6:.1f} us on {len(raw)} bytes: {ratio:.2f}x (target <= 3x: {target})"
    )
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "codegen", "check"], capture_output=True, check=True, cwd=ROOT
    )
    print(f"codegen (full generation + check) {time.perf_counter() - start:8.1f} s")
