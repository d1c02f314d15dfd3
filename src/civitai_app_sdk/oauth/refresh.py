"""Access tokens on demand: refresh shortly before expiry, once, storing the rotated pair.

Civitai rotates refresh tokens: each refresh kills the one presented. So refreshes are
single-flight. Concurrent callers, threads and asyncio tasks alike, share one refresh
and the same result, and the new pair is saved to the store before anyone sees it. An
async refresh runs as its own task, so cancelling a caller never loses rotated tokens.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hmac
import threading
import time
from collections.abc import Callable
from typing import Final

from .._transport import TokenSource
from ..errors import ConfigurationError
from .client import AsyncOAuthClient, OAuthClient
from .errors import LoginRequiredError, OAuthError
from .store import TokenStore
from .tokens import TokenSet

__all__ = ["DEFAULT_REFRESH_MARGIN", "RefreshingTokenProvider", "TokenProvider"]

DEFAULT_REFRESH_MARGIN: Final = 60.0
"""Refresh this many seconds before the access token expires."""
_DEFAULT_WAIT: Final = 60.0

_Flight = concurrent.futures.Future[TokenSet]


def _interrupted() -> OAuthError:
    return OAuthError("temporarily_unavailable", "the token refresh was interrupted")


TokenProvider = TokenSource
"""The SDK's one token protocol (:class:`civitai_app_sdk._transport.TokenSource`)."""


class RefreshingTokenProvider:
    """A :class:`TokenProvider` over a :class:`TokenStore` that refreshes before expiry.

    ``get_token`` refreshes with ``client`` and ``aget_token`` with ``async_client``
    (falling back to ``client`` in a worker thread). When the store is empty, has no
    refresh token, or the server refuses the refresh token (``invalid_grant``, after
    which the store is cleared), :class:`LoginRequiredError` is raised. Other refresh
    failures propagate and leave the store as it was.
    """

    def __init__(
        self,
        store: TokenStore,
        *,
        client: OAuthClient | None = None,
        async_client: AsyncOAuthClient | None = None,
        refresh_margin: float = DEFAULT_REFRESH_MARGIN,
        wait_timeout: float = _DEFAULT_WAIT,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Use ``store`` and at least one client; times are in seconds."""
        if client is None and async_client is None:
            raise ConfigurationError("give a client, an async_client, or both")
        self._store = store
        self._client = client
        self._async_client = async_client
        self._margin = refresh_margin
        self._wait = wait_timeout
        self._clock = clock
        self._mutex = threading.Lock()
        self._flight: _Flight | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def __repr__(self) -> str:
        return f"RefreshingTokenProvider(store={self._store!r}, margin={self._margin})"

    def _begin(self, can_lead: bool) -> TokenSet | tuple[_Flight, str | None]:
        """Fresh tokens, or the refresh to wait for plus the token to send if leading."""
        with self._mutex:
            tokens = self._store.load()
            if tokens is None:
                raise LoginRequiredError("no tokens are stored")
            if not tokens.is_expired(leeway=self._margin, now=self._clock()):
                return tokens
            if self._flight is not None:
                return self._flight, None
            if tokens.refresh_token is None:
                raise LoginRequiredError("the access token expired and there is no refresh token")
            if not can_lead:
                raise ConfigurationError("refreshing in get_token() needs a sync OAuthClient")
            flight: _Flight = concurrent.futures.Future()
            flight.set_running_or_notify_cancel()
            self._flight = flight
            return flight, tokens.refresh_token

    def _succeed(self, flight: _Flight, tokens: TokenSet) -> None:
        """Store the rotated pair, then release the waiters (with the save error if any)."""
        try:
            with self._mutex:
                try:
                    self._store.save(tokens)
                finally:
                    self._flight = None
        except Exception as error:
            flight.set_exception(error)
            return
        except BaseException:
            flight.set_exception(_interrupted())
            raise
        flight.set_result(tokens)

    def _still_stored(self, refresh_token: str) -> bool:
        """Whether the store still holds ``refresh_token`` (compared in constant time)."""
        current = self._store.load()
        stored = current.refresh_token if current is not None else None
        return stored is not None and hmac.compare_digest(
            stored.encode("utf-8", "surrogatepass"), refresh_token.encode("utf-8", "surrogatepass")
        )

    def _fail(self, flight: _Flight, error: BaseException, refresh_token: str) -> None:
        """Release the waiters with ``error``; a refused token is cleared from the store.

        The store is cleared only if it still holds the refused token, so a newer pair
        saved meanwhile (by another process or provider) is not thrown away.
        """
        refused = isinstance(error, OAuthError) and error.error == "invalid_grant"
        with self._mutex:
            if refused and self._still_stored(refresh_token):
                self._store.clear()
            self._flight = None
        if refused:
            assert isinstance(error, OAuthError)
            login = LoginRequiredError("the refresh token was refused", status=error.status)
            login.__cause__ = error
            flight.set_exception(login)
        elif isinstance(error, Exception):
            flight.set_exception(error)
        else:
            flight.set_exception(_interrupted())

    def _settle(
        self, flight: _Flight, refresh_token: str, outcome: TokenSet | BaseException
    ) -> None:
        """End the flight with the refresh's outcome; re-raise interruptions (Ctrl-C…)."""
        if isinstance(outcome, TokenSet):
            self._succeed(flight, outcome)
            return
        self._fail(flight, outcome, refresh_token)
        if not isinstance(outcome, Exception):
            raise outcome

    def _lead_sync(self, flight: _Flight, refresh_token: str) -> None:
        assert self._client is not None
        outcome: TokenSet | BaseException
        try:
            outcome = self._client.refresh_token(refresh_token)
        except BaseException as error:
            outcome = error
        self._settle(flight, refresh_token, outcome)

    async def _lead_async(self, flight: _Flight, refresh_token: str) -> None:
        outcome: TokenSet | BaseException
        try:
            if self._async_client is not None:
                outcome = await self._async_client.refresh_token(refresh_token)
            else:
                assert self._client is not None
                outcome = await asyncio.to_thread(self._client.refresh_token, refresh_token)
        except BaseException as error:
            outcome = error
        self._settle(flight, refresh_token, outcome)

    def get_tokens(self) -> TokenSet:
        """The current token set, refreshed first when it is within the margin of expiry."""
        state = self._begin(can_lead=self._client is not None)
        if isinstance(state, TokenSet):
            return state
        flight, refresh_token = state
        if refresh_token is not None:
            self._lead_sync(flight, refresh_token)
        try:
            return flight.result(timeout=self._wait)
        except concurrent.futures.TimeoutError:
            raise OAuthError("temporarily_unavailable", "timed out waiting for a refresh") from None

    async def aget_tokens(self) -> TokenSet:
        """Async :meth:`get_tokens`; the refresh itself is shielded from cancellation."""
        state = self._begin(can_lead=True)
        if isinstance(state, TokenSet):
            return state
        flight, refresh_token = state
        if refresh_token is not None:
            task = asyncio.ensure_future(self._lead_async(flight, refresh_token))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        try:
            async with asyncio.timeout(self._wait):
                return await asyncio.shield(asyncio.wrap_future(flight))
        except TimeoutError:
            raise OAuthError("temporarily_unavailable", "timed out waiting for a refresh") from None

    def get_token(self) -> str:
        """A valid access token (see :meth:`get_tokens`)."""
        return self.get_tokens().access_token

    async def aget_token(self) -> str:
        """A valid access token (see :meth:`aget_tokens`)."""
        return (await self.aget_tokens()).access_token
