"""Exceptions of the web sign-in helpers; each carries the HTTP status of its error page."""

from __future__ import annotations

from typing import ClassVar

from ..errors import CivitaiError

__all__ = [
    "CallbackError",
    "ConsentDeniedError",
    "CookieTooLargeError",
    "CrossSiteRequestError",
    "LoginExpiredError",
    "NotSignedInError",
    "SessionExpiredError",
    "SignInUnavailableError",
    "StateMismatchError",
    "WebAuthError",
]


class WebAuthError(CivitaiError):
    """A sign-in or session failure that the app shows as a page.

    ``status`` is the HTTP status of that page, ``title`` a short heading for it and
    the message (``str(error)``) one sentence for the user. No token, code or cookie
    content is ever part of them.
    """

    status: ClassVar[int] = 400
    title: ClassVar[str] = "Sign-in failed"


class ConsentDeniedError(WebAuthError):
    """The user pressed Deny on Civitai's consent page (``error=access_denied``)."""

    status = 403
    title = "Access was not granted"


class StateMismatchError(WebAuthError):
    """The callback's ``state`` does not match the one this browser started with.

    Raised too for a callback without its sign-in cookie and for a replayed callback:
    in each case the request cannot be tied to a sign-in this browser began.
    """

    status = 400
    title = "Sign-in could not be verified"


class LoginExpiredError(WebAuthError):
    """The sign-in took longer than the sign-in cookie lives (10 minutes by default)."""

    status = 400
    title = "Sign-in took too long"


class CallbackError(WebAuthError):
    """The callback was malformed, or the OAuth server refused to exchange the code."""

    status = 400
    title = "Sign-in failed"


class NotSignedInError(WebAuthError):
    """A page that needs a signed-in user was asked for without a session."""

    status = 401
    title = "Please sign in"


class SessionExpiredError(WebAuthError):
    """The session ended: refresh token refused or missing, or the token no longer accepted."""

    status = 401
    title = "Your session has expired"


class SignInUnavailableError(WebAuthError):
    """Civitai did not answer a token refresh or user lookup usably (no answer, a timeout,
    429, 5xx, or a user lookup's 2xx that cannot be read): a passing failure, so the
    session is kept for the next request."""

    status = 503
    title = "Civitai is not answering right now"


class CrossSiteRequestError(WebAuthError):
    """A state-changing request came from another site (``Origin`` does not match)."""

    status = 403
    title = "Request refused"


class CookieTooLargeError(WebAuthError):
    """A session would need more cookie chunks than allowed; use a server-side store."""

    status = 500
    title = "Session too large"
