"""Access tokens on demand: refresh shortly before expiry, once, storing the rotated pair.

Civitai rotates refresh tokens: each refresh kills the one presented. So refreshes are
single-flight. Concurrent callers, threads and asyncio tasks alike, share one refresh
and the same result, and the new pair is saved to the store before anyone sees it. An
async refresh runs as its own task, so cancelling a caller never loses rotated tokens.
Across providers and processes, a store's ``refresh_lock`` (a file lock for the CLI's
``credentials.json``) serialises refreshes, and a refusal is checked against the store
before anyone is told to sign in again.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import hashlib
import hmac
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Final

import anyio
import anyio.to_thread

from .._event_loops import asyncio_loop
from .._fork import reset_in_child
from .._settings import TokenSource
from ..errors import ConfigurationError
from ._values import finite_number
from .client import AsyncOAuthClient, OAuthClient
from .errors import LoginRequiredError, OAuthError
from .store import LockingTokenStore, RefreshLock, TokenStore
from .tokens import TokenSet

if TYPE_CHECKING:
    import asyncio

__all__ = ["DEFAULT_REFRESH_MARGIN", "RefreshingTokenProvider", "TokenProvider"]

DEFAULT_REFRESH_MARGIN: Final = 60.0
"""Refresh this many seconds before the access token expires."""
_DEFAULT_WAIT: Final = 60.0
_ROUNDS: Final = 3
_LOCK_POLL: Final = 0.02
_LOOP_POLL: Final = 0.1
"""Seconds between looks at whether the event loop leading a refresh was closed."""
_SPENT: Final = (
    "this client already sent the refresh token once without getting new tokens back "
    "(no answer, a 5xx, or a refresh cut by a cancellation or the end of its event loop): "
    "it may be spent, and is never sent twice; sign in again"
)


def _interrupted() -> OAuthError:
    return OAuthError("temporarily_unavailable", "the token refresh was interrupted")


def _loop_closed() -> OAuthError:
    return OAuthError(
        "temporarily_unavailable",
        "the event loop running the token refresh was closed before the refresh ended",
    )


def _digest(refresh_token: str) -> bytes:
    return hashlib.sha256(refresh_token.encode("utf-8", "surrogatepass")).digest()


class _Hold:
    """A taken refresh lock, given back once: by its refresh, or for a refresh whose
    event loop was closed under it (and again, harmlessly, if that one is ever closed)."""

    def __init__(self, lock: RefreshLock) -> None:
        self._lock: RefreshLock | None = lock
        self._mutex = threading.Lock()

    def release(self) -> None:
        with self._mutex:
            lock, self._lock = self._lock, None
        if lock is not None:
            lock.release()


class _Flight(concurrent.futures.Future[TokenSet]):
    """One refresh that callers share. ``loop`` is the asyncio loop of its lead task
    (``None``: a thread or a trio task leads), ``hold`` the refresh lock it holds and
    ``sending`` the refresh token it is sending, if any."""

    def __init__(self) -> None:
        super().__init__()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.hold: _Hold | None = None
        self.sending: str | None = None


@contextlib.contextmanager
def _held(lock: RefreshLock | None) -> Iterator[_Hold | None]:
    """Hold ``lock`` (already taken, or ``None``) until the block ends."""
    hold = None if lock is None else _Hold(lock)
    try:
        yield hold
    finally:
        if hold is not None:
            hold.release()


def _lock_timeout() -> OAuthError:
    return OAuthError("temporarily_unavailable", "timed out waiting for another refresh")


def _wait_timeout() -> OAuthError:
    return OAuthError("temporarily_unavailable", "timed out waiting for a refresh")


async def _acquire_async(lock: RefreshLock, seconds: float) -> None:
    """Take ``lock`` within ``seconds`` without blocking the event loop (polling)."""
    deadline = time.monotonic() + seconds
    while not lock.acquire(0):
        if time.monotonic() >= deadline:
            raise _lock_timeout()
        await anyio.sleep(_LOCK_POLL)


TokenProvider = TokenSource
"""The SDK's one token protocol (:class:`civitai_app_sdk._settings.TokenSource`)."""


class RefreshingTokenProvider:
    """A :class:`TokenProvider` over a :class:`TokenStore` that refreshes before expiry.

    ``get_token`` refreshes with ``client`` and ``aget_token`` with ``async_client``
    (falling back to ``client`` in a worker thread). A store with a ``refresh_lock``
    (:class:`~civitai_app_sdk.oauth.store.LockingTokenStore`) is locked for the whole
    refresh, so other providers and processes on it wait and then read the new pair.
    When the server refuses the refresh token (``invalid_grant``), the store is read
    again: a pair rotated meanwhile by someone else is used. Only when the store still
    holds the refused token is it cleared and :class:`LoginRequiredError` raised (also
    when the store is empty or has no refresh token). Other failures propagate and
    leave the store as it was; one that never reached the server (no connection, a
    closed event loop, a cancellation before a byte of it was written) leaves the
    refresh token usable for the next try. A refresh led by a task of an asyncio loop
    closed (``loop.close()``) before the task ended fails its waiters
    (:class:`OAuthError` ``temporarily_unavailable``) instead of keeping them waiting;
    the next call starts a new one, unless the closed loop may have sent the refresh
    token, which is then never sent again (:class:`LoginRequiredError`).
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
        """Use ``store`` and at least one client; times are in seconds, ``refresh_margin``
        0 or more and ``wait_timeout`` above 0 (else :class:`ConfigurationError`: a NaN
        margin never refreshed)."""
        if client is None and async_client is None:
            raise ConfigurationError("give a client, an async_client, or both")
        margin, wait = finite_number(refresh_margin), finite_number(wait_timeout)
        if margin is None or margin < 0:
            raise ConfigurationError("refresh_margin must be a finite number of seconds, 0 or more")
        if wait is None or wait <= 0:
            raise ConfigurationError("wait_timeout must be a finite number of seconds above 0")
        self._store = store
        self._client = client
        self._async_client = async_client
        self._margin = refresh_margin
        self._wait = wait_timeout
        self._clock = clock
        self._mutex = threading.Lock()
        self._flight: _Flight | None = None
        self._tasks: set[asyncio.Future[None]] = set()
        self._frozen: set[bytes] = set()  # digests of tokens sent from a closed loop
        reset_in_child(self, RefreshingTokenProvider._in_child)

    def _in_child(self) -> None:
        """In a forked child: a fresh lock and no refresh in flight (the thread or event
        loop running it did not come along; the child refreshes on its own)."""
        self._mutex = threading.Lock()
        self._flight = None
        self._tasks = set()

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
            if self._flight is not None and not self._ended_if_frozen(self._flight):
                return self._flight, None
            if tokens.refresh_token is None:
                raise LoginRequiredError("the access token expired and there is no refresh token")
            if not can_lead:
                raise ConfigurationError("refreshing in get_token() needs a sync OAuthClient")
            flight = _Flight()
            flight.set_running_or_notify_cancel()
            self._flight = flight
            return flight, tokens.refresh_token

    def _finish(self, flight: _Flight, outcome: TokenSet | BaseException) -> None:
        """End the flight: release the waiters with the new pair or the failure (unless
        it was ended already, its event loop closed under it)."""
        with self._mutex:
            if self._flight is flight:
                self._flight = None
            if flight.done():
                return
            if isinstance(outcome, TokenSet):
                flight.set_result(outcome)
            elif isinstance(outcome, Exception):
                flight.set_exception(outcome)
            else:
                flight.set_exception(_interrupted())

    def _ended_if_frozen(self, flight: _Flight) -> bool:
        """End ``flight`` if the asyncio loop of its lead task was closed before the task
        ended (it never runs again); called with the mutex held.

        Its waiters get :func:`_loop_closed`, the refresh lock it held is given back,
        and a refresh token it was sending is remembered as possibly spent.
        """
        if flight.done() or flight.loop is None or not flight.loop.is_closed():
            return False
        if self._flight is flight:
            self._flight = None
        if flight.sending is not None:
            self._frozen.add(_digest(flight.sending))
        if flight.hold is not None:
            flight.hold.release()
        flight.set_exception(_loop_closed())
        return True

    def _wait_for(self, flight: _Flight) -> TokenSet:
        """The outcome of ``flight`` within ``wait_timeout``, looking meanwhile whether
        the event loop leading it was closed under it."""
        deadline = time.monotonic() + self._wait
        while not flight.done():
            left = deadline - time.monotonic()
            if left <= 0:
                raise _wait_timeout()
            concurrent.futures.wait([flight], min(left, _LOOP_POLL))
            with self._mutex:
                self._ended_if_frozen(flight)
        return flight.result()

    def _frozen_refusal(self, refresh_token: str) -> OAuthError | None:
        """A local ``invalid_grant`` for a refresh token a refresh of a closed event loop
        may have sent (it is never sent again), else ``None``."""
        if _digest(refresh_token) not in self._frozen:
            return None
        return OAuthError("invalid_grant", "this refresh token was already sent once")

    def _next_step(self) -> TokenSet | str:
        """The stored pair if it is fresh (someone refreshed it), else the token to send."""
        tokens = self._store.load()
        if tokens is None:
            raise LoginRequiredError("no tokens are stored")
        if not tokens.is_expired(leeway=self._margin, now=self._clock()):
            return tokens
        if tokens.refresh_token is None:
            raise LoginRequiredError("the access token expired and there is no refresh token")
        return tokens.refresh_token

    def _after(self, refresh_token: str, outcome: TokenSet | BaseException) -> TokenSet | None:
        """Save a new pair; after a refusal, ``None`` when the store moved on meanwhile.

        A refusal of the token still stored means the login is over: the store is
        cleared when the server itself refused it. A local refusal (this client
        already sent the token once) leaves the store for the next process to try.
        A failure that never reached the server leaves everything as it was.
        """
        if isinstance(outcome, TokenSet):
            self._store.save(outcome)
            return outcome
        if not (isinstance(outcome, OAuthError) and outcome.error == "invalid_grant"):
            raise outcome
        with self._mutex:
            if not self._still_stored(refresh_token):
                return None
            if outcome.status is not None:
                self._store.clear()
        why = "the refresh token was refused" if outcome.status is not None else _SPENT
        raise LoginRequiredError(why, status=outcome.status) from outcome

    def _still_stored(self, refresh_token: str) -> bool:
        """Whether the store still holds ``refresh_token`` (compared in constant time)."""
        current = self._store.load()
        stored = current.refresh_token if current is not None else None
        return stored is not None and hmac.compare_digest(
            stored.encode("utf-8", "surrogatepass"), refresh_token.encode("utf-8", "surrogatepass")
        )

    def _refresh_sync(self) -> TokenSet:
        """Re-read, refresh and save, retrying when another refresher rotated the pair."""
        assert self._client is not None
        for _ in range(_ROUNDS):
            step = self._next_step()
            if isinstance(step, TokenSet):
                return step
            outcome: TokenSet | BaseException | None = self._frozen_refusal(step)
            if outcome is None:
                try:
                    outcome = self._client.refresh_token(step)
                except BaseException as error:
                    outcome = error
            tokens = self._after(step, outcome)
            if tokens is not None:
                return tokens
        raise OAuthError("temporarily_unavailable", "the tokens kept changing during a refresh")

    async def _refresh_async(self, flight: _Flight) -> TokenSet:
        """Async :meth:`_refresh_sync`, with the async client (``flight`` notes the
        token being sent)."""
        for _ in range(_ROUNDS):
            step = self._next_step()
            if isinstance(step, TokenSet):
                return step
            assert self._async_client is not None
            outcome: TokenSet | BaseException | None = self._frozen_refusal(step)
            if outcome is None:
                flight.sending = step
                try:
                    outcome = await self._async_client.refresh_token(step)
                except BaseException as error:
                    outcome = error
                flight.sending = None
            tokens = self._after(step, outcome)
            if tokens is not None:
                return tokens
        raise OAuthError("temporarily_unavailable", "the tokens kept changing during a refresh")

    def _lock(self) -> RefreshLock | None:
        return self._store.refresh_lock() if isinstance(self._store, LockingTokenStore) else None

    def _settle(self, flight: _Flight, outcome: TokenSet | BaseException) -> None:
        """Hand ``outcome`` to every waiter; an interruption (not an error) goes on up."""
        self._finish(flight, outcome)
        if isinstance(outcome, BaseException) and not isinstance(outcome, Exception):
            raise outcome

    def _lead_sync(self, flight: _Flight) -> None:
        outcome: TokenSet | BaseException
        try:
            lock = self._lock()
            if lock is not None and not lock.acquire(self._wait):
                raise _lock_timeout()
            with _held(lock):
                outcome = self._refresh_sync()
        except BaseException as error:
            outcome = error
        self._settle(flight, outcome)

    async def _lead_async(self, flight: _Flight) -> None:
        outcome: TokenSet | BaseException
        try:
            lock = self._lock()
            if lock is not None:
                await _acquire_async(lock, self._wait)
            with _held(lock) as hold:
                flight.hold = hold
                outcome = await self._refresh_async(flight)
        except BaseException as error:
            outcome = error
        self._settle(flight, outcome)

    def get_tokens(self) -> TokenSet:
        """The current token set, refreshed first when it is within the margin of expiry."""
        state = self._begin(can_lead=self._client is not None)
        if isinstance(state, TokenSet):
            return state
        flight, refresh_token = state
        if refresh_token is not None:
            self._lead_sync(flight)
        return self._wait_for(flight)

    async def aget_tokens(self) -> TokenSet:
        """Async :meth:`get_tokens`; the refresh itself is shielded from cancellation.

        Under asyncio the refresh runs as its own task (see :meth:`_start_lead`); under
        trio (through anyio) it runs in the caller's task, shielded: a caller cancelled
        meanwhile stops once the rotated pair is stored. A refresh cut by the end of its
        event loop before a byte of it was written leaves the refresh token to the next
        call; one cut later may have spent it (:class:`LoginRequiredError` next, the
        store left as it was).
        """
        state = self._begin(can_lead=True)
        if isinstance(state, TokenSet):
            return state
        flight, refresh_token = state
        if asyncio_loop() is None:
            return await self._await_elsewhere(flight, refresh_token)
        import asyncio  # loaded: its loop runs

        if refresh_token is not None:
            self._start_lead(flight)
        loop = asyncio.get_running_loop()
        poll = None if flight.loop is loop else _LOOP_POLL  # a running loop is not closed
        waited = asyncio.wrap_future(flight)
        deadline = loop.time() + self._wait
        try:
            while not waited.done():
                left = deadline - loop.time()
                if left <= 0:
                    raise _wait_timeout()
                await asyncio.wait([waited], timeout=left if poll is None else min(left, poll))
                with self._mutex:
                    self._ended_if_frozen(flight)
            return waited.result()
        finally:  # a caller gone takes no outcome (one left unread is logged as an error)
            if not loop.is_closed():
                waited.cancel()

    def _start_lead(self, flight: _Flight) -> None:
        """Lead ``flight`` under asyncio, where the end of ``asyncio.run`` cancels every
        task. With the async client it is a task; one cancelled before it ran ends the
        flight, which would otherwise stay open for good. The sync client runs in a
        worker thread of the loop's executor: the whole refresh, its saving included, so
        no cancellation can lose the rotated pair, and ``asyncio.run`` waits for it (as
        long as the client's timeout)."""
        import asyncio  # loaded: its loop runs

        lead: asyncio.Future[None]
        if self._async_client is None:
            lead = asyncio.get_running_loop().run_in_executor(None, self._lead_sync, flight)
        else:
            flight.loop = asyncio.get_running_loop()
            lead = asyncio.ensure_future(self._lead_async(flight))
            lead.add_done_callback(lambda _: self._end_unled(flight))
        self._tasks.add(lead)
        lead.add_done_callback(self._tasks.discard)

    def _end_unled(self, flight: _Flight) -> None:
        """End ``flight`` if its lead task ended without ending it (it never ran)."""
        if not flight.done():
            self._finish(flight, _interrupted())

    async def _await_elsewhere(self, flight: _Flight, refresh_token: str | None) -> TokenSet:
        """:meth:`aget_tokens` without asyncio: lead the refresh shielded (the sync client
        in a worker thread), or wait for it in a worker thread (given up if the caller
        is cancelled)."""
        if refresh_token is not None:
            with anyio.CancelScope(shield=True):
                if self._async_client is None:
                    await anyio.to_thread.run_sync(self._lead_sync, flight)
                else:
                    await self._lead_async(flight)
        else:
            await anyio.to_thread.run_sync(self._wait_for, flight, abandon_on_cancel=True)
        return flight.result()

    def get_token(self) -> str:
        """A valid access token (see :meth:`get_tokens`)."""
        return self.get_tokens().access_token

    async def aget_token(self) -> str:
        """A valid access token (see :meth:`aget_tokens`)."""
        return (await self.aget_tokens()).access_token
