"""Where people wait: each figure against its floor, measured side by side in one run.

Whole-process rows alternate the two commands (A B A B …) and quote the median of the
pair-by-pair ratios, so a machine that speeds up or slows down mid-run moves both sides.
Every row prints ``ok`` when it meets its target and ``short`` when it does not.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import anyio
import httpx

from bench.bench_cli import launcher
from bench.bench_client import PAYLOAD, per_call
from civitai_app_sdk.local import LocalConfig, LocalServer, Timings
from civitai_app_sdk.orchestrator import AsyncOrchestratorClient, OrchestratorClient

if TYPE_CHECKING:
    from civitai_app_sdk_generated.params import WorkflowTemplateParam

RUNS = int(os.environ.get("BENCH_RUNS", "9"))
TOKEN = "bench-speed-token"
NODE_DIR = Path(__file__).parent.parent / "tests" / "auth" / "node"
BODY: WorkflowTemplateParam = {
    "steps": [{"$type": "textToImage", "input": {"prompt": "speed", "quantity": 2}}]
}

_FLOOR_GET = (
    "import httpx, sys\n"
    "r = httpx.get(sys.argv[1], headers={'Authorization': 'Bearer ' + sys.argv[2]})\n"
    "sys.stdout.write(r.text)\n"
)
_NODE_LIST = (
    "import {{ createOrchestratorClient, callOrchestrator }} from "
    "'{module}';\n"
    "const client = createOrchestratorClient({{ accessToken: process.argv[3], "
    "baseUrl: process.argv[2] }});\n"
    "const page = await callOrchestrator(client, '/v2/consumer/workflows');\n"
    "process.stdout.write(JSON.stringify(page));\n"
)


def _wall(command: Sequence[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env=env)
    return time.perf_counter() - started


def paired(a: Sequence[str], b: Sequence[str], env: dict[str, str]) -> tuple[float, float, float]:
    """Median wall seconds of A and of B, and the median of the A/B ratios of each pair."""
    _wall(a, env)
    _wall(b, env)
    pairs = [(_wall(a, env), _wall(b, env)) for _ in range(RUNS)]
    ratios = [x / y for x, y in pairs]
    return (
        statistics.median(x for x, _ in pairs),
        statistics.median(y for _, y in pairs),
        statistics.median(ratios),
    )


def row(measure: str, figure: str, target: str, ok: bool) -> None:
    """One line of the table."""
    print(f"{'ok   ' if ok else 'short'} {measure}: {figure} (target {target})")


def _cli(*args: str) -> list[str]:
    return [*launcher()[0], *args]


def _seed(server: LocalServer) -> str:
    with OrchestratorClient(TOKEN, base_url=server.url) as client:
        ids = [client.submit(BODY, external_id=f"speed-{i}").id for i in range(5)]
        for workflow_id in ids:
            assert workflow_id is not None
            client.poll(workflow_id, timeout=60)
    assert ids[0] is not None
    return ids[0]


def cli_rows(server: LocalServer, workflow_id: str) -> None:
    """`workflows --json` and `workflow ID --json` against a python -c floor (and Node)."""
    env = {**os.environ, "CIVITAI_API_URL": server.url, "CIVITAI_API_TOKEN": TOKEN}
    env.pop("CIVITAI_LOG", None)
    floor = [sys.executable, "-c", _FLOOR_GET]
    listing = f"{server.url}/v2/consumer/workflows"
    ours, base, ratio = paired(_cli("workflows", "--json"), [*floor, listing, TOKEN], env)
    row(
        "civitai-orch workflows --json / python -c httpx GET",
        f"{ratio:.2f}x ({ours * 1000:.0f} vs {base * 1000:.0f} ms)",
        "<= 1.5x",
        ratio <= 1.5,
    )
    one = f"{server.url}/v2/consumer/workflows/{workflow_id}"
    ours_one, base_one, ratio_one = paired(
        _cli("workflow", workflow_id, "--json"), [*floor, one, TOKEN], env
    )
    row(
        "civitai-orch workflow ID --json / python -c httpx GET",
        f"{ratio_one:.2f}x ({ours_one * 1000:.0f} vs {base_one * 1000:.0f} ms)",
        "<= 1.5x",
        ratio_one <= 1.5,
    )
    module = NODE_DIR / "node_modules" / "@civitai" / "app-sdk" / "dist" / "orchestrator"
    node = shutil.which("node")
    if node is None or not module.is_dir():
        print("skip  Node official client: not installed (make node-deps, which needs npm)")
        return
    script = NODE_DIR / "bench_list.mjs"
    script.write_text(_NODE_LIST.format(module=(module / "index.js").as_uri()))
    try:
        ours_n, node_t, ratio_n = paired(
            _cli("workflows", "--json"), [node, str(script), server.url, TOKEN], env
        )
    finally:
        script.unlink()
    row(
        "civitai-orch workflows --json / Node @civitai/app-sdk 0.14 callOrchestrator",
        f"{ratio_n:.2f}x ({ours_n * 1000:.0f} vs {node_t * 1000:.0f} ms)",
        "< 1x",
        ratio_n < 1.0,
    )


_PEAK = (  # VmHWM: this process's own peak (ru_maxrss would carry the parent's over exec)
    "print([l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')][0])\n"
)
_FIRST_PARSE = (
    "import sys\n"
    "data = open(sys.argv[1], 'rb').read()\n"
    "import civitai_app_sdk_generated as g\n"
    "g.Workflow.model_validate_json(data)\n"
)
_PARSED_PEAK = "import httpx\n" + _FIRST_PARSE + _PEAK
_JSON_ONLY = "import sys, json\njson.loads(open(sys.argv[1], 'rb').read())\n"
_PYDANTIC_ONLY = (  # pydantic's own first use: one model of one field, parsed once
    "import sys\n"
    "data = open(sys.argv[1], 'rb').read()\n"
    "from pydantic import BaseModel\n"
    "class One(BaseModel):\n"
    "    id: str\n"
    "One.model_validate_json(data)\n"
)
_IMPORT_ONLY = "import httpx, pydantic\n" + _PEAK


def first_use_rows(payload_file: Path) -> None:
    """First Workflow parse in a fresh process: time over json.loads, and peak RSS."""
    env = dict(os.environ)

    def scripts(a: str, b: str) -> tuple[float, float, float]:
        """`paired` of two `python -c` scripts, each given the payload file."""
        return paired(
            [sys.executable, "-c", a, str(payload_file)],
            [sys.executable, "-c", b, str(payload_file)],
            env,
        )

    ours, base, _ = scripts(_FIRST_PARSE, _JSON_ONLY)
    extra_ms = (ours - base) * 1000
    row(
        "first Workflow.model_validate_json in a fresh process, over json.loads",
        f"+{extra_ms:.0f} ms ({ours * 1000:.0f} vs {base * 1000:.0f} ms)",
        "<= +100 ms",
        extra_ms <= 100,
    )
    ours_p, floor_p, _ = scripts(_FIRST_PARSE, _PYDANTIC_ONLY)
    pydantic_p, base_p, _ = scripts(_PYDANTIC_ONLY, _JSON_ONLY)  # its own pairs, not mixed
    pydantic_ms = (pydantic_p - base_p) * 1000
    print(
        f"info  of which pydantic's own first use (a one-field model) is +{pydantic_ms:.0f} ms;"
        f" the SDK's share is +{(ours_p - floor_p) * 1000:.0f} ms"
        f" ({ours_p * 1000:.0f} vs {floor_p * 1000:.0f} ms)"
    )

    def peak(code: str, *args: str) -> float:
        out = subprocess.run(
            [sys.executable, "-c", code, *args], check=True, capture_output=True, text=True
        ).stdout
        return int(out.split()[-1]) / 1024  # VmHWM is in kB

    parsed = statistics.median(peak(_PARSED_PEAK, str(payload_file)) for _ in range(3))
    imported = statistics.median(peak(_IMPORT_ONLY) for _ in range(3))
    row(
        "peak RSS after the first workflow parse, over importing httpx + pydantic",
        f"{parsed - imported:+.1f} MiB ({parsed:.1f} vs {imported:.1f} MiB)",
        "<= +25 MiB",
        parsed - imported <= 25,
    )


def parse_row(fixtures: list[bytes]) -> None:
    """Steady-state Workflow.model_validate_json against json.loads, median over fixtures.

    Steady state: two reads first (the first builds the step's class, the second rebuilds
    the models holding it). Each fixture's ratio is the median of rounds run in turn (ours,
    pydantic's validator called directly, then json.loads), so a machine that slows down
    moves all three. The validator's own ratio follows as an `info` line: it is the floor
    pydantic sets, and the difference is what the SDK's method adds.
    """
    from civitai_app_sdk_generated import Workflow
    from civitai_app_sdk_generated._base import with_extra

    context = with_extra(None, "allow")
    ratios, direct_ratios, ours_us, floor_us = [], [], [], []
    for data in fixtures:
        for _ in range(2):
            Workflow.model_validate_json(data)
        validate_json = Workflow.__pydantic_validator__.validate_json
        rounds = [
            (
                per_call(lambda d=data: Workflow.model_validate_json(d), 1, 2000),
                per_call(
                    lambda d=data, v=validate_json: v(d, extra="allow", context=context), 1, 2000
                ),
                per_call(lambda d=data: json.loads(d), 1, 2000),
            )
            for _ in range(9)
        ]
        ratios.append(statistics.median(a / c for a, _, c in rounds))
        direct_ratios.append(statistics.median(b / c for _, b, c in rounds))
        ours_us.append(statistics.median(a for a, _, _ in rounds) * 1e6)
        floor_us.append(statistics.median(c for _, _, c in rounds) * 1e6)
    ratio, direct = statistics.median(ratios), statistics.median(direct_ratios)
    row(
        f"Workflow.model_validate_json / json.loads, median of {len(fixtures)} fixtures",
        f"{ratio:.2f}x ({statistics.median(ours_us):.1f} vs {statistics.median(floor_us):.1f} us)",
        "<= 1.5x",
        ratio <= 1.5,
    )
    print(
        f"info  of which pydantic's validator called directly is {direct:.2f}x;"
        f" the SDK's model_validate_json adds {ratio - direct:+.2f}x"
    )


def client_row(server: LocalServer, workflow_id: str) -> None:
    """client.get on loopback against a raw httpx.Client.get of the same URL."""
    url = f"{server.url}/v2/consumer/workflows/{workflow_id}"
    with (
        httpx.Client(headers={"Authorization": f"Bearer {TOKEN}"}) as raw,
        OrchestratorClient(TOKEN, base_url=server.url) as client,
    ):
        for _ in range(30):
            raw.get(url)
            client.get(workflow_id)
        pairs = [
            (
                per_call(lambda: client.get(workflow_id), 1, 100),
                per_call(lambda: raw.get(url), 1, 100),
            )
            for _ in range(RUNS)
        ]
    ratio = statistics.median(a / b for a, b in pairs)
    ours = statistics.median(a for a, _ in pairs) * 1e6
    base = statistics.median(b for _, b in pairs) * 1e6
    row(
        "client.get on loopback / raw httpx.Client.get",
        f"{ratio:.2f}x ({ours:.0f} vs {base:.0f} us)",
        "<= 1.05x",
        ratio <= 1.05,
    )


async def _async_pairs(server: LocalServer, workflow_id: str) -> list[tuple[float, float]]:
    url = f"{server.url}/v2/consumer/workflows/{workflow_id}"

    async def per(fn: Callable[[], Awaitable[object]], calls: int = 100) -> float:
        start = time.perf_counter()
        for _ in range(calls):
            await fn()
        return (time.perf_counter() - start) / calls

    async with (
        httpx.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}) as raw,
        AsyncOrchestratorClient(TOKEN, base_url=server.url) as client,
    ):
        for _ in range(30):
            await raw.get(url)
            await client.get(workflow_id)
        return [
            (await per(lambda: client.get(workflow_id)), await per(lambda: raw.get(url)))
            for _ in range(RUNS)
        ]


def async_client_info(server: LocalServer, workflow_id: str) -> None:
    """The async client.get against a raw httpx.AsyncClient.get (no target: an info line)."""
    pairs = anyio.run(_async_pairs, server, workflow_id)
    ratio = statistics.median(a / b for a, b in pairs)
    ours = statistics.median(a for a, _ in pairs) * 1e6
    base = statistics.median(b for _, b in pairs) * 1e6
    print(
        f"info  async client.get on loopback / raw httpx.AsyncClient.get: {ratio:.2f}x"
        f" ({ours:.0f} vs {base:.0f} us)"
    )


def run() -> None:
    """Print every row of the speed table."""
    config = LocalConfig(token=TOKEN, timings=Timings(0.05, 0.05, 0.05, 0.2))
    with LocalServer(config) as server:
        workflow_id = _seed(server)
        page = httpx.get(
            f"{server.url}/v2/consumer/workflows", headers={"Authorization": f"Bearer {TOKEN}"}
        ).json()
        fixtures = [json.dumps(item).encode() for item in page["items"]] + [PAYLOAD]
        payload_file = Path(os.environ.get("TMPDIR", "/tmp")) / "civitai-bench-workflow.json"
        payload_file.write_bytes(PAYLOAD)
        cli_rows(server, workflow_id)
        first_use_rows(payload_file)
        parse_row(fixtures)
        client_row(server, workflow_id)
        async_client_info(server, workflow_id)
