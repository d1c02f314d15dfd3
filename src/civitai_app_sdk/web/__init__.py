"""Sign in with Civitai for Python web apps (Starlette and FastAPI).

``CivitaiAuth`` gives an ASGI app a PKCE login route, a callback that checks ``state``
and exchanges the code once, a sealed ``HttpOnly`` session cookie (chunked past 4 KB,
or a server-side :class:`SessionStore`), refreshing access tokens written back to the
cookie, logout and styleable error pages. The sans-IO parts (:mod:`.login`,
:mod:`.chunks`, :mod:`.redirects`) need no server. ``CivitaiAuth`` and
``SessionMiddleware`` need the ``web`` extra: ``pip install 'civitai-app-sdk[web]'``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .chunks import COOKIE_LIMIT, ChunkedCookie
from .core import DEFAULT_SESSION_MAX_AGE, WebAuthCore
from .errors import (
    CallbackError,
    ConsentDeniedError,
    CookieTooLargeError,
    CrossSiteRequestError,
    LoginExpiredError,
    NotSignedInError,
    SessionExpiredError,
    SignInUnavailableError,
    StateMismatchError,
    WebAuthError,
)
from .login import DEFAULT_LOGIN_TTL, LoginRequest, begin_login, check_callback
from .redirects import is_safe_next_path, safe_next_path
from .session import MemorySessionStore, Session, SessionStore, SessionTokenSource

if TYPE_CHECKING:
    from .asgi import CivitaiAuth, ErrorPage, SessionMiddleware

__all__ = [
    "COOKIE_LIMIT",
    "DEFAULT_LOGIN_TTL",
    "DEFAULT_SESSION_MAX_AGE",
    "CallbackError",
    "ChunkedCookie",
    "CivitaiAuth",
    "ConsentDeniedError",
    "CookieTooLargeError",
    "CrossSiteRequestError",
    "ErrorPage",
    "LoginExpiredError",
    "LoginRequest",
    "MemorySessionStore",
    "NotSignedInError",
    "Session",
    "SessionExpiredError",
    "SessionMiddleware",
    "SessionStore",
    "SessionTokenSource",
    "SignInUnavailableError",
    "StateMismatchError",
    "WebAuthCore",
    "WebAuthError",
    "begin_login",
    "check_callback",
    "is_safe_next_path",
    "safe_next_path",
]

_ASGI = frozenset({"CivitaiAuth", "ErrorPage", "SessionMiddleware"})


def __getattr__(name: str) -> Any:
    """Load the Starlette layer on first use (it needs the ``web`` extra)."""
    if name in _ASGI:
        from . import asgi

        return getattr(asgi, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
