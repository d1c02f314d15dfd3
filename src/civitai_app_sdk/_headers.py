"""What may go in a request's headers, and where a bearer token may go."""

from __future__ import annotations

import re
from typing import Final

import httpx

from ._loopback import is_loopback
from .errors import ConfigurationError

_TOKEN_CHARS: Final = re.compile(r"[\x21-\x7e]+")
_HEADER_CHARS: Final = re.compile(r"[\x20-\x7e]+")
HEADER_NAME: Final = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def header_value(value: str, what: str, *, spaces: bool = False) -> str:
    """``value`` when it may be sent as a header (``what`` names it in the error): no
    control characters, and no spaces unless ``spaces`` (a token has none)."""
    if not isinstance(value, str) or not (_HEADER_CHARS if spaces else _TOKEN_CHARS).fullmatch(
        value
    ):
        raise ConfigurationError(f"{what} is empty or has characters not allowed in a header")
    return value


def check_bearer_url(url: httpx.URL) -> None:
    """Refuse to send a bearer token to ``url`` over plain http off loopback."""
    if url.scheme != "https" and not is_loopback(url.host):
        raise ConfigurationError(
            f"refusing to send a bearer token over plain {url.scheme} to {url.host}: "
            "use https (plain http is allowed only for loopback)"
        )


def put_header(headers: dict[str, str], name: str, value: str) -> None:
    """Set ``name`` to ``value``, replacing a header of that name in any case; the name
    goes on the wire as written here."""
    key = name.lower()
    for same in [old for old in headers if old.lower() == key]:
        del headers[same]
    headers[name] = value
