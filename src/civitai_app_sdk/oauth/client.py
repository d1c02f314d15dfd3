"""``OAuthClient`` and ``AsyncOAuthClient`` over httpx, plus one-shot sync functions.

Both clients build every request with :mod:`._core` and only differ in how bytes
move. Request bodies are byte-identical to 0.14's for the same inputs. Differences
from 0.14: finite timeouts (:data:`DEFAULT_TIMEOUT`); the OAuth base URL defaults to
the issuer ``https://auth.civitai.com`` (0.14 uses the ``https://civitai.com`` proxy);
no ``client_secret`` is ever sent as the text ``null`` (``None`` omits it, ``""`` is
refused); an authorization code or refresh token already sent by a client raises
``invalid_grant`` locally instead of being sent again; token responses are validated;
``fetch_me`` returns a typed :class:`CivitaiUser` and parses JSON error bodies;
``fetch_buzz_account`` calls ``buzz.getBuzzAccount`` (the balance procedure) rather
than 0.14's ``buzz.getUserAccount``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Final, Generic, Self, TypeVar

import httpx

from . import _core
from ._core import DEFAULT_TIMEOUT, Call, Credentials, OnceGuard
from ._unsent import release_if_unsent
from .account import BuzzAccount, CivitaiUser
from .device import DeviceAuthorization, DevicePoller
from .errors import OAuthError
from .tokens import TokenSet
from .urls import (
    DEFAULT_ISSUER,
    DEFAULT_SITE_URL,
    ScopeRequest,
    build_authorize_url,
    normalize_base_url,
)

__all__ = [
    "DEFAULT_TIMEOUT",
    "AsyncOAuthClient",
    "OAuthClient",
    "exchange_code",
    "fetch_buzz_account",
    "fetch_me",
    "refresh_token",
    "revoke_token",
]

T = TypeVar("T")
H = TypeVar("H", httpx.Client, httpx.AsyncClient)
_FREE_GUARD: Final = OnceGuard()


class _Base(Generic[H]):
    """Configuration, request building and httpx ownership shared by both clients."""

    def __init__(
        self,
        client_id: str,
        client_secret: str | None = None,
        *,
        base_url: str = DEFAULT_ISSUER,
        site_url: str = DEFAULT_SITE_URL,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        http_client: H | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Configure the client; ``clock`` returns epoch seconds (for tests).

        Without ``client_secret`` the client is public (PKCE only); with it,
        confidential. ``http_client`` is used as is and left open; otherwise the
        client creates its own and closes it.
        """
        self._creds = Credentials(client_id, client_secret, base_url)
        self._site_url = normalize_base_url(site_url)
        self._timeout = _core.as_timeout(timeout)
        self._clock = clock
        self._guard = OnceGuard()
        self._owns_http = http_client is None
        self._http: H = http_client if http_client is not None else self._new_http()

    def _new_http(self) -> H:
        raise NotImplementedError

    def __repr__(self) -> str:
        kind = "confidential" if self._creds.client_secret is not None else "public"
        return (
            f"{type(self).__name__}(client_id={self._creds.client_id!r}, {kind}, "
            f"base_url={self._creds.base_url!r})"
        )

    @property
    def client_id(self) -> str:
        """The OAuth client id."""
        return self._creds.client_id

    @property
    def base_url(self) -> str:
        """The normalised OAuth base URL."""
        return self._creds.base_url

    def authorize_url(
        self,
        *,
        redirect_uri: str,
        scope: ScopeRequest,
        state: str,
        code_challenge: str,
        nonce: str | None = None,
    ) -> str:
        """The authorize URL for this client (see :func:`build_authorize_url`)."""
        return build_authorize_url(
            client_id=self._creds.client_id,
            redirect_uri=redirect_uri,
            scope=scope,
            state=state,
            code_challenge=code_challenge,
            base_url=self._creds.base_url,
            nonce=nonce,
        )

    def _exchange(self, code: str, redirect_uri: str, code_verifier: str) -> Call[TokenSet]:
        return _core.exchange_call(
            self._creds,
            self._guard,
            code=code,
            redirect_uri=redirect_uri,
            code_verifier=code_verifier,
            now=self._clock(),
        )

    def _refresh(self, refresh_token: str) -> Call[TokenSet]:
        return _core.refresh_call(
            self._creds, self._guard, refresh_token=refresh_token, now=self._clock()
        )

    def _poller(self, authorization: DeviceAuthorization, max_wait: float | None) -> DevicePoller:
        return DevicePoller(authorization, clock=self._clock, max_wait=max_wait)


class OAuthClient(_Base[httpx.Client]):
    """Synchronous OAuth client for a public (no secret) or confidential client.

    Owns an ``httpx.Client`` unless one is passed in. Transport failures surface as
    ``httpx`` exceptions; OAuth error answers as :class:`OAuthError`.
    """

    def _new_http(self) -> httpx.Client:
        return httpx.Client()

    def _send(self, call: Call[T]) -> T:
        return _core.send_sync(self._http, call, self._timeout)

    def close(self) -> None:
        """Close the underlying httpx client if this object created it."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def exchange_code(self, code: str, *, redirect_uri: str, code_verifier: str) -> TokenSet:
        """Trade an authorization code (single use) and PKCE verifier for tokens."""
        return self._send(self._exchange(code, redirect_uri, code_verifier))

    def refresh_token(self, refresh_token: str) -> TokenSet:
        """Trade a refresh token for a new pair; the old one is dead afterwards."""
        with release_if_unsent(self._guard, refresh_token):
            return self._send(self._refresh(refresh_token))

    def revoke_token(self, token: str, *, token_type_hint: str | None = None) -> None:
        """Ask the server to revoke ``token`` (it answers 200 even when it did nothing)."""
        self._send(_core.revoke_call(self._creds, token=token, token_type_hint=token_type_hint))

    def fetch_me(self, access_token: str) -> CivitaiUser:
        """The token's user from ``/api/v1/me`` on the site URL."""
        return self._send(_core.me_call(self._site_url, access_token=access_token))

    def fetch_buzz_account(self, access_token: str) -> BuzzAccount:
        """The user's spendable Buzz pools (needs the BuzzRead scope)."""
        return self._send(_core.buzz_call(self._site_url, access_token=access_token))

    def start_device_authorization(self, scope: ScopeRequest) -> DeviceAuthorization:
        """Begin a device grant for ``scope`` (a bitmask or scope names)."""
        return self._send(_core.device_start_call(self._creds, scope=scope, now=self._clock()))

    def poll_device_token(self, authorization: DeviceAuthorization) -> TokenSet:
        """Poll once; ``authorization_pending`` and the like raise :class:`OAuthError`."""
        return self._send(
            _core.device_poll_call(self._creds, authorization=authorization, now=self._clock())
        )

    def wait_for_device_token(
        self,
        authorization: DeviceAuthorization,
        *,
        max_wait: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> TokenSet:
        """Poll at the server's interval (slower after ``slow_down``) until approved.

        Raises :class:`OAuthError` on denial, on expiry (``expired_token``) or once
        ``max_wait`` seconds have passed.
        """
        poller = self._poller(authorization, max_wait)
        while True:
            sleep(poller.next_delay())
            try:
                return self.poll_device_token(authorization)
            except OAuthError as error:
                poller.on_error(error)


class AsyncOAuthClient(_Base[httpx.AsyncClient]):
    """Asynchronous twin of :class:`OAuthClient`, over ``httpx.AsyncClient``."""

    def _new_http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient()

    async def _send(self, call: Call[T]) -> T:
        return await _core.send_async(self._http, call, self._timeout)

    async def aclose(self) -> None:
        """Close the underlying httpx client if this object created it."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def exchange_code(self, code: str, *, redirect_uri: str, code_verifier: str) -> TokenSet:
        """Trade an authorization code (single use) and PKCE verifier for tokens."""
        return await self._send(self._exchange(code, redirect_uri, code_verifier))

    async def refresh_token(self, refresh_token: str) -> TokenSet:
        """Trade a refresh token for a new pair; the old one is dead afterwards."""
        with release_if_unsent(self._guard, refresh_token):
            return await self._send(self._refresh(refresh_token))

    async def revoke_token(self, token: str, *, token_type_hint: str | None = None) -> None:
        """Ask the server to revoke ``token`` (it answers 200 even when it did nothing)."""
        call = _core.revoke_call(self._creds, token=token, token_type_hint=token_type_hint)
        await self._send(call)

    async def fetch_me(self, access_token: str) -> CivitaiUser:
        """The token's user from ``/api/v1/me`` on the site URL."""
        return await self._send(_core.me_call(self._site_url, access_token=access_token))

    async def fetch_buzz_account(self, access_token: str) -> BuzzAccount:
        """The user's spendable Buzz pools (needs the BuzzRead scope)."""
        return await self._send(_core.buzz_call(self._site_url, access_token=access_token))

    async def start_device_authorization(self, scope: ScopeRequest) -> DeviceAuthorization:
        """Begin a device grant for ``scope`` (a bitmask or scope names)."""
        call = _core.device_start_call(self._creds, scope=scope, now=self._clock())
        return await self._send(call)

    async def poll_device_token(self, authorization: DeviceAuthorization) -> TokenSet:
        """Poll once; ``authorization_pending`` and the like raise :class:`OAuthError`."""
        call = _core.device_poll_call(self._creds, authorization=authorization, now=self._clock())
        return await self._send(call)

    async def wait_for_device_token(
        self,
        authorization: DeviceAuthorization,
        *,
        max_wait: float | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> TokenSet:
        """Poll at the server's interval (slower after ``slow_down``) until approved.

        Raises :class:`OAuthError` on denial, on expiry (``expired_token``) or once
        ``max_wait`` seconds have passed.
        """
        poller = self._poller(authorization, max_wait)
        while True:
            await sleep(poller.next_delay())
            try:
                return await self.poll_device_token(authorization)
            except OAuthError as error:
                poller.on_error(error)


def _one_shot(call: Call[T], timeout: httpx.Timeout | float) -> T:
    with httpx.Client() as http:
        return _core.send_sync(http, call, _core.as_timeout(timeout))


def exchange_code(
    code: str,
    *,
    client_id: str,
    redirect_uri: str,
    code_verifier: str,
    client_secret: str | None = None,
    base_url: str = DEFAULT_ISSUER,
    timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
) -> TokenSet:
    """One-shot :meth:`OAuthClient.exchange_code` (a code is sent at most once per process)."""
    call = _core.exchange_call(
        Credentials(client_id, client_secret, base_url),
        _FREE_GUARD,
        code=code,
        redirect_uri=redirect_uri,
        code_verifier=code_verifier,
        now=time.time(),
    )
    return _one_shot(call, timeout)


def refresh_token(
    refresh_token: str,
    *,
    client_id: str,
    client_secret: str | None = None,
    base_url: str = DEFAULT_ISSUER,
    timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
) -> TokenSet:
    """One-shot :meth:`OAuthClient.refresh_token` (a token is sent at most once per process)."""
    creds = Credentials(client_id, client_secret, base_url)
    call = _core.refresh_call(creds, _FREE_GUARD, refresh_token=refresh_token, now=time.time())
    return _one_shot(call, timeout)


def revoke_token(
    token: str,
    *,
    client_id: str,
    client_secret: str | None = None,
    token_type_hint: str | None = None,
    base_url: str = DEFAULT_ISSUER,
    timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
) -> None:
    """One-shot :meth:`OAuthClient.revoke_token`."""
    creds = Credentials(client_id, client_secret, base_url)
    _one_shot(_core.revoke_call(creds, token=token, token_type_hint=token_type_hint), timeout)


def fetch_me(
    access_token: str,
    *,
    site_url: str = DEFAULT_SITE_URL,
    timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
) -> CivitaiUser:
    """One-shot :meth:`OAuthClient.fetch_me`."""
    return _one_shot(_core.me_call(site_url, access_token=access_token), timeout)


def fetch_buzz_account(
    access_token: str,
    *,
    site_url: str = DEFAULT_SITE_URL,
    timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
) -> BuzzAccount:
    """One-shot :meth:`OAuthClient.fetch_buzz_account`."""
    return _one_shot(_core.buzz_call(site_url, access_token=access_token), timeout)
