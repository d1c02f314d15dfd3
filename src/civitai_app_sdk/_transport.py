"""The one request core: every HTTP request of the package is built, sent, retried,
logged and read through it.

Its parts, each in its own module: :class:`Settings` (one per client, :mod:`._settings`)
and :class:`Call` (one per request, :mod:`._request`) describe what to send;
:class:`RetryPolicy` (:mod:`._retry`) decides repeats; :func:`error_for` and
:func:`transport_error` (:mod:`._failures`) turn failures into typed errors;
:func:`exchange` (:mod:`._exchange`) is the whole request loop as a sans-IO generator,
yielding the few effects that need I/O (get a token, send, read a body, sleep).

This module holds the two transports that perform those effects,
:class:`SyncTransport` and :class:`AsyncTransport` (keeping the deadline around each
send and read, see :mod:`._deadline` and :mod:`._limits`), so the two cannot differ in
what they decide; the core's names are importable from here too.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, Final, Generic, Self, TypeVar

import anyio
import httpx

from ._capture import CapturedResponses, capture_responses, timed
from ._deadline import deadline_scope, download_deadline, install, remaining
from ._event_loops import LoopGuard
from ._exchange import Driver, Effect, NeedToken, Plan, Read, Send, Sleep, exchange
from ._failures import BODY_LIMIT, error_for, request_id, retry_after, transport_error
from ._fork import track
from ._held import spare_held
from ._hops import NO_AUTH, client_defaults, next_hop
from ._limits import aread_capped, limits_for, read_capped
from ._logging import redact_http_logs
from ._loopback import is_loopback
from ._reclaim import reclaim
from ._redact import redact
from ._request import (
    WAIT_MARGIN,
    Call,
    RequestBuilder,
    RequestOptions,
    build_request,
    to_url,
    with_options,
)
from ._retry import DEFAULT_MAX_RETRIES, NEVER_SENT, RetryPastDeadline, RetryPolicy
from ._settings import (
    DEFAULT_BASE_URL,
    DEFAULT_TIMEOUT,
    Settings,
    TokenSource,
    as_timeout,
    no_cookies,
)
from ._speed import DEFAULT_MIN_SPEED, MinSpeed, check_min_speed, meter_response
from .errors import ArgumentTypeError, ClientClosedError

__all__ = [
    "BODY_LIMIT",
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "NEVER_SENT",
    "WAIT_MARGIN",
    "AsyncTransport",
    "Call",
    "CapturedResponses",
    "Effect",
    "NeedToken",
    "Plan",
    "Read",
    "RequestBuilder",
    "RequestOptions",
    "RetryPastDeadline",
    "RetryPolicy",
    "Send",
    "Settings",
    "Sleep",
    "SyncTransport",
    "TokenSource",
    "as_timeout",
    "build_request",
    "capture_responses",
    "error_for",
    "exchange",
    "is_loopback",
    "no_cookies",
    "request_id",
    "retry_after",
    "to_url",
    "transport_error",
    "with_options",
]

R = TypeVar("R")

_CANCEL_SLACK: Final = 0.05
"""Seconds past a request's deadline before the async cancel scope fires (httpx's own,
clamped timeouts normally end it first, with a more precise error)."""
_CLOSED: Final = "Cannot send a request, as the client has been closed."
"""httpx's own words for a closed client (raised as a :class:`ClientClosedError`, which is
a ``RuntimeError`` as httpx's is)."""
_httpx_logger = logging.getLogger("httpx")


H = TypeVar("H", httpx.Client, httpx.AsyncClient)
B = TypeVar("B", httpx.BaseTransport, httpx.AsyncBaseTransport)
S = TypeVar("S")


class _Transport(Generic[H, B, S]):
    """What both transports hold: settings, the httpx client, the sleep and the clock."""

    _default_sleep: Any
    _new_http: Callable[[Settings, Any], tuple[Any, Any]]
    _client_type: type[httpx.Client | httpx.AsyncClient]

    def __init__(
        self,
        settings: Settings,
        *,
        http_client: H | None = None,
        transport: B | None = None,
        sleep: Callable[[float], S] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Use ``http_client`` as is, or create one (over ``transport`` if given, else
        over a pool of ``settings.max_connections`` sockets).

        ``sleep`` waits between retries; ``clock`` is what ``Call.retry_deadline`` is
        measured on.
        """
        if http_client is not None and not isinstance(http_client, self._client_type):
            raise ArgumentTypeError(
                f"http_client must be an httpx.{self._client_type.__name__}, not "
                f"{type(http_client).__name__}"
            )
        redact_http_logs()
        self.settings = settings
        self._owned = http_client is None
        self.http: H
        self._pool: B | None
        self.http, self._pool = (
            (http_client, None) if http_client is not None else self._new_http(settings, transport)
        )
        track(self._pool)  # a forked child must not talk on the parent's sockets
        self.builder = RequestBuilder.of(settings, self.http, plain=self._pool is not None)
        self.sleep: Callable[[float], S] = sleep or self._default_sleep
        self.clock = clock

    def _direct(self, send: Send) -> B | None:
        """The pool ``send`` may go straight to rather than through the client, if any.

        A client the SDK created has no auth, event hooks, proxies or cookies, so a
        request that follows no redirect and carries no credentials in its URL only
        needs the transport (which is what the client's ``send`` would call). What
        ``send`` does around it stays (:func:`_pool_answer`, :func:`finish`): a closed
        client refuses, a failure names its request, an answer knows its ``elapsed``
        and is logged to ``httpx``. Redirects, URL credentials and injected clients go
        through ``send``.
        """
        if send.follow_redirects or send.request.url.userinfo:
            return None
        return self._pool

    def _origin_only(self, send: Send) -> tuple[str, ...]:
        """The headers of ``send``'s request a redirect off its origin drops: the call's
        own and, from an injected client, its default headers but the harmless ones
        (:func:`~._hops.client_defaults`)."""
        if self._pool is not None:  # a client the SDK created has no headers of the app's
            return send.origin_only
        return (*send.origin_only, *client_defaults(send.request, self.http.headers))

    def derive(self, settings: Settings) -> Self:
        """A transport with other settings over the same connection pool (not owned)."""
        twin = copy.copy(self)
        twin.settings = settings
        twin.builder = RequestBuilder.of(settings, self.http, plain=self._pool is not None)
        twin._owned = False
        return twin


@contextlib.contextmanager
def _from_pool(request: httpx.Request) -> Iterator[None]:
    """A pool's failure names ``request``, as the clients' ``send`` makes it."""
    try:
        yield
    except httpx.RequestError as exc:
        exc.request = request
        raise


@contextlib.contextmanager
def _redirects(request: httpx.Request) -> Iterator[None]:
    """A redirect httpx cannot follow (``Location: data:x``, ``mailto:x``, a malformed
    IDNA host ``https://xn--/``) is the server's protocol error, as httpx makes other
    bad ``Location`` values: its bare ``InvalidURL`` or ``UnicodeError`` is no
    ``httpx.HTTPError``, so the SDK's errors did not cover it."""
    try:
        yield
    except (httpx.InvalidURL, UnicodeError) as exc:
        message = f"Invalid URL in location header: {exc}"
        raise httpx.RemoteProtocolError(message, request=request) from exc


def _pool_answer(request: httpx.Request, response: httpx.Response) -> httpx.Response:
    """``response`` from the pool as the clients' ``send`` hands it out: tied to
    ``request`` and logged to ``httpx`` (redacted, see
    :func:`~civitai_app_sdk._logging.redact_http_logs`); :func:`finish` times it."""
    response.request = request
    _httpx_logger.info(
        'HTTP Request: %s %s "%s %d %s"',
        request.method,
        request.url,
        response.http_version,
        response.status_code,
        response.reason_phrase,
    )
    return response


class SyncTransport(_Transport[httpx.Client, httpx.BaseTransport, None]):
    """Performs the core's effects with an ``httpx.Client`` (owned unless injected).

    A client it creates keeps no cookies and reads no proxy from the environment, and
    requests that follow no redirect go straight to its pool (:meth:`_direct`). That pool
    (its own, or an ``httpx.HTTPTransport`` passed as ``transport``) cuts every socket
    operation at the request's deadline (:func:`~civitai_app_sdk._deadline.install`); an
    injected client or another transport keeps the clamped httpx timeouts and the
    deadline checked between body chunks. Redirects are followed one hop at a time,
    whichever the client (:func:`~civitai_app_sdk._hops.next_hop`).
    """

    _default_sleep = staticmethod(time.sleep)
    _client_type = httpx.Client

    @staticmethod
    def _new_http(
        settings: Settings, transport: httpx.BaseTransport | None
    ) -> tuple[httpx.Client, httpx.BaseTransport]:
        if transport is None:
            transport = httpx.HTTPTransport(limits=limits_for(settings.max_connections))
        if isinstance(transport, httpx.HTTPTransport):
            install(transport)  # inert outside a request's deadline_scope
            spare_held(transport)  # shared by threads, it must not close a connection in use
        return httpx.Client(transport=transport, cookies=no_cookies()), transport

    def _send(self, effect: Send) -> httpx.Response:
        """Send through the pool itself when nothing of ``httpx.Client.send`` applies."""
        request = effect.request
        if effect.watch is not None:
            request.extensions["trace"] = effect.watch.saw
        if self.http.is_closed:  # before httpx's own check, which raises a plain RuntimeError
            raise ClientClosedError(_CLOSED)
        pool = self._direct(effect)
        if pool is None:
            with _redirects(request):
                if effect.follow_redirects:
                    return self._follow(effect)
                return self.http.send(request, stream=True, follow_redirects=False)
        with _from_pool(request):
            response = pool.handle_request(request)
        return _pool_answer(request, response)

    def _follow(self, effect: Send) -> httpx.Response:
        """Send ``effect``'s request and each redirect hop after it (:func:`next_hop`)."""
        first = effect.request
        history: list[httpx.Response] = []
        origin_only = self._origin_only(effect)
        response = self.http.send(first, stream=True, follow_redirects=False)
        while True:
            try:
                hop = next_hop(first, response, history, self.http.max_redirects, origin_only)
            except BaseException:
                response.close()
                raise
            if hop is None:
                response.history = history
                return response
            response.close()
            history.append(response)
            response = self.http.send(hop, stream=True, follow_redirects=False, auth=NO_AUTH)

    def _perform(self, effect: Effect) -> Any:
        if isinstance(effect, Send):
            with deadline_scope(effect.deadline):
                return self._send(effect)
        if isinstance(effect, Read):
            with deadline_scope(effect.deadline):
                return read_capped(effect.response, effect.buffer, effect.deadline)
        if isinstance(effect, NeedToken):
            return effect.source.get_token()
        return self.sleep(effect.seconds)

    def drive(self, plan: Plan[R]) -> R:
        """Run ``plan`` to its result, performing its effects with this transport."""
        driver = Driver(plan)
        while (effect := driver.effect) is not None:
            try:
                driver.resume(self._perform(effect))
            except httpx.HTTPError as exc:
                driver.fail(exc)
        result: R = driver.result
        return result

    def send(self, call: Call, *, stream: bool = False) -> httpx.Response:
        """Send ``call`` with retries; the 2xx response (read unless ``stream``)."""
        return self.drive(exchange(self.settings, call, self.builder, self.clock, stream))

    @contextlib.contextmanager
    def stream(
        self,
        call: Call,
        total: float | None = None,
        min_speed: MinSpeed | None = DEFAULT_MIN_SPEED,
    ) -> Iterator[httpx.Response]:
        """:meth:`send` with the body left to stream; a failure mid-body is a TransportError.

        Each read of the body has the timeout as an idle limit; ``total`` (seconds)
        optionally bounds the whole download (kept by the transport's own pool), and a
        body slower than ``min_speed`` (``(bytes, seconds)``, ``None``: no floor) raises
        :class:`~civitai_app_sdk.errors.DownloadTooSlowError`.
        """
        end = download_deadline(total)
        min_speed = check_min_speed(min_speed)
        started = time.monotonic()
        response = self.send(call, stream=True)
        meter_response(response, min_speed, _what(call), asynchronous=False)
        try:
            with _mid_body(call), deadline_scope(end):
                yield response
        finally:
            response.close()
            timed(response, started)

    def close(self) -> None:
        """Close the httpx client if this transport created it."""
        if self._owned:
            self.http.close()


def _what(call: Call) -> str:
    """How an error names ``call`` (redacted: a signed URL's query is a capability)."""
    return redact(f"{call.method} {call.path}")


@contextlib.contextmanager
def _mid_body(call: Call) -> Iterator[None]:
    """Map an httpx failure while a body streams to :class:`TransportError` (not retried)."""
    try:
        yield
    except httpx.HTTPError as exc:
        raise transport_error(call, exc) from exc


@contextlib.contextmanager
def _cut_at(deadline: float | None, request: httpx.Request, what: str) -> Iterator[None]:
    """Cancel the block shortly after ``deadline`` (``time.monotonic()``; ``None``: never),
    raising ``httpx.ReadTimeout`` as httpx would."""
    left = None if deadline is None else remaining(deadline, time.monotonic()) + _CANCEL_SLACK
    try:
        with anyio.fail_after(left):
            yield
    except TimeoutError as exc:
        raise httpx.ReadTimeout(f"the {what} passed", request=request) from exc


class AsyncTransport(_Transport[httpx.AsyncClient, httpx.AsyncBaseTransport, Awaitable[None]]):
    """Performs the core's effects with an ``httpx.AsyncClient`` (owned unless injected).

    A client it creates keeps no cookies and reads no proxy from the environment (as
    the sync one), and requests that follow no redirect go straight to its pool; those
    that do are followed one hop at a time. A request's deadline is kept by a cancel
    scope around its send and its body read.
    """

    _default_sleep = staticmethod(anyio.sleep)
    _client_type = httpx.AsyncClient

    def __init__(
        self,
        settings: Settings,
        *,
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """As :class:`SyncTransport`; a pool of real sockets is also kept to one event
        loop at a time (:class:`~civitai_app_sdk._event_loops.LoopGuard`)."""
        super().__init__(
            settings, http_client=http_client, transport=transport, sleep=sleep, clock=clock
        )
        pool = self._pool
        self._loops = LoopGuard(pool) if isinstance(pool, httpx.AsyncHTTPTransport) else None

    @staticmethod
    def _new_http(
        settings: Settings, transport: httpx.AsyncBaseTransport | None
    ) -> tuple[httpx.AsyncClient, httpx.AsyncBaseTransport]:
        if transport is None:
            transport = httpx.AsyncHTTPTransport(limits=limits_for(settings.max_connections))
        return httpx.AsyncClient(transport=transport, cookies=no_cookies()), transport

    async def _send(self, effect: Send) -> httpx.Response:
        """Send through the pool itself when nothing of ``httpx.AsyncClient.send`` applies."""
        request = effect.request
        if effect.watch is not None:
            request.extensions["trace"] = effect.watch.asaw
        if self._loops is not None:
            await self._loops.enter()
        if self.http.is_closed:  # before httpx's own check, which raises a plain RuntimeError
            raise ClientClosedError(_CLOSED)
        pool = self._direct(effect)
        if pool is None:
            with _redirects(request):
                if effect.follow_redirects:
                    return await self._follow(effect)
                return await self.http.send(request, stream=True, follow_redirects=False)
        with _from_pool(request):
            response = await pool.handle_async_request(request)
        return _pool_answer(request, response)

    async def _follow(self, effect: Send) -> httpx.Response:
        """Send ``effect``'s request and each redirect hop after it (:func:`next_hop`)."""
        first = effect.request
        history: list[httpx.Response] = []
        origin_only = self._origin_only(effect)
        response = await self.http.send(first, stream=True, follow_redirects=False)
        while True:
            try:
                hop = next_hop(first, response, history, self.http.max_redirects, origin_only)
            except BaseException:
                await response.aclose()
                raise
            if hop is None:
                response.history = history
                return response
            await response.aclose()
            history.append(response)
            response = await self.http.send(hop, stream=True, follow_redirects=False, auth=NO_AUTH)

    async def _perform(self, effect: Effect) -> Any:
        if isinstance(effect, Send):
            try:
                with _cut_at(effect.deadline, effect.request, "request's deadline"):
                    return await self._send(effect)
            except BaseException:
                await self._reclaim(None)
                raise
        if isinstance(effect, Read):
            try:
                with _cut_at(effect.deadline, effect.response.request, "request's deadline"):
                    return await aread_capped(effect.response, effect.buffer, effect.deadline)
            except BaseException:
                await self._reclaim(effect.response)
                raise
        if isinstance(effect, NeedToken):
            return await effect.source.aget_token()
        return await self.sleep(effect.seconds)

    async def _reclaim(self, response: httpx.Response | None) -> None:
        """After a send or read that raised (a cancellation too): give the pool back the
        connections httpcore left taken (:func:`~civitai_app_sdk._reclaim.reclaim`)."""
        if isinstance(self._pool, httpx.AsyncHTTPTransport):
            await reclaim(self._pool, response)

    async def drive(self, plan: Plan[R]) -> R:
        """Run ``plan`` to its result, awaiting its effects with this transport."""
        driver = Driver(plan)
        while (effect := driver.effect) is not None:
            try:
                outcome = await self._perform(effect)
            except httpx.HTTPError as exc:
                driver.fail(exc)
            else:
                driver.resume(outcome)
        result: R = driver.result
        return result

    async def send(self, call: Call, *, stream: bool = False) -> httpx.Response:
        """Send ``call`` with retries; the 2xx response (read unless ``stream``)."""
        plan = exchange(self.settings, call, self.builder, self.clock, stream)
        return await self.drive(plan)

    @contextlib.asynccontextmanager
    async def stream(
        self,
        call: Call,
        total: float | None = None,
        min_speed: MinSpeed | None = DEFAULT_MIN_SPEED,
    ) -> AsyncIterator[httpx.Response]:
        """:meth:`send` with the body left to stream; a failure mid-body is a TransportError.

        Each read of the body has the timeout as an idle limit; ``total`` (seconds)
        optionally bounds the whole download, and a body slower than ``min_speed``
        raises :class:`~civitai_app_sdk.errors.DownloadTooSlowError` (see
        :meth:`SyncTransport.stream`).
        """
        end = download_deadline(total)
        min_speed = check_min_speed(min_speed)
        started = time.monotonic()
        response = await self.send(call, stream=True)
        meter_response(response, min_speed, _what(call), asynchronous=True)
        try:
            try:
                with _mid_body(call), _cut_at(end, response.request, "download's total timeout"):
                    yield response
            finally:
                await response.aclose()
                timed(response, started)
        except BaseException:  # a cancelled body or close may leave its connection taken
            await self._reclaim(response)
            raise

    async def aclose(self) -> None:
        """Close the httpx client if this transport created it."""
        if self._owned:
            if self._loops is not None:  # connections of an ended loop cannot be closed
                await self._loops.enter()
            await self.http.aclose()
