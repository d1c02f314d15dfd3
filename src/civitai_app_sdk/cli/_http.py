"""GETs for the two v1 endpoints the SDK client does not cover (`user`, `job`).

They go through the SDK's own request core (:mod:`civitai_app_sdk._transport`), so they
get the client's finite timeouts, retries with ``Retry-After``, header checks, redacted
debug logging and typed errors, and with them the same CLI messages and exit codes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

import httpx

from civitai_app_sdk import __version__

if TYPE_CHECKING:
    from civitai_app_sdk._transport import TokenSource

DOWNLOAD_TIMEOUT: Final = httpx.Timeout(30.0, connect=10.0)
"""Finite timeouts for signed-URL downloads: 10 s to connect, 30 s per read or write."""
USER_AGENT: Final = f"civitai-orch/{__version__}"


def get_json(
    base_url: str,
    path: str,
    token: str | TokenSource,
    params: Sequence[tuple[str, str]],
    *,
    max_retries: int,
) -> Any:
    """GET ``base_url + path`` (``path`` already URL-encoded) with the bearer token.

    Returns the parsed JSON body; raises the SDK's typed errors, like the client.
    """
    from civitai_app_sdk import errors as sdk
    from civitai_app_sdk._transport import Call, Settings, SyncTransport

    settings = Settings.create(
        token=token, base_url=base_url, max_retries=max_retries, user_agent=USER_AGENT
    )
    transport = SyncTransport(settings)
    try:
        response = transport.send(Call("GET", path, tuple(params)))
    finally:
        transport.close()
    try:
        return response.json()
    except ValueError:
        raise sdk.ResponseValidationError(
            f"GET {path} did not return JSON",
            status=response.status_code,
            body=response.text[:2000],
        ) from None
