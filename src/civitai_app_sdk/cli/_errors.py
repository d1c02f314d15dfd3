"""Turn SDK, OAuth and local failures into one-line CLI errors with their exit codes.

Each message says what went wrong and what to do, then what the server said (its
problem detail and field errors) and the request id to quote to support.
"""

from __future__ import annotations

from collections.abc import Mapping

import click
import httpx

from civitai_app_sdk import errors as sdk
from civitai_app_sdk._durations import duration_text
from civitai_app_sdk.oauth.errors import LoginRequiredError, OAuthError

from ._exit import CliError, ExitCode

LOGIN_HINT = "set CIVITAI_API_TOKEN, add it to ./.env, or run `civitai-orch login`"
STORED_LOGIN = "civitai_orch.stored_login"
"""Context meta key: the origin of the stored login the running command sent, if any."""


def _stored_login_in_use() -> str | None:
    ctx = click.get_current_context(silent=True)
    value = ctx.meta.get(STORED_LOGIN) if ctx is not None else None
    return value if isinstance(value, str) else None


def sentence(text: str) -> str:
    """``text`` on one line without trailing periods, so joins never read ``..``."""
    return " ".join(str(text).split()).rstrip(". ")


def before_hint(error: sdk.OrchestratorError) -> str | None:
    """``error``'s message up to the hint the SDK appends for Python callers, as one
    :func:`sentence`; ``None`` when the message holds no hint."""
    text = str(error)
    end = text.find(error.hint) if error.hint else -1
    return sentence(text[:end]) if end >= 0 else None


def field_errors(error: sdk.OrchestratorError) -> dict[str, list[str]] | None:
    """The server's field errors (``problem.errors``), each field with its messages."""
    errors = (error.problem or {}).get("errors")
    if not isinstance(errors, Mapping) or not errors:
        return None
    return {
        str(field): [sentence(m) for m in (msgs if isinstance(msgs, list) else [msgs])]
        for field, msgs in errors.items()
    }


def _body_text(error: sdk.OrchestratorError) -> str:
    return (error.body_text or "").strip()


def server_words(error: sdk.OrchestratorError) -> str:
    """What the server said: problem detail or title, field errors, else a short body."""
    problem = error.problem or {}
    parts: list[str] = []
    for key in ("detail", "title"):
        value = problem.get(key)
        if isinstance(value, str) and value.strip():
            parts.append(sentence(value))
            break
    fields = field_errors(error)
    if fields:
        parts.append("; ".join(f"{f}: {' '.join(msgs)}" for f, msgs in list(fields.items())[:8]))
    if not parts:
        body = _body_text(error)
        if body and not body.startswith("<"):
            parts.append(sentence(body.strip('"'))[:200])
    return ": ".join(parts)


def with_server_words(error: sdk.OrchestratorError, message: str, code: ExitCode) -> CliError:
    """``message`` with the server's words and request id appended, for ``code``."""
    text = sentence(message)
    words = server_words(error)
    if words:
        text += f" (server: {words})"
    if error.request_id:
        text += f" [request id {error.request_id}]"
    return CliError(
        text,
        code,
        status=error.status,
        request_id=error.request_id,
        fields=field_errors(error),
    )


def _lead(error: sdk.OrchestratorError) -> tuple[str, ExitCode]:
    """The CLI's own explanation of ``error`` and its exit code."""
    if isinstance(error, sdk.UnauthorizedError):
        stored = _stored_login_in_use()
        if stored is not None:
            return (
                f"the stored login was refused by {stored}: it has expired or was issued by "
                "another server (a restarted serve-local forgets its logins); run "
                "`civitai-orch login` again or set CIVITAI_API_TOKEN",
                ExitCode.AUTH,
            )
        return f"the API token was refused (invalid or expired): {LOGIN_HINT}", ExitCode.AUTH
    if isinstance(error, sdk.InsufficientBuzzError):
        return (
            "not enough Buzz (or the token's Buzz limit is reached); nothing was charged: "
            "top up at https://civitai.com/purchase/buzz",
            ExitCode.INSUFFICIENT_BUZZ,
        )
    if isinstance(error, sdk.ForbiddenError):
        return (
            "permission denied: the token needs the AIServicesRead and AIServicesWrite "
            "scopes (`civitai-orch login`)",
            ExitCode.FORBIDDEN,
        )
    if isinstance(error, sdk.NotFoundError):
        return (
            "not found: check the id; workflows belong to the token's user and expire "
            "about 30 days after they finish",
            ExitCode.NOT_FOUND,
        )
    if isinstance(error, sdk.RateLimitError):
        after = error.retry_after
        wait = f"wait {duration_text(after)}" if after is not None else "wait a minute"
        return f"rate limited: {wait} and try again", ExitCode.RATE_LIMITED
    if isinstance(error, sdk.ServerError):
        return (
            f"server error (HTTP {error.status}): the service is having trouble, try again later",
            ExitCode.SERVER,
        )
    if isinstance(error, sdk.DownloadTooSlowError):
        return (
            f"the server sent fewer than {error.min_bytes} bytes in {error.window:g} s, so "
            "the download was stopped and nothing was saved: try again later",
            ExitCode.NETWORK,
        )
    if isinstance(error, sdk.RequestTimeoutError):
        return "the request timed out: check the network and try again", ExitCode.NETWORK
    if isinstance(error, sdk.TransportError):
        return "cannot reach the API: check the network and CIVITAI_API_URL", ExitCode.NETWORK
    if isinstance(error, sdk.PollTimeoutError):
        return (
            "still running when the wait ended: check later with `civitai-orch workflow ID`",
            ExitCode.ERROR,
        )
    if isinstance(error, sdk.ResponseTooLargeError):
        return (
            f"the API's answer was larger than {error.limit:,} bytes, so it was not read "
            "(the API did not refuse the request): check CIVITAI_API_URL",
            ExitCode.ERROR,
        )
    if isinstance(error, sdk.BadRequestError):
        return "the API refused the request (HTTP 400): fix the fields it names", ExitCode.ERROR
    status = f"HTTP {error.status}" if error.status else "error"
    return f"the API refused the request ({status})", ExitCode.ERROR


def _unreadable(error: sdk.ResponseValidationError) -> CliError:
    """A 2xx answer that could not be read, in the CLI's words.

    The SDK's message ends with its hint, then notes for Python callers (how to retry
    with ``submit(...)`` or check ``client.list()``); the commands that spend Buzz say
    that their own way, so the message stops at the hint. A web page for an answer
    means the URL points at a website, not that the SDK is too old.
    """
    base = before_hint(error)
    if base is None:
        text = str(error)
    elif error.hint == sdk.ResponseValidationError.hint and _body_text(error).startswith("<"):
        text = f"{base}: it is a web page; check CIVITAI_API_URL (or a proxy in between)"
    else:
        text = f"{base}. {error.hint}"
    text = sentence(text)
    if error.request_id:
        text += f" [request id {error.request_id}]"
    return CliError(text, ExitCode.ERROR, status=error.status, request_id=error.request_id)


def orchestrator_error(error: sdk.OrchestratorError) -> CliError:
    """The CLI error for an orchestrator failure."""
    if isinstance(error, sdk.ResponseValidationError):
        return _unreadable(error)
    message, code = _lead(error)
    return with_server_words(error, message, code)


def to_click_error(exc: Exception) -> CliError | None:
    """The CLI error for ``exc``, or ``None`` to let it propagate: a bug that should show
    its traceback, or a closed pipe, which click ends quietly."""
    if isinstance(exc, sdk.OrchestratorError):
        return orchestrator_error(exc)
    if isinstance(exc, sdk.RequestValidationError):
        return CliError(str(exc), ExitCode.USAGE)
    if isinstance(exc, LoginRequiredError):
        return CliError(f"the stored login has expired: {LOGIN_HINT}", ExitCode.AUTH)
    if isinstance(exc, OAuthError):
        return CliError(f"sign-in failed: {sentence(str(exc))}", ExitCode.AUTH)
    if isinstance(exc, sdk.ConfigurationError):  # the CLI's ConfigError too
        return CliError(str(exc), ExitCode.USAGE)
    if isinstance(exc, httpx.TimeoutException):
        return CliError("the request timed out: check the network and try again", ExitCode.NETWORK)
    if isinstance(exc, httpx.TransportError):
        return CliError(
            "cannot reach the server: check the network and CIVITAI_API_URL", ExitCode.NETWORK
        )
    if isinstance(exc, BrokenPipeError):  # the reader left (`| head`): click exits quietly
        return None
    if isinstance(exc, OSError):
        return CliError(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "))
    return None
