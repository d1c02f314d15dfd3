"""The CLI against the local server, and `serve-local` as a real process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from local_helpers import TOKEN, text_to_image

from civitai_app_sdk.cli import main
from civitai_app_sdk.local import LocalConfig, LocalServer


@pytest.fixture
def config() -> LocalConfig:
    """Little Buzz, so a second large submit is refused."""
    return LocalConfig(balance={"yellow": 50})


@pytest.fixture
def run(server: LocalServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.setenv("CIVITAI_API_URL", server.url)
    monkeypatch.setenv("CIVITAI_API_TOKEN", TOKEN)
    monkeypatch.chdir(tmp_path)
    return CliRunner()


def test_estimate_submit_follow_and_download(run: CliRunner, tmp_path: Path) -> None:
    body = tmp_path / "workflow.json"
    body.write_text(json.dumps(text_to_image(quantity=2)))
    estimate = run.invoke(main, ["estimate", str(body), "--json"])
    assert estimate.exit_code == 0, estimate.output
    assert json.loads(estimate.stdout)["cost"]["total"] == 8
    submitted = run.invoke(main, ["submit", str(body), "--yes", "--wait", "--json"])
    assert submitted.exit_code == 0, submitted.output
    workflow = json.loads(submitted.stdout)
    assert workflow["status"] == "succeeded"
    out = tmp_path / "out"
    results = run.invoke(main, ["results", workflow["id"], "--download", "--dir", str(out)])
    assert results.exit_code == 0, results.output
    files = sorted(out.rglob("*.png"))
    assert len(files) == 2
    assert all(f.read_bytes().startswith(b"\x89PNG") for f in files)


def test_cancel_and_insufficient_buzz_exit_codes(run: CliRunner, tmp_path: Path) -> None:
    body = tmp_path / "big.json"
    body.write_text(json.dumps(text_to_image(quantity=10)))
    workflow = json.loads(run.invoke(main, ["submit", str(body), "--yes", "--json"]).stdout)
    assert run.invoke(main, ["cancel", workflow["id"]]).exit_code == 0
    shown = json.loads(run.invoke(main, ["workflow", workflow["id"], "--json"]).stdout)
    assert shown["status"] == "canceled"
    for _ in range(2):
        result = run.invoke(main, ["submit", str(body), "--yes"])
    assert result.exit_code == 5, result.output


def test_serve_local_starts_and_stops_on_sigterm(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "civitai_app_sdk.local", "--port", "0", "--token", "T"]
    with subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=env) as process:
        try:
            assert process.stderr is not None
            line = process.stderr.readline()
            token_line = process.stderr.readline()
            url = line.rsplit(" ", 1)[-1].strip()
            assert url.startswith("http://127.0.0.1:")
            deadline = time.monotonic() + 10
            while True:
                try:
                    response = httpx.get(
                        f"{url}/v2/consumer/workflows", headers={"Authorization": "Bearer T"}
                    )
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline
                    time.sleep(0.05)
            assert response.status_code == 200
            children = Path(f"/proc/{process.pid}/task").glob("*/children")
            assert all(not path.read_text().strip() for path in children), "child processes"
            assert (
                httpx.get(
                    f"{url}/v2/consumer/workflows", headers={"Authorization": "Bearer x"}
                ).status_code
                == 401
            )
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=10) in (0, -signal.SIGTERM)
            assert "Finished server process" in process.stderr.read(), "no graceful shutdown"
            assert token_line.startswith("Token: ")
            assert "T" not in token_line.removeprefix("Token: ")
        except BaseException:
            process.kill()  # a failed check must not leave the server running
            raise
    with pytest.raises(httpx.TransportError):
        httpx.get(url, timeout=1)


def test_serve_local_refuses_a_non_loopback_host() -> None:
    result = CliRunner().invoke(main, ["serve-local", "--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert "loopback" in result.output
