"""Error answers shaped like the real services: RFC 7807 problems, OAuth and tRPC errors."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Mapping
from typing import Final

from civitai_app_sdk_generated._base import json_location, reported_errors
from pydantic import ValidationError
from starlette.responses import JSONResponse

__all__ = [
    "bare_string",
    "oauth_error",
    "pointer_to_path",
    "problem",
    "trpc_error",
    "validation_errors",
    "validation_problem",
]

PROBLEM_JSON: Final = "application/problem+json"
"""Content type of RFC 7807 problem details."""
_TYPES: Final = {
    400: "https://tools.ietf.org/html/rfc9110#section-15.5.1",
    401: "https://tools.ietf.org/html/rfc9110#section-15.5.2",
    403: "https://tools.ietf.org/html/rfc9110#section-15.5.4",
    404: "https://tools.ietf.org/html/rfc9110#section-15.5.5",
    413: "https://tools.ietf.org/html/rfc9110#section-15.5.14",
    429: "https://tools.ietf.org/html/rfc6585#section-4",
    500: "https://tools.ietf.org/html/rfc9110#section-15.6.1",
    502: "https://tools.ietf.org/html/rfc9110#section-15.6.3",
    503: "https://tools.ietf.org/html/rfc9110#section-15.6.4",
    504: "https://tools.ietf.org/html/rfc9110#section-15.6.5",
}
_TITLES: Final = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    413: "Content Too Large",
    429: "Too Many Requests",
    500: "An error occurred while processing your request.",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def _trace_id() -> str:
    return f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-00"


def problem(
    status: int,
    detail: str | None = None,
    *,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """A ProblemDetails answer as ASP.NET writes it (with a ``traceId``)."""
    body: dict[str, object] = {
        "type": _TYPES.get(status, "about:blank"),
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "traceId": _trace_id(),
    }
    if detail is not None:
        body["detail"] = detail
    return JSONResponse(body, status, headers=dict(headers or {}), media_type=PROBLEM_JSON)


def validation_problem(errors: Mapping[str, list[str]]) -> JSONResponse:
    """A 400 ValidationProblemDetails with its ``errors`` map."""
    body = {
        "type": _TYPES[400],
        "title": "One or more validation errors occurred.",
        "status": 400,
        "errors": dict(errors),
        "traceId": _trace_id(),
    }
    return JSONResponse(body, 400, media_type=PROBLEM_JSON)


_INDEX: Final = re.compile(r"^\d+$")


def pointer_to_path(parts: Iterable[str | int]) -> str:
    """JSON path in System.Text.Json style: ``$.steps[0].input.prompt``."""
    path = "$"
    for part in parts:
        text = str(part)
        path += f"[{text}]" if _INDEX.match(text) else f".{text}"
    return path


def validation_errors(error: ValidationError) -> dict[str, list[str]]:
    """Pydantic errors keyed by JSON path (union names and tags left out)."""
    errors: dict[str, list[str]] = {}
    for item in reported_errors(error):
        errors.setdefault(pointer_to_path(json_location(item["loc"])), []).append(item["msg"])
    return errors


def bare_string(status: int, message: str) -> JSONResponse:
    """A body that is a bare JSON string (the SubmitWorkflow 403)."""
    return JSONResponse(message, status)


def oauth_error(error: str, description: str, status: int = 400) -> JSONResponse:
    """``{error, error_description}`` as the OAuth server answers."""
    return JSONResponse({"error": error, "error_description": description}, status)


def trpc_error(code: str, message: str, status: int) -> JSONResponse:
    """A tRPC error envelope."""
    body = {"error": {"json": {"message": message, "code": -32603, "data": {"code": code}}}}
    return JSONResponse(body, status)
