"""``OAuthClient`` and ``AsyncOAuthClient`` over httpx, plus one-shot sync functions.

Both clients build every request with :mod:`._core` and only differ in how bytes
move. Request bodies are byte-identical to 0.14's for the same inputs. Differences
from 0.14: finite timeouts (:data:`DEFAULT_TIMEOUT`); the OAuth base URL defaults to
the issuer ``https://auth.civitai.com`` (0.14 uses the ``https://civitai.com`` proxy);
no ``client_secret`` is ever sent as the text ``null`` (``None`` omits it, ``""`` is
refused); an authorization code or refresh token already sent by a client raises
``invalid_grant`` locally instead of being sent again; token responses are validated;
``fetch_me`` returns a typed :class:`CivitaiUser` and parses JSON error bodies.
``fetch_buzz_account`` calls 0.14's ``buzz.getUserAccount`` and returns its list of
accounts; ``fetch_buzz_balances`` calls ``buzz.getBuzzAccount`` for the spendable pools.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any, Final, Generic, TypeVar, Unpack

import anyio
import attrs
import httpx

from .._operations import AsyncClient, Operation, SyncClient, client_operation
from .._request import RequestOptions, with_options
from .._retry import DEFAULT_MAX_RETRIES
from .._transport import AsyncTransport, SyncTransport
from ..errors import CivitaiError
from . import _core
from ._core import DEFAULT_TIMEOUT, Credentials, OnceGuard
from .account import BuzzAccount, BuzzBalances, CivitaiUser
from .device import DeviceAuthorization, DevicePoller
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
    "fetch_buzz_balances",
    "fetch_me",
    "refresh_token",
    "revoke_token",
]

T = TypeVar("T")
H = TypeVar("H", httpx.Client, httpx.AsyncClient)
_FREE_GUARD: Final = OnceGuard()


def _opts(operation: Operation[T], options: RequestOptions) -> Operation[T]:
    return attrs.evolve(operation, call=with_options(operation.call, options))


def _exchange(
    client: _Base[Any],
    code: str,
    *,
    redirect_uri: str,
    code_verifier: str,
    **options: Unpack[RequestOptions],
) -> Operation[TokenSet]:
    """Trade an authorization code (single use) and PKCE verifier for tokens."""
    return _core.exchange_call(
        client._creds,
        client._guard,
        code=code,
        redirect_uri=redirect_uri,
        code_verifier=code_verifier,
        now=client._clock(),
        options=options,
    )


def _refresh(
    client: _Base[Any], refresh_token: str, **options: Unpack[RequestOptions]
) -> Operation[TokenSet]:
    """Trade a refresh token for a new pair (the old one is dead afterwards); an answer
    without a refresh token keeps the one sent, which stays usable (RFC 6749 section 6)."""
    return _core.refresh_call(
        client._creds,
        client._guard,
        refresh_token=refresh_token,
        now=client._clock(),
        options=options,
    )


def _revoke(
    client: _Base[Any],
    token: str,
    *,
    token_type_hint: str | None = None,
    **options: Unpack[RequestOptions],
) -> Operation[None]:
    """Ask the server to revoke ``token`` (it answers 200 even when it did nothing)."""
    operation = _core.revoke_call(client._creds, token=token, token_type_hint=token_type_hint)
    return _opts(operation, options)


def _me(
    client: _Base[Any], access_token: str, **options: Unpack[RequestOptions]
) -> Operation[CivitaiUser]:
    """The token's user from ``/api/v1/me`` on the site URL."""
    return _opts(_core.me_call(client._site_url, access_token=access_token), options)


def _buzz(
    client: _Base[Any], access_token: str, **options: Unpack[RequestOptions]
) -> Operation[list[BuzzAccount]]:
    """The user's Buzz accounts (``buzz.getUserAccount``, as 0.14; needs BuzzRead)."""
    call = _core.buzz_user_account_call(client._site_url, access_token=access_token)
    return _opts(call, options)


def _buzz_balances(
    client: _Base[Any], access_token: str, **options: Unpack[RequestOptions]
) -> Operation[BuzzBalances]:
    """The user's spendable Buzz pools (``buzz.getBuzzAccount``; needs BuzzRead)."""
    return _opts(_core.buzz_call(client._site_url, access_token=access_token), options)


def _device_start(
    client: _Base[Any], scope: ScopeRequest, **options: Unpack[RequestOptions]
) -> Operation[DeviceAuthorization]:
    """Begin a device grant for ``scope`` (a bitmask or scope names)."""
    operation = _core.device_start_call(client._creds, scope=scope, now=client._clock())
    return _opts(operation, options)


def _device_poll(
    client: _Base[Any], authorization: DeviceAuthorization, **options: Unpack[RequestOptions]
) -> Operation[TokenSet]:
    """Poll once; ``authorization_pending`` and the like raise :class:`OAuthError`."""
    operation = _core.device_poll_call(
        client._creds, authorization=authorization, now=client._clock()
    )
    return _opts(operation, options)


class _Base(Generic[H]):
    """Configuration and the single-request methods, shared by both clients.

    Without ``client_secret`` the client is public (PKCE only); with it, confidential.
    ``http_client`` is used as is and left open; otherwise the client creates its own
    and closes it. An ``http_client``'s default headers go with every request, to the
    issuer and the site only (no OAuth call follows a redirect); answers are asked for
    in ``gzip, deflate`` only. ``clock`` returns epoch seconds (for tests). Requests go
    through the package's request core: finite timeouts, retries where repeating is
    safe (never a grant that may have been sent), redacted logging and typed errors
    (transport failures are :class:`~civitai_app_sdk.errors.TransportError`).
    """

    _transport_class: Any

    def __init__(
        self,
        client_id: str,
        client_secret: str | None = None,
        *,
        base_url: str = DEFAULT_ISSUER,
        site_url: str = DEFAULT_SITE_URL,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: H | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Configure the client; nothing is sent until the first call."""
        self._creds = Credentials(client_id, client_secret, base_url)
        self._site_url = normalize_base_url(site_url)
        self.settings = _core.settings(timeout, max_retries)
        self._clock = clock
        self._guard = OnceGuard()
        self._transport = self._transport_class(self.settings, http_client=http_client)

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

    def _poller(self, authorization: DeviceAuthorization, max_wait: float | None) -> DevicePoller:
        return DevicePoller(authorization, clock=self._clock, max_wait=max_wait)

    exchange_code = client_operation(_exchange)
    refresh_token = client_operation(_refresh)
    revoke_token = client_operation(_revoke)
    fetch_me = client_operation(_me)
    fetch_buzz_account = client_operation(_buzz)
    fetch_buzz_balances = client_operation(_buzz_balances)
    start_device_authorization = client_operation(_device_start)
    poll_device_token = client_operation(_device_poll)


class OAuthClient(_Base[httpx.Client], SyncClient):
    """Synchronous OAuth client for a public (no secret) or confidential client.

    Options as described on :class:`_Base`; OAuth error answers raise :class:`OAuthError`.
    """

    _transport_class = SyncTransport

    def _run(self, operation: Operation[T]) -> T:
        with _core.unreadable_is_invalid():
            return super()._run(operation)

    def wait_for_device_token(
        self,
        authorization: DeviceAuthorization,
        *,
        max_wait: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> TokenSet:
        """Poll at the server's interval (slower after ``slow_down``) until approved.

        A lost answer or a 5xx does not end the wait (see :class:`DevicePoller`).
        Raises :class:`OAuthError` on denial, on expiry (``expired_token``) or once
        ``max_wait`` seconds have passed.
        """
        poller = self._poller(authorization, max_wait)
        while True:
            sleep(poller.next_delay())
            try:
                return self.poll_device_token(authorization)
            except CivitaiError as error:
                poller.on_error(error)


class AsyncOAuthClient(_Base[httpx.AsyncClient], AsyncClient):
    """Asynchronous twin of :class:`OAuthClient`, over ``httpx.AsyncClient``."""

    _transport_class = AsyncTransport

    async def _run(self, operation: Operation[T]) -> T:
        with _core.unreadable_is_invalid():
            return await super()._run(operation)

    async def wait_for_device_token(
        self,
        authorization: DeviceAuthorization,
        *,
        max_wait: float | None = None,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    ) -> TokenSet:
        """Poll until approved. See :meth:`OAuthClient.wait_for_device_token`."""
        poller = self._poller(authorization, max_wait)
        while True:
            await sleep(poller.next_delay())
            try:
                return await self.poll_device_token(authorization)
            except CivitaiError as error:
                poller.on_error(error)


def _one_shot(
    client_id: str,
    client_secret: str | None,
    base_url: str,
    timeout: httpx.Timeout | float,
    site_url: str = DEFAULT_SITE_URL,
) -> OAuthClient:
    """A short-lived client whose single-use guard is the process-wide one."""
    client = OAuthClient(
        client_id, client_secret, base_url=base_url, site_url=site_url, timeout=timeout
    )
    client._guard = _FREE_GUARD
    return client


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
    with _one_shot(client_id, client_secret, base_url, timeout) as client:
        return client.exchange_code(code, redirect_uri=redirect_uri, code_verifier=code_verifier)


def refresh_token(
    refresh_token: str,
    *,
    client_id: str,
    client_secret: str | None = None,
    base_url: str = DEFAULT_ISSUER,
    timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
) -> TokenSet:
    """One-shot :meth:`OAuthClient.refresh_token` (a token is sent at most once per process)."""
    with _one_shot(client_id, client_secret, base_url, timeout) as client:
        return client.refresh_token(refresh_token)


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
    with _one_shot(client_id, client_secret, base_url, timeout) as client:
        client.revoke_token(token, token_type_hint=token_type_hint)


def fetch_me(
    access_token: str,
    *,
    site_url: str = DEFAULT_SITE_URL,
    timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
) -> CivitaiUser:
    """One-shot :meth:`OAuthClient.fetch_me`."""
    with _one_shot("fetch_me", None, DEFAULT_ISSUER, timeout, site_url) as client:
        return client.fetch_me(access_token)


def fetch_buzz_account(
    access_token: str,
    *,
    site_url: str = DEFAULT_SITE_URL,
    timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
) -> list[BuzzAccount]:
    """One-shot :meth:`OAuthClient.fetch_buzz_account` (0.14's procedure and shape)."""
    with _one_shot("fetch_buzz_account", None, DEFAULT_ISSUER, timeout, site_url) as client:
        return client.fetch_buzz_account(access_token)


def fetch_buzz_balances(
    access_token: str,
    *,
    site_url: str = DEFAULT_SITE_URL,
    timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
) -> BuzzBalances:
    """One-shot :meth:`OAuthClient.fetch_buzz_balances`."""
    with _one_shot("fetch_buzz_balances", None, DEFAULT_ISSUER, timeout, site_url) as client:
        return client.fetch_buzz_balances(access_token)
