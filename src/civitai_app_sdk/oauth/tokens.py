"""The token set returned by the token endpoint, and its stored (JSON) form."""

from __future__ import annotations

import math
import re
import time
from typing import Any, Final

import attrs

from civitai_app_sdk.errors import (
    CivitaiError,
    ConfigurationError,
    RequestValidationError,
    problem_text,
)
from civitai_app_sdk.scopes import TokenScope, parse_scope

from ._values import finite_number, hidden_repr
from .errors import OAuthError

__all__ = ["DEFAULT_EXPIRES_IN", "TokenSet"]

DEFAULT_EXPIRES_IN: Final = 3600.0
"""Lifetime assumed when a token response has no ``expires_in`` (as in 0.14), seconds."""

_DECIMAL: Final = re.compile(r"[0-9]+(?:\.[0-9]*)?|\.[0-9]+", re.ASCII)
_HEADER_SAFE: Final = re.compile(r"[\x21-\x7e]+")
_NO_SCOPE: Final = TokenScope(0)
_MAX_EXPIRES_IN: Final = 100 * 365 * 24 * 3600.0
"""Longest ``expires_in`` read (a century): past it the lifetime is not a lifetime, and
a large enough one made ``expires_at`` infinite, which no store could write back."""


def _seconds(value: object) -> float:
    """``expires_in``: a non-negative number or decimal string (``"3600"``, ``"3600.0"``:
    what JavaScript's ``*`` reads, as 0.14 does), at most a century."""
    number = (
        float(value.strip())
        if isinstance(value, str) and _DECIMAL.fullmatch(value.strip())
        else finite_number(value)
    )
    if number is not None and 0 <= number <= _MAX_EXPIRES_IN:
        return number
    raise ValueError("expires_in is not a number of seconds from 0 to a century")


def _optional_str(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise ValueError(f"{key} is not a non-empty string")
    return value


def _finite(_: object, attribute: attrs.Attribute[float], value: object) -> None:
    """Refuse an expiry that is not a finite number: a NaN one never expires (a provider
    would hand out a dead token for good) and none can be stored."""
    if finite_number(value) is None:
        raise ConfigurationError(f"{attribute.name} must be a finite number of epoch seconds")


@attrs.frozen
class TokenSet:
    """Tokens from one grant. ``expires_at`` is epoch seconds, a finite number (else
    :class:`~civitai_app_sdk.errors.ConfigurationError`); tokens never show in repr."""

    access_token: str = attrs.field(repr=hidden_repr)
    expires_at: float = attrs.field(validator=_finite)
    scope: TokenScope = _NO_SCOPE
    refresh_token: str | None = attrs.field(default=None, repr=hidden_repr)
    token_type: str = "Bearer"
    id_token: str | None = attrs.field(default=None, repr=hidden_repr)

    def expires_in(self, now: float | None = None) -> float:
        """Seconds until the access token expires (negative once it has)."""
        return self.expires_at - (time.time() if now is None else now)

    def is_expired(self, *, leeway: float = 0.0, now: float | None = None) -> bool:
        """Whether the access token has expired, or will within ``leeway`` seconds."""
        return self.expires_in(now) <= leeway

    @classmethod
    def from_response(cls, body: object, *, now: float) -> TokenSet:
        """Shape a token endpoint's JSON body (request sent at ``now``).

        Like 0.14: ``expires_in`` defaults to 3600 and may be a decimal string,
        ``token_type`` defaults to ``Bearer``, a missing ``scope`` is 0. Stricter: a
        missing or empty ``access_token`` or one with spaces or control characters (no
        header could carry it), a malformed ``expires_in`` or ``scope`` raise
        :class:`OAuthError` (``invalid_response``); the body is not attached.
        ``id_token`` is kept (0.14 drops it). A scope name this SDK does not know is
        skipped, not refused: refusing the answer to a refresh would lose the rotated pair
        over a scope added since the SDK was built.
        """
        try:
            if not isinstance(body, dict):
                raise ValueError("the body is not a JSON object")
            access_token = _optional_str(body, "access_token")
            if access_token is None:
                raise ValueError("access_token is missing")
            if not _HEADER_SAFE.fullmatch(access_token):
                # it could never be sent: every use would fail as a configuration error
                raise ValueError("access_token has characters a bearer header cannot carry")
            expires_in = body.get("expires_in")
            scope = body.get("scope")
            token_type = body.get("token_type")
            return cls(
                access_token=access_token,
                expires_at=now
                + (DEFAULT_EXPIRES_IN if expires_in is None else _seconds(expires_in)),
                scope=_NO_SCOPE if scope is None else parse_scope(scope, unknown_names=True),
                refresh_token=_optional_str(body, "refresh_token"),
                token_type=token_type if isinstance(token_type, str) and token_type else "Bearer",
                id_token=_optional_str(body, "id_token"),
            )
        except ValueError as exc:
            raise OAuthError(
                "invalid_response", f"token response rejected: {problem_text(exc)}"
            ) from None

    def to_json_dict(self) -> dict[str, Any]:
        """The 0.14 ``OAuthTokens`` shape (``expires_at`` in epoch milliseconds).

        A Node app storing ``JSON.stringify(tokens)`` and a Python app storing this
        dict read each other's sessions. ``id_token`` is left out to keep cookies small.
        """
        data: dict[str, Any] = {"access_token": self.access_token}
        if self.refresh_token is not None:
            data["refresh_token"] = self.refresh_token
        data["expires_at"] = math.floor(self.expires_at * 1000)
        data["scope"] = int(self.scope)
        data["token_type"] = self.token_type
        return data

    @classmethod
    def from_json_dict(cls, data: object) -> TokenSet:
        """Read :meth:`to_json_dict` output (or 0.14 ``OAuthTokens``).

        Bad data raises :class:`~civitai_app_sdk.errors.RequestValidationError` (a
        ``ValueError``) naming the field; no token shows in its message.
        """
        try:
            if not isinstance(data, dict):
                raise ValueError("stored tokens are not a JSON object")
            access_token = _optional_str(data, "access_token")
            if access_token is None:
                raise ValueError("stored tokens have no access_token")
            expires_ms = finite_number(data.get("expires_at"))
            if expires_ms is None:
                raise ValueError("stored tokens have no finite expires_at")
            scope = data.get("scope")
            token_type = data.get("token_type")
            return cls(
                access_token=access_token,
                expires_at=expires_ms / 1000,
                scope=_NO_SCOPE if scope is None else parse_scope(scope),
                refresh_token=_optional_str(data, "refresh_token"),
                token_type=token_type if isinstance(token_type, str) and token_type else "Bearer",
            )
        except CivitaiError:
            raise
        except ValueError as exc:  # ours above: each names a field, never a value
            raise RequestValidationError([str(exc)], "argument") from None
