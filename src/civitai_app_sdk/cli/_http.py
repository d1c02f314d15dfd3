"""Plain JSON GETs: the v1 endpoints the SDK client does not cover (`user`, `job`), and
the read-only views (`workflows`, `workflow ID`) that print the server's JSON as it is.

These load neither pydantic nor the generated models, so they start quickly. They go
through the SDK's own request core (:mod:`civitai_app_sdk._transport`), so they
get the client's finite timeouts, retries with ``Retry-After``, header checks, redacted
debug logging and typed errors, and with them the same CLI messages and exit codes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from civitai_app_sdk import __version__

from ._config import Settings
from ._json import parse_json
from ._session import resolve_token

USER_AGENT: Final = f"civitai-orch/{__version__}"


def get_json(settings: Settings, path: str, params: Sequence[tuple[str, str]]) -> Any:
    """GET ``path`` (already URL-encoded) on the settings' API URL with their token.

    Returns the parsed JSON body; raises the SDK's typed errors, like the client.
    """
    from civitai_app_sdk import errors as sdk
    from civitai_app_sdk._transport import BODY_LIMIT, Call, SyncTransport
    from civitai_app_sdk._transport import Settings as TransportSettings

    transport = SyncTransport(
        TransportSettings.create(
            token=resolve_token(settings),
            base_url=settings.api_url,
            max_retries=settings.max_retries,
            user_agent=USER_AGENT,
        )
    )
    try:
        response = transport.send(Call("GET", path, tuple(params)))
    finally:
        transport.close()
    try:
        return parse_json(response.content)
    except ValueError:  # not JSON, or nested past the parser's depth
        text = response.text
        raise sdk.ResponseValidationError(
            f"GET {path} did not return JSON",
            status=response.status_code,
            body=sdk.parse_body(text),
            body_text=text[:BODY_LIMIT],
        ) from None
