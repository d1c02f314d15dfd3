"""Turn SDK, OAuth and local failures into one-line CLI errors with their exit codes."""

from __future__ import annotations

import httpx

from civitai_app_sdk import errors as sdk
from civitai_app_sdk.oauth.errors import LoginRequiredError, OAuthError

from ._config import ConfigError
from ._exit import CliError, ExitCode

LOGIN_HINT = "set CIVITAI_API_TOKEN, add it to ./.env, or run `civitai-orch login`"


def _detail(error: sdk.OrchestratorError) -> str:
    """The server's own words: problem detail or title, else a short body, else nothing."""
    problem = error.problem or {}
    for key in ("detail", "title"):
        value = problem.get(key)
        if isinstance(value, str) and value.strip():
            return " ".join(value.split())
    errors = problem.get("errors")
    if isinstance(errors, dict) and errors:
        return "; ".join(
            f"{field}: {' '.join(map(str, msgs)) if isinstance(msgs, list) else msgs}"
            for field, msgs in list(errors.items())[:5]
        )
    body = (error.body_text or "").strip()
    if body and not body.startswith("<"):
        return " ".join(body.strip('"').split())[:200]
    return ""


def _with(detail: str, message: str) -> str:
    return f"{message} ({detail})" if detail else message


def _orchestrator(error: sdk.OrchestratorError) -> CliError:
    if isinstance(error, sdk.ResponseValidationError):
        return CliError(str(error), ExitCode.ERROR)
    detail = _detail(error)
    if isinstance(error, sdk.UnauthorizedError):
        return CliError(
            _with(detail, f"the API token was refused (invalid or expired): {LOGIN_HINT}"),
            ExitCode.AUTH,
        )
    if isinstance(error, sdk.InsufficientBuzzError):
        return CliError(
            _with(
                detail,
                "not enough Buzz (or the token's Buzz limit is reached); nothing "
                "was charged: top up at https://civitai.com/purchase/buzz",
            ),
            ExitCode.INSUFFICIENT_BUZZ,
        )
    if isinstance(error, sdk.ForbiddenError):
        return CliError(
            _with(
                detail,
                "permission denied: the token needs the AIServicesRead and "
                "AIServicesWrite scopes (`civitai-orch login`)",
            ),
            ExitCode.FORBIDDEN,
        )
    if isinstance(error, sdk.NotFoundError):
        return CliError(
            "not found: check the id; workflows belong to the token's user and expire "
            "about 30 days after they finish",
            ExitCode.NOT_FOUND,
        )
    if isinstance(error, sdk.RateLimitError):
        wait = f"wait {error.retry_after:g} s" if error.retry_after is not None else "wait a minute"
        return CliError(f"rate limited: {wait} and try again", ExitCode.RATE_LIMITED)
    if isinstance(error, sdk.ServerError):
        return CliError(
            f"server error (HTTP {error.status}): the service is having trouble, try again later",
            ExitCode.SERVER,
        )
    if isinstance(error, sdk.RequestTimeoutError):
        return CliError("the request timed out: check the network and try again", ExitCode.NETWORK)
    if isinstance(error, sdk.TransportError):
        return CliError(
            "cannot reach the API: check the network and CIVITAI_API_URL", ExitCode.NETWORK
        )
    if isinstance(error, sdk.PollTimeoutError):
        return CliError(
            "still running when the wait ended: check later with `civitai-orch workflow ID`",
            ExitCode.ERROR,
        )
    status = f"HTTP {error.status}" if error.status else "error"
    return CliError(f"the API refused the request ({status}): {detail or error}", ExitCode.ERROR)


def to_click_error(exc: Exception) -> CliError | None:
    """The CLI error for ``exc``, or ``None`` for a bug that should show its traceback."""
    if isinstance(exc, sdk.OrchestratorError):
        return _orchestrator(exc)
    if isinstance(exc, sdk.RequestValidationError):
        return CliError(str(exc), ExitCode.USAGE)
    if isinstance(exc, LoginRequiredError):
        return CliError(f"the stored login has expired: {LOGIN_HINT}", ExitCode.AUTH)
    if isinstance(exc, OAuthError):
        return CliError(f"sign-in failed: {exc}", ExitCode.AUTH)
    if isinstance(exc, ConfigError | sdk.ConfigurationError):
        return CliError(str(exc), ExitCode.USAGE)
    if isinstance(exc, httpx.TimeoutException):
        return CliError("the request timed out: check the network and try again", ExitCode.NETWORK)
    if isinstance(exc, httpx.TransportError):
        return CliError(
            "cannot reach the server: check the network and CIVITAI_API_URL", ExitCode.NETWORK
        )
    if isinstance(exc, OSError):
        return CliError(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "))
    return None
