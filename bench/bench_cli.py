"""Wall time of `civitai-orch` commands as a user runs them: a fresh process each time.

`--help` is timed against a start-up budget; then the network commands people run most
(`workflows --json`, `workflows` as a table, `workflow ID`, `estimate FILE`) are timed
against the local orchestrator on loopback, so the figure is the CLI's own cost
(imports, settings, client set-up, one request) with no network latency in it.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from civitai_app_sdk.local import LocalConfig, LocalServer, Timings

BUDGET_MS = 300.0
RUNS = int(os.environ.get("BENCH_CLI_RUNS", "7"))
BODY = {
    "steps": [
        {
            "$type": "textToImage",
            "input": {
                "model": "urn:air:sdxl:checkpoint:civitai:1@2",
                "prompt": "a lighthouse at dusk",
                "width": 512,
                "height": 512,
            },
        }
    ]
}


def launcher() -> tuple[list[str], str]:
    """How to start the CLI (the installed script, else ``python -c``), and its name."""
    exe = Path(sys.executable).with_name("civitai-orch")
    if exe.exists():
        return [str(exe)], "console script"
    code = "from civitai_app_sdk.cli import main; main()"
    return [sys.executable, "-c", code], "python -c, no console script installed"


def _time(command: list[str], env: dict[str, str], cwd: str) -> tuple[float, float]:
    """Median and best wall time (ms) of ``command`` over :data:`RUNS` fresh processes."""
    subprocess.run(command, check=True, capture_output=True, env=env, cwd=cwd)  # warm caches
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, env=env, cwd=cwd)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), min(times)


def _help(launcher: list[str], how: str, env: dict[str, str], cwd: str) -> None:
    median, best = _time([*launcher, "--help"], env, cwd)
    verdict = "within" if median <= BUDGET_MS else "OVER"
    print(
        f"civitai-orch --help ({how}): median {median:.0f} ms, best {best:.0f} ms "
        f"over {RUNS} runs ({verdict} the {BUDGET_MS:.0f} ms budget)"
    )


def run() -> None:
    """Print the median and best wall time of each command over a few fresh processes."""
    command, how = launcher()
    timings = Timings(0.05, 0.05, 0.05, 0.1)
    with tempfile.TemporaryDirectory() as home, LocalServer(LocalConfig(timings=timings)) as server:
        env = {
            **os.environ,
            "CIVITAI_API_URL": server.url,
            "CIVITAI_API_TOKEN": "bench-token",
            "CIVITAI_CONFIG_DIR": str(Path(home) / "config"),
            "CIVITAI_KEYRING": "0",
        }
        _help(command, how, env, home)
        body = Path(home) / "body.json"
        body.write_text(json.dumps(BODY))
        submitted = subprocess.run(
            [*command, "submit", str(body), "--yes", "--wait", "--json"],
            check=True,
            capture_output=True,
            env=env,
            cwd=home,
            text=True,
        )
        workflow_id = json.loads(submitted.stdout)["id"]
        commands = {
            "workflows --json": ["workflows", "--json"],
            "workflows (table)": ["workflows"],
            "workflow ID": ["workflow", workflow_id],
            "estimate FILE": ["estimate", str(body)],
        }
        for label, args in commands.items():
            median, best = _time([*command, *args], env, home)
            print(
                f"civitai-orch {label} (local server): median {median:.0f} ms, "
                f"best {best:.0f} ms over {RUNS} runs"
            )
