"""Run every benchmark module and print its measurements, with the machine noted."""

from __future__ import annotations

import importlib
import importlib.util
import os
import platform
import sys
from pathlib import Path


def machine() -> str:
    """One line describing the machine the figures come from."""
    return (
        f"{platform.node()} {platform.machine()} {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {platform.platform()}"
    )


def environment_notes() -> list[str]:
    """What in this environment makes whole-process figures unlike a user's."""
    if importlib.util.find_spec("trio") is None:
        return []
    return [
        "note: trio is installed here (make test adds it): httpcore imports it in every "
        "process that opens an httpx client, about 75 ms; `make bench` runs without it"
    ]


def main(argv: list[str]) -> int:
    """Run `bench/bench_*.py` (or only those named in argv) in name order."""
    names = sorted(p.stem for p in Path(__file__).parent.glob("bench_*.py"))
    wanted = [n for n in names if not argv or any(a in n for a in argv)]
    print(f"machine: {machine()}")
    for note in environment_notes():
        print(note)
    for name in wanted:
        print(f"\n== {name.removeprefix('bench_')} ==", flush=True)
        importlib.import_module(f"bench.{name}").run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
