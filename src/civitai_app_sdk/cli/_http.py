"""Plain GETs for the two v1 endpoints the SDK client does not cover (`user`, `job`).

Same bearer header and finite timeouts as the client; failures become the SDK's own
error classes, so they get the same messages and exit codes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import httpx

from civitai_app_sdk import __version__
from civitai_app_sdk import errors as sdk

TIMEOUT: Final = httpx.Timeout(30.0, connect=10.0)
_BY_STATUS: Final[dict[int, type[sdk.OrchestratorError]]] = {
    400: sdk.BadRequestError,
    401: sdk.UnauthorizedError,
    403: sdk.ForbiddenError,
    404: sdk.NotFoundError,
    409: sdk.ConflictError,
    422: sdk.UnprocessableError,
}


def _error(response: httpx.Response) -> sdk.OrchestratorError:
    body = response.text[:2000]
    problem: dict[str, Any] | None = None
    if "json" in response.headers.get("content-type", ""):
        try:
            parsed = response.json()
        except ValueError:
            parsed = None
        problem = parsed if isinstance(parsed, dict) else None
    message = f"HTTP {response.status_code} from {response.request.url.path}"
    common: dict[str, Any] = {"status": response.status_code, "problem": problem, "body": body}
    if response.status_code == 429:
        value = response.headers.get("retry-after", "")
        seconds = float(value) if value.replace(".", "", 1).isdigit() else None
        return sdk.RateLimitError(message, retry_after=seconds, **common)
    if response.status_code >= 500:
        return sdk.ServerError(message, **common)
    return _BY_STATUS.get(response.status_code, sdk.OrchestratorError)(message, **common)


def get_json(base_url: str, path: str, token: str, params: Sequence[tuple[str, str]]) -> Any:
    """GET ``base_url + path`` with the bearer token; the JSON body, or an SDK error."""
    headers = {
        "Authorization": f"Bearer {token}",
        "Accept": "application/json",
        "User-Agent": f"civitai-orch/{__version__}",
    }
    try:
        with httpx.Client(timeout=TIMEOUT) as http:
            response = http.get(base_url + path, params=list(params), headers=headers)
    except httpx.TimeoutException as exc:
        raise sdk.RequestTimeoutError(f"GET {path} timed out") from exc
    except httpx.TransportError as exc:
        raise sdk.TransportError(f"GET {path} failed: {type(exc).__name__}") from exc
    if not response.is_success:
        raise _error(response)
    try:
        return response.json()
    except ValueError:
        raise sdk.ResponseValidationError(
            f"GET {path} did not return JSON",
            status=response.status_code,
            body=response.text[:2000],
        ) from None
