"""The one request core: every HTTP request of the package is built, sent, retried, logged
and read here.

:class:`Settings` (one per client) and :class:`Call` (one per request) describe what to
send. :func:`exchange` is the whole request loop as a sans-IO generator: it builds the
request, gives each attempt its deadline and each body its size cap, decides retries
with :class:`RetryPolicy` and maps failures to typed errors, yielding the few effects
that need I/O (get a token, send, read a body, sleep). :class:`SyncTransport` and
:class:`AsyncTransport` only perform those effects (keeping the deadline around each
send and read, see :mod:`._deadline` and :mod:`._limits`), so the two cannot differ in
what they decide.
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import datetime
import email.utils
import http.cookiejar
import json
import logging
import math
import os
import random
import re
import threading
import time
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Generator,
    Iterator,
    Mapping,
    Sequence,
)
from typing import Any, Final, Generic, Protocol, Self, TypedDict, TypeVar, runtime_checkable

import anyio
import attrs
import httpx

from . import __version__
from ._deadline import (
    clamp_timeout,
    deadline_scope,
    download_deadline,
    install,
    is_seconds,
    may_retry,
    remaining,
    request_deadline,
)
from ._event_loops import LoopGuard
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
from ._logging import configure_from_env, redact_http_logs
from ._loopback import is_loopback
from ._redact import holds_secret, mask_secrets, redact
from ._speed import DEFAULT_MIN_SPEED, MinSpeed, check_min_speed, meter_response
from .errors import (
    BadRequestError,
    CivitaiError,
    ConfigurationError,
    ConflictError,
    ForbiddenError,
    InsufficientBuzzError,
    NotFoundError,
    OrchestratorError,
    RateLimitError,
    RequestTimeoutError,
    RequestValidationError,
    ServerError,
    TransportError,
    UnauthorizedError,
    UnprocessableError,
    parse_body,
)

__all__ = [
    "BODY_LIMIT",
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "NEVER_SENT",
    "AsyncTransport",
    "Call",
    "CapturedResponses",
    "RequestOptions",
    "RetryPastDeadline",
    "RetryPolicy",
    "Settings",
    "SyncTransport",
    "TokenSource",
    "as_timeout",
    "capture_responses",
    "error_for",
    "exchange",
    "is_loopback",
    "retry_after",
    "to_url",
    "with_options",
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
_REQUEST_ID_HEADERS: Final = ("x-request-id", "request-id", "x-correlation-id", "x-trace-id")
NEVER_SENT: Final = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
"""httpx failures of a request that provably never left the machine (no connection)."""
_CANCEL_SLACK: Final = 0.05
"""Seconds past a request's deadline before the async cancel scope fires (httpx's own,
clamped timeouts normally end it first, with a more precise error)."""
_LAST_TRY: Final = 1.0
"""Seconds a poll's last retry keeps for itself before the poll's deadline."""
_RETRY_STATUSES: Final = frozenset({429, 502, 503, 504})
_CLOSED: Final = "Cannot send a request, as the client has been closed."
"""httpx's own words for a closed client (a plain ``RuntimeError``, as ``send`` raises)."""

logger = logging.getLogger("civitai_app_sdk.transport")
_httpx_logger = logging.getLogger("httpx")
R = TypeVar("R")


@runtime_checkable
class TokenSource(Protocol):
    """The one token protocol: hands out a current bearer token, sync and async.

    A plain string token needs none; :class:`~civitai_app_sdk.oauth.RefreshingTokenProvider`
    implements it (``TokenProvider`` is another name for it).
    """

    def get_token(self) -> str:
        """A valid access token (may block to refresh it)."""
        ...

    async def aget_token(self) -> str:
        """A valid access token (may await a refresh)."""
        ...


_TOKEN_CHARS: Final = re.compile(r"[\x21-\x7e]+")
_HEADER_CHARS: Final = re.compile(r"[\x20-\x7e]+")
_HEADER_NAME: Final = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def _header_value(value: str, what: str, *, spaces: bool = False) -> str:
    if not isinstance(value, str) or not (_HEADER_CHARS if spaces else _TOKEN_CHARS).fullmatch(
        value
    ):
        raise ConfigurationError(f"{what} is empty or has characters not allowed in a header")
    return value


def as_timeout(timeout: float | httpx.Timeout) -> httpx.Timeout:
    """An ``httpx.Timeout`` from seconds (connect capped at 10 s); every part finite > 0."""
    if isinstance(timeout, httpx.Timeout):
        parts = (timeout.connect, timeout.read, timeout.write, timeout.pool)
        if not all(is_seconds(p) for p in parts):
            raise ConfigurationError("every part of the timeout must be a positive, finite number")
        return timeout
    if not is_seconds(timeout):
        raise ConfigurationError("timeout must be a positive, finite number of seconds")
    return httpx.Timeout(timeout, connect=min(timeout, 10.0))


def _check_bearer_url(url: httpx.URL) -> None:
    if url.scheme != "https" and not is_loopback(url.host):
        raise ConfigurationError(
            f"refusing to send a bearer token over plain {url.scheme} to {url.host}: "
            "use https (plain http is allowed only for loopback)"
        )


@attrs.frozen
class RetryPolicy:
    """When and how long to wait before repeating a request.

    The rule that keeps money safe lives here: a request that may have reached the
    server is repeated only when the call is ``idempotent`` (reads, and submits that
    carry an ``externalId``); one that provably never left the machine (connect
    failures) may always be repeated. 429, 502-504 and gateway HTML pages are retried
    for idempotent calls; other statuses never are. Delays grow exponentially with
    jitter; a server's ``Retry-After`` (up to ``max_retry_after``) makes one longer, never
    shorter. A call with a ``retry_deadline`` (a poll's request) is retried until that
    deadline rather than ``max_retries`` times (:meth:`fit`).
    """

    max_retries: int = DEFAULT_MAX_RETRIES
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    max_retry_after: float = 60.0

    def __attrs_post_init__(self) -> None:
        if isinstance(self.max_retries, bool) or not isinstance(self.max_retries, int):
            raise ConfigurationError("max_retries must be a whole number")
        if self.max_retries < 0:
            raise ConfigurationError("max_retries must be >= 0")

    @staticmethod
    def may_repeat(call: Call, error: Exception) -> bool:
        """Whether ``call`` may be sent again after ``error`` without charging twice."""
        return call.idempotent or isinstance(error, NEVER_SENT)

    def delay(
        self,
        call: Call,
        attempt: int,
        *,
        response: httpx.Response | None = None,
        error: Exception | None = None,
    ) -> float | None:
        """Seconds to wait before retry ``attempt + 1``, or ``None`` when it must not happen."""
        if not may_retry(attempt, self.max_retries, call.retry_deadline):
            return None
        asked: float | None = None
        if error is not None:
            if not isinstance(error, httpx.TransportError) or not self.may_repeat(call, error):
                return None
        elif response is not None:
            status = response.status_code
            gateway = status in _RETRY_STATUSES or (status >= 500 and _is_html(response))
            if not (call.idempotent and gateway):
                return None
            asked = retry_after(response)
            if asked is not None and asked > self.max_retry_after:
                return None
        else:
            return None
        ceiling = min(self.backoff_cap, self.backoff_base * 2.0**attempt)
        backoff = ceiling * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not cryptography
        # never sooner than the server asked, nor than our own backoff: "Retry-After: 0"
        # must not turn a poll's retries (bounded by time, not count) into a busy loop
        return backoff if asked is None else max(asked, backoff)

    @staticmethod
    def fit(call: Call, delay: float, now: float, *, server_asked: bool) -> float | None:
        """``delay`` fitted before ``call.retry_deadline`` (``now`` on the same clock).

        Our own backoff is shortened so one last attempt still fits; a delay the server
        asked for (``Retry-After``) never is. ``None``: no retry can start in time.
        """
        if call.retry_deadline is None or now + delay <= call.retry_deadline:
            return delay
        left = call.retry_deadline - now
        if server_asked or left <= _LAST_TRY:
            return None
        return left - _LAST_TRY


def no_cookies() -> http.cookiejar.CookieJar:
    """A cookie jar that keeps nothing, for the clients the SDK creates.

    The SDK authenticates with tokens; a cookie that one answer (a signed URL's host, a
    gateway) sets must not ride along on later requests.
    """
    return http.cookiejar.CookieJar(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))


def _base_headers(settings: Settings) -> dict[str, str]:
    return {"User-Agent": settings.user_agent, "Accept": "application/json"}


@attrs.frozen
class Settings:
    """What one client sends with every request: origin, token, timeout, retries, agent.

    ``max_connections`` sizes the connection pool a transport creates for itself.

    ``token`` (a string or a :class:`TokenSource`) is sent only to ``base_url``'s origin,
    and only over https there (plain http for loopback). Build it with :meth:`create`.
    """

    base_url: str
    token: str | TokenSource | None = attrs.field(repr=lambda _: "<hidden>")
    timeout: httpx.Timeout
    retry: RetryPolicy
    user_agent: str
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    headers: Mapping[str, str] = attrs.field(
        init=False, repr=False, default=attrs.Factory(_base_headers, takes_self=True)
    )

    @property
    def max_retries(self) -> int:
        """How many times a safe call is repeated after its first attempt."""
        return self.retry.max_retries

    @classmethod
    def create(
        cls,
        *,
        token: str | TokenSource | None = None,
        base_url: str | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        user_agent: str | None = None,
        token_env: str | None = "CIVITAI_API_TOKEN",  # noqa: S107 - a variable's name
        url_env: str | None = "CIVITAI_API_URL",
        default_url: str = DEFAULT_BASE_URL,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
    ) -> Settings:
        """Validate options, fill them from the environment, and build settings.

        ``token`` ``None`` reads ``token_env`` (when named; then a token is required);
        ``base_url`` ``None`` reads ``url_env``, else ``default_url``. Every mistake is a
        :class:`ConfigurationError`.
        """
        configure_from_env()
        if token is None and token_env is not None:
            token = os.environ.get(token_env) or None
            if token is None:
                raise ConfigurationError(f"no access token: pass one or set {token_env}")
        if isinstance(token, str):
            _header_value(token, "the access token")
        elif token is not None and not isinstance(token, TokenSource):
            raise ConfigurationError("token must be a string or have get_token()/aget_token()")
        env_url = os.environ.get(url_env) if url_env else None
        url = (base_url or env_url or default_url).rstrip("/")
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, TypeError) as exc:
            raise ConfigurationError(f"base_url {url!r} is not a valid URL") from exc
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise ConfigurationError(f"base_url must be an http(s) URL with a host, not {url!r}")
        if parsed.userinfo or parsed.query or parsed.fragment or "#" in url or "?" in url:
            # a path appended to "https://h?q" or "https://h#f" is no path at all, and
            # userinfo would replace the bearer token with Basic credentials
            raise ConfigurationError("base_url must not carry credentials, a query or a fragment")
        if token is not None:
            _check_bearer_url(parsed)
        agent = user_agent or f"civitai-app-sdk-python/{__version__}"
        limits_for(max_connections)  # validates it
        return cls(
            base_url=url,
            token=token,
            timeout=as_timeout(timeout),
            retry=RetryPolicy(max_retries=max_retries),
            user_agent=_header_value(agent, "user_agent", spaces=True),
            max_connections=max_connections,
        )

    def with_options(
        self, *, timeout: float | httpx.Timeout | None = None, max_retries: int | None = None
    ) -> Settings:
        """A copy with another timeout and/or retry count."""
        return attrs.evolve(
            self,
            timeout=self.timeout if timeout is None else as_timeout(timeout),
            retry=self.retry
            if max_retries is None
            else attrs.evolve(self.retry, max_retries=max_retries),
        )


@attrs.frozen
class Call:
    """One request: method, path (already URL-encoded), query, body and how to treat it.

    ``content`` (bytes, or a byte stream for uploads) is sent instead of JSON.

    ``idempotent`` marks calls that may be repeated after a lost answer. ``wait``
    (seconds) stretches the read timeout for long-polls. ``retry_deadline`` (the
    transport's clock) ends retries: one that would start later raises
    :class:`RetryPastDeadline`. ``base_url`` sends to another origin (OAuth issuer, site,
    a signed URL); the settings' token never goes there, only ``token`` when given.
    ``accept`` lists non-2xx statuses read as answers (a redirect to look at);
    ``errors`` maps a final non-2xx answer to an error (default :func:`error_for`).
    ``max_body`` caps the answer's size in bytes (:class:`ResponseTooLargeError` past it).
    """

    method: str
    path: str = attrs.field(repr=lambda path: repr(redact(path)))
    params: tuple[tuple[str, str], ...] = ()
    json: Any = None
    content_type: str = "application/json"
    idempotent: bool = True
    wait: float = 0.0
    follow_redirects: bool = False
    retry_deadline: float | None = None
    content: Any = attrs.field(default=None, repr=False)
    base_url: str | None = None
    token: str | None = attrs.field(default=None, repr=False)
    headers: tuple[tuple[str, str], ...] = attrs.field(default=(), repr=False)
    timeout: httpx.Timeout | None = None
    accept: frozenset[int] = frozenset()
    errors: Callable[[Call, httpx.Response], CivitaiError] | None = attrs.field(
        default=None, repr=False
    )
    max_body: int = MAX_JSON_BODY


def to_url(method: str, url: str, **fields: Any) -> Call:
    """A :class:`Call` to an absolute URL on any origin (the settings' token is not sent)."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise RequestValidationError([redact(f"{url}: {exc}")], "URL") from exc
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise RequestValidationError([redact(f"{url}: not an http(s) URL")], "URL")
    origin = str(parsed.copy_with(raw_path=b"/", fragment=None))[:-1]
    return Call(method, parsed.raw_path.decode("ascii"), base_url=origin, **fields)


class RequestOptions(TypedDict, total=False):
    """Per-call options every client method takes as keywords."""

    timeout: float | httpx.Timeout
    """Seconds (or an ``httpx.Timeout``) for this call instead of the client's."""
    extra_headers: Mapping[str, str]
    """Headers added to this call (they cannot replace Authorization)."""
    extra_query: Mapping[str, str] | Sequence[tuple[str, str]]
    """Query parameters added to this call."""


def with_options(call: Call, options: RequestOptions) -> Call:
    """``call`` with the caller's per-call ``timeout``, ``extra_headers`` and ``extra_query``."""
    if not options:
        return call
    unknown = set(options) - set(RequestOptions.__annotations__)
    if unknown:
        raise RequestValidationError([f"{name}: not a request option" for name in sorted(unknown)])
    changes: dict[str, Any] = {}
    if "timeout" in options:
        changes["timeout"] = as_timeout(options["timeout"])
    headers = dict(options.get("extra_headers") or {})
    if any(name.lower() in ("authorization", "host") for name in headers):
        raise RequestValidationError(["extra_headers: Authorization and Host are set by the SDK"])
    for name, value in headers.items():
        if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
            raise RequestValidationError([f"extra_headers: {name!r} is not a header name"])
        _header_value(value, f"the {name} header", spaces=True)
    if headers:
        changes["headers"] = (*call.headers, *headers.items())
    query = options.get("extra_query") or ()
    pairs = list(query.items()) if isinstance(query, Mapping) else query
    if not isinstance(pairs, list | tuple) or not all(
        isinstance(pair, tuple | list) and len(pair) == 2 and all(isinstance(p, str) for p in pair)
        for pair in pairs
    ):
        raise RequestValidationError(["extra_query: a mapping or pairs of strings"])
    if pairs:
        changes["params"] = (*call.params, *((k, v) for k, v in pairs))
    return attrs.evolve(call, **changes)


class RetryPastDeadline(Exception):
    """A retry was due but would start after the call's ``retry_deadline``.

    ``error`` is the failure that would have been retried. Only calls that set a
    ``retry_deadline`` (the polling loop's) see this; it never reaches SDK users.
    """

    def __init__(self, error: CivitaiError) -> None:
        """Keep the failure that was not retried."""
        super().__init__(str(error))
        self.error = error


BuildRequest = Callable[..., httpx.Request]
"""Makes an ``httpx.Request`` from a method, URL and ``params``/``content``/``headers``/
``timeout``, as ``httpx.Client.build_request`` does."""


def _put(headers: dict[str, str], name: str, value: str) -> None:
    """Set ``name`` to ``value``, replacing a header of that name in any case; the name
    goes on the wire as written here."""
    key = name.lower()
    for same in [old for old in headers if old.lower() == key]:
        del headers[same]
    headers[name] = value


def _plain_request(
    method: str,
    url: str | httpx.URL,
    *,
    params: tuple[tuple[str, str], ...] | None,
    content: Any,
    headers: Mapping[str, str],
    timeout: httpx.Timeout,
) -> httpx.Request:
    """The request a client the SDK created would build: nothing of the client to merge
    but its default headers, which :class:`RequestBuilder` has merged already."""
    extensions = {"timeout": timeout.as_dict()}
    return httpx.Request(
        method, url, params=params, content=content, headers=headers, extensions=extensions
    )


@attrs.frozen
class RequestBuilder:
    """How a transport builds its requests: the headers every request starts from
    (one entry per name, any case) and the function that makes the ``httpx.Request``.

    An injected client builds them with its own ``build_request`` (its defaults, cookies,
    auth and parameters merged); a client the SDK created holds none of those, so its
    default headers are merged once here and each request is built directly.
    """

    headers: Mapping[str, str]
    build: BuildRequest

    @classmethod
    def of(cls, settings: Settings, client: httpx.Client | httpx.AsyncClient, plain: bool) -> Self:
        """The way ``client`` builds requests (``plain``: a client the SDK created)."""
        if not plain:
            return cls(dict(settings.headers), client.build_request)
        merged = {name.decode(): value.decode() for name, value in client.headers.raw}
        for name, value in settings.headers.items():
            _put(merged, name, value)
        return cls(merged, _plain_request)


class _ParsedUrls:
    """The API's URLs lately asked for, parsed: a client asks for the same few again and
    again (a poll reads one workflow's until it ends).

    A path holding a capability (an archive's token) is never kept, nor are URLs of
    other origins (signed URLs: their callers never ask here). At most ``size`` are
    kept; the oldest goes first.
    """

    def __init__(self, size: int) -> None:
        """An empty cache for ``size`` URLs."""
        self._size = size
        self._urls: dict[str, httpx.URL] = {}
        self._lock = threading.Lock()

    def get(self, text: str) -> httpx.URL:
        """``text`` parsed (``httpx.InvalidURL`` when it cannot be)."""
        url = self._urls.get(text)
        if url is None:
            url = httpx.URL(text)
            if not holds_secret(text):
                with self._lock:
                    if len(self._urls) >= self._size:
                        del self._urls[next(iter(self._urls))]
                    self._urls[text] = url
        return url


_API_URLS: Final = _ParsedUrls(128)


def build_request(
    builder: RequestBuilder,
    settings: Settings,
    call: Call,
    token: str | None,
    deadline: float | None = None,
    now: float | None = None,
) -> httpx.Request:
    """The httpx request for ``call``: URL, headers, body and a finite timeout.

    With a ``deadline`` (``time.monotonic()``, seen from ``now``) every part of the
    timeout ends by it.

    Raises :class:`ConfigurationError` for a bearer over plain http off loopback and
    :class:`RequestValidationError` for a path that does not start with ``/`` (it would
    change the host) or a value httpx cannot put on the wire.
    """
    if not call.path.startswith("/"):
        # joined to the base URL, "x.evil.example/" or "@evil.example/" would move the
        # request (and the bearer token) to another host
        problem = redact(f"{call.method} {call.path}: the path must start with '/'")
        raise RequestValidationError([problem], "request URL")
    headers = dict(builder.headers)
    if token is not None:
        if token is not settings.token:  # the settings' own token was checked once
            _header_value(token, "the access token")
        headers["Authorization"] = "Bearer " + token  # in no default header set
    content = call.content
    if call.json is not None:
        content = json.dumps(call.json, separators=(",", ":")).encode()
    if content is not None:
        headers["Content-Type"] = call.content_type
    for name, value in call.headers:
        _put(headers, name, value)
    timeout = call.timeout or settings.timeout
    if call.wait > 0:
        read = max(timeout.read or 0.0, call.wait + WAIT_MARGIN)
        timeout = httpx.Timeout(
            connect=timeout.connect, read=read, write=timeout.write, pool=timeout.pool
        )
    if deadline is not None:
        timeout = clamp_timeout(timeout, deadline - (time.monotonic() if now is None else now))
    try:
        request = builder.build(
            call.method,
            _API_URLS.get(settings.base_url + call.path)
            if call.base_url is None
            else call.base_url + call.path,
            params=call.params or None,
            content=content,
            headers=headers,
            timeout=timeout,
        )
    except (httpx.InvalidURL, UnicodeError, ValueError) as exc:
        problem = redact(f"{call.method} {call.path}: {exc}")
        raise RequestValidationError([problem], "request URL") from exc
    if token is not None:
        _check_bearer_url(request.url)
    return request


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
        seconds = float(value)
    except ValueError:
        pass
    else:  # "nan" and "inf" parse as floats but are no delay
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _json_or_none(content: bytes) -> Any:
    try:
        return json.loads(content) if content else None
    except (ValueError, RecursionError):
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


def request_id(response: httpx.Response) -> str | None:
    """The server's request or trace id from the answer's headers, if any."""
    return next((response.headers[h] for h in _REQUEST_ID_HEADERS if h in response.headers), None)


def error_for(call: Call, response: httpx.Response) -> OrchestratorError:
    """The typed error for a non-2xx answer, with problem details, body and request id."""
    status = response.status_code
    html = _is_html(response)
    parsed = None if html else _json_or_none(response.content)
    problem = parsed if isinstance(parsed, dict) else None
    rid = request_id(response)
    if rid is None and problem is not None and isinstance(problem.get("traceId"), str):
        rid = problem["traceId"]
    message = f"{call.method} {redact(call.path)} failed with HTTP {status}"
    detail = _problem_text(problem) if problem is not None else parsed
    if isinstance(detail, str) and detail:
        message += f": {redact(detail)}"
    elif html:
        message += " (an HTML error page from a gateway)"
    kind = _BY_STATUS.get(status, ServerError if status >= 500 else OrchestratorError)
    if status == 403 and isinstance(parsed, str):
        kind = InsufficientBuzzError
    fields: dict[str, Any] = {
        "status": status,
        "problem": problem,
        "body": parse_body(response.text),
        "body_text": response.text[:BODY_LIMIT],
        "request_id": rid,
        "headers": response.headers,
        "response": response,
    }
    if kind is RateLimitError:
        return RateLimitError(message, retry_after=retry_after(response), **fields)
    return kind(message, **fields)


def transport_error(call: Call, error: httpx.HTTPError) -> TransportError:
    """The SDK error for an httpx failure that produced no answer (``__cause__`` is it)."""
    kind = RequestTimeoutError if isinstance(error, httpx.TimeoutException) else TransportError
    detail = str(error) or (
        "no complete answer in the time allowed" if kind is RequestTimeoutError else "failed"
    )
    where = f"{call.method} {call.path}"
    try:
        origin = error.request.url
    except RuntimeError:  # an error raised before any request was built
        pass
    else:
        if not call.path.startswith(("http://", "https://")):
            where += f" at {_origin(origin)}"
    failure = kind(redact(f"{where}: {type(error).__name__}: {detail}"))
    failure.__cause__ = error
    return failure


def _origin(url: httpx.URL) -> str:
    """``scheme://host[:port]`` of ``url``, without any credentials it holds."""
    host = f"[{url.host}]" if ":" in url.host else url.host
    return f"{url.scheme}://{host}" + (f":{url.port}" if url.port is not None else "")


def _failure(settings: Settings, call: Call, error: httpx.HTTPError) -> TransportError:
    """:func:`transport_error`, or :class:`PoolExhaustedError` when no connection was free."""
    if not isinstance(error, httpx.PoolTimeout):
        return transport_error(call, error)
    waited = (call.timeout or settings.timeout).pool or 0.0
    what = redact(f"{call.method} {call.path}")
    failure = pool_exhausted(what, settings.max_connections, waited)
    failure.__cause__ = error
    return failure


def _deadline_of(settings: Settings, call: Call, clock: Callable[[], float], now: float) -> float:
    """The ``time.monotonic()`` moment by which one attempt of ``call`` started at ``now``
    must end.

    A poll's ``retry_deadline`` is on ``clock`` (a test's may be fake): it is carried
    over to the monotonic clock as the time left.
    """
    limit = None if call.retry_deadline is None else now + (call.retry_deadline - clock())
    total = (call.timeout or settings.timeout).read or DEFAULT_TIMEOUT
    return request_deadline(now, total, call.wait, limit)


def _body_buffer(call: Call, answered: bool) -> BodyBuffer:
    """A strict buffer for an answer, a truncating one for an error's body."""
    if answered:
        return BodyBuffer(call.max_body, truncate=False, what=f"{call.method} {call.path}")
    return BodyBuffer(MAX_ERROR_BODY, truncate=True, what="error")


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


def _timed(response: httpx.Response, started: float) -> None:
    """Set ``response.elapsed``: the time since ``started`` (``time.monotonic()``)."""
    response.elapsed = datetime.timedelta(seconds=time.monotonic() - started)


def _finish(call: Call, response: httpx.Response, started: float) -> None:
    """Time, log and capture an answer (its body read, unless it streams)."""
    _timed(response, started)
    if logger.isEnabledFor(logging.DEBUG):
        logger.debug(
            "%s %s -> %s in %.3fs; request headers %s",
            call.method,
            redact(str(response.request.url)),
            response.status_code,
            time.monotonic() - started,
            redact(response.request.headers),
        )
    for captured in _captures.get():
        captured.responses.append(response)


def _retry_or_raise(
    call: Call,
    attempt: int,
    delay: float | None,
    error: CivitaiError,
    now: float,
    *,
    server_asked: bool,
) -> float:
    """``delay`` (fitted to a poll's deadline) when the retry may go ahead; otherwise
    raise ``error`` (or :class:`RetryPastDeadline`)."""
    if delay is None:
        raise error
    fitted = RetryPolicy.fit(call, delay, now, server_asked=server_asked)
    if fitted is None:
        raise RetryPastDeadline(error) from error
    delay = fitted
    status = getattr(error, "status", None)
    why = f"HTTP {status}" if status else type(error.__cause__).__name__
    logger.info(
        "retrying %s %s in %.2fs (attempt %d): %s",
        call.method,
        redact(call.path),
        delay,
        attempt + 2,
        why,
    )
    return delay


@attrs.frozen
class Send:
    """Effect: send ``request`` by ``deadline`` (``time.monotonic()``); the answer, its
    body not yet read (or the httpx error), comes back."""

    request: httpx.Request
    follow_redirects: bool
    deadline: float


@attrs.frozen
class Read:
    """Effect: read ``response``'s body into ``buffer`` by ``deadline`` and close it; the
    read response comes back (a too large strict body raises ResponseTooLargeError)."""

    response: httpx.Response
    buffer: BodyBuffer
    deadline: float


@attrs.frozen
class Sleep:
    """Effect: wait ``seconds`` before the next attempt."""

    seconds: float


@attrs.frozen
class NeedToken:
    """Effect: ask the settings' :class:`TokenSource` for a current token."""

    source: TokenSource


Effect = Send | Read | Sleep | NeedToken
"""What :func:`exchange` asks its driver to do."""
Plan = Generator[Effect, Any, R]
"""A sans-IO procedure: yields effects, receives their results, returns ``R``."""


def exchange(
    settings: Settings,
    call: Call,
    builder: RequestBuilder,
    clock: Callable[[], float],
    stream: bool,
) -> Plan[httpx.Response]:
    """The request loop: returns the 2xx (or ``accept``-ed) answer or raises a typed error.

    Every attempt is built afresh (a refreshed token, the same idempotency key) and must
    end by its deadline (the timeout, plus any server ``wait``, within a poll's
    ``retry_deadline``); bodies are read through a size cap. Failures are retried only
    as :class:`RetryPolicy` allows. A 2xx body is left unread when ``stream``.
    """
    attempt = 0
    while True:
        token = call.token
        if token is None and call.base_url is None:
            source = settings.token
            token = (
                source if source is None or isinstance(source, str) else (yield NeedToken(source))
            )
        started = time.monotonic()
        deadline = _deadline_of(settings, call, clock, started)
        request = build_request(builder, settings, call, token, deadline, started)
        failure: CivitaiError
        asked = False
        try:
            response: httpx.Response = yield Send(request, call.follow_redirects, deadline)
            answered = response.is_success or response.status_code in call.accept
            if not (stream and answered):
                response = yield Read(response, _body_buffer(call, answered), deadline)
        except httpx.HTTPError as exc:
            failure = _failure(settings, call, exc)
            delay = settings.retry.delay(call, attempt, error=exc)
        else:
            _finish(call, response, started)
            if answered:
                return response
            failure = (call.errors or error_for)(call, response)
            mask_secrets(failure, (token,))
            delay = settings.retry.delay(call, attempt, response=response)
            asked = delay is not None and delay == retry_after(response)  # the server's wait
        yield Sleep(_retry_or_raise(call, attempt, delay, failure, clock(), server_asked=asked))
        attempt += 1


class _Driver:
    """Runs a :data:`Plan`, feeding each effect's result (or httpx error) back into it."""

    def __init__(self, plan: Plan[R]) -> None:
        self._plan = plan
        self.effect: Effect | None = None
        self.result: Any = None
        self.resume(None)

    def resume(self, value: Any) -> None:
        """Continue the plan with the last effect's result."""
        try:
            self.effect = self._plan.send(value)
        except StopIteration as stop:
            self._end(stop)

    def fail(self, error: httpx.HTTPError) -> None:
        """Continue the plan with the last effect's failure."""
        try:
            self.effect = self._plan.throw(error)
        except StopIteration as stop:
            self._end(stop)

    def _end(self, stop: StopIteration) -> None:
        self.effect, self.result = None, stop.value


H = TypeVar("H", httpx.Client, httpx.AsyncClient)
B = TypeVar("B", httpx.BaseTransport, httpx.AsyncBaseTransport)
S = TypeVar("S")


class _Transport(Generic[H, B, S]):
    """What both transports hold: settings, the httpx client, the sleep and the clock."""

    _default_sleep: Any
    _new_http: Callable[[Settings, Any], tuple[Any, Any]]

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
        redact_http_logs()
        self.settings = settings
        self._owned = http_client is None
        self.http: H
        self._pool: B | None
        self.http, self._pool = (
            (http_client, None) if http_client is not None else self._new_http(settings, transport)
        )
        self.builder = RequestBuilder.of(settings, self.http, plain=self._pool is not None)
        self.sleep: Callable[[float], S] = sleep or self._default_sleep
        self.clock = clock

    def _direct(self, send: Send) -> B | None:
        """The pool ``send`` may go straight to rather than through the client, if any.

        A client the SDK created has no auth, event hooks, proxies or cookies, so a
        request that follows no redirect and carries no credentials in its URL only
        needs the transport (which is what the client's ``send`` would call). What
        ``send`` does around it stays (:func:`_pool_answer`, :func:`_finish`): a closed
        client refuses, a failure names its request, an answer knows its ``elapsed``
        and is logged to ``httpx``. Redirects, URL credentials and injected clients go
        through ``send``.
        """
        if send.follow_redirects or send.request.url.userinfo:
            return None
        return self._pool

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


def _pool_answer(request: httpx.Request, response: httpx.Response) -> httpx.Response:
    """``response`` from the pool as the clients' ``send`` hands it out: tied to
    ``request`` and logged to ``httpx`` (redacted, see
    :func:`~civitai_app_sdk._logging.redact_http_logs`); :func:`_finish` times it."""
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
    deadline checked between body chunks.
    """

    _default_sleep = staticmethod(time.sleep)

    @staticmethod
    def _new_http(
        settings: Settings, transport: httpx.BaseTransport | None
    ) -> tuple[httpx.Client, httpx.BaseTransport]:
        if transport is None:
            transport = httpx.HTTPTransport(limits=limits_for(settings.max_connections))
        if isinstance(transport, httpx.HTTPTransport):
            install(transport)  # inert outside a request's deadline_scope
        return httpx.Client(transport=transport, cookies=no_cookies()), transport

    def _send(self, effect: Send) -> httpx.Response:
        """Send through the pool itself when nothing of ``httpx.Client.send`` applies."""
        request = effect.request
        pool = self._direct(effect)
        if pool is None:
            return self.http.send(request, stream=True, follow_redirects=effect.follow_redirects)
        if self.http.is_closed:
            raise RuntimeError(_CLOSED)
        with _from_pool(request):
            response = pool.handle_request(request)
        return _pool_answer(request, response)

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
        driver = _Driver(plan)
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
            _timed(response, started)

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
    the sync one), and requests that follow no redirect go straight to its pool. A
    request's deadline is kept by a cancel scope around its send and its body read.
    """

    _default_sleep = staticmethod(anyio.sleep)

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
        if self._loops is not None:
            await self._loops.enter()
        pool = self._direct(effect)
        if pool is None:
            return await self.http.send(
                request, stream=True, follow_redirects=effect.follow_redirects
            )
        if self.http.is_closed:
            raise RuntimeError(_CLOSED)
        with _from_pool(request):
            response = await pool.handle_async_request(request)
        return _pool_answer(request, response)

    async def _perform(self, effect: Effect) -> Any:
        if isinstance(effect, Send):
            with _cut_at(effect.deadline, effect.request, "request's deadline"):
                return await self._send(effect)
        if isinstance(effect, Read):
            with _cut_at(effect.deadline, effect.response.request, "request's deadline"):
                return await aread_capped(effect.response, effect.buffer, effect.deadline)
        if isinstance(effect, NeedToken):
            return await effect.source.aget_token()
        return await self.sleep(effect.seconds)

    async def drive(self, plan: Plan[R]) -> R:
        """Run ``plan`` to its result, awaiting its effects with this transport."""
        driver = _Driver(plan)
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
            with _mid_body(call), _cut_at(end, response.request, "download's total timeout"):
                yield response
        finally:
            await response.aclose()
            _timed(response, started)

    async def aclose(self) -> None:
        """Close the httpx client if this transport created it."""
        if self._owned:
            if self._loops is not None:  # connections of an ended loop cannot be closed
                await self._loops.enter()
            await self.http.aclose()
