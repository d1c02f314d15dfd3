"""A closed stdout after a charge: what was bought still reaches the user.

``civitai-orch submit --json | jq`` with ``jq`` gone: the workflow was created and paid
for, then the first write raised ``BrokenPipeError`` and the CLI exited 1 with nothing
printed anywhere, losing the workflow id and the retry key. Now they go to stderr and the
exit code is 13 (``OUTPUT_LOST``). Runs the real console script against the local
orchestrator on loopback.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytest.importorskip("uvicorn")

from civitai_app_sdk.cli._console import TerminalConsole
from civitai_app_sdk.cli._exit import ExitCode
from civitai_app_sdk.local import LocalConfig, LocalServer
from civitai_app_sdk.local.timeline import Timings

TOKEN = "closed-stdout-token"
BODY = {"steps": [{"$type": "textToImage", "input": {"prompt": "a cat", "quantity": 1}}]}
RECIPE_INPUT = {
    "model": "urn:air:sdxl:checkpoint:civitai:1@2",
    "prompt": "a cat",
    "width": 512,
    "height": 512,
}


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    fast = Timings(unassigned=0.01, preparing=0.01, scheduled=0.01, processing=0.05)
    with LocalServer(LocalConfig(token=TOKEN, timings=fast)) as running:
        yield running


def _workflows(server: LocalServer) -> list[dict[str, object]]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    page = httpx.get(f"{server.url}/v2/consumer/workflows", headers=headers).json()
    items: list[dict[str, object]] = page["items"]
    return items


def _into_closed_pipe(
    server: LocalServer, tmp_path: Path, *argv: str
) -> subprocess.CompletedProcess[str]:
    """Run ``civitai-orch argv`` with its stdout a pipe whose reader has already left."""
    read, write = os.pipe()
    os.close(read)
    env = {
        **os.environ,
        "CIVITAI_API_URL": server.url,
        "CIVITAI_API_TOKEN": TOKEN,
        "CIVITAI_CONFIG_DIR": str(tmp_path),
        "CIVITAI_KEYRING": "0",
    }
    try:
        return subprocess.run(
            [sys.executable, "-c", "from civitai_app_sdk.cli import run; run()", *argv],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=tmp_path,
            check=False,
            timeout=120,
        )
    finally:
        os.close(write)


@pytest.mark.parametrize("wait", [False, True], ids=["submit", "submit-wait"])
def test_a_charged_submit_names_the_workflow_and_its_key_on_stderr(
    server: LocalServer, tmp_path: Path, wait: bool
) -> None:
    key = f"closed-stdout-{int(wait)}"
    body = tmp_path / "wf.json"
    body.write_text(json.dumps(BODY))
    before = {w["id"] for w in _workflows(server)}
    args = ["submit", str(body), "--yes", "--json", "--external-id", key]
    done = _into_closed_pipe(server, tmp_path, *args, *(["--wait"] if wait else []))
    created = [w for w in _workflows(server) if w["id"] not in before]
    assert len(created) == 1  # it was charged
    assert done.returncode == ExitCode.OUTPUT_LOST, done.stderr
    assert f"workflow {created[0]['id']}" in done.stderr
    assert f"--external-id={key}" in done.stderr
    assert "stdout was closed" in done.stderr
    assert "Traceback" not in done.stderr
    assert "Exception ignored" not in done.stderr
    if wait:
        assert "ended succeeded" in done.stderr


def test_a_charged_recipe_says_so_on_stderr(server: LocalServer, tmp_path: Path) -> None:
    source = tmp_path / "input.json"
    source.write_text(json.dumps(RECIPE_INPUT))
    before = len(_workflows(server))
    done = _into_closed_pipe(server, tmp_path, "recipe", "textToImage", str(source), "--yes")
    assert len(_workflows(server)) == before + 1
    assert done.returncode == ExitCode.OUTPUT_LOST, done.stderr
    assert "the recipe ran and spends Buzz" in done.stderr
    assert "civitai-orch workflows" in done.stderr
    assert "Traceback" not in done.stderr


def test_nothing_is_charged_when_stdout_is_closed_before_the_human_estimate(
    server: LocalServer, tmp_path: Path
) -> None:
    body = tmp_path / "wf.json"
    body.write_text(json.dumps(BODY))
    before = len(_workflows(server))
    done = _into_closed_pipe(server, tmp_path, "submit", str(body), "--yes")
    assert len(_workflows(server)) == before
    assert done.returncode == ExitCode.ERROR
    assert done.stderr == ""


def test_the_console_raises_a_broken_pipe_rather_than_exiting() -> None:
    """rich's own handling exits (``SystemExit(1)``), which no caller can tell apart
    from the end of the command; a ``BrokenPipeError`` is what ``click.echo`` raises."""
    read, write = os.pipe()
    os.close(read)
    closed = os.fdopen(write, "w")
    try:
        with pytest.raises(BrokenPipeError):
            TerminalConsole(file=closed).print("x")
    finally:
        with contextlib.suppress(BrokenPipeError):  # the unwritten "x" cannot be flushed
            closed.close()
