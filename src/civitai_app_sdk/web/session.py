"""One request's view of a signed-in session, and the pluggable server-side store.

A :class:`Session` is created per request from its ``Cookie`` header. It opens the
sealed session cookie (or the session id it holds, with a :class:`SessionStore`),
hands out access tokens (refreshing them when due) and the signed-in user, and
records the ``Set-Cookie`` values the response must carry, so a refreshed token set
is written back. It is sans-IO apart from the OAuth calls made through its owner.
"""

from __future__ import annotations

import hmac
import json
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Final, Protocol, TypeVar, runtime_checkable

from .._fork import reset_in_child
from ..errors import ConfigurationError, SealedCookieTooLargeError, TransportError
from ..oauth import CivitaiUser, OAuthError, TokenSet
from ..oauth._unsent import may_resend, unanswered
from .chunks import cookie_names
from .errors import (
    CookieTooLargeError,
    NotSignedInError,
    SessionExpiredError,
    SignInUnavailableError,
)

if TYPE_CHECKING:
    from .core import WebAuthCore

__all__ = ["MemorySessionStore", "Session", "SessionStore", "SessionTokenSource"]

T = TypeVar("T")

_ROUNDS: Final = 3
"""Refresh attempts of one request when other processes keep rotating the session."""


@runtime_checkable
class SessionStore(Protocol):
    """Server-side session storage: opaque text under a random key, with a lifetime.

    With a store, the session cookie only holds a sealed session id; the tokens stay
    on the server (use one for large sessions, or to end sessions from the server).
    """

    async def read(self, key: str) -> str | None:
        """The value stored under ``key``, or ``None`` (missing or expired)."""
        ...

    async def write(self, key: str, value: str, *, max_age: int) -> None:
        """Store ``value`` under ``key`` for ``max_age`` seconds."""
        ...

    async def delete(self, key: str) -> None:
        """Forget ``key`` (no error when it is unknown)."""
        ...


class MemorySessionStore:
    """An in-process :class:`SessionStore` with expiry and a size cap (oldest evicted first).

    Sessions are lost on restart and not shared between processes: for one-process
    apps and tests.
    """

    def __init__(self, *, max_entries: int = 10_000, clock: Callable[[], float] = time.time):
        """Keep at most ``max_entries`` sessions; ``clock`` gives epoch seconds."""
        self._items: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._max = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        reset_in_child(self, MemorySessionStore._in_child)

    def _in_child(self) -> None:
        """A fresh lock in a forked child (a thread of the parent may have held it); the
        sessions stay."""
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"MemorySessionStore({len(self._items)} session(s))"

    async def read(self, key: str) -> str | None:
        """The value under ``key`` unless it has expired."""
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            if item[0] <= self._clock():
                del self._items[key]
                return None
            return item[1]

    async def write(self, key: str, value: str, *, max_age: int) -> None:
        """Store ``value`` for ``max_age`` seconds, evicting the oldest beyond the cap."""
        with self._lock:
            self._items[key] = (self._clock() + max_age, value)
            self._items.move_to_end(key)
            while len(self._items) > self._max:
                self._items.popitem(last=False)

    async def delete(self, key: str) -> None:
        """Forget ``key``."""
        with self._lock:
            self._items.pop(key, None)


def _tokens_json(tokens: TokenSet) -> str:
    return json.dumps(tokens.to_json_dict(), separators=(",", ":"))


def _sealed_session(owner: WebAuthCore, text: str) -> str:
    """``text`` sealed for the session cookie; one too large for its chunks is the
    :class:`CookieTooLargeError` page, as when the chunks are counted."""
    try:
        return owner.sealer.seal(text)
    except SealedCookieTooLargeError:
        raise CookieTooLargeError(
            "the session is larger than its cookies hold; keep it in a server-side store instead"
        ) from None


def _read_json(text: str | None) -> object:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


class Session:
    """The session of one request: tokens, the signed-in user, cookies to send back."""

    def __init__(self, owner: WebAuthCore, cookie_header: str | None) -> None:
        """Bind to ``owner``'s settings and one request's ``Cookie`` header."""
        self._owner = owner
        self._header = cookie_header
        self._present = cookie_names(cookie_header)
        self._tokens: TokenSet | None = None
        self._session_id: str | None = None
        self._loaded = False
        self._headers: dict[str, list[str]] = {}

    def __repr__(self) -> str:
        return f"Session(signed_in={self.signed_in}, changed={self.changed})"

    @property
    def cookie_header(self) -> str | None:
        """The request's ``Cookie`` header."""
        return self._header

    @property
    def tokens(self) -> TokenSet | None:
        """The token set (not refreshed; use :meth:`access_token` for a usable token)."""
        return self._tokens

    @property
    def signed_in(self) -> bool:
        """Whether the request carried a valid session (after :meth:`load`)."""
        return self._tokens is not None

    @property
    def changed(self) -> bool:
        """Whether the response must carry ``Set-Cookie`` headers."""
        return bool(self._headers)

    async def load(self) -> Session:
        """Open the session cookie once; a tampered or stale one is deleted."""
        if self._loaded:
            return self
        self._loaded = True
        owner = self._owner
        raw = owner.session_cookie.read(self._header)
        if raw is None:
            if owner.session_cookie.name in self._present:
                self._set("session", None)
            return self
        plain = owner.sealer.unseal(raw)
        if owner.store is not None:
            data = _read_json(plain)
            sid = data.get("sid") if isinstance(data, dict) else None
            if isinstance(sid, str) and sid:
                self._session_id = sid
                plain = await owner.store.read(sid)
            else:
                plain = None
        data = _read_json(plain)
        try:
            self._tokens = TokenSet.from_json_dict(data)
        except ValueError:
            self._tokens = None
            self._session_id = None
            self._set("session", None)
        return self

    def _set(self, slot: str, value: str | None) -> None:
        """Record the ``Set-Cookie`` values for the session (or sign-in) cookie."""
        cookie = self._owner.session_cookie if slot == "session" else self._owner.login_cookie
        self._headers[slot] = cookie.set_cookie_headers(value, self._present)

    def set_login_cookie(self, sealed: str | None) -> None:
        """Set (or, with ``None``, delete) the short-lived sign-in cookie."""
        self._set("login", sealed)

    def keep_login_cookie(self) -> None:
        """Send nothing for the sign-in cookie: the browser keeps the one it has."""
        self._headers.pop("login", None)

    async def save(self, tokens: TokenSet, *, new_session: bool = False) -> None:
        """Store ``tokens`` (after sign-in or a refresh); ``new_session`` picks a new id."""
        owner = self._owner
        store = owner.store
        if store is None:
            self._set("session", _sealed_session(owner, _tokens_json(tokens)))
        else:
            if new_session or self._session_id is None:
                if self._session_id is not None:
                    await store.delete(self._session_id)
                self._session_id = secrets.token_urlsafe(32)
            await store.write(self._session_id, _tokens_json(tokens), max_age=owner.session_max_age)
            sealed = _sealed_session(owner, json.dumps({"sid": self._session_id}))
            self._set("session", sealed)
        self._tokens = tokens
        self._loaded = True

    async def clear(self) -> None:
        """Forget the session: delete its cookie(s) and its server-side entry."""
        if self._owner.store is not None and self._session_id is not None:
            await self._owner.store.delete(self._session_id)
        self._session_id = None
        self._tokens = None
        self._loaded = True
        self._set("session", None)

    async def access_token(self) -> str:
        """A usable access token, refreshed (and written back) when close to expiry.

        Raises :class:`NotSignedInError` without a session and
        :class:`SessionExpiredError` (after clearing the session) when the refresh
        token is missing or refused. With a store, a refusal first reads the session
        again: another process sharing the store may have rotated the pair meanwhile.
        A refresh refused as too many (429) or never sent raises
        :class:`SignInUnavailableError` and keeps the session. One sent without a
        usable answer (a timeout, 5xx, a 2xx that cannot be read) spent the refresh
        token, whose successor is unknown: :class:`SessionExpiredError`, unless the
        store holds a rotated pair.
        """
        await self.load()
        tokens = self._tokens
        if tokens is None:
            raise NotSignedInError("Please sign in with Civitai to continue.")
        owner = self._owner
        for _ in range(_ROUNDS):
            if not tokens.is_expired(leeway=owner.refresh_margin, now=owner.clock()):
                return tokens.access_token
            if tokens.refresh_token is None:
                break
            try:
                fresh = await owner.refresh(tokens.refresh_token)
            except (OAuthError, TransportError) as error:
                if given_back(error):
                    raise SignInUnavailableError(_UNAVAILABLE) from error
                lost = _lost(error)
                if not (lost or (isinstance(error, OAuthError) and error.error in _REFUSED)):
                    raise
                rotated = await self._rotated_elsewhere(tokens.refresh_token)
                if rotated is None:
                    await self.clear()
                    raise SessionExpiredError(_LOST if lost else _EXPIRED) from None
                self._tokens = tokens = rotated
                continue
            await self.save(fresh)
            return fresh.access_token
        await self.clear()
        raise SessionExpiredError(_EXPIRED)

    async def _rotated_elsewhere(self, refused: str) -> TokenSet | None:
        """The stored tokens if they no longer hold the ``refused`` refresh token."""
        store = self._owner.store
        if store is None or self._session_id is None:
            return None
        try:
            stored = TokenSet.from_json_dict(_read_json(await store.read(self._session_id)))
        except ValueError:
            return None
        if stored.refresh_token is None or hmac.compare_digest(
            stored.refresh_token.encode("utf-8", "surrogatepass"),
            refused.encode("utf-8", "surrogatepass"),
        ):
            return None
        return stored

    async def user(self) -> CivitaiUser:
        """The signed-in user (``/api/v1/me``), cached per access token for a few minutes.

        A token Civitai no longer accepts (HTTP 401: the user revoked the app, or signed
        out everywhere) ends the session: :class:`SessionExpiredError`, cookie deleted.
        No usable answer (none, a timeout, 429, 5xx, a 2xx that cannot be read) is
        :class:`SignInUnavailableError`.
        """
        token = await self.access_token()
        try:
            return await _answered(self._owner.user_for(token))
        except OAuthError as error:
            if error.status != 401:
                raise
            await self.clear()
            raise SessionExpiredError(_EXPIRED) from None

    def token_source(self) -> SessionTokenSource:
        """A token source for orchestrator clients that refreshes through this session."""
        return SessionTokenSource(self)

    def set_cookie_headers(self) -> list[str]:
        """Every ``Set-Cookie`` value the response must carry, in order."""
        return [header for slot in ("login", "session") for header in self._headers.get(slot, [])]


_EXPIRED: Final = "Your session has expired. Please sign in again."
_UNAVAILABLE: Final = (
    "Civitai did not answer in time. You are still signed in: please try again in a moment."
)
_LOST: Final = (
    "Civitai did not answer the renewal of your session, which cannot be renewed again. "
    "Please sign in again."
)
_REFUSED: Final = frozenset({"invalid_grant", "login_required"})
"""OAuth error codes of a refresh token the server will not take."""


def _unreadable(error: BaseException) -> bool:
    """A 2xx answer the SDK could not read (a captive portal's page, a body past the cap):
    the request may have been taken, its answer is lost."""
    return (
        isinstance(error, OAuthError)
        and error.error == "invalid_response"
        and (error.status is None or 200 <= error.status < 300)
    )


def _passing(error: BaseException) -> bool:
    """No usable answer: none, an unreadable one, a timeout, 429 or 5xx (the request may be
    made again later)."""
    return (
        unanswered(error)
        or _unreadable(error)
        or (isinstance(error, OAuthError) and error.status == 429)
    )


def given_back(error: BaseException) -> bool:
    """A failed refresh that left its refresh token unused: refused as too many (429), or
    never sent (see :func:`~civitai_app_sdk.oauth._unsent.may_resend`)."""
    return (isinstance(error, OAuthError) and error.status == 429) or may_resend(error)


def _lost(error: BaseException) -> bool:
    """A refresh sent without a usable answer: its single-use token is spent, the new pair
    unknown. So is one this client refused to send (no HTTP status): an earlier send of
    the token got no answer (one cut by a cancellation or its event loop's end too)."""
    if isinstance(error, OAuthError) and error.status is None and not _unreadable(error):
        return error.error == "invalid_grant"
    return _passing(error) and not given_back(error)


async def _answered(call: Awaitable[T]) -> T:
    """``call``'s result; a failure that passes (no answer, 429, 5xx) is a
    :class:`SignInUnavailableError`, and nothing of the session is changed."""
    try:
        return await call
    except (OAuthError, TransportError) as error:
        if _passing(error):
            raise SignInUnavailableError(_UNAVAILABLE) from error
        raise


class SessionTokenSource:
    """Hands a session's access token to a client (``AsyncOrchestratorClient``).

    ``aget_token`` refreshes when due and the rotated tokens reach the response's
    cookies. ``get_token`` (sync) cannot await a refresh: it returns the current token
    while it is fresh and raises :class:`ConfigurationError` otherwise.
    """

    def __init__(self, session: Session) -> None:
        """Wrap ``session``."""
        self._session = session

    def __repr__(self) -> str:
        return "SessionTokenSource(<session>)"

    async def aget_token(self) -> str:
        """A usable access token (see :meth:`Session.access_token`)."""
        return await self._session.access_token()

    def get_token(self) -> str:
        """The current access token if it needs no refresh."""
        tokens = self._session.tokens
        owner = self._session._owner
        if tokens is None:
            raise NotSignedInError("Please sign in with Civitai to continue.")
        if tokens.is_expired(leeway=owner.refresh_margin, now=owner.clock()):
            raise ConfigurationError(
                "the access token needs a refresh, which only the async path can do: use "
                "AsyncOrchestratorClient, or await session.access_token() first"
            )
        return tokens.access_token
