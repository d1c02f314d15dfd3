"""The root group: fast lazy help, registered commands, partial-file safety, OAuth refresh."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import click
import httpx
import pytest
import respx

from civitai_app_sdk.cli import COMMANDS, SHORT_HELP, main
from civitai_app_sdk.cli._credentials import CredentialsFile, StoredLogin
from civitai_app_sdk.cli._files import save_chunks
from civitai_app_sdk.oauth import TokenSet

PROBE = """
import sys
from civitai_app_sdk.cli import main
try:
    main(["--help"])
except SystemExit:
    pass
heavy = ("rich", "httpx", "pydantic", "cryptography", "platformdirs", "civitai_app_sdk_generated")
sdk = ("civitai_app_sdk.cli.", "civitai_app_sdk.orchestrator", "civitai_app_sdk.oauth")
loaded = [m for m in sys.modules if m.split(".")[0] in heavy or m.startswith(sdk)]
print("LOADED=" + ",".join(sorted(loaded)))
"""


def test_help_lists_every_command_without_importing_them() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip().splitlines()[-1] == "LOADED="
    for name in COMMANDS:
        assert f"  {name} " in out
    assert "Exit codes:" in out
    assert "5   insufficient Buzz" in out


def test_every_command_has_short_help_and_imports() -> None:
    assert set(SHORT_HELP) == set(COMMANDS)
    assert {"serve-local", "block", "scopes", "login"} <= set(COMMANDS)
    ctx = click.Context(main)
    for name in COMMANDS:
        command = main.get_command(ctx, name)
        assert isinstance(command, click.Command), name
        # the listing's one line is SHORT_HELP's; a second copy on the command would drift
        assert command.short_help is None, name


@pytest.mark.parametrize("name", sorted(set(COMMANDS) - {"serve-local", "block"}))
def test_each_command_help(run, name: str) -> None:
    result = run(name, "--help")
    assert result.exit_code == 0
    assert "--json" in result.stdout


def test_interrupted_download_leaves_nothing(tmp_path: Path) -> None:
    def chunks():
        yield b"abc"
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        save_chunks(chunks(), tmp_path, "wf_0_0", ".png")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match="not a plain file name"):
        save_chunks([b"x"], tmp_path, "../evil", ".png")
    assert list(tmp_path.iterdir()) == []


@respx.mock
def test_expired_oauth_login_is_refreshed_and_saved(run, cli_home: Path, monkeypatch) -> None:
    monkeypatch.setenv("CIVITAI_API_URL", "https://orch.test")
    file = CredentialsFile(cli_home / "config")
    old = TokenSet(access_token="old-access", expires_at=time.time() - 10, refresh_token="r1")
    file.write(StoredLogin(old, "cid", "https://auth.test", "https://orch.test"))
    respx.post("https://auth.test/api/auth/oauth/token").respond(
        json={"access_token": "new-access", "refresh_token": "r2", "expires_in": 3600}
    )
    route = respx.get("https://orch.test/v2/consumer/workflows").respond(
        json={"next": "", "items": []}
    )
    result = run("workflows", "--json")
    assert result.exit_code == 0, result.stderr
    assert route.calls.last.request.headers["authorization"] == "Bearer new-access"
    stored = file.read()
    assert stored is not None
    assert (stored.tokens.refresh_token, stored.client_id) == ("r2", "cid")
    assert json.loads(result.stdout) == {"items": [], "next": None}


@respx.mock
def test_refused_refresh_asks_to_log_in_again(run, cli_home: Path, monkeypatch) -> None:
    monkeypatch.setenv("CIVITAI_API_URL", "https://orch.test")
    file = CredentialsFile(cli_home / "config")
    old = TokenSet(access_token="old", expires_at=time.time() - 10, refresh_token="r1")
    file.write(StoredLogin(old, "cid", "https://auth.test", "https://orch.test"))
    respx.post("https://auth.test/api/auth/oauth/token").mock(
        return_value=httpx.Response(400, json={"error": "invalid_grant"})
    )
    result = run("workflows")
    assert result.exit_code == 3
    assert "stored login has expired" in result.stderr
