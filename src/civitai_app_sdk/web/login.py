"""The sans-IO half of the authorization-code flow: the sign-in cookie and the callback check.

:func:`begin_login` makes a PKCE pair and a ``state``; both, with the validated ``next``
path and the time, go into a short-lived sealed cookie. :func:`check_callback` opens
that cookie and compares the callback's ``state`` with it in constant time before the
code may be exchanged.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from typing import Final

import attrs

from ..cookies import CookieSealer
from ..oauth import generate_pkce, generate_state
from .errors import CallbackError, ConsentDeniedError, LoginExpiredError, StateMismatchError
from .redirects import MAX_NEXT_LENGTH, safe_next_path

__all__ = ["DEFAULT_LOGIN_TTL", "LoginRequest", "begin_login", "check_callback"]

DEFAULT_LOGIN_TTL: Final = 600
"""Seconds a sign-in may take, from the login route to the callback (10 minutes)."""
_MAX_PARAM: Final = 2048


def _hidden(_: object) -> str:
    return "<hidden>"


@attrs.frozen
class LoginRequest:
    """What the sign-in cookie holds: ``state``, PKCE verifier, ``next`` path, start time."""

    state: str = attrs.field(repr=_hidden)
    verifier: str = attrs.field(repr=_hidden)
    next_path: str
    started_at: float

    def seal(self, sealer: CookieSealer) -> str:
        """The sealed cookie value."""
        data = {"s": self.state, "v": self.verifier, "n": self.next_path, "t": self.started_at}
        return sealer.seal(json.dumps(data, separators=(",", ":")))

    @classmethod
    def unseal(cls, sealer: CookieSealer, sealed: str | None) -> LoginRequest | None:
        """Open a sealed cookie value; ``None`` if absent, tampered or malformed."""
        plain = sealer.unseal(sealed) if sealed else None
        if plain is None:
            return None
        try:
            data = json.loads(plain)
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        state, verifier, next_path, started = (data.get(k) for k in ("s", "v", "n", "t"))
        if not (isinstance(state, str) and isinstance(verifier, str)):
            return None
        if isinstance(started, bool) or not isinstance(started, int | float):
            return None
        return cls(state, verifier, safe_next_path(next_path), float(started))


def begin_login(next_path: object, *, now: float) -> tuple[LoginRequest, str]:
    """A fresh :class:`LoginRequest` (unsafe ``next`` becomes ``/``) and its PKCE challenge.

    A ``next`` whose JSON form passes :data:`MAX_NEXT_LENGTH` (each ``"`` is written
    ``\\"``) becomes ``/`` too: the sealed sign-in cookie must fit one cookie, or the
    browser would drop it and the sign-in would fail.
    """
    kept = safe_next_path(next_path)
    if len(json.dumps(kept)) - 2 > MAX_NEXT_LENGTH:
        kept = "/"
    pkce = generate_pkce()
    request = LoginRequest(generate_state(), pkce.verifier, kept, now)
    return request, pkce.challenge


def _param(params: Mapping[str, str], key: str) -> str | None:
    value = params.get(key)
    if value is None:
        return None
    if len(value) > _MAX_PARAM:
        raise CallbackError(f"the callback's {key} parameter is too long")
    return value


def check_callback(
    params: Mapping[str, str],
    pending: LoginRequest | None,
    *,
    now: float,
    ttl: float = DEFAULT_LOGIN_TTL,
) -> str:
    """Check a callback's query against the sign-in cookie; returns the code to exchange.

    Order: a missing cookie or a ``state`` that differs (compared in constant time)
    raises :class:`StateMismatchError`; a sign-in older than ``ttl`` seconds raises
    :class:`LoginExpiredError`; ``error=access_denied`` raises
    :class:`ConsentDeniedError`; any other ``error`` or a missing ``code`` raises
    :class:`CallbackError`.
    """
    state = _param(params, "state")
    if pending is None:
        raise StateMismatchError(
            "This sign-in was not started in this browser, or it was already completed. "
            "Please sign in again."
        )
    if state is None or not hmac.compare_digest(
        state.encode("utf-8", "surrogatepass"), pending.state.encode("utf-8", "surrogatepass")
    ):
        raise StateMismatchError(
            "The answer from Civitai does not belong to the sign-in this browser started. "
            "Please sign in again."
        )
    if not 0 <= now - pending.started_at <= ttl:
        raise LoginExpiredError("The sign-in took too long. Please sign in again.")
    error = _param(params, "error")
    if error == "access_denied":
        raise ConsentDeniedError("You chose not to let this app use your Civitai account.")
    if error is not None:
        raise CallbackError("Civitai could not complete the sign-in. Please try again.")
    code = _param(params, "code")
    if not code:
        raise CallbackError("The answer from Civitai carried no authorization code.")
    return code
