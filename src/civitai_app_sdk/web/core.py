"""Framework-free core of "Sign in with Civitai": settings, the flow steps, shared caches.

:class:`WebAuthCore` holds what every request shares: the cookie sealer (with secret
rotation), the cookie layout, the OAuth client (one per running event loop), a
single-flight refresh that many requests carrying the same cookie can join (under asyncio
or trio, across loops), the replay guard for callbacks and a short cache of
``/api/v1/me``. The ASGI layer (:class:`~civitai_app_sdk.web.CivitaiAuth`) only moves
these values in and out of requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Final
from urllib.parse import urlsplit

import anyio
import httpx

from .._event_loops import running_loop
from .._fork import reset_in_child
from .._loopback import is_loopback
from ..cookies import CookieSealer
from ..errors import CivitaiError, ConfigurationError, RequestValidationError
from ..oauth import (
    DEFAULT_ISSUER,
    DEFAULT_SITE_URL,
    AsyncOAuthClient,
    CivitaiUser,
    OAuthError,
    ScopeRequest,
    TokenSet,
)
from ..oauth.urls import normalize_base_url, scope_value
from ._flights import CUT, Flight, RunFlight, elsewhere, ended_in_child
from ._loop_clients import LoopClients
from .chunks import ChunkedCookie
from .errors import CallbackError, SignInUnavailableError, StateMismatchError
from .login import DEFAULT_LOGIN_TTL, LoginRequest, begin_login, check_callback
from .session import Session, SessionStore, given_back

__all__ = [
    "DEFAULT_SESSION_MAX_AGE",
    "MIN_SECRET_LENGTH",
    "WebAuthCore",
]

DEFAULT_SESSION_MAX_AGE: Final = 30 * 24 * 3600
"""Lifetime of the session cookie: 30 days, like a Civitai refresh token."""
MIN_SECRET_LENGTH: Final = 32
"""Shortest cookie secret accepted, in characters (``secrets.token_urlsafe(32)`` is 43)."""
_RECENT_REFRESH: Final = 120.0
_MAX_REFRESH_MARGIN: Final = 600.0
_USER_CACHE_SIZE: Final = 1024
_USED_STATES: Final = 10_000


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).digest()


def _seconds(value: object, most: float) -> bool:
    """Whether ``value`` is a number of seconds from 0 to ``most`` (not a bool)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= most


def _app_origin(redirect_uri: str) -> tuple[str, bool]:
    """The app's origin and whether it is https; refuses a redirect URI unsafe for tokens."""
    if not isinstance(redirect_uri, str):
        raise ConfigurationError("redirect_uri must be a str")
    try:
        parts = urlsplit(redirect_uri)
        host = parts.hostname or ""
    except ValueError:  # "https://[::1": an unclosed IPv6 bracket
        raise ConfigurationError("redirect_uri is not a valid URL") from None
    if parts.scheme == "https" and host:
        secure = True
    elif parts.scheme == "http" and is_loopback(host):
        secure = False
    else:
        raise ConfigurationError("redirect_uri must be https (plain http only on loopback)")
    if parts.username or parts.password or parts.fragment:
        raise ConfigurationError("redirect_uri may not carry credentials or a fragment")
    if not parts.path.startswith("/"):
        raise ConfigurationError("redirect_uri needs a path (the callback route)")
    # as browsers send it in ``Origin``: lower case, no default port
    return normalize_base_url(f"{parts.scheme}://{parts.netloc}"), secure


class WebAuthCore:
    """The shared state and steps of web sign-in; see :class:`CivitaiAuth` for the options."""

    def __init__(
        self,
        *,
        client_id: str,
        redirect_uri: str,
        scopes: ScopeRequest,
        cookie_secrets: str | Sequence[str],
        client_secret: str | None = None,
        oauth_url: str = DEFAULT_ISSUER,
        site_url: str = DEFAULT_SITE_URL,
        store: SessionStore | None = None,
        cookie_name: str = "civitai_session",
        login_cookie_name: str = "civitai_login",
        session_max_age: int = DEFAULT_SESSION_MAX_AGE,
        login_ttl: int = DEFAULT_LOGIN_TTL,
        refresh_margin: float = 60.0,
        user_cache_ttl: float = 300.0,
        oauth_client: AsyncOAuthClient | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Check every option now, so a misconfigured app fails at start-up."""
        self.origin, secure = _app_origin(redirect_uri)
        for name, seconds in (("session_max_age", session_max_age), ("login_ttl", login_ttl)):
            if isinstance(seconds, int) and not isinstance(seconds, bool) and seconds <= 0:
                # the browser would drop every session, or every sign-in would be too late
                raise ConfigurationError(f"{name} must be a positive number of seconds")
        if not _seconds(refresh_margin, _MAX_REFRESH_MARGIN):
            raise ConfigurationError(
                f"refresh_margin must be 0-{_MAX_REFRESH_MARGIN:g} seconds (tokens live an hour)"
            )
        if not _seconds(user_cache_ttl, math.inf):
            # else every page asking for the user failed (a str), or none was cached (NaN)
            raise ConfigurationError("user_cache_ttl must be a number of seconds, 0 or more")
        self.redirect_uri = redirect_uri
        self.callback_path = urlsplit(redirect_uri).path
        try:  # once, now: a generator would be used up by the first sign-in
            self.scopes: ScopeRequest = scope_value(scopes)
        except (TypeError, ValueError) as exc:
            why = "; ".join(exc.problems) if isinstance(exc, RequestValidationError) else exc
            raise ConfigurationError(f"scopes: {why}") from None
        try:
            secret_list = tuple(
                (cookie_secrets,) if isinstance(cookie_secrets, str) else cookie_secrets
            )
        except TypeError:  # not iterable
            raise ConfigurationError("cookie_secrets must be a str or a list of str") from None
        if any(isinstance(s, str) and len(s) < MIN_SECRET_LENGTH for s in secret_list):
            raise ConfigurationError(
                f"each cookie secret needs at least {MIN_SECRET_LENGTH} characters "
                "(generate one with: python -c 'import secrets; print(secrets.token_urlsafe(32))')"
            )
        for option, name in (
            ("cookie_name", cookie_name),
            ("login_cookie_name", login_cookie_name),
        ):
            if not isinstance(name, str):
                raise ConfigurationError(f"{option} must be a str")
        prefix = "__Host-" if secure else ""
        self.session_cookie = ChunkedCookie(prefix + cookie_name, session_max_age, secure)
        self.login_cookie = ChunkedCookie(
            prefix + login_cookie_name, login_ttl, secure, max_chunks=1
        )
        try:  # a session split over several cookies must still unseal
            self.sealer = CookieSealer(secret_list, max_length=self.session_cookie.capacity)
        except (TypeError, ValueError) as exc:
            raise ConfigurationError(f"cookie_secrets: {exc}") from None
        self.store = store
        self.session_max_age = session_max_age
        self.login_ttl = login_ttl
        self.refresh_margin = refresh_margin
        self.user_cache_ttl = user_cache_ttl
        self.clock = clock
        make = functools.partial(
            AsyncOAuthClient, client_id, client_secret, base_url=oauth_url, site_url=site_url
        )
        try:
            self.oauth = oauth_client or make()
        except ValueError as exc:
            raise ConfigurationError(str(exc)) from None
        # a given client serves every loop as it is (one running loop at a time); ours
        # gets a twin per loop running at once, sharing its single-use guard (a code or
        # refresh token goes out once, whichever loop sends it)
        self._loop_clients = (
            None
            if oauth_client is not None
            else LoopClients(self.oauth, lambda: self._twin(make()))
        )
        self._refreshes: dict[bytes, tuple[float, Flight]] = {}
        self._refreshes_lock = threading.Lock()
        self._users: OrderedDict[bytes, tuple[float, CivitaiUser]] = OrderedDict()
        self._used_states: OrderedDict[bytes, float] = OrderedDict()
        self._tables_lock = threading.Lock()  # of the two above, for loops in threads
        reset_in_child(self, WebAuthCore._in_child)

    def _in_child(self) -> None:
        """In a forked child: fresh locks, and the refreshes still in flight forgotten
        (their loops did not come along); those that ended stay for late joiners."""
        self._refreshes_lock = threading.Lock()
        self._tables_lock = threading.Lock()
        self._refreshes = {key: e for key, e in self._refreshes.items() if ended_in_child(e[1])}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(origin={self.origin!r}, oauth={self.oauth!r})"

    def _twin(self, client: AsyncOAuthClient) -> AsyncOAuthClient:
        """``client``, for one event loop, with the single-use guard of :attr:`oauth`."""
        client._guard = self.oauth._guard
        return client

    def _client(self) -> AsyncOAuthClient:
        """The OAuth client for the running event loop."""
        return self.oauth if self._loop_clients is None else self._loop_clients.current()

    def new_session(self, cookie_header: str | None) -> Session:
        """The (not yet loaded) session of a request with this ``Cookie`` header."""
        return Session(self, cookie_header)

    def start_login(self, session: Session, next_path: object) -> str:
        """Begin a sign-in: set the sealed sign-in cookie; returns the authorize URL."""
        pending, challenge = begin_login(next_path, now=self.clock())
        session.set_login_cookie(pending.seal(self.sealer))
        return self.oauth.authorize_url(
            redirect_uri=self.redirect_uri,
            scope=self.scopes,
            state=pending.state,
            code_challenge=challenge,
        )

    def _claim_state(self, state: str) -> None:
        """Accept each ``state`` once (a replayed callback fails even with its cookie)."""
        now, key = self.clock(), _digest(state)
        with self._tables_lock:
            while self._used_states and next(iter(self._used_states.values())) <= now:
                self._used_states.popitem(last=False)
            if key in self._used_states:
                raise StateMismatchError(
                    "This sign-in was already completed. Please sign in again."
                )
            self._used_states[key] = now + self.login_ttl
            while len(self._used_states) > _USED_STATES:
                self._used_states.popitem(last=False)

    async def finish_login(self, session: Session, params: Mapping[str, str]) -> str:
        """Complete a callback: check it, exchange the code once, start a new session.

        A refused code and a token call that got no usable answer are both
        :class:`CallbackError`, and the sign-in cookie is deleted. A call the server did
        not take (rate limited, 429, or never sent) left the code unused: the cookie is
        kept and :class:`SignInUnavailableError` says to reload the page, which finishes
        the sign-in with the same code. A callback whose ``state`` is not the cookie's
        leaves the cookie too: it belongs to a sign-in begun since, in another tab.
        Returns the ``next`` path.
        """
        await session.load()  # so a server-side session being replaced is deleted
        pending = LoginRequest.unseal(self.sealer, self.login_cookie.read(session.cookie_header))
        session.set_login_cookie(None)
        try:
            code = check_callback(params, pending, now=self.clock(), ttl=self.login_ttl)
        except StateMismatchError:
            if pending is not None:
                session.keep_login_cookie()
            raise
        assert pending is not None
        self._claim_state(pending.state)
        try:
            tokens = await self._client().exchange_code(
                code, redirect_uri=self.redirect_uri, code_verifier=pending.verifier
            )
        except CivitaiError as error:
            if not given_back(error):
                raise self._callback_error(error) from error
            self._release_state(pending.state)
            session.keep_login_cookie()
            raise SignInUnavailableError(
                "Civitai is busy right now. Reload this page in a moment to finish signing in."
            ) from error
        await session.save(tokens, new_session=True)
        return pending.next_path

    @staticmethod
    def _callback_error(error: CivitaiError) -> CallbackError:
        """The page for a code exchange that failed for good."""
        if isinstance(error, OAuthError):
            return CallbackError(
                "Civitai refused the sign-in (the code may have expired or been used). "
                "Please sign in again."
            )
        # no answer, or one that could not be read
        return CallbackError(
            "Civitai could not be reached to finish the sign-in. Please sign in again."
        )

    def _release_state(self, state: str) -> None:
        """Accept ``state`` again: its callback sent nothing the server took."""
        with self._tables_lock:
            self._used_states.pop(_digest(state), None)

    async def refresh(self, refresh_token: str) -> TokenSet:
        """Refresh once per refresh token: concurrent and later callers share the result.

        Civitai rotates refresh tokens, so two requests carrying the same cookie must
        not both send it; the outcome is kept for two minutes for late joiners.
        """
        now, key = self.clock(), _digest(refresh_token)
        loop = running_loop()
        stale: Flight | None = None
        while True:
            with self._refreshes_lock:  # loops in threads share it
                for old in [k for k, (until, _) in self._refreshes.items() if until <= now]:
                    del self._refreshes[old]
                found = self._refreshes.get(key)
                entry = (
                    found
                    if found is not None and found[1] is not stale
                    else self._start_refresh(key, refresh_token, loop, now)
                )
            flight = entry[1]
            if flight.get_loop() is loop:
                if isinstance(flight, RunFlight):
                    return await self._in_run(flight, None if entry is found else refresh_token)
                assert isinstance(flight, asyncio.Future)
                return await asyncio.shield(flight)
            outcome = await elsewhere(flight)
            if outcome is not None:  # the token went out there: never send it again
                return outcome
            stale = flight

    def _start_refresh(
        self, key: bytes, refresh_token: str, loop: object, now: float
    ) -> tuple[float, Flight]:
        """The refresh of ``refresh_token`` in ``loop``, kept for late joiners (the caller
        holds the lock): asyncio's sends it as a task; under trio the caller sends it."""
        flight: asyncio.Future[TokenSet] | RunFlight
        if isinstance(loop, asyncio.AbstractEventLoop):
            flight = asyncio.ensure_future(self._send_refresh(refresh_token))
        else:
            flight = RunFlight(loop)
        entry = (now + _RECENT_REFRESH, flight)
        self._refreshes[key] = entry
        flight.add_done_callback(lambda _: self._forget_transient(key, flight))
        return entry

    async def _send_refresh(self, refresh_token: str) -> TokenSet:
        return await self._client().refresh_token(refresh_token)

    async def _in_run(self, flight: RunFlight, refresh_token: str | None) -> TokenSet:
        """Send ``refresh_token`` (the caller leads), shielded from the caller's
        cancellation, or wait for the task of this trio run that sends it."""
        if refresh_token is None:
            await flight.ended.wait()
        else:
            with anyio.CancelScope(shield=True):
                try:
                    flight.set_result(await self._send_refresh(refresh_token))
                except Exception as error:
                    flight.set_exception(error)
                except BaseException:
                    flight.cancel()
                    raise
                finally:
                    flight.ended.set()
        if flight.cancelled():
            raise SignInUnavailableError(CUT)
        return flight.result()

    def _forget_transient(self, key: bytes, done: Flight) -> None:
        """Drop a failed refresh unless the server refused the token for good."""
        error = None if done.cancelled() else done.exception()
        refused = isinstance(error, OAuthError) and error.error == "invalid_grant"
        if (done.cancelled() or error is not None) and not refused:
            with self._refreshes_lock:
                entry = self._refreshes.get(key)
                if entry is not None and entry[1] is done:
                    del self._refreshes[key]

    def _forget_refresh_of(self, access_token: str) -> None:
        """Drop the refreshes kept for late joiners that handed out ``access_token``."""
        digest = _digest(access_token)
        with self._refreshes_lock:
            for key, (_, flight) in list(self._refreshes.items()):
                if (
                    flight.done()
                    and not flight.cancelled()
                    and flight.exception() is None
                    and _digest(flight.result().access_token) == digest
                ):
                    del self._refreshes[key]

    async def user_for(self, access_token: str) -> CivitaiUser:
        """``fetch_me`` for ``access_token``, cached for ``user_cache_ttl`` seconds."""
        now, key = self.clock(), _digest(access_token)
        cached = self._users.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        user = await self._client().fetch_me(access_token)
        with self._tables_lock:
            self._users[key] = (now + self.user_cache_ttl, user)
            self._users.move_to_end(key)
            while len(self._users) > _USER_CACHE_SIZE:
                self._users.popitem(last=False)
        return user

    async def end_session(self, session: Session) -> None:
        """Sign out: revoke the refresh (else access) token, then clear the session.

        Revoking is best effort, asked once (no retry: a server asking to wait would
        hold the sign-out page, and a user who gives up keeps the cookie). A revocation
        that fails does not keep the user signed in; cookies are cleared. The refresh
        that handed out these tokens is forgotten, so a late request carrying the cookie
        from before it cannot sign the user in again.
        """
        await session.load()
        tokens = session.tokens
        if tokens is not None:
            self._forget_refresh_of(tokens.access_token)
            token, hint = (
                (tokens.refresh_token, "refresh_token")
                if tokens.refresh_token
                else (tokens.access_token, "access_token")
            )
            once = self._client().with_options(max_retries=0)
            with contextlib.suppress(CivitaiError, httpx.HTTPError):
                await once.revoke_token(token, token_type_hint=hint)
        await session.clear()

    async def aclose(self) -> None:
        """Close the OAuth client, and the twins of ours that loops no longer use (see
        :meth:`LoopClients.aclose`)."""
        if self._loop_clients is None:
            await self.oauth.aclose()
        else:
            await self._loop_clients.aclose()
