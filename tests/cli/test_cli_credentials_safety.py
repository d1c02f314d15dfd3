"""credentials.json: a warning when others can read it, an owner-only folder, write failures."""

from __future__ import annotations

import errno
import json
import os
import stat
import sys
import threading
import time
from pathlib import Path

import attrs
import pytest
import respx

from civitai_app_sdk.cli._credentials import CredentialsFile, CredentialsWriteError, StoredLogin
from civitai_app_sdk.cli._exit import CliError
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


def test_a_refresh_saved_after_logout_does_not_bring_the_login_back(tmp_path: Path) -> None:
    file = CredentialsFile(tmp_path)
    file.write(LOGIN)
    file.delete()
    file.save(TokenSet(access_token="secret-new", expires_at=3e9, refresh_token="secret-rt"))
    assert not file.path.exists()  # it came back bound to no API (production's)


def _refresh_in_flight(folder: Path, started: threading.Event) -> None:
    """Another command's refresh: holds the lock, then saves a rotated pair."""
    store = CredentialsFile(folder)
    lock = store.refresh_lock()
    assert lock.acquire(5)
    started.set()
    time.sleep(0.3)
    store.save(TokenSet(access_token="secret-new", expires_at=3e9, refresh_token="secret-rt2"))
    lock.release()


def test_logout_waits_for_a_refresh_in_flight_then_removes_its_pair(
    run: Run, cli_home: Path
) -> None:
    # logout said "Signed out." and the refresh then wrote credentials.json back
    folder = cli_home / "config"
    CredentialsFile(folder).write(LOGIN)
    started = threading.Event()
    refresher = threading.Thread(target=_refresh_in_flight, args=(folder, started))
    refresher.start()
    assert started.wait(5)
    result = run("logout")
    refresher.join()
    assert result.exit_code == 0, result.stderr
    assert "Signed out." in result.stdout
    assert not CredentialsFile(folder).path.exists()


@respx.mock
def test_login_waits_for_a_refresh_in_flight_and_is_not_overwritten(
    run: Run, cli_home: Path
) -> None:
    folder = cli_home / "config"
    CredentialsFile(folder).write(LOGIN)
    respx.get("https://civitai.com/api/v1/me").respond(json={"id": 7, "username": "maker"})
    started = threading.Event()
    refresher = threading.Thread(target=_refresh_in_flight, args=(folder, started))
    refresher.start()
    assert started.wait(5)
    result = run("login", "--with-token", input="secret-key-2\n")
    refresher.join()
    assert result.exit_code == 0, result.stderr
    stored = CredentialsFile(folder).read()
    assert stored is not None
    assert stored.tokens.access_token == "secret-key-2"
    assert stored.tokens.refresh_token is None


def test_logout_with_a_refresh_that_never_ends_is_one_error(
    run: Run, cli_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from civitai_app_sdk.cli import auth

    monkeypatch.setattr(auth, "_LOCK_WAIT", 0.1)
    folder = cli_home / "config"
    CredentialsFile(folder).write(LOGIN)
    lock = CredentialsFile(folder).refresh_lock()
    assert lock.acquire(1)
    try:
        result = run("logout")
    finally:
        lock.release()
    assert result.exit_code == 1
    assert "is refreshing the stored login" in result.stderr
    assert CredentialsFile(folder).path.exists()


def test_folders_made_on_the_way_are_owner_only_even_under_umask_000(tmp_path: Path) -> None:
    # a new ~/.config under umask 000 was 0777: anyone could swap the folder inside
    old = os.umask(0)
    try:
        CredentialsFile(tmp_path / "home" / ".config" / "civitai-orch").write(LOGIN)
    finally:
        os.umask(old)
    for folder in ("home", "home/.config", "home/.config/civitai-orch"):
        assert mode(tmp_path / folder) == 0o700, folder
    assert mode(tmp_path / "home/.config/civitai-orch/credentials.json") == 0o600


def test_logout_removes_copies_left_by_a_process_killed_while_saving(
    run: Run, cli_home: Path
) -> None:
    folder = cli_home / "config"
    CredentialsFile(folder).write(LOGIN)
    leftover = folder / ".credentials-k9x2ab"  # what mkstemp left when kill -9 hit json.dump
    leftover.write_text('{"tokens": {"access_token": "secret-at", "expi')
    result = run("logout")
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in folder.iterdir()) == [".credentials.json.lock"]


@respx.mock
def test_a_folder_that_cannot_hold_the_refresh_lock_fails_before_the_refresh_is_sent(
    run: Run, cli_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # it was a bare "Read-only file system: …/.credentials.json.lock"
    from civitai_app_sdk.oauth.store import FileRefreshLock

    monkeypatch.setenv("CIVITAI_API_URL", "https://orch.test")
    folder = cli_home / "config"
    old = TokenSet(access_token="old-access", expires_at=1.0, refresh_token="secret-r1")
    CredentialsFile(folder).write(StoredLogin(old, "cid", "https://auth.test", "https://orch.test"))
    token = respx.post("https://auth.test/api/auth/oauth/token").respond(json={})

    def read_only(self: FileRefreshLock, timeout: float) -> bool:
        raise OSError(errno.EROFS, "Read-only file system", str(folder))

    monkeypatch.setattr(FileRefreshLock, "acquire", read_only)
    result = run("workflows")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        f"error: cannot refresh the stored login: no lock file can be made in {folder} "
        "(Read-only file system); nothing was sent"
    )
    assert not token.called
    assert "secret" not in result.stderr


def _session_on(folder: Path, login: StoredLogin, monkeypatch: pytest.MonkeyPatch) -> object:
    """The token source a command resolves for ``login`` (what it sends with)."""
    from civitai_app_sdk.cli._config import load_settings
    from civitai_app_sdk.cli._session import resolve_token

    monkeypatch.setenv("CIVITAI_CONFIG_DIR", str(folder))
    monkeypatch.setenv("CIVITAI_KEYRING", "0")
    monkeypatch.setenv("CIVITAI_API_URL", login.api_url or "")
    monkeypatch.delenv("CIVITAI_API_TOKEN", raising=False)
    CredentialsFile(folder).write(login)
    return resolve_token(load_settings(cwd=folder))


LOCAL = StoredLogin(
    TokenSet(access_token="local-at", expires_at=time.time() + 3600, refresh_token="local-rt"),
    "local-app",
    "http://127.0.0.1:8787",
    "http://127.0.0.1:8787",
)
PRODUCTION = StoredLogin(
    TokenSet(access_token="secret-prod-at", expires_at=time.time() + 3600, refresh_token="prod-rt"),
    "prod-app",
    None,
    "https://orchestration.civitai.com",
)


def test_a_login_saved_by_another_command_is_not_sent_to_this_ones_api(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a running `workflow --wait` on serve-local sent the production token to it as soon
    # as `login --api-url https://orchestration.civitai.com` ran in another terminal
    from civitai_app_sdk.oauth import RefreshingTokenProvider

    source = _session_on(tmp_path, LOCAL, monkeypatch)
    assert isinstance(source, RefreshingTokenProvider)
    assert source.get_token() == "local-at"
    CredentialsFile(tmp_path).write(PRODUCTION)
    with pytest.raises(CliError, match="replaced by another command") as info:
        source.get_token()
    assert info.value.exit_code == 3
    assert "https://orchestration.civitai.com" in info.value.format_message()
    assert "secret" not in info.value.format_message()


@respx.mock
def test_an_expiring_login_does_not_refresh_or_clear_one_saved_meanwhile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from civitai_app_sdk.oauth import RefreshingTokenProvider

    expiring = attrs.evolve(LOCAL, tokens=attrs.evolve(LOCAL.tokens, expires_at=1.0))
    source = _session_on(tmp_path, expiring, monkeypatch)
    assert isinstance(source, RefreshingTokenProvider)
    token = respx.post(url__regex=r".*").respond(400, json={"error": "invalid_grant"})
    stale = attrs.evolve(PRODUCTION, tokens=attrs.evolve(PRODUCTION.tokens, expires_at=1.0))
    CredentialsFile(tmp_path).write(stale)
    with pytest.raises(CliError, match="replaced by another command"):
        source.get_token()
    assert not token.called  # prod-rt never went to the local OAuth server
    assert CredentialsFile(tmp_path).read() == stale
    # nor is a pair refreshed for the old login written over it, nor is it cleared
    bound = CredentialsFile(tmp_path).only(expiring)
    bound.save(TokenSet(access_token="local-at-2", expires_at=4e9, refresh_token="x"))
    bound.clear()
    assert CredentialsFile(tmp_path).read() == stale


def test_a_config_dir_that_is_a_file_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("mine")
    notes.chmod(0o644)
    with pytest.raises(CredentialsWriteError, match="cannot save the login"):
        CredentialsFile(notes).write(LOGIN)
    assert mode(notes) == 0o644  # not made 0700
    assert notes.read_text() == "mine"
