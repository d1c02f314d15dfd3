"""The one redaction function: what the SDK logs or puts in a message never holds a secret.

Capability URLs (blob content, archive and blocked-content tokens, signed query values),
bearer tokens and cookie headers are replaced by ``***``; everything else is kept, so a
log line still says which call it was.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Final, overload

__all__ = ["MASK", "holds_secret", "mask_secrets", "redact"]

MASK: Final = "***"
"""What a secret is replaced with."""

_CAPABILITY_PATH: Final = re.compile(r"(/blobs/(?:content|archive|blocked)/)[^/?#\s\"']+", re.I)
_SECRET_QUERY: Final = re.compile(
    r"([?&;](?:sig|signature|token|access_token|refresh_token|code|client_secret"
    r"|x-amz-signature|x-amz-credential|x-amz-security-token|se|sv|skoid|sktid)=)[^&#\s\"']*",
    re.I,
)
_BEARER: Final = re.compile(r"\b(Bearer\s+)[^\s,\"']+", re.I)
_SECRET_HEADERS: Final = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"}
)


@overload
def redact(value: str) -> str: ...
@overload
def redact(value: Mapping[str, str]) -> dict[str, str]: ...
def redact(value: str | Mapping[str, str]) -> str | dict[str, str]:
    """``value`` with every secret masked: a URL or message text, or a header mapping.

    Text loses blob capability tokens (``/blobs/content/<token>``, ``/archive/``,
    ``/blocked/``), signature and token query values and ``Bearer`` credentials.
    Headers lose Authorization, cookies and API keys whole; other values are masked
    as text.
    """
    if isinstance(value, str):
        text = _CAPABILITY_PATH.sub(rf"\1{MASK}", value)
        text = _SECRET_QUERY.sub(rf"\1{MASK}", text)
        return _BEARER.sub(rf"\1{MASK}", text)
    return {
        name: MASK if name.lower() in _SECRET_HEADERS else redact(str(text))
        for name, text in value.items()
    }


def holds_secret(text: str) -> bool:
    """Whether :func:`redact` would mask anything in ``text``."""
    return any(p.search(text) for p in (_CAPABILITY_PATH, _SECRET_QUERY, _BEARER))


def mask_secrets(error: BaseException, secrets: Iterable[str | None]) -> None:
    """Mask each of ``secrets`` a server echoed into ``error``'s text, in place.

    Covers the message (``args``) and an OAuth ``error_description``. Values shorter
    than 8 characters are left alone (they are not real secrets, and masking them
    would garble the text).
    """
    values = [s for s in secrets if isinstance(s, str) and len(s) >= 8]
    if not values:
        return

    def clean(text: str) -> str:
        for value in values:
            text = text.replace(value, MASK)
        return text

    error.args = tuple(clean(arg) if isinstance(arg, str) else arg for arg in error.args)
    description = getattr(error, "error_description", None)
    if isinstance(description, str):
        error.error_description = clean(description)  # type: ignore[attr-defined]
