"""credentials.json: a warning when others can read it, an owner-only folder, write failures."""

from __future__ import annotations

import errno
import json
import os
import stat
import sys
from pathlib import Path

import pytest
import respx

from civitai_app_sdk.cli._credentials import CredentialsFile, CredentialsWriteError, StoredLogin
from civitai_app_sdk.oauth import TokenSet
from tests.cli.conftest import Run

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")

LOGIN = StoredLogin(TokenSet(access_token="secret-at", expires_at=2e9), "app")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("bits", [0o644, 0o640, 0o604])
def test_warns_once_when_others_can_read_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], bits: int
) -> None:
    file = CredentialsFile(tmp_path)
    file.write(LOGIN)
    file.path.chmod(bits)
    assert file.read() == LOGIN
    assert CredentialsFile(tmp_path).read() == LOGIN  # another reader in the same command
    err = capsys.readouterr().err
    assert err.count("warning:") == 1
    assert str(file.path) in err
    assert f"{bits:04o}" in err
    assert "chmod 600" in err
    assert "secret-at" not in err


def test_no_warning_for_an_owner_only_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = CredentialsFile(tmp_path)
    file.write(LOGIN)
    assert mode(file.path) == 0o600
    assert file.read() == LOGIN
    assert capsys.readouterr().err == ""


def test_write_tightens_an_open_folder_to_0700(tmp_path: Path) -> None:
    folder = tmp_path / "config"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    CredentialsFile(folder).write(LOGIN)
    assert mode(folder) == 0o700
    assert mode(folder / "credentials.json") == 0o600


def test_refresh_lock_lives_in_the_owner_only_folder(tmp_path: Path) -> None:
    folder = tmp_path / "new"
    lock = CredentialsFile(folder).refresh_lock()
    assert mode(folder) == 0o700
    assert lock.acquire(1)
    lock.release()


def _disk_full(*args: object, **kwargs: object) -> None:
    raise OSError(errno.ENOSPC, "No space left on device")


def test_a_write_on_a_full_disk_is_one_error_keeping_the_old_login(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = CredentialsFile(tmp_path)
    file.write(LOGIN)
    before = file.path.read_bytes()
    monkeypatch.setattr(os, "fsync", _disk_full)
    new = StoredLogin(TokenSet(access_token="secret-new", expires_at=3e9), "app")
    with pytest.raises(CredentialsWriteError) as info:
        file.write(new)
    assert info.value.exit_code == 1
    message = info.value.format_message()
    assert f"cannot save the login to {file.path} (No space left on device)" in message
    assert "unchanged" in message
    assert "secret" not in message
    assert file.path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["credentials.json"]


@respx.mock
def test_a_refresh_that_cannot_be_saved_says_the_stored_login_is_dead(
    run: Run, cli_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the server has rotated the pair: the error was a bare "No space left on device"
    # and the next command said "expired" with no cause
    monkeypatch.setenv("CIVITAI_API_URL", "https://orch.test")
    file = CredentialsFile(cli_home / "config")
    old = TokenSet(access_token="old-access", expires_at=1.0, refresh_token="secret-r1")
    file.write(StoredLogin(old, "cid", "https://auth.test", "https://orch.test"))
    respx.post("https://auth.test/api/auth/oauth/token").respond(
        json={"access_token": "secret-new", "refresh_token": "secret-r2", "expires_in": 3600}
    )
    workflows = respx.get("https://orch.test/v2/consumer/workflows").respond(
        json={"next": "", "items": []}
    )
    monkeypatch.setattr(os, "fsync", _disk_full)
    result = run("workflows", "--json")
    assert result.exit_code == 1
    error = json.loads(result.stdout)["error"]["message"]
    assert error == (
        f"the refreshed login could not be saved to {file.path} (No space left on device) "
        "and the one stored is no longer valid: fix that, then run `civitai-orch login`"
    )
    assert "secret" not in result.stdout + result.stderr
    assert not workflows.called
