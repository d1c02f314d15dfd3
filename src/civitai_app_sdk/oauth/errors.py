"""Exceptions raised by the OAuth helpers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import CivitaiError, ConfigurationError

if TYPE_CHECKING:
    import httpx

__all__ = ["LoginRequiredError", "OAuthError", "TokenCookieTooLargeError"]


class OAuthError(CivitaiError):
    """An OAuth failure: an error response from the server, or one detected locally.

    ``error`` is the RFC 6749 code (``invalid_grant``, ``authorization_pending``,
    ``rate_limited``…) or ``http_<status>`` when the server sent none;
    ``error_description`` is the server's text, if any; ``status`` is the HTTP status
    (``None`` when nothing was sent); ``body`` is the parsed error body (JSON, else at
    most 1,000 characters of text). ``response`` is the ``httpx.Response`` when there
    was one, with its ``headers`` and ``request_id``. Success bodies, which hold tokens,
    are never kept.
    """

    def __init__(
        self,
        error: str,
        error_description: str | None = None,
        *,
        status: int | None = None,
        body: object = None,
        response: httpx.Response | None = None,
    ) -> None:
        """Record the error code, description, HTTP status and error body."""
        super().__init__(error, error_description)
        self.error = error
        self.error_description = error_description
        self.status = status
        self.body = body
        self.response = response
        self.headers = dict(response.headers) if response is not None else {}
        self.request_id = next(
            (self.headers[h] for h in ("x-request-id", "request-id") if h in self.headers), None
        )

    @property
    def status_code(self) -> int | None:
        """The HTTP status (another name for ``status``)."""
        return self.status

    def __str__(self) -> str:
        text = self.error
        if self.error_description:
            text += f": {self.error_description}"
        if self.status is not None:
            text += f" (HTTP {self.status})"
        return text


class LoginRequiredError(OAuthError):
    """No usable tokens: nothing stored, no refresh token, or the refresh was refused."""

    def __init__(self, error_description: str, *, status: int | None = None) -> None:
        """Describe why the user has to sign in again."""
        super().__init__("login_required", error_description, status=status)


class TokenCookieTooLargeError(ConfigurationError):
    """A token set seals to more than one cookie holds; nothing was saved.

    ``size`` is the ``name=value`` length the cookie would have had and ``limit`` the
    most one cookie may hold. Keep such tokens server-side (the web helpers'
    ``SessionStore``) or ask for fewer scopes; the message never holds a token.
    """

    def __init__(self, name: str, size: int, limit: int) -> None:
        """Say how large the cookie would have been and what it may hold."""
        self.size = size
        self.limit = limit
        super().__init__(
            f"the sealed tokens would make cookie {name!r} {size} characters long, past the "
            f"{limit} one cookie holds (a browser drops it, and it could not be opened): "
            "nothing was saved; keep these tokens in a server-side store"
        )
