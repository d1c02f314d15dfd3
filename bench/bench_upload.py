"""Blob upload: a 1 GiB file streams through the client without being held in memory.

Each client (sync, async) uploads a sparse 1 GiB file to a loopback sink in a fresh
interpreter; the row is the growth of that process's peak resident memory (VmHWM)
during the upload, against the 100 MB budget, and the throughput.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

SIZE = 1 << 30
BUDGET_MB = 100.0

_CHILD = r"""
import json, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import anyio

from civitai_app_sdk.orchestrator import AsyncOrchestratorClient, OrchestratorClient

def peak_kb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM")

class Sink(BaseHTTPRequestHandler):
    def do_POST(self):
        left = int(self.headers["Content-Length"])
        while left:
            left -= len(self.rfile.read(min(left, 1 << 20)))
        body = json.dumps({"type": "image", "id": "X.png", "available": True}).encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass

server = ThreadingHTTPServer(("127.0.0.1", 0), Sink)
threading.Thread(target=server.serve_forever, daemon=True).start()
url = f"http://127.0.0.1:{server.server_address[1]}"
path, flavour = sys.argv[1], sys.argv[2]
if flavour == "sync":
    client = OrchestratorClient("t" * 32, base_url=url, timeout=120)
    client.upload_blob(b"\x89PNG\r\n\x1a\n", content_type="image/png")  # warm up
    before, started = peak_kb(), time.perf_counter()
    client.upload_blob(path, content_type="image/png")
else:
    async def main():
        async with AsyncOrchestratorClient("t" * 32, base_url=url, timeout=120) as client:
            await client.upload_blob(b"\x89PNG\r\n\x1a\n", content_type="image/png")
            global before, started
            before, started = peak_kb(), time.perf_counter()
            await client.upload_blob(path, content_type="image/png")
    anyio.run(main)
elapsed = time.perf_counter() - started
print(json.dumps({"growth_kb": peak_kb() - before, "seconds": elapsed}))
server.shutdown()
"""


def _measure(path: Path, flavour: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path), flavour],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def run() -> None:
    """Print peak-memory growth and throughput of a 1 GiB upload, sync and async."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "large.png"
        with path.open("wb") as handle:
            handle.truncate(SIZE)  # sparse: no disk space, reads as zeros
        for flavour in ("sync", "async"):
            row = _measure(path, flavour)
            growth = row["growth_kb"] / 1024
            verdict = "within" if growth < BUDGET_MB else "OVER"
            print(
                f"upload_blob 1 GiB ({flavour}): peak RSS +{growth:.1f} MB "
                f"({verdict} the {BUDGET_MB:.0f} MB budget), "
                f"{SIZE / row['seconds'] / 1e6:.0f} MB/s"
            )
