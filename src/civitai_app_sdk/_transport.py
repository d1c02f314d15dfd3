"""The one request core: URLs, auth header, timeouts, retries, error mapping, redaction.

:class:`Settings` and :class:`Call` describe what to send; the pure functions below decide
headers, retries and errors; :class:`SyncTransport` and :class:`AsyncTransport` are thin
loops over them, so both clients behave identically.
"""

from __future__ import annotations

import contextlib
import contextvars
import email.utils
import json
import logging
import os
import random
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from typing import Any, Final, Protocol, runtime_checkable

import anyio
import attrs
import httpx

from . import __version__
from ._deadline import (
    clamp_timeout,
    deadline_scope,
    download_deadline,
    install,
    may_retry,
    request_deadline,
)
from ._limits import (
    DEFAULT_MAX_CONNECTIONS,
    MAX_ERROR_BODY,
    MAX_JSON_BODY,
    BodyBuffer,
    aread_capped,
    limits_for,
    pool_exhausted,
    read_capped,
)
from .errors import (
    BadRequestError,
    ConflictError,
    ForbiddenError,
    InsufficientBuzzError,
    NotFoundError,
    OrchestratorError,
    RateLimitError,
    RequestTimeoutError,
    ServerError,
    TransportError,
    UnauthorizedError,
    UnprocessableError,
)

__all__ = [
    "BODY_LIMIT",
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "AsyncTransport",
    "Call",
    "CapturedResponses",
    "RetryPastDeadline",
    "Settings",
    "SyncTransport",
    "TokenSource",
    "capture_responses",
    "error_for",
    "redact_headers",
    "redact_url",
    "retry_delay",
]

DEFAULT_BASE_URL: Final = "https://orchestration.civitai.com"
"""Production Orchestration API host."""
DEFAULT_TIMEOUT: Final = 30.0
"""Default timeout of a whole request (connect, send, wait and read the answer), seconds."""
DEFAULT_MAX_RETRIES: Final = 3
"""Default number of retries after the first attempt (safe calls only)."""
WAIT_MARGIN: Final = 30.0
"""Seconds added to the read timeout of a long-poll (`wait`) request."""
BODY_LIMIT: Final = 2000
"""Most characters of a failed answer's body kept on the error (``OrchestratorError.body``)."""
_SAFE_TOKEN = re.compile(r"[\x21-\x7e]+")
_SAFE_AGENT = re.compile(r"[\x20-\x7e]+")
_REQUEST_ID_HEADERS: Final = ("x-request-id", "request-id", "x-correlation-id", "x-trace-id")
_NEVER_SENT: Final = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_CANCEL_SLACK: Final = 0.05
"""Seconds past a request's deadline before the async cancel scope fires (httpx's own,
clamped timeouts normally end it first, with a more precise error)."""
_LAST_TRY: Final = 1.0
"""Seconds a poll's last retry keeps for itself before the poll's deadline."""
_RETRY_STATUSES: Final = frozenset({429, 502, 503, 504})
_SENSITIVE_HEADERS: Final = frozenset(
    {"authorization", "cookie", "set-cookie", "proxy-authorization"}
)
_SENSITIVE_QUERY = re.compile(r"([?&](?:sig|token|signature|access_token)=)[^&#]*", re.IGNORECASE)

logger = logging.getLogger("civitai_app_sdk.transport")


@runtime_checkable
class TokenSource(Protocol):
    """Anything that hands out a current bearer token, sync and async (e.g. OAuth refresh)."""

    def get_token(self) -> str:
        """A valid access token."""
        ...

    async def aget_token(self) -> str:
        """A valid access token, awaitable."""
        ...


def _header_safe(value: str, pattern: re.Pattern[str], what: str) -> str:
    if not pattern.fullmatch(value):
        raise ValueError(f"{what} contains characters not allowed in an HTTP header")
    return value


def _as_timeout(timeout: float | httpx.Timeout) -> httpx.Timeout:
    if isinstance(timeout, httpx.Timeout):
        parts = (timeout.connect, timeout.read, timeout.write, timeout.pool)
        if any(p is None or p <= 0 for p in parts):
            raise ValueError("every part of the timeout must be a positive number of seconds")
        return timeout
    if not timeout > 0 or timeout == float("inf"):
        raise ValueError("timeout must be a positive, finite number of seconds")
    return httpx.Timeout(timeout, connect=min(timeout, 10.0))


@attrs.frozen
class Settings:
    """Connection settings shared by the sync and async transports.

    ``token`` is a string or a :class:`TokenSource`; ``None`` reads ``CIVITAI_API_TOKEN``.
    ``base_url`` ``None`` reads ``CIVITAI_API_URL``, else the production host.
    """

    base_url: str
    token: str | TokenSource = attrs.field(repr=lambda _: "<hidden>")
    timeout: httpx.Timeout
    max_retries: int
    user_agent: str
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    max_retry_after: float = 60.0

    @classmethod
    def create(
        cls,
        *,
        token: str | TokenSource | None = None,
        base_url: str | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        user_agent: str | None = None,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
    ) -> Settings:
        """Validate options, fill them from the environment, and build settings."""
        token = token if token is not None else os.environ.get("CIVITAI_API_TOKEN")
        if token is None or token == "":
            raise ValueError("no access token: pass token=... or set CIVITAI_API_TOKEN")
        if isinstance(token, str):
            _header_safe(token, _SAFE_TOKEN, "the access token")
        elif not isinstance(token, TokenSource):
            raise TypeError("token must be a string or have get_token()/aget_token()")
        url = (base_url or os.environ.get("CIVITAI_API_URL") or DEFAULT_BASE_URL).rstrip("/")
        parsed = httpx.URL(url)
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise ValueError(f"base_url must be an http(s) URL with a host, not {url!r}")
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        agent = user_agent or f"civitai-app-sdk-python/{__version__}"
        limits_for(max_connections)  # validates it
        return cls(
            base_url=url,
            token=token,
            timeout=_as_timeout(timeout),
            max_retries=max_retries,
            user_agent=_header_safe(agent, _SAFE_AGENT, "user_agent"),
            max_connections=max_connections,
        )


@attrs.frozen
class Call:
    """One API call: method, path (already URL-encoded), query, JSON body and retry safety.

    ``idempotent`` marks calls that may be repeated after a lost answer. ``wait`` (seconds)
    stretches the read timeout for long-polls. ``follow_redirects`` is for blob downloads.
    ``retry_deadline`` (the transport's clock) is when an overall deadline ends: no
    attempt runs past it, transient failures are retried until it (not ``max_retries``
    times), and a retry that would start after it raises :class:`RetryPastDeadline`.
    ``max_body`` caps the answer's size in bytes.
    """

    method: str
    path: str
    params: tuple[tuple[str, str], ...] = ()
    json: Any = None
    content_type: str = "application/json"
    idempotent: bool = True
    wait: float = 0.0
    follow_redirects: bool = False
    retry_deadline: float | None = None
    max_body: int = MAX_JSON_BODY


class RetryPastDeadline(Exception):
    """A retry was due but would start after the call's ``retry_deadline``.

    ``error`` is the failure that would have been retried. Only calls that set a
    ``retry_deadline`` (the polling loop's) see this; it never reaches SDK users.
    """

    def __init__(self, error: OrchestratorError) -> None:
        """Keep the failure that was not retried."""
        super().__init__(str(error))
        self.error = error


def redact_url(url: str) -> str:
    """The URL with signature and token query values replaced by ``***``."""
    return _SENSITIVE_QUERY.sub(r"\1***", url)


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """A copy of ``headers`` with Authorization, cookies and the like replaced by ``***``."""
    return {k: "***" if k.lower() in _SENSITIVE_HEADERS else v for k, v in headers.items()}


def build_request(
    http: httpx.Client | httpx.AsyncClient,
    settings: Settings,
    call: Call,
    token: str,
    deadline: float | None = None,
) -> httpx.Request:
    """The httpx request for ``call``: URL, auth header, body and a finite timeout.

    With a ``deadline`` (``time.monotonic()``) every part of the timeout ends by it.
    """
    headers = {
        "Authorization": f"Bearer {_header_safe(token, _SAFE_TOKEN, 'the access token')}",
        "User-Agent": settings.user_agent,
        "Accept": "application/json",
    }
    content: bytes | None = None
    if call.json is not None:
        content = json.dumps(call.json, separators=(",", ":")).encode()
        headers["Content-Type"] = call.content_type
    timeout = settings.timeout
    if call.wait > 0:
        read = max(timeout.read or 0.0, call.wait + WAIT_MARGIN)
        timeout = httpx.Timeout(
            connect=timeout.connect, read=read, write=timeout.write, pool=timeout.pool
        )
    if deadline is not None:  # whole-request deadline (_deadline)
        timeout = clamp_timeout(timeout, deadline - time.monotonic())
    return http.build_request(
        call.method,
        settings.base_url + call.path,
        params=list(call.params),
        content=content,
        headers=headers,
        timeout=timeout,
    )


def _is_html(response: httpx.Response) -> bool:
    if "html" in response.headers.get("content-type", ""):
        return True
    head = response.content[:64].lstrip().lower()
    return head.startswith((b"<!doctype", b"<html"))


def retry_after(response: httpx.Response) -> float | None:
    """The ``Retry-After`` delay in seconds (number or HTTP date), if the server sent one."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def retry_delay(
    settings: Settings,
    call: Call,
    attempt: int,
    *,
    response: httpx.Response | None = None,
    error: Exception | None = None,
) -> float | None:
    """Seconds to wait before retrying, or ``None`` when this outcome must not be retried.

    Transport errors are retried for idempotent calls, and for any call when the request
    provably never left the machine (connect failures). 429, 502-504 and HTML gateway
    pages are retried for idempotent calls only; other statuses never are.
    """
    if not may_retry(attempt, settings.max_retries, call.retry_deadline):
        return None
    if error is not None:
        if not (call.idempotent or isinstance(error, _NEVER_SENT)):
            return None
    elif response is not None:
        status = response.status_code
        gateway = status in _RETRY_STATUSES or (status >= 500 and _is_html(response))
        if not (call.idempotent and gateway):
            return None
        delay = retry_after(response)
        if delay is not None:
            return delay if delay <= settings.max_retry_after else None
    else:
        return None
    ceiling = min(settings.backoff_cap, settings.backoff_base * 2.0**attempt)
    return ceiling * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not cryptography


def _json_or_none(content: bytes) -> Any:
    try:
        return json.loads(content) if content else None
    except ValueError:
        return None


def _problem_text(problem: Mapping[str, Any]) -> str:
    parts = [str(problem[k]) for k in ("title", "detail") if problem.get(k)]
    errors = problem.get("errors")
    if isinstance(errors, Mapping):
        for field, messages in list(errors.items())[:10]:
            shown = "; ".join(map(str, messages)) if isinstance(messages, list) else messages
            parts.append(f"{field}: {shown}")
    return " - ".join(parts)


_BY_STATUS: Final[dict[int, type[OrchestratorError]]] = {
    400: BadRequestError,
    401: UnauthorizedError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableError,
    429: RateLimitError,
}


def error_for(call: Call, response: httpx.Response) -> OrchestratorError:
    """The typed error for a non-2xx answer, with problem details, body and request id."""
    status = response.status_code
    html = _is_html(response)
    parsed = None if html else _json_or_none(response.content)
    problem = parsed if isinstance(parsed, dict) else None
    request_id = next(
        (response.headers[h] for h in _REQUEST_ID_HEADERS if h in response.headers), None
    )
    if request_id is None and problem is not None and isinstance(problem.get("traceId"), str):
        request_id = problem["traceId"]
    message = f"{call.method} {call.path} failed with HTTP {status}"
    detail = _problem_text(problem) if problem is not None else parsed
    if isinstance(detail, str) and detail:
        message += f": {detail}"
    elif html:
        message += " (an HTML error page from a gateway)"
    kind = _BY_STATUS.get(status, ServerError if status >= 500 else OrchestratorError)
    if status == 403 and isinstance(parsed, str):
        kind = InsufficientBuzzError
    fields: dict[str, Any] = {
        "status": status,
        "problem": problem,
        "body": response.text[:BODY_LIMIT],
        "request_id": request_id,
        "headers": response.headers,
    }
    if kind is RateLimitError:
        return RateLimitError(message, retry_after=retry_after(response), **fields)
    return kind(message, **fields)


def transport_error(call: Call, error: httpx.TransportError) -> TransportError:
    """The SDK error for an httpx failure that produced no answer."""
    kind = RequestTimeoutError if isinstance(error, httpx.TimeoutException) else TransportError
    detail = str(error) or (
        "no complete answer in the time allowed" if kind is RequestTimeoutError else "failed"
    )
    return kind(f"{call.method} {call.path}: {type(error).__name__}: {detail}")


@attrs.define
class CapturedResponses:
    """The raw responses of the calls made inside :func:`capture_responses`."""

    responses: list[httpx.Response] = attrs.Factory(list)

    @property
    def last(self) -> httpx.Response:
        """The most recent response (headers, status, body)."""
        if not self.responses:
            raise LookupError("no response was captured")
        return self.responses[-1]


_captures: contextvars.ContextVar[tuple[CapturedResponses, ...]] = contextvars.ContextVar(
    "civitai_captures", default=()
)


@contextlib.contextmanager
def capture_responses() -> Iterator[CapturedResponses]:
    """Collect the raw httpx responses of calls made in this block (thread/task local)."""
    captured = CapturedResponses()
    reset = _captures.set((*_captures.get(), captured))
    try:
        yield captured
    finally:
        _captures.reset(reset)


def _finish(call: Call, response: httpx.Response, started: float) -> None:
    if logger.isEnabledFor(logging.DEBUG):
        logger.debug(
            "%s %s -> %s in %.3fs; request headers %s",
            call.method,
            redact_url(str(response.request.url)),
            response.status_code,
            time.monotonic() - started,
            redact_headers(response.request.headers),
        )
    for captured in _captures.get():
        captured.responses.append(response)


def _log_retry(call: Call, attempt: int, delay: float, why: str) -> None:
    logger.info(
        "retrying %s %s in %.2fs (attempt %d): %s", call.method, call.path, delay, attempt + 2, why
    )


def _retry_or_raise(
    call: Call,
    attempt: int,
    delay: float | None,
    error: OrchestratorError,
    now: float,
    *,
    server_asked: bool = False,
) -> float:
    """``delay`` when the retry may go ahead; otherwise raise ``error`` (or the deadline).

    Before a call's deadline our own backoff is shortened to fit; a delay the server
    asked for (``Retry-After``) never is.
    """
    if delay is None:
        raise error
    if call.retry_deadline is not None and now + delay > call.retry_deadline:
        left = call.retry_deadline - now  # a poll retries until its deadline (_deadline)
        if server_asked or left <= _LAST_TRY:
            raise RetryPastDeadline(error) from error
        delay = left - _LAST_TRY
    why = f"HTTP {error.status}" if error.status else type(error.__cause__).__name__
    _log_retry(call, attempt, delay, why)
    return delay


def _after_failure(
    settings: Settings, call: Call, attempt: int, error: httpx.TransportError, now: float
) -> float:
    """The pause before retrying after ``error``; raises the SDK error when it is final."""
    if isinstance(error, httpx.PoolTimeout):  # pool starvation, not the network (_limits)
        waited = settings.timeout.pool or 0.0
        failure: OrchestratorError = pool_exhausted(
            call.method + " " + call.path, settings.max_connections, waited
        )
    else:
        failure = transport_error(call, error)
    failure.__cause__ = error
    delay = retry_delay(settings, call, attempt, error=error)
    return _retry_or_raise(call, attempt, delay, failure, now)


def _after_answer(
    settings: Settings,
    call: Call,
    attempt: int,
    response: httpx.Response,
    started: float,
    now: float,
) -> float:
    """The pause before retrying a read non-2xx answer; raises the typed error when final."""
    _finish(call, response, started)
    delay = retry_delay(settings, call, attempt, response=response)
    asked = retry_after(response) is not None
    error = error_for(call, response)
    return _retry_or_raise(call, attempt, delay, error, now, server_asked=asked)


def _deadline_of(settings: Settings, call: Call, clock: Callable[[], float]) -> float:
    """The ``time.monotonic()`` moment by which one attempt of ``call`` must end."""
    now = time.monotonic()
    limit = None
    if call.retry_deadline is not None:  # the caller's clock may be a test's fake one
        limit = now + (call.retry_deadline - clock())
    return request_deadline(now, settings.timeout.read or DEFAULT_TIMEOUT, call.wait, limit)


def _body_buffer(call: Call, response: httpx.Response) -> BodyBuffer:
    """A strict buffer for a 2xx answer, a truncating one for an error's body."""
    if response.is_success:
        return BodyBuffer(call.max_body, truncate=False, what=f"{call.method} {call.path}")
    return BodyBuffer(MAX_ERROR_BODY, truncate=True, what="error")


class SyncTransport:
    """Blocking request loop over an ``httpx.Client`` (owned unless injected)."""

    def __init__(
        self,
        settings: Settings,
        *,
        http_client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Use ``http_client`` as is, or create one (over ``transport`` if given).

        ``sleep`` waits between retries; ``clock`` is what ``Call.retry_deadline`` is
        measured on.
        """
        self.settings = settings
        self._owned = http_client is None
        if http_client is None and transport is None:  # the SDK's own pool keeps deadlines
            transport = install(httpx.HTTPTransport(limits=limits_for(settings.max_connections)))
        self.http = http_client or httpx.Client(transport=transport)
        self.sleep = sleep
        self.clock = clock

    def _token(self) -> str:
        token = self.settings.token
        return token if isinstance(token, str) else token.get_token()

    def _exchange(self, call: Call, deadline: float, stream: bool) -> httpx.Response:
        """One attempt: send, then read the (capped) body unless a 2xx is to be streamed."""
        request = build_request(self.http, self.settings, call, self._token(), deadline)
        with deadline_scope(deadline):
            response = self.http.send(request, stream=True, follow_redirects=call.follow_redirects)
            if stream and response.is_success:
                return response
            return read_capped(response, _body_buffer(call, response), deadline)

    def _attempt(self, call: Call, stream: bool) -> httpx.Response:
        attempt = 0
        while True:
            started = time.monotonic()
            try:
                response = self._exchange(
                    call, _deadline_of(self.settings, call, self.clock), stream
                )
            except httpx.TransportError as exc:
                delay = _after_failure(self.settings, call, attempt, exc, self.clock())
            else:
                if response.is_success:
                    _finish(call, response, started)
                    return response
                delay = _after_answer(self.settings, call, attempt, response, started, self.clock())
            self.sleep(delay)
            attempt += 1

    def send(self, call: Call) -> httpx.Response:
        """Send ``call`` with retries; return the read 2xx response or raise a typed error."""
        return self._attempt(call, stream=False)

    @contextlib.contextmanager
    def stream(self, call: Call, total: float | None = None) -> Iterator[httpx.Response]:
        """Like :meth:`send`, but the 2xx body is left unread for streaming.

        Each read of the body has the client's timeout as an idle limit; ``total``
        (seconds) optionally bounds the whole download (kept by the SDK's own pool). A
        failure while the body streams raises :class:`TransportError` (never retried:
        part of the body was already consumed).
        """
        end = download_deadline(total)
        response = self._attempt(call, stream=True)
        try:
            with deadline_scope(end) if end is not None else contextlib.nullcontext():
                yield response
        except httpx.TransportError as exc:
            raise transport_error(call, exc) from exc
        finally:
            response.close()

    def close(self) -> None:
        """Close the httpx client if this transport created it."""
        if self._owned:
            self.http.close()


class AsyncTransport:
    """Async request loop over an ``httpx.AsyncClient`` (owned unless injected)."""

    def __init__(
        self,
        settings: Settings,
        *,
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Use ``http_client`` as is, or create one (over ``transport`` if given).

        ``sleep`` waits between retries; ``clock`` is what ``Call.retry_deadline`` is
        measured on.
        """
        self.settings = settings
        self._owned = http_client is None
        limits = limits_for(settings.max_connections)
        self.http = http_client or httpx.AsyncClient(transport=transport, limits=limits)
        self.sleep = sleep
        self.clock = clock

    async def _token(self) -> str:
        token = self.settings.token
        return token if isinstance(token, str) else await token.aget_token()

    async def _exchange(self, call: Call, deadline: float, stream: bool) -> httpx.Response:
        """One attempt: send, then read the (capped) body unless a 2xx is to be streamed."""
        request = build_request(self.http, self.settings, call, await self._token(), deadline)
        try:
            with anyio.fail_after(max(deadline - time.monotonic(), 0.0) + _CANCEL_SLACK):
                response = await self.http.send(
                    request, stream=True, follow_redirects=call.follow_redirects
                )
                if stream and response.is_success:
                    return response
                return await aread_capped(response, _body_buffer(call, response), deadline)
        except TimeoutError as exc:  # the whole-request deadline (_deadline)
            raise httpx.ReadTimeout("the request's deadline passed", request=request) from exc

    async def _attempt(self, call: Call, stream: bool) -> httpx.Response:
        attempt = 0
        while True:
            started = time.monotonic()
            deadline = _deadline_of(self.settings, call, self.clock)
            try:
                response = await self._exchange(call, deadline, stream)
            except httpx.TransportError as exc:
                delay = _after_failure(self.settings, call, attempt, exc, self.clock())
            else:
                if response.is_success:
                    _finish(call, response, started)
                    return response
                delay = _after_answer(self.settings, call, attempt, response, started, self.clock())
            await self.sleep(delay)
            attempt += 1

    async def send(self, call: Call) -> httpx.Response:
        """Send ``call`` with retries; return the read 2xx response or raise a typed error."""
        return await self._attempt(call, stream=False)

    @contextlib.asynccontextmanager
    async def stream(self, call: Call, total: float | None = None) -> AsyncIterator[httpx.Response]:
        """Like :meth:`send`, but the 2xx body is left unread for streaming.

        Each read of the body has the client's timeout as an idle limit; ``total``
        (seconds) optionally bounds the whole download. A failure while the body
        streams raises :class:`TransportError` (never retried).
        """
        end = download_deadline(total)
        response = await self._attempt(call, stream=True)
        try:
            with anyio.fail_after(None if end is None else end - time.monotonic()):
                yield response
        except TimeoutError as exc:
            raise transport_error(
                call, httpx.ReadTimeout("the download's total timeout passed")
            ) from exc
        except httpx.TransportError as exc:
            raise transport_error(call, exc) from exc
        finally:
            await response.aclose()

    async def aclose(self) -> None:
        """Close the httpx client if this transport created it."""
        if self._owned:
            await self.http.aclose()
