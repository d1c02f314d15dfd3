"""Start-up time of `civitai-orch --help` (wall time of a fresh process), against a budget."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

BUDGET_MS = 300.0
RUNS = 7


def _script() -> tuple[list[str], str]:
    """The command to time, and how it starts (the installed script, else ``python -c``)."""
    exe = Path(sys.executable).with_name("civitai-orch")
    if exe.exists():
        return [str(exe), "--help"], "console script"
    code = "from civitai_app_sdk.cli import main; main()"
    return [sys.executable, "-c", code, "--help"], "python -c, no console script installed"


def run() -> None:
    """Print the median and best wall time of `civitai-orch --help` over a few runs."""
    command, launcher = _script()
    subprocess.run(command, check=True, capture_output=True)  # warm the file cache
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append((time.perf_counter() - started) * 1000)
    median = statistics.median(times)
    verdict = "within" if median <= BUDGET_MS else "OVER"
    print(
        f"civitai-orch --help ({launcher}): median {median:.0f} ms, best {min(times):.0f} ms "
        f"over {RUNS} runs ({verdict} the {BUDGET_MS:.0f} ms budget)"
    )
