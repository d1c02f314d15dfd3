"""A real terminal session (a pty, driven by pexpect) against the local orchestrator.

Covers what only a terminal shows: the cost prompt, Ctrl-C during ``--wait`` (the id and
the cancel command are printed, the workflow keeps running) and a progress bar that
advances while the workflow runs.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pexpect = pytest.importorskip("pexpect")
pytest.importorskip("uvicorn")

from test_cli_local import BODY  # noqa: E402

from civitai_app_sdk.local import LocalConfig, LocalServer  # noqa: E402
from civitai_app_sdk.local.timeline import Timings  # noqa: E402

EXE = Path(sys.executable).with_name("civitai-orch")
pytestmark = [
    pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pty"),
    pytest.mark.skipif(not EXE.exists(), reason="the civitai-orch script is not installed"),
]
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _session(server: LocalServer, home: Path, *args: str) -> pexpect.spawn:
    """``civitai-orch ARGS`` on a 100x30 pty, pointed at ``server``."""
    env = {
        **os.environ,
        "CIVITAI_API_URL": server.url,
        "CIVITAI_API_TOKEN": "pty-token",
        "CIVITAI_CONFIG_DIR": str(home / "config"),
        "CIVITAI_KEYRING": "0",
        "TERM": "xterm-256color",
        "COLUMNS": "100",
        "LINES": "30",
    }
    env.pop("NO_COLOR", None)
    return pexpect.spawn(
        str(EXE),
        list(args),
        env=env,
        cwd=str(home),
        encoding="utf-8",
        timeout=40,
        dimensions=(30, 100),
    )


def _finish(child: pexpect.spawn) -> tuple[str, int | None]:
    child.expect(pexpect.EOF)
    child.close()
    return ANSI.sub("", child.before or ""), child.exitstatus


@pytest.fixture
def body(tmp_path: Path) -> Path:
    path = tmp_path / "body.json"
    path.write_text(json.dumps(BODY))
    return path


@pytest.fixture
def quick() -> Iterator[LocalServer]:
    """Steps take about 4 s, and the server holds a request at most 1 s."""
    timings = Timings(unassigned=0.8, preparing=0.8, scheduled=0.8, processing=1.6)
    with LocalServer(LocalConfig(timings=timings, max_wait=1)) as server:
        yield server


@pytest.fixture
def slow() -> Iterator[LocalServer]:
    timings = Timings(unassigned=60, preparing=60, scheduled=60, processing=60)
    with LocalServer(LocalConfig(timings=timings)) as server:
        yield server


def test_declining_the_cost_prompt_submits_nothing(
    quick: LocalServer, tmp_path: Path, body: Path
) -> None:
    child = _session(quick, tmp_path, "submit", str(body))
    child.expect(r"Submit and spend \d+ Buzz\? \[y/N\]")
    child.sendline("n")
    output, status = _finish(child)
    assert status == 12
    assert "Not submitted; nothing was spent." in output
    assert "error" not in output.lower()
    assert not quick.state.store.workflows


def test_accepting_the_prompt_shows_a_bar_that_advances(
    quick: LocalServer, tmp_path: Path, body: Path
) -> None:
    child = _session(quick, tmp_path, "submit", str(body), "--wait")
    child.expect(r"Submit and spend \d+ Buzz\? \[y/N\]")
    child.sendline("y")
    output, status = _finish(child)
    assert status == 0, output
    (workflow_id,) = quick.state.store.workflows
    frames = re.findall(rf"{re.escape(workflow_id)}: (\w+)[^\n\r]*?(\d)/(\d) steps", output)
    statuses = [status for status, _, _ in frames]
    assert len(set(statuses)) >= 2, output  # the bar moved through several states
    assert frames[0][1:] == ("0", "1")
    assert frames[-1] == ("succeeded", "1", "1")
    assert re.search(r"\d+ Buzz", output)
    assert re.search(r"0:00:0[1-9]", output), output  # the elapsed time advanced
    assert f"Workflow {workflow_id}" in output


def test_ctrl_c_during_wait_prints_the_id_and_cancel_command(
    slow: LocalServer, tmp_path: Path, body: Path
) -> None:
    child = _session(slow, tmp_path, "submit", str(body), "--yes", "--wait")
    child.expect("waiting for it to finish")
    child.expect("steps")  # the bar is on screen
    child.sendintr()
    output, status = _finish(child)
    (workflow_id,) = slow.state.store.workflows
    assert status == 130, output
    assert f"civitai-orch cancel {workflow_id}" in output
    assert f"civitai-orch workflow {workflow_id} --wait" in output
    assert "Traceback" not in output
