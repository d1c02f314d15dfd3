"""Which failed requests may be sent again with the same single-use value.

A refresh token is single use, so a client must not send it twice when the server may
have read it. A refresh that failed before any byte reached the server (no connection,
no free pooled connection, an unsupported URL) did not use the token up. A closed
client or event loop (``RuntimeError``) may fail before or after the bytes leave (a
pooled keep-alive connection of a closed loop still writes them), but then the answer,
with any rotated pair, can never be read back: sending again loses nothing more.
:func:`unanswered` says the wider thing: the request got no usable answer at all.
"""

from __future__ import annotations

from typing import Final

import httpx

from .._retry import NEVER_SENT
from ..errors import TransportError
from .errors import OAuthError

__all__ = ["may_resend", "unanswered"]

_UNSENT: Final = (*NEVER_SENT, httpx.UnsupportedProtocol)


def may_resend(error: BaseException) -> bool:
    """Whether a single-use value may be sent again after its request failed with ``error``.

    True when ``error`` or an exception it wraps (``__cause__``) is a connect error or
    timeout, a pool timeout, an unsupported URL scheme, or a plain ``RuntimeError``
    (a closed client or event loop; see the module docstring).
    """
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, _UNSENT) or type(current) is RuntimeError:
            return True
        seen.add(id(current))
        current = current.__cause__
    return False


def unanswered(error: BaseException) -> bool:
    """Whether an OAuth call failed without a usable answer: none (``TransportError``), or
    a 5xx. Such a failure may pass; whether the request may be sent again is
    :func:`may_resend`'s question."""
    if isinstance(error, TransportError):
        return True
    return isinstance(error, OAuthError) and error.status is not None and error.status >= 500
