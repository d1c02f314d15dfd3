"""Where a user's tokens live between requests: the protocol and two implementations."""

from __future__ import annotations

import functools
import json
import os
import threading
from typing import Final, Protocol, runtime_checkable

import filelock

from civitai_app_sdk._fork import reset_in_child
from civitai_app_sdk.cookies import (
    MAX_SEALED_LENGTH,
    CookieSealer,
    build_set_cookie_header,
    read_cookie,
    sealed_length,
)
from civitai_app_sdk.errors import ConfigurationError

from .errors import TokenCookieTooLargeError
from .tokens import TokenSet

__all__ = [
    "DEFAULT_SESSION_COOKIE",
    "DEFAULT_SESSION_MAX_AGE",
    "FileRefreshLock",
    "LockingTokenStore",
    "MemoryTokenStore",
    "RefreshLock",
    "SealedCookieTokenStore",
    "TokenStore",
]

DEFAULT_SESSION_COOKIE: Final = "civitai_session"
DEFAULT_SESSION_MAX_AGE: Final = 30 * 24 * 3600
"""30 days: the lifetime of a Civitai refresh token, in seconds."""


@runtime_checkable
class TokenStore(Protocol):
    """Holds one token set.

    Calls must be quick and must not block on I/O for long: the refresh helper makes
    them while holding its lock.
    """

    def load(self) -> TokenSet | None:
        """The stored tokens, or ``None``."""
        ...

    def save(self, tokens: TokenSet) -> None:
        """Replace the stored tokens (after a sign-in or a refresh)."""
        ...

    def clear(self) -> None:
        """Forget the tokens (sign-out, or a refresh token the server refused)."""
        ...


class RefreshLock(Protocol):
    """A lock held across one refresh: re-read the store, refresh, save the new pair."""

    def acquire(self, timeout: float) -> bool:
        """Take the lock within ``timeout`` seconds (0: try once); ``False`` if not taken."""
        ...

    def release(self) -> None:
        """Give the lock back."""
        ...


@runtime_checkable
class LockingTokenStore(TokenStore, Protocol):
    """A :class:`TokenStore` that several providers or processes may refresh.

    :class:`~civitai_app_sdk.oauth.RefreshingTokenProvider` holds ``refresh_lock()``
    while it refreshes, so one refresh token is never sent twice by two of them.
    """

    def refresh_lock(self) -> RefreshLock:
        """The lock serialising refreshes of this store's tokens."""
        ...


class _ThreadLock:
    """A :class:`RefreshLock` over a ``threading.Lock`` (one process)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def acquire(self, timeout: float) -> bool:
        return self._lock.acquire(timeout=max(timeout, 0.0))

    def release(self) -> None:
        self._lock.release()


def _file_lock(path: str) -> filelock.FileLock:
    """An OS file lock on ``path`` that any thread may release."""
    return filelock.FileLock(path, mode=0o600, thread_local=False)


class FileRefreshLock:
    """A :class:`RefreshLock` across processes: an OS file lock on ``path``.

    Each instance opens the lock file on its own, so two instances exclude each other
    within one process too. It may be released from another thread than the one that
    took it (an async refresh takes it on the event loop).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        """Lock ``path`` (created, mode 0600, when missing)."""
        self._lock = _file_lock(os.fspath(path))
        reset_in_child(self, FileRefreshLock._in_child)

    def _in_child(self) -> None:
        """A lock of its own in a forked child: filelock refuses an inherited one (a bare
        ``RuntimeError``), and a hold the parent had is not the child's."""
        self._lock = _file_lock(self._lock.lock_file)

    def __repr__(self) -> str:
        return f"FileRefreshLock({self._lock.lock_file!r})"

    def acquire(self, timeout: float) -> bool:
        """Take the lock within ``timeout`` seconds; ``False`` when another holder keeps it."""
        try:
            self._lock.acquire(timeout=max(timeout, 0.0), poll_interval=0.01)
        except filelock.Timeout:
            return False
        return True

    def release(self) -> None:
        """Give the lock back."""
        self._lock.release()


class MemoryTokenStore:
    """A thread-safe in-process :class:`LockingTokenStore` (CLIs, scripts, tests)."""

    def __init__(self, tokens: TokenSet | None = None) -> None:
        """Start empty or with ``tokens``."""
        self._tokens = tokens
        self._lock = threading.Lock()
        self._refreshing = _ThreadLock()
        reset_in_child(self, MemoryTokenStore._in_child)

    def _in_child(self) -> None:
        """Fresh locks in a forked child (a thread of the parent may have held them, the
        refresh lock for a whole refresh)."""
        self._lock = threading.Lock()
        self._refreshing = _ThreadLock()

    def __repr__(self) -> str:
        return f"MemoryTokenStore({'<tokens>' if self._tokens else 'empty'})"

    def load(self) -> TokenSet | None:
        """The stored tokens, or ``None``."""
        with self._lock:
            return self._tokens

    def save(self, tokens: TokenSet) -> None:
        """Replace the stored tokens."""
        with self._lock:
            self._tokens = tokens

    def clear(self) -> None:
        """Forget the tokens."""
        with self._lock:
            self._tokens = None

    def refresh_lock(self) -> RefreshLock:
        """One lock per store, shared by every provider refreshing it."""
        return self._refreshing


class SealedCookieTokenStore:
    """A :class:`TokenStore` kept in a sealed session cookie, one instance per request.

    Reads the cookie from the request's ``Cookie`` header; after a ``save`` or
    ``clear``, :meth:`set_cookie_header` gives the ``Set-Cookie`` value to send back.
    The sealed payload is the 0.14 ``OAuthTokens`` JSON (``expires_at`` in epoch ms),
    so a Node app that seals ``JSON.stringify(tokens)`` with the same secret shares the
    session. A cookie that does not unseal or parse reads as no tokens.
    """

    def __init__(
        self,
        sealer: CookieSealer,
        cookie_header: str | None,
        *,
        name: str = DEFAULT_SESSION_COOKIE,
        max_age: int = DEFAULT_SESSION_MAX_AGE,
        path: str = "/",
        secure: bool = True,
        http_only: bool = True,
        same_site: str = "lax",
        domain: str | None = None,
    ) -> None:
        """Bind to one request's ``Cookie`` header; cookie attributes are checked now.

        A ``max_age`` below 1 second is a :class:`ConfigurationError`: the browser would
        drop every cookie saved (a rotated pair too).
        """
        if isinstance(max_age, int) and not isinstance(max_age, bool) and max_age < 1:
            raise ConfigurationError(f"max_age must be at least 1 second, not {max_age}")
        self._sealer = sealer
        self._name = name
        self._header = functools.partial(
            build_set_cookie_header,
            name,
            path=path,
            secure=secure,
            http_only=http_only,
            same_site=same_site,
            domain=domain,
        )
        self._max_age = max_age
        self._header("", max_age=max_age)
        self._sealed = read_cookie(cookie_header, name)
        self._changed = False
        self._lock = threading.Lock()
        reset_in_child(self, SealedCookieTokenStore._in_child)

    def _in_child(self) -> None:
        """A fresh lock in a forked child (a thread of the parent may have held it); the
        cookie's value stays."""
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"SealedCookieTokenStore(name={self._name!r}, changed={self._changed})"

    def load(self) -> TokenSet | None:
        """The tokens in the cookie (or from the last ``save``), else ``None``."""
        with self._lock:
            sealed = self._sealed
        plain = self._sealer.unseal(sealed) if sealed else None
        if plain is None:
            return None
        try:
            return TokenSet.from_json_dict(json.loads(plain))
        except ValueError:
            return None

    def save(self, tokens: TokenSet) -> None:
        """Seal ``tokens`` into the cookie value to send back.

        Raises :class:`~.errors.TokenCookieTooLargeError` (and keeps what it held) when
        the cookie would pass :data:`~civitai_app_sdk.cookies.MAX_SEALED_LENGTH`
        characters of ``name=value``, or the sealer's ``max_length``: a browser would
        drop it, or it could not be opened again.
        """
        payload = json.dumps(tokens.to_json_dict(), separators=(",", ":"))
        size = len(self._name) + 1 + sealed_length(payload)
        limit = min(MAX_SEALED_LENGTH, len(self._name) + 1 + self._sealer.max_length)
        if size > limit:
            raise TokenCookieTooLargeError(self._name, size, limit)
        sealed = self._sealer.seal(payload)
        with self._lock:
            self._sealed = sealed
            self._changed = True

    def clear(self) -> None:
        """Drop the tokens; the next ``Set-Cookie`` deletes the cookie."""
        with self._lock:
            self._sealed = None
            self._changed = True

    def set_cookie_header(self) -> str | None:
        """The ``Set-Cookie`` value for the response, or ``None`` if nothing changed."""
        with self._lock:
            if not self._changed:
                return None
            value, max_age = (self._sealed, self._max_age) if self._sealed else ("", 0)
        return self._header(value, max_age=max_age)
