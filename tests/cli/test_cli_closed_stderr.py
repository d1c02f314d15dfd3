"""A closed stderr leaves a command's exit code alone.

``civitai-orch ... 2>&-`` or with stderr a pipe whose reader has left: showing the
error raised ``BrokenPipeError`` and the process ended with 1 instead of the command's
code, and with descriptor 2 closed click printed usage errors on stdout after the
``--json`` document. Runs the real console script (no network: the failures come first).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from civitai_app_sdk.cli._exit import ExitCode

pytestmark = pytest.mark.skipif(os.name == "nt", reason="POSIX descriptors")


def _close_stderr() -> None:
    os.close(2)


def _run(tmp_path: Path, how: str, *argv: str) -> subprocess.CompletedProcess[bytes]:
    """``civitai-orch argv`` with stderr closed (``how="closed"``) or a widowed pipe."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIVITAI_")}
    env.update(CIVITAI_CONFIG_DIR=str(tmp_path / "config"), CIVITAI_KEYRING="0")
    read, write = os.pipe()
    os.close(read)
    try:
        return subprocess.run(
            [sys.executable, "-c", "from civitai_app_sdk.cli import run; run()", *argv],
            stdout=subprocess.PIPE,
            stderr=None if how == "closed" else write,
            preexec_fn=_close_stderr if how == "closed" else None,
            env=env,
            cwd=tmp_path,
            check=False,
            timeout=60,
        )
    finally:
        os.close(write)


@pytest.mark.parametrize("how", ["closed", "widowed-pipe"])
@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["tags"], ExitCode.USAGE),
        (["tags", "--json"], ExitCode.USAGE),
        (["tags", "wf-1"], ExitCode.AUTH),
        (["tags", "wf-1", "--json"], ExitCode.AUTH),
    ],
    ids=["usage", "usage-json", "no-token", "no-token-json"],
)
def test_the_exit_code_is_the_commands_own(
    tmp_path: Path, how: str, argv: list[str], code: ExitCode
) -> None:
    done = _run(tmp_path, how, *argv)
    assert done.returncode == code
    if "--json" in argv:  # stdout holds the document and nothing else
        assert json.loads(done.stdout)["error"]["exitCode"] == code
    else:
        assert done.stdout == b""


@pytest.mark.parametrize("how", ["closed", "widowed-pipe"])
def test_a_command_that_succeeds_still_exits_0(tmp_path: Path, how: str) -> None:
    done = _run(tmp_path, how, "scopes", "1", "--json")
    assert done.returncode == ExitCode.OK
    assert json.loads(done.stdout)
