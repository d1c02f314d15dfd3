"""What a failed exchange becomes: the typed error for a non-2xx answer (its problem
details, body, request id and ``Retry-After`` read from it), or for a send that got no
answer at all."""

from __future__ import annotations

import email.utils
import json
import math
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

import httpx

from ._redact import redact
from .errors import (
    BadRequestError,
    ConflictError,
    ForbiddenError,
    InsufficientBuzzError,
    NotFoundError,
    OrchestratorError,
    PoolExhaustedError,
    RateLimitError,
    RequestTimeoutError,
    ServerError,
    TransportError,
    UnauthorizedError,
    UnprocessableError,
    parse_body,
)

if TYPE_CHECKING:
    from ._request import Call
    from ._settings import Settings

BODY_LIMIT: Final = 2000
"""Most characters of a failed answer's body kept on the error (``OrchestratorError.body``)."""
_REQUEST_ID_HEADERS: Final = ("x-request-id", "request-id", "x-correlation-id", "x-trace-id")


def html_type(response: httpx.Response) -> bool:
    """Whether ``response`` says its body is an HTML page (``text/html``, XHTML)."""
    return "html" in response.headers.get("content-type", "").lower()


def is_html(response: httpx.Response) -> bool:
    """Whether ``response`` is an HTML page (a gateway's error page, not the API's)."""
    if html_type(response):
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
    html = is_html(response)
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
    if status == 403 and isinstance(parsed, str) and call.method == "POST":
        kind = InsufficientBuzzError  # a submit's denial; a read refused so is no Buzz matter
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


def pool_exhausted(what: str, max_connections: int | None, waited: float) -> PoolExhaustedError:
    """The error for a request that never got a connection from the client's pool."""
    size = f"all {max_connections}" if max_connections else "all"
    return PoolExhaustedError(
        f"{what}: not sent, {size} connections of this client stayed busy for {waited:.1f} s "
        "(each poll() or wait= request holds one while the server holds it). Create the "
        "client with a larger max_connections=, or run fewer requests at once"
    )


def send_failure(settings: Settings, call: Call, error: httpx.HTTPError) -> TransportError:
    """:func:`transport_error`, or :class:`PoolExhaustedError` when no connection was free."""
    if not isinstance(error, httpx.PoolTimeout):
        return transport_error(call, error)
    waited = (call.timeout or settings.timeout).pool or 0.0
    what = redact(f"{call.method} {call.path}")
    failure = pool_exhausted(what, settings.max_connections, waited)
    failure.__cause__ = error
    return failure
