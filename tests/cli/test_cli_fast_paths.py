"""Read-only views print the server's JSON without loading pydantic, the models or asyncio,
and the console script exits at once with the command's code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

pytest.importorskip("uvicorn")

from civitai_app_sdk.local import LocalConfig, LocalServer
from civitai_app_sdk.local.timeline import Timings
from civitai_app_sdk.orchestrator import OrchestratorClient

TOKEN = "fast-path-token"
BODY = {"steps": [{"$type": "textToImage", "input": {"prompt": "fast", "quantity": 1}}]}
_PROBE = (
    "import sys\n"
    "from civitai_app_sdk.cli import main\n"
    "try:\n"
    "    main(sys.argv[1:])\n"
    "except SystemExit:\n"
    "    pass\n"
    "heavy = sorted(m for m in sys.modules\n"
    "               if m in ('pydantic', 'asyncio') or m.startswith('civitai_app_sdk_generated'))\n"
    "print('LOADED', heavy, file=sys.stderr)\n"
)


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    fast = Timings(unassigned=0.01, preparing=0.01, scheduled=0.01, processing=0.05)
    with LocalServer(LocalConfig(token=TOKEN, timings=fast)) as running:
        with OrchestratorClient(TOKEN, base_url=running.url) as client:
            workflow = client.submit(BODY)
            assert workflow.id is not None
            client.poll(workflow.id, timeout=30)
        yield running


def _env(server: LocalServer, tmp: str) -> dict[str, str]:
    return {
        **os.environ,
        "CIVITAI_API_URL": server.url,
        "CIVITAI_API_TOKEN": TOKEN,
        "CIVITAI_CONFIG_DIR": tmp,
        "CIVITAI_KEYRING": "0",
    }


_SIGNED = {"url", "previewUrl", "urlExpiresAt", "previewUrlExpiresAt"}


def _stable(value: object) -> object:
    """``value`` without the signed URLs and their expiry, which change on every read."""
    if isinstance(value, dict):
        return {k: _stable(v) for k, v in value.items() if k not in _SIGNED}
    if isinstance(value, list):
        return [_stable(item) for item in value]
    return value


def _raw(server: LocalServer, path: str) -> object:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    return httpx.get(f"{server.url}{path}", headers=headers).json()


@pytest.mark.parametrize("view", ["workflows", "workflow"])
def test_read_only_views_print_the_server_json_without_models(
    server: LocalServer, tmp_path: object, view: str
) -> None:
    page = _raw(server, "/v2/consumer/workflows")
    assert isinstance(page, dict)
    workflow_id = page["items"][0]["id"]
    argv = ["workflows", "--json"] if view == "workflows" else ["workflow", workflow_id, "--json"]
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *argv],
        capture_output=True,
        text=True,
        env=_env(server, str(tmp_path)),
        check=True,
    )
    assert "LOADED []" in done.stderr, done.stderr
    printed = json.loads(done.stdout)
    if view == "workflows":
        expected = {"items": page["items"], "next": page.get("next") or None}
    else:
        expected = _raw(server, f"/v2/consumer/workflows/{workflow_id}")
    assert _stable(printed) == _stable(expected)


def test_a_stored_oauth_login_loads_no_asyncio_either(server: LocalServer, tmp_path: Any) -> None:
    """The login `civitai-orch login` stores refreshes itself: its token provider's
    module imported asyncio, so every command of a signed-in user loaded it."""
    tokens = {"access_token": TOKEN, "expires_at": 4e12, "refresh_token": "secret-rt"}
    login = {"tokens": tokens, "client_id": "app", "api_url": server.url}
    (tmp_path / "credentials.json").write_text(json.dumps(login))
    (tmp_path / "credentials.json").chmod(0o600)
    env = {**_env(server, str(tmp_path)), "CIVITAI_API_TOKEN": ""}
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, "workflows", "--json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=True,
    )
    assert "'asyncio'" not in done.stderr, done.stderr  # (its OAuth client loads pydantic)
    assert json.loads(done.stdout)["items"]


@pytest.mark.parametrize("command", ["workflow", "job"])
def test_an_id_of_dots_only_is_refused_before_anything_is_sent(
    server: LocalServer, tmp_path: object, command: str
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, command, "..", "--json"],
        capture_output=True,
        text=True,
        env=_env(server, str(tmp_path)),
        check=False,
    )
    error = json.loads(done.stdout)["error"]
    assert "only dots" in error["message"]  # never /workflows/.. nor /workflows/%2E%2E
    assert error.get("status") is None  # refused locally: no answer to report


def _console_script(
    argv: list[str], config_dir: object, **options: Any
) -> subprocess.CompletedProcess[str]:
    """``civitai-orch`` as its console script runs it, with its own config folder."""
    return subprocess.run(
        [sys.executable, "-c", "from civitai_app_sdk.cli import run; run()", *argv],
        capture_output=True,
        text=True,
        env={**os.environ, "CIVITAI_CONFIG_DIR": str(config_dir)},
        check=False,
        **options,
    )


@pytest.mark.parametrize(("argv", "code"), [(["--version"], 0), (["nosuch"], 2)])
def test_the_console_script_exits_with_the_command_code(
    argv: list[str], code: int, tmp_path: object
) -> None:
    done = _console_script(argv, tmp_path)
    assert done.returncode == code, done.stderr
    if code == 0:
        assert done.stdout.strip()  # flushed before the quick exit


@pytest.mark.parametrize(("argv", "code"), [(["--version"], 0), (["nosuch", "--json"], 2)])
@pytest.mark.parametrize("closed", [1, 2])
def test_the_console_script_started_with_stdout_or_stderr_closed_exits_cleanly(
    argv: list[str], code: int, closed: int, tmp_path: object
) -> None:
    """Python sets ``sys.stdout``/``sys.stderr`` to ``None`` then (cron, daemons)."""
    done = _console_script(argv, tmp_path, preexec_fn=lambda: os.close(closed))
    assert done.returncode == code, done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "argv", [["help"], ["--help"], ["scopes", "Full"], ["scopes", "Full", "--json"]]
)
def test_output_into_a_closed_pipe_ends_quietly(argv: list[str], tmp_path: object) -> None:
    """``civitai-orch ... | head -1``: no traceback and no 'Broken pipe' error line."""
    read, write = os.pipe()
    os.close(read)  # the reader is gone before the first write
    try:
        done = subprocess.run(
            [sys.executable, "-c", "from civitai_app_sdk.cli import run; run()", *argv],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "CIVITAI_CONFIG_DIR": str(tmp_path)},
            check=False,
        )
    finally:
        os.close(write)
    assert done.returncode == 1
    assert done.stderr == ""


def test_the_console_script_leaves_httpx_own_cli_unloaded() -> None:
    code = (
        "import sys\n"
        "from civitai_app_sdk.cli._startup import skip_httpx_cli\n"
        "skip_httpx_cli()\n"
        "import httpx\n"
        "assert 'httpx._main' not in sys.modules\n"
        "assert 'rich' not in sys.modules and 'pygments' not in sys.modules\n"
        "print(httpx.Request('GET', 'https://example.test/x').url.path)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "/x"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigterm_during_a_submit_prints_the_key_like_ctrl_c(tmp_path: Any) -> None:
    """`timeout 60 civitai-orch submit …` or a cancelled CI job ends it with SIGTERM
    while the paid submit is in flight: it died silently, so the idempotency key that
    makes a retry safe was lost (Ctrl-C printed it)."""
    import http.server
    import signal
    import threading

    estimate = json.dumps({"status": "unassigned", "steps": [], "cost": {"total": 1}}).encode()
    submitted = threading.Event()
    release = threading.Event()

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length") or 0))
            if "whatif=true" not in self.path:
                submitted.set()
                release.wait(30)  # the submit never answers
                return
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(estimate)))
            self.end_headers()
            self.wfile.write(estimate)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    body = tmp_path / "wf.json"
    body.write_text(json.dumps(BODY))
    env = {
        **os.environ,
        "CIVITAI_CONFIG_DIR": str(tmp_path),
        "CIVITAI_API_URL": f"http://127.0.0.1:{server.server_address[1]}",
        "CIVITAI_API_TOKEN": TOKEN,
    }
    argv = ["submit", str(body), "--yes", "--external-id", "term-key-1"]
    child = subprocess.Popen(
        [sys.executable, "-c", "from civitai_app_sdk.cli import run; run()", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert submitted.wait(60), "the submit never reached the server"
        child.send_signal(signal.SIGTERM)
        _, stderr = child.communicate(timeout=60)
    finally:
        release.set()
        if child.poll() is None:
            child.kill()
        server.shutdown()
        server.server_close()
    assert child.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert "may have been created" in stderr
    assert "`--external-id=term-key-1`" in stderr


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigterm_stops_serve_local_cleanly_not_as_an_interruption(tmp_path: Any) -> None:
    """SIGTERM is a server's normal stop: serve-local shuts down and ends as SIGTERM
    says, with no 'error: interrupted' (what a client command in flight prints)."""
    import signal

    script = "from civitai_app_sdk.cli import run; run()"
    child = subprocess.Popen(
        [sys.executable, "-c", script, "serve-local", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "CIVITAI_CONFIG_DIR": str(tmp_path), "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert child.stderr is not None
        url = child.stderr.readline().rsplit(" ", 1)[-1].strip()
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"{url}/v2/consumer/workflows", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "serve-local never answered"
                time.sleep(0.05)
        child.send_signal(signal.SIGTERM)
        _, stderr = child.communicate(timeout=20)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode in (0, -signal.SIGTERM), stderr
    assert "interrupted" not in stderr
    assert "Finished server process" in stderr
