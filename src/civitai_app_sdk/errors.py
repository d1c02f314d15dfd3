"""The exception tree of the Orchestration API client and its transport.

Everything derives from :class:`CivitaiError`. Answers from the server become an
:class:`OrchestratorError` subclass chosen by HTTP status; failures to get an answer at all
are :class:`TransportError` (and :class:`RequestTimeoutError`). Requests rejected locally,
before anything is sent, raise :class:`RequestValidationError`. A 2xx answer the SDK cannot
read is a :class:`ResponseValidationError` (for an answer or a download sent in a
content encoding it does not decode, :class:`UnsupportedEncodingError`); one too large to
hold or keep is a :class:`ResponseTooLargeError` (:class:`DecompressionBombError` for a
compression bomb).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from ._durations import duration_text

if TYPE_CHECKING:
    import httpx

__all__ = [
    "ArgumentTypeError",
    "BadRequestError",
    "BlobBlockedError",
    "CivitaiError",
    "ClientClosedError",
    "ConfigurationError",
    "ConflictError",
    "DecompressionBombError",
    "DownloadTooSlowError",
    "ForbiddenError",
    "InsufficientBuzzError",
    "LocalFileError",
    "LocalServerError",
    "NotFoundError",
    "NothingCapturedError",
    "OrchestratorError",
    "PollTimeoutError",
    "PoolExhaustedError",
    "RateLimitError",
    "RequestTimeoutError",
    "RequestValidationError",
    "ResponseTooLargeError",
    "ResponseValidationError",
    "SealedCookieTooLargeError",
    "ServerError",
    "TransportError",
    "UnauthorizedError",
    "UnprocessableError",
    "UnsupportedEncodingError",
    "retry_with_key",
]


class CivitaiError(Exception):
    """Base of every exception the SDK raises on purpose: catch this to catch them all.

    ``external_id`` is set on every error raised by a call that may charge (a submit):
    the idempotency key to retry with, so the retry cannot charge twice.
    """

    external_id: str | None = None

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle as class, message and attributes, whatever the subclass's ``__init__``.

        So an error crosses a process boundary (multiprocessing, job queues) intact.
        """
        return (_restore, (type(self), self.args), self.__dict__)


def _restore(kind: type[CivitaiError], args: tuple[Any, ...]) -> CivitaiError:
    """An instance of ``kind`` with ``args``, made without its ``__init__`` (see pickling)."""
    base: Any = OSError if issubclass(kind, OSError) else Exception
    error: CivitaiError = base.__new__(kind, *args)
    base.__init__(error, *args)
    return error


def retry_with_key(error: BaseException, external_id: str, call: str = "submit") -> None:
    """Attach ``external_id`` to ``error`` and say in its message how to retry safely.

    Used by every call that spends Buzz, however it ended: a cancellation (``asyncio``
    timeout) or Ctrl-C gets the key and a note too, as the request may have been
    charged. ``call`` names the method to retry.
    """
    setattr(error, "external_id", external_id)  # noqa: B010 - any exception, not only ours
    note = (
        f"The workflow may have been created: the safe retry is "
        f"{call}(body, external_id=exc.external_id), here external_id={external_id!r} "
        "(the same key cannot charge twice)"
    )
    add_to_message(error, note)


def _then(text: str, sentence: str) -> str:
    """``text`` followed by ``sentence``, with a full stop between unless ``text`` (a
    server's words, often) already ends one."""
    return f"{text} {sentence}" if text.endswith((".", "!", "?")) else f"{text}. {sentence}"


def add_to_message(error: BaseException, note: str) -> None:
    """End the message of one of our errors with ``note``; another exception (a
    cancellation, an interrupt) gets it as a note (``add_note``)."""
    if isinstance(error, CivitaiError) and error.args and isinstance(error.args[0], str):
        error.args = (_then(error.args[0], note), *error.args[1:])
    else:
        error.add_note(note)


class LocalFileError(CivitaiError, OSError):
    """A file could not be written (the OS refused its name, space ran out…)."""


class ConfigurationError(CivitaiError, ValueError):
    """The SDK was set up wrongly (no token, a malformed URL, a bad option); nothing was sent."""


class ClientClosedError(CivitaiError, RuntimeError):
    """A call on a client after ``close()``/``aclose()``; nothing was sent. A
    :class:`RuntimeError` too, as httpx raises for a closed client."""


class LocalServerError(CivitaiError, RuntimeError):
    """The local server (:mod:`civitai_app_sdk.local`) did not start, or answered as it
    never should. A :class:`RuntimeError` too, as it was before."""


class NothingCapturedError(CivitaiError, LookupError):
    """``CapturedResponses.last`` asked before any response was captured. A
    :class:`LookupError` too, as it was before."""


class ArgumentTypeError(CivitaiError, TypeError):
    """An argument of the wrong type (a number where text goes, one string for a list);
    nothing was done. A :class:`TypeError` too, so ``except TypeError`` still catches it."""


class SealedCookieTooLargeError(CivitaiError, ValueError):
    """A value would seal to more characters than a cookie holds; nothing was sealed.

    ``length`` is the sealed value's length and ``limit`` the most the sealer opens
    again (one browser cookie by default). Store less in the cookie: a session id, with
    the data kept server-side. The message never holds the value.
    """

    def __init__(self, length: int, limit: int) -> None:
        """Say how long the sealed value would have been and what fits."""
        self.length = length
        self.limit = limit
        super().__init__(
            f"the sealed cookie would be {length:,} characters, past the {limit:,} it may "
            "have (a browser drops a larger cookie, and it could not be unsealed): nothing "
            "was sealed; store less in it, such as a session id with the data kept "
            "server-side"
        )


_NOT_FIELDS: Final = frozenset({"argument", "upload", "URL"})
"""What a :class:`RequestValidationError` may refuse that is not a JSON field of the API."""


class RequestValidationError(CivitaiError, ValueError):
    """A request body or argument failed strict validation; nothing was sent.

    ``problems`` lists each issue as ``"<json path>: <what is wrong>"``.
    """

    def __init__(self, problems: list[str], what: str = "request") -> None:
        """Keep the list of problems and build a readable message from it."""
        self.problems = problems
        shown = "; ".join(problems[:10])
        more = f" (+{len(problems) - 10} more)" if len(problems) > 10 else ""
        fields = (  # a Python argument (workflow_id, take…) is no JSON field of the API
            ""
            if what in _NOT_FIELDS
            else " Fix these fields (names are the API's camelCase JSON names)."
        )
        super().__init__(f"invalid {what}, nothing was sent: {shown}{more}.{fields}")


def problem_text(error: ValueError) -> str:
    """What is wrong, without the framing: a :class:`RequestValidationError`'s problems
    joined, any other error's message (for a caller that words the error its own way)."""
    if isinstance(error, RequestValidationError):
        return "; ".join(error.problems)
    return str(error)


def parse_body(text: str) -> object:
    """A body as 0.14 keeps it: parsed JSON, else the text itself, ``None`` when empty.

    JSON nested too deeply to parse (a hostile body) is kept as text too.
    """
    if not text:
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return text


class UnparsedBody:
    """A body's text for :class:`OrchestratorError` to parse when ``body`` is first read.

    Pass it as ``body=`` where the body may be large and is seldom looked at (a refused
    answer of many megabytes): parsing it there could take a second.
    """

    def __init__(self, text: str) -> None:
        """Keep ``text`` unparsed."""
        self.text = text


class OrchestratorError(CivitaiError):
    """An Orchestration API call failed.

    ``status`` is the HTTP status (``None`` when no answer came back), ``problem`` the
    RFC 7807 problem details (a dict, when the server sent them), ``body`` the body as
    0.14 gives it (parsed JSON; the text when it is not JSON; ``None`` when empty),
    ``body_text`` the raw body text (at most 2,000 characters), ``request_id`` the
    server's request or trace id when it sent one, ``headers`` the response headers and
    ``response`` the ``httpx.Response`` when there was one (``status_code`` is
    ``status``). ``external_id`` is the idempotency key of a submit that failed (``None``
    for other calls): retrying with it cannot charge twice.
    """

    hint = ""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        problem: Mapping[str, Any] | None = None,
        body: object = None,
        body_text: str | None = None,
        request_id: str | None = None,
        headers: Mapping[str, str] | None = None,
        external_id: str | None = None,
        response: httpx.Response | None = None,
    ) -> None:
        """Record the failure; the message gets this class's hint appended."""
        self.external_id = external_id
        self.response = response
        self.status = status
        self.problem = dict(problem) if problem is not None else None
        self.body = body
        self.body_text = body_text
        self.request_id = request_id
        self.headers = dict(headers or {})
        text = message
        if self.hint:
            text = _then(text, self.hint)
        if request_id:
            text += f" (request id {request_id})"
        super().__init__(text)

    @property
    def body(self) -> object:
        """The body as 0.14 gives it (see the class); one given as :class:`UnparsedBody`
        is parsed when first read."""
        body = self.__dict__.get("body")
        if isinstance(body, UnparsedBody):
            body = self.__dict__["body"] = parse_body(body.text)
        return body

    @body.setter
    def body(self, value: object) -> None:
        self.__dict__["body"] = value

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle the body parsed, as it was before it was parsed on demand."""
        restore, args, state = super().__reduce__()
        return restore, args, {**state, "body": self.body}

    @property
    def status_code(self) -> int | None:
        """The HTTP status (another name for ``status``, as in httpx and other SDKs)."""
        return self.status


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


class BlobBlockedError(ForbiddenError):
    """A blob read was redirected to the placeholder the API serves for blocked media.

    Moderation blocked the blob (the blob object's ``blockedReason`` says why); the
    placeholder's bytes are never handed out or saved as the blob.
    """

    hint = "Moderation blocked this blob (see its blockedReason); nothing was saved"


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
            message += f" (retry after {duration_text(retry_after)})"
        super().__init__(message, **kw)


class ServerError(OrchestratorError):
    """HTTP 5xx (including gateway HTML pages): a problem on the service side."""

    hint = (
        "A service-side failure; try again later (reads were already retried on 502-504 "
        "and gateway pages; a 500 is not retried)"
    )


class ResponseValidationError(OrchestratorError):
    """A 2xx answer whose body does not match the expected model; ``body`` holds it.

    ``problem_count`` is how many problems the schema found in it (``None`` when it was
    not read against one, such as a web page) and ``every_problem_counted`` whether that
    is all of them. An answer over 1 MiB is read by a validator whose lists stop at
    their first bad item (counting every problem of a hostile one took seconds): its
    count, and the message's, is then a lower bound ("at least 4 problem(s)").
    """

    hint = "Upgrade civitai-app-sdk; if that does not help, please report the body"

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        problem_count: int | None = None,
        every_problem_counted: bool = False,
        **kw: Any,
    ) -> None:
        """Record the failure; ``hint`` replaces the class's (a web page for an answer
        calls for another remedy than an upgrade)."""
        if hint is not None:
            self.hint = hint
        self.problem_count = problem_count
        self.every_problem_counted = every_problem_counted
        super().__init__(message, **kw)


class TransportError(OrchestratorError):
    """No HTTP answer: DNS, connection or protocol failure."""

    hint = (
        "Check the network and the address named above (the orchestrator's comes from "
        "base_url or CIVITAI_API_URL)"
    )


class RequestTimeoutError(TransportError):
    """The HTTP request took longer than its timeout."""

    hint = "Raise the client's timeout, or check the network"


class DownloadTooSlowError(RequestTimeoutError):
    """A streamed download fell below its minimum speed and was stopped; nothing was kept.

    ``min_bytes`` and ``window`` are the floor: that many bytes in every ``window`` seconds.
    """

    hint = (
        "The server sends too slowly; retry later, or pass a lower min_speed=(bytes, "
        "seconds) (None: no floor)"
    )

    def __init__(self, message: str, *, min_bytes: int, window: float, **kw: Any) -> None:
        """Record the failure and the floor that was not met."""
        self.min_bytes = min_bytes
        self.window = window
        super().__init__(message, **kw)


class PoolExhaustedError(TransportError):
    """The request was never sent: every connection of the client's pool stayed busy."""

    hint = "Nothing was sent; the network is not at fault"


class ResponseTooLargeError(OrchestratorError):
    """An answer was larger than the SDK holds in memory, or a download larger than its
    ``max_size``; ``limit`` is the cap in bytes.

    Blobs of any size can be streamed to disk with ``download_blob`` (up to its
    ``max_size``, 16 GiB by default; ``None``: no cap).
    """

    hint = (
        "For large blobs use download_blob(), which streams to disk; for a page of "
        "workflows, ask for fewer (take=)"
    )

    def __init__(self, message: str, *, limit: int, hint: str | None = None, **kw: Any) -> None:
        """Record the failure and the cap (bytes) that was exceeded; ``hint`` replaces
        the class's (a download past its ``max_size`` calls for a larger one)."""
        if hint is not None:
            self.hint = hint
        self.limit = limit
        super().__init__(message, **kw)


class DecompressionBombError(ResponseTooLargeError):
    """A download's body grew far more when decoded than any media does (a compression
    bomb); it was stopped and nothing was kept. ``limit`` is the decoded size allowed for
    the bytes received by then.
    """

    hint = "The server sent a compressed body that decodes without end; retry, or report it"


class UnsupportedEncodingError(ResponseValidationError):
    """An answer or a download came in a content encoding the SDK does not decode in
    bounded memory (``br``, ``zstd``, ``compress``, an unknown one, or more than one);
    nothing was kept.

    The SDK decodes only ``gzip`` and ``deflate``, a step of at most 1 MiB at a time, and
    asks for nothing else (downloads ask for the bytes as stored, ``Accept-Encoding:
    identity``). ``encoding`` is the answer's ``Content-Encoding``.
    """

    hint = (
        "The server (or a proxy) compressed the file although the SDK asked for it as "
        "stored; retry later, or report it"
    )

    def __init__(self, message: str, *, encoding: str, **kw: Any) -> None:
        """Record the failure and the encoding that was refused."""
        self.encoding = encoding
        super().__init__(message, **kw)


class PollTimeoutError(OrchestratorError, TimeoutError):
    """A workflow did not finish before the poll deadline; ``last`` is the last snapshot
    (``None`` when no answer came before it; ``__cause__`` then says why).

    The workflow keeps running on the server: poll again, or cancel it.
    """

    hint = "It is still running on the server: poll again later, or cancel() it"

    def __init__(self, message: str, *, last: Any) -> None:
        """Record the last workflow snapshot seen before the deadline."""
        self.last = last
        super().__init__(message)
