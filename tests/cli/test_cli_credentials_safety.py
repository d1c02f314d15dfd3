"""credentials.json: a warning when others can read it, an owner-only folder."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

import pytest

from civitai_app_sdk.cli._credentials import CredentialsFile, StoredLogin
from civitai_app_sdk.oauth import TokenSet

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
