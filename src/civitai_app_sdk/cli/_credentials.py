"""The token kept by ``login``: one JSON file, owner-only, written atomically.

The file holds the token set in the 0.14 ``OAuthTokens`` shape, plus the OAuth client
id and server that issued it (both needed to refresh) and the API the login is for
(a stored login is sent to that API only). A pasted API key is stored with no expiry
and no refresh token. The OS keyring, when there is one, holds the same document
(see :mod:`._keyring`).
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import sys
import tempfile
from pathlib import Path
from typing import Final, Self

import attrs

from civitai_app_sdk._transport import DEFAULT_BASE_URL
from civitai_app_sdk.oauth.store import FileRefreshLock, RefreshLock
from civitai_app_sdk.oauth.tokens import TokenSet

from ._config import CREDENTIALS_FILE, ConfigError, is_http_url, origin, read_small_text
from ._exit import CliError, ExitCode
from ._json import parse_json
from ._output import note

NEVER_EXPIRES: Final = 253402300799.0
"""Epoch seconds of 9999-12-31: the expiry recorded for a pasted API key."""
_TEXT_KEYS: Final = ("client_id", "auth_url", "api_url")
_TEMP_PREFIX: Final = ".credentials-"
"""Names of the copies being written, before one replaces ``credentials.json``."""


@attrs.frozen
class StoredLogin:
    """What ``login`` saved: the tokens and, for OAuth tokens, how to refresh them."""

    tokens: TokenSet
    client_id: str | None = None
    auth_url: str | None = None
    api_url: str | None = None


def login_to_json(login: StoredLogin) -> dict[str, object]:
    """The stored document of ``login``."""
    payload: dict[str, object] = {"tokens": login.tokens.to_json_dict()}
    for key, value in (
        ("client_id", login.client_id),
        ("auth_url", login.auth_url),
        ("api_url", login.api_url),
    ):
        if value:
            payload[key] = value
    return payload


def _binding(login: StoredLogin) -> tuple[str | None, str | None, str]:
    """What a login's tokens may be sent to: its OAuth client and server, its API's origin."""
    return login.client_id, login.auth_url, origin(login.api_url or DEFAULT_BASE_URL)


def login_from_json(data: object, where: object) -> StoredLogin:
    """A login from its stored document; ``ConfigError`` naming ``where`` when it is bad."""
    if not isinstance(data, dict):
        raise ConfigError(f"{where} is not a JSON object; run `civitai-orch login`")
    try:
        tokens = TokenSet.from_json_dict(data.get("tokens"))
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}; run `civitai-orch login`") from None
    text = {k: v if isinstance(v := data.get(k), str) else None for k in _TEXT_KEYS}
    for key in ("auth_url", "api_url"):
        url = text[key]
        if url is not None and not is_http_url(url):
            raise ConfigError(f"{where}: {key} is not an http(s) URL; run `civitai-orch login`")
    return StoredLogin(tokens, text["client_id"], text["auth_url"], text["api_url"])


def _secure_dir(directory: Path) -> None:
    """Create ``directory`` if needed and make it owner-only (0700).

    Folders created on the way are owner-only too: under ``umask 000`` a new
    ``~/.config`` was world-writable, so anyone could swap the config folder inside.
    """
    missing = [d for d in directory.parents if not d.exists()]
    for folder in reversed(missing):
        folder.mkdir(mode=0o700, exist_ok=True)
    directory.mkdir(mode=0o700, exist_ok=True)  # FileExistsError when it is a file
    if sys.platform == "win32":
        return
    with contextlib.suppress(OSError):  # not ours to change: the file itself stays 0600
        if stat.S_IMODE(directory.stat().st_mode) != 0o700:
            directory.chmod(0o700)


_WARNED: set[Path] = set()
"""Files already warned about in this process (one warning per command)."""


def _shared_mode(path: Path) -> int | None:
    """The permission bits of ``path`` when group or others may read it, else ``None``."""
    if sys.platform == "win32":
        return None
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return None
    return mode if mode & 0o044 else None


class CredentialsWriteError(CliError):
    """The login could not be written (a full disk, a read-only config directory)."""

    def __init__(self, message: str, path: Path, reason: str) -> None:
        """``message`` for the user; ``reason`` is the system's (``No space left on device``)."""
        super().__init__(message, ExitCode.ERROR)
        self.path = path
        self.reason = reason


class LoginTokens:
    """The token-store protocol over a place that keeps a whole :class:`StoredLogin`.

    ``save`` keeps the client id, OAuth server and API already recorded, so a refresh
    that rotates the tokens does not forget how to refresh the next time. Subclasses
    give ``read``, ``write``, ``delete`` and ``refresh_lock``.
    """

    _only: tuple[str | None, str | None, str] | None = None

    def only(self, login: StoredLogin) -> Self:
        """Hand out, refresh and clear nothing but ``login`` (its client, OAuth server and API).

        Another login saved meanwhile by another command (``login --api-url`` elsewhere)
        is neither loaded (a :class:`CliError`), nor overwritten, nor cleared: its
        tokens never go to this login's API or OAuth server.
        """
        self._only = _binding(login)
        return self

    def _foreign(self, login: StoredLogin) -> bool:
        """Whether ``login`` is not the one :meth:`only` bound this store to."""
        return self._only is not None and _binding(login) != self._only

    def _current(self) -> StoredLogin | None:
        login = self.read()
        return None if login is None or self._foreign(login) else login

    def read(self) -> StoredLogin | None:
        """The stored login, or ``None`` when there is none."""
        raise NotImplementedError

    def write(self, login: StoredLogin) -> object:
        """Replace the stored login."""
        raise NotImplementedError

    def delete(self) -> bool:
        """Remove the stored login; ``False`` when there was none."""
        raise NotImplementedError

    def refresh_lock(self) -> RefreshLock:
        """The lock serialising refreshes of these tokens (LockingTokenStore protocol)."""
        raise NotImplementedError

    def load(self) -> TokenSet | None:
        """The stored tokens (TokenStore protocol); see :meth:`only`."""
        login = self.read()
        if login is None:
            return None
        if self._foreign(login):
            raise CliError(
                "the stored login was replaced by another command while this one ran "
                f"(the new one is for {_binding(login)[2]}); its token is not sent here",
                ExitCode.AUTH,
            )
        return login.tokens

    def save(self, tokens: TokenSet) -> None:
        """Store rotated tokens, keeping the recorded client and API (TokenStore protocol).

        When the login was removed meanwhile (``logout``), it stays removed: a pair
        saved on its own would bring it back bound to no API.
        """
        previous = self._current()
        if previous is None:
            return
        login = attrs.evolve(previous, tokens=tokens)
        try:
            self.write(login)
        except CredentialsWriteError as exc:
            # the server has already rotated the pair: the stored refresh token is dead
            raise CredentialsWriteError(
                f"the refreshed login could not be saved to {exc.path} ({exc.reason}) and "
                "the one stored is no longer valid: fix that, then run `civitai-orch login`",
                exc.path,
                exc.reason,
            ) from None

    def clear(self) -> None:
        """Forget the tokens (TokenStore protocol); another login saved meanwhile stays."""
        if self._current() is not None:
            self.delete()


class CredentialsFile(LoginTokens):
    """A :class:`~civitai_app_sdk.oauth.store.LockingTokenStore` over ``credentials.json``.

    ``save`` keeps the client id, OAuth server and API already recorded, so a refresh
    that rotates the tokens does not forget how to refresh the next time. Refreshes by
    several processes are serialised by a file lock beside the file. Reading a file
    that others may read prints a warning (once per process).
    """

    def __init__(self, directory: Path) -> None:
        """Use ``directory/credentials.json``."""
        self.path = directory / CREDENTIALS_FILE

    def __repr__(self) -> str:
        return f"CredentialsFile({str(self.path)!r})"

    def _check_mode(self) -> None:
        mode = _shared_mode(self.path)
        if mode is not None and self.path not in _WARNED:
            _WARNED.add(self.path)
            note(
                f"warning: {self.path} holds your token and other users can read it "
                f"(mode {mode:04o}); run `chmod 600 {self.path}`"
            )

    def read(self) -> StoredLogin | None:
        """The stored login, or ``None`` when there is none."""
        try:
            data = parse_json(read_small_text(self.path))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot read {self.path}: {exc}; run `civitai-orch login`") from None
        self._check_mode()
        return login_from_json(data, self.path)

    def write(self, login: StoredLogin) -> None:
        """Replace the file atomically and durably; it is readable by its owner only."""
        payload = login_to_json(login)
        try:
            self._replace(payload)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise CredentialsWriteError(
                f"cannot save the login to {self.path} ({reason}); the login stored "
                "before, if any, is unchanged",
                self.path,
                reason,
            ) from None

    def _replace(self, payload: dict[str, object]) -> None:
        _secure_dir(self.path.parent)
        fd, temp = tempfile.mkstemp(prefix=_TEMP_PREFIX, dir=self.path.parent)
        try:
            if sys.platform != "win32":
                os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(payload, handle)
                handle.flush()
                # a rotated pair must survive a crash: the old one is already dead
                os.fsync(handle.fileno())
            os.replace(temp, self.path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise

    def delete(self) -> bool:
        """Remove the file; ``False`` when there was nothing to remove.

        Half-written copies left by a process killed while it saved (``login``,
        ``logout`` and refreshes hold the refresh lock, so none is being written)
        go too: they hold a token as well.
        """
        with contextlib.suppress(OSError):
            for leftover in self.path.parent.glob(f"{_TEMP_PREFIX}*"):
                leftover.unlink(missing_ok=True)
        try:
            self.path.unlink()
        except FileNotFoundError:
            return False
        return True

    def refresh_lock(self) -> RefreshLock:
        """A file lock beside the file, held by whoever refreshes these tokens."""
        return _CredentialsLock(self.path.with_name(f".{self.path.name}.lock"))


class _CredentialsLock:
    """The refresh lock of ``credentials.json``; a folder that cannot hold it (read-only,
    full) is a :class:`CredentialsWriteError` before any refresh is sent."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with contextlib.suppress(OSError):  # acquire says why it cannot lock
            _secure_dir(path.parent)
        self._lock = FileRefreshLock(path)

    def acquire(self, timeout: float) -> bool:
        try:
            return self._lock.acquire(timeout)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise CredentialsWriteError(
                f"cannot refresh the stored login: no lock file can be made in "
                f"{self.path.parent} ({reason}); nothing was sent, and a refreshed login "
                "could not be saved there: make it writable, or set CIVITAI_API_TOKEN",
                self.path,
                reason,
            ) from None

    def release(self) -> None:
        self._lock.release()
