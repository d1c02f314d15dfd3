"""The one redaction function: what the SDK logs or puts in a message never holds a secret.

Capability URLs (blob content, archive and blocked-content tokens, signed query values),
bearer tokens and cookie headers are replaced by ``***``; everything else is kept, so a
log line still says which call it was.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Final, overload

__all__ = ["MASK", "capabilities_in", "holds_secret", "mask_secrets", "redact"]

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


def capabilities_in(url: str) -> list[str]:
    """The secret values :func:`redact` masks in ``url`` (a blob token, a ``sig``), so
    that a server echoing one bare can be masked too (:func:`mask_secrets`)."""
    found = [m.group(0)[len(m.group(1)) :] for m in _CAPABILITY_PATH.finditer(url)]
    return found + [m.group(0)[len(m.group(1)) :] for m in _SECRET_QUERY.finditer(url)]


_ECHO_FIELDS: Final = ("error", "error_description", "body", "body_text", "problem")
"""Attributes of an error that hold what the server sent (masked like the message)."""


def mask_secrets(error: BaseException, secrets: Iterable[str | None]) -> None:
    """Mask each of ``secrets`` a server echoed into ``error``'s text, in place.

    Covers the message (``args``), an OAuth ``error_description`` and the kept error
    body (``body``, ``body_text``, ``problem``, every string inside them). The raw
    ``response`` is left as it came. Values shorter than 8 characters are left alone
    (they are not real secrets, and masking them would garble the text).
    """
    values = [s for s in secrets if isinstance(s, str) and len(s) >= 8]
    if not values:
        return

    def clean(text: str) -> str:
        for value in values:
            text = text.replace(value, MASK)
        return text

    error.args = tuple(_masked(arg, clean) for arg in error.args)
    for name in _ECHO_FIELDS:
        if getattr(error, name, None) is not None:
            setattr(error, name, _masked(getattr(error, name), clean))


def _masked(value: object, clean: Callable[[str], str]) -> object:
    """``value`` with ``clean`` applied to every string in it, keys included.

    Parsed JSON is changed in place, without recursion: a hostile body may be nested
    as deep as the parser allows.
    """
    if isinstance(value, str):
        return clean(value)
    pending = [value]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            items = [(clean(k) if isinstance(k, str) else k, v) for k, v in node.items()]
            node.clear()
            for key, child in items:
                node[key] = clean(child) if isinstance(child, str) else child
            pending.extend(child for _, child in items if isinstance(child, dict | list))
        elif isinstance(node, list):
            node[:] = [clean(child) if isinstance(child, str) else child for child in node]
            pending.extend(child for child in node if isinstance(child, dict | list))
    return value
