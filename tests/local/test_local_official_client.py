"""Civitai's official TypeScript client (@civitai/client) against serve-local.

Optional: runs when node is installed and ``make node-deps`` (run by ``make test``) installed
tests/local/node.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from civitai_app_sdk.local import LocalServer

NODE_DIR = Path(__file__).parent / "node"
NODE = shutil.which("node")
INSTALLED = (NODE_DIR / "node_modules" / "@civitai" / "client").is_dir()

pytestmark = pytest.mark.skipif(
    NODE is None or not INSTALLED, reason="node or @civitai/client not installed"
)


def test_the_official_client_calls_every_new_operation(server: LocalServer) -> None:
    assert NODE is not None
    done = subprocess.run(
        [NODE, "--import", "./resolve_dirs.mjs", "official_client.mjs", server.url, "tok"],
        cwd=NODE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    report = json.loads(done.stdout)
    assert report["UpdateWorkflow wrong type"] == 400
    assert report["GetWorkflow after delete"] == 404
    assert report["UploadConsumerBlob"] == 201
    statuses = {k: v for k, v in report.items() if isinstance(v, int)}
    failed = {
        k: v
        for k, v in statuses.items()
        if v >= 300 and k not in ("UpdateWorkflow wrong type", "GetWorkflow after delete")
    }
    assert failed == {}
    assert report["tagsAfterPatch"] == ["a", "b", "ts"]
    assert report["stepMetadata"] == {"s": 1, "t": 2}
    assert report["tagsAfterClear"] == []
    assert report["contentMatches"] is True
    assert report["echo"] == {"message": "hey"}
