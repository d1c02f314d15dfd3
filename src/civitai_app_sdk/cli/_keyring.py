"""Where ``login`` keeps credentials: the OS keyring when there is one, else the file.

The keyring entry (service ``civitai-orch``, account = the credentials file's absolute
path, so each config directory has its own) holds the same JSON document as
``credentials.json``.
With a working keyring the file is removed after a save; without one (a server, CI, a
container) the owner-only file is used. ``CIVITAI_KEYRING=0`` turns the keyring off.
So a file that exists holds the newest login, and is read before the keyring.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Final

from ._config import ConfigError, warn
from ._credentials import (
    CredentialsFile,
    LoginTokens,
    StoredLogin,
    login_from_json,
    login_to_json,
)
from ._json import parse_json

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

    from civitai_app_sdk.oauth.store import RefreshLock

SERVICE: Final = "civitai-orch"
ENV_KEYRING: Final = "CIVITAI_KEYRING"


def system_keyring() -> KeyringBackend | None:
    """The OS keyring, or ``None`` when there is none usable (or ``CIVITAI_KEYRING=0``)."""
    if os.environ.get(ENV_KEYRING, "").strip().lower() in {"0", "false", "no", "off"}:
        return None
    import keyring
    from keyring.backends import chainer, fail, null

    try:
        backend = keyring.get_keyring()
    except Exception as exc:  # a PYTHON_KEYRING_BACKEND or keyringrc.cfg that does not load
        warn(f"cannot load the OS keyring ({type(exc).__name__}: {exc}); using the file")
        return None
    if isinstance(backend, chainer.ChainerBackend) and not backend.backends:
        return None  # a chain of nothing: it drops every password it is given
    return None if isinstance(backend, fail.Keyring | null.Keyring) else backend


class CredentialStore(LoginTokens):
    """A :class:`~civitai_app_sdk.oauth.store.LockingTokenStore` over the keyring, else the file.

    Refreshes by several processes are serialised by the credentials file's lock,
    wherever the tokens themselves are kept.
    """

    def __init__(self, directory: Path, backend: KeyringBackend | None = None) -> None:
        """Use the keyring ``backend`` (default: the system's) and ``directory``'s file."""
        self.file = CredentialsFile(directory)
        # absolute: a relative CIVITAI_CONFIG_DIR names another folder in each project
        self.account = str(self.file.path.absolute())
        self._backend = backend if backend is not None else system_keyring()
        self.keyring_failed = False
        """Whether the last ``delete`` could not read or change the keyring."""

    def __repr__(self) -> str:
        where = "keyring" if self._backend is not None else "file"
        return f"CredentialStore({self.account!r}, {where})"

    def _keyring_text(self) -> str | None:
        if self._backend is None:
            return None
        try:
            return self._backend.get_password(SERVICE, self.account)
        except Exception as exc:  # any keyring failure falls back to the file
            warn(f"cannot read the OS keyring ({type(exc).__name__}); using {self.file.path}")
            return None

    def read(self) -> StoredLogin | None:
        """The stored login (the file first, then the keyring), or ``None``.

        A save to the keyring removes the file, so a file that is there holds the
        newest login: one saved while the keyring was off, locked or broken.
        """
        from_file = self.file.read()
        if from_file is not None:
            return from_file
        text = self._keyring_text()
        if text is not None:
            try:
                data = parse_json(text)
            except ValueError:
                raise ConfigError(
                    "the OS keyring entry of civitai-orch is not JSON; run `civitai-orch login`"
                ) from None
            return login_from_json(data, "the OS keyring entry of civitai-orch")
        return None

    def write(self, login: StoredLogin) -> str:
        """Save ``login``; returns where it went (``the OS keyring`` or the file's path)."""
        if self._backend is not None:
            text = json.dumps(login_to_json(login))
            try:
                self._backend.set_password(SERVICE, self.account, text)
                kept = self._backend.get_password(SERVICE, self.account) == text
            except Exception as exc:  # a locked or broken keyring: the file still works
                warn(f"cannot write the OS keyring ({type(exc).__name__}); using the file")
            else:
                if kept:
                    self.file.delete()
                    return "the OS keyring"
                warn("the OS keyring did not keep the login; using the file")
        self.file.write(login)
        return str(self.file.path)

    def delete(self) -> bool:
        """Remove the login from the keyring and the file; ``False`` if neither held one.

        A keyring that cannot be read or changed sets :attr:`keyring_failed`: a login
        kept there may still be there.
        """
        removed = False
        if self._backend is not None:
            try:
                if self._backend.get_password(SERVICE, self.account) is not None:
                    self._backend.delete_password(SERVICE, self.account)
                    removed = True
            except Exception as exc:  # report, and still remove the file
                warn(f"cannot remove the OS keyring entry ({type(exc).__name__})")
                self.keyring_failed = True
        return self.file.delete() or removed

    def refresh_lock(self) -> RefreshLock:
        """The credentials file's lock (LockingTokenStore protocol)."""
        return self.file.refresh_lock()
