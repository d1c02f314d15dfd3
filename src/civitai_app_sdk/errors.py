"""The exception tree of the Orchestration API client and its transport.

Everything derives from :class:`CivitaiError`. Answers from the server become an
:class:`OrchestratorError` subclass chosen by HTTP status; failures to get an answer at all
are :class:`TransportError` (and :class:`RequestTimeoutError`). Requests rejected locally,
before anything is sent, raise :class:`RequestValidationError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "BadRequestError",
    "CivitaiError",
    "ConfigurationError",
    "ConflictError",
    "ForbiddenError",
    "InsufficientBuzzError",
    "NotFoundError",
    "OrchestratorError",
    "PollTimeoutError",
    "PoolExhaustedError",
    "RateLimitError",
    "RequestTimeoutError",
    "RequestValidationError",
    "ResponseTooLargeError",
    "ResponseValidationError",
    "ServerError",
    "TransportError",
    "UnauthorizedError",
    "UnprocessableError",
]


class CivitaiError(Exception):
    """Base of every exception the SDK raises on purpose: catch this to catch them all."""


class ConfigurationError(CivitaiError, ValueError):
    """The SDK was set up wrongly (no token, a malformed URL, a bad option); nothing was sent."""


class RequestValidationError(CivitaiError, ValueError):
    """A request body or argument failed strict validation; nothing was sent.

    ``problems`` lists each issue as ``"<json path>: <what is wrong>"``.
    """

    def __init__(self, problems: list[str], what: str = "request") -> None:
        """Keep the list of problems and build a readable message from it."""
        self.problems = problems
        shown = "; ".join(problems[:10])
        more = f" (+{len(problems) - 10} more)" if len(problems) > 10 else ""
        super().__init__(
            f"invalid {what}, nothing was sent: {shown}{more}. "
            "Fix these fields (names are the API's camelCase JSON names)."
        )


class OrchestratorError(CivitaiError):
    """An Orchestration API call failed.

    ``status`` is the HTTP status (``None`` when no answer came back), ``problem`` the
    RFC 7807 problem details (a dict, when the server sent them), ``body`` the raw body
    text (at most 2,000 characters), ``request_id`` the server's request or trace id
    when it sent one, and ``headers`` the response headers. ``external_id`` is the
    idempotency key of a submit that failed (``None`` for other calls): retrying with it
    cannot charge twice.
    """

    hint = ""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        problem: Mapping[str, Any] | None = None,
        body: str | None = None,
        request_id: str | None = None,
        headers: Mapping[str, str] | None = None,
        external_id: str | None = None,
    ) -> None:
        """Record the failure; the message gets this class's hint appended."""
        self.external_id = external_id
        self.status = status
        self.problem = dict(problem) if problem is not None else None
        self.body = body
        self.request_id = request_id
        self.headers = dict(headers or {})
        text = message
        if self.hint:
            text += f". {self.hint}"
        if request_id:
            text += f" (request id {request_id})"
        super().__init__(text)


class BadRequestError(OrchestratorError):
    """HTTP 400: the server rejected the request's content."""

    hint = "Check the fields the server names above; the request was not run"


class UnauthorizedError(OrchestratorError):
    """HTTP 401: the token is missing, wrong or expired."""

    hint = (
        "Check the access token (CIVITAI_API_TOKEN): it must be a valid Civitai API key "
        "or an unexpired OAuth token with the AIServices scopes"
    )


class ForbiddenError(OrchestratorError):
    """HTTP 403: the token may not do this (scope, permission or mature-content rules)."""

    hint = "The token lacks permission for this; check its scopes and the resource's rules"


class InsufficientBuzzError(ForbiddenError):
    """HTTP 403 on submit: the Buzz balance or the token's spending cap does not cover it."""

    hint = (
        "Nothing was charged. Top up Buzz, raise the token's buzzLimit, or estimate() first "
        "to see the cost"
    )


class NotFoundError(OrchestratorError):
    """HTTP 404: unknown id, someone else's workflow, an ephemeral one, or past retention."""

    hint = "Check the id; workflows are per user and expire about 30 days after finishing"


class ConflictError(OrchestratorError):
    """HTTP 409: the request conflicts with the workflow's current state."""

    hint = "Re-read the workflow and retry with its current state"


class UnprocessableError(OrchestratorError):
    """HTTP 422: well-formed but refused (for example, by moderation)."""

    hint = "The content was refused; change it rather than retrying"


class RateLimitError(OrchestratorError):
    """HTTP 429: too many requests. ``retry_after`` is the server's delay in seconds."""

    hint = "Slow down and retry later"

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        """Record the failure and the server's ``Retry-After`` delay (seconds)."""
        self.retry_after = retry_after
        if retry_after is not None:
            message += f" (retry after {retry_after:g} s)"
        super().__init__(message, **kw)


class ServerError(OrchestratorError):
    """HTTP 5xx (including gateway HTML pages): a problem on the service side."""

    hint = "A service-side failure; try again later (GET calls are retried automatically)"


class ResponseValidationError(OrchestratorError):
    """A 2xx answer whose body does not match the expected model; ``body`` holds it."""

    hint = "Upgrade civitai-app-sdk; if that does not help, please report the body"


class TransportError(OrchestratorError):
    """No HTTP answer: DNS, connection or protocol failure."""

    hint = "Check the network and the base URL (CIVITAI_API_URL)"


class RequestTimeoutError(TransportError):
    """The HTTP request took longer than its timeout."""

    hint = "Raise the client's timeout, or check the network"


class PoolExhaustedError(TransportError):
    """The request was never sent: every connection of the client's pool stayed busy."""

    hint = "Nothing was sent; the network is not at fault"


class ResponseTooLargeError(OrchestratorError):
    """An answer was larger than the SDK holds in memory; ``limit`` is the cap in bytes.

    Blobs of any size can be streamed to disk with ``download_blob``.
    """

    hint = "For large blobs use download_blob(), which streams to disk"

    def __init__(self, message: str, *, limit: int, **kw: Any) -> None:
        """Record the failure and the cap (bytes) that was exceeded."""
        self.limit = limit
        super().__init__(message, **kw)


class PollTimeoutError(OrchestratorError, TimeoutError):
    """A workflow did not finish before the poll deadline; ``last`` is the last snapshot.

    The workflow keeps running on the server: poll again, or cancel it.
    """

    hint = "It is still running on the server: poll again later, or cancel() it"

    def __init__(self, message: str, *, last: Any) -> None:
        """Record the last workflow snapshot seen before the deadline."""
        self.last = last
        super().__init__(message)
