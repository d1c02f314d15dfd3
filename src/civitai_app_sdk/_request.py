"""One request: its description (:class:`Call`, per-call :class:`RequestOptions`) and
how a transport builds the ``httpx.Request`` for it (:func:`build_request`)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, Self, TypedDict

import attrs
import httpx

from ._deadline import clamp_timeout
from ._fork import reset_in_child
from ._headers import HEADER_NAME, check_bearer_url, header_value, put_header
from ._limits import MAX_JSON_BODY
from ._redact import holds_secret, redact
from ._settings import Settings, as_timeout
from ._wire import WireWatch
from .errors import CivitaiError, RequestValidationError

WAIT_MARGIN: Final = 30.0
"""Seconds added to the read timeout of a long-poll (`wait`) request."""


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
    ``watch`` is told, through httpcore's trace, whether any attempt began writing.
    ``headers`` (the caller's ``extra_headers``) go to the request's origin only: a
    redirect to another origin drops them. ``accept_encoding`` replaces the client's
    ``Accept-Encoding`` on every hop (``"identity"``: the body as stored, for downloads).
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
    watch: WireWatch | None = attrs.field(default=None, repr=False)
    accept_encoding: str | None = None


def to_url(method: str, url: str, **fields: Any) -> Call:
    """A :class:`Call` to an absolute URL on any origin (the settings' token is not sent)."""
    try:
        parsed = httpx.URL(url)
        host = parsed.host  # decoded from IDNA: a malformed one is a UnicodeError
    except (httpx.InvalidURL, TypeError, UnicodeError) as exc:
        raise RequestValidationError([redact(f"{url}: {exc}")], "URL") from exc
    if parsed.scheme not in ("http", "https") or not host:
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
        if not isinstance(name, str) or not HEADER_NAME.fullmatch(name):
            raise RequestValidationError([f"extra_headers: {name!r} is not a header name"])
        header_value(value, f"the {name} header", spaces=True)
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


BuildRequest = Callable[..., httpx.Request]
"""Makes an ``httpx.Request`` from a method, URL and ``params``/``content``/``headers``/
``timeout``, as ``httpx.Client.build_request`` does."""


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
            put_header(merged, name, value)
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
        reset_in_child(self, _ParsedUrls._in_child)

    def _in_child(self) -> None:
        """A fresh lock in a forked child (a thread of the parent may have held it); the
        URLs stay."""
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
            header_value(token, "the access token")
        headers["Authorization"] = "Bearer " + token  # in no default header set
    content = call.content
    if call.json is not None:
        content = json.dumps(call.json, separators=(",", ":")).encode()
    if content is not None:
        headers["Content-Type"] = call.content_type
    if call.accept_encoding is not None:
        put_header(headers, "Accept-Encoding", call.accept_encoding)
    for name, value in call.headers:
        put_header(headers, name, value)
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
        check_bearer_url(request.url)
    return request
