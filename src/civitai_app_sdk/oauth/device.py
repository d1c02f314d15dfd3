"""Device authorization (RFC 8628 shape): the grant's data and the polling schedule."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final
from urllib.parse import urlsplit

import attrs

from ..errors import CivitaiError, ConfigurationError
from ._unsent import unanswered
from ._values import finite_number, hidden_repr
from .errors import OAuthError

__all__ = ["DEVICE_GRANT_TYPE", "DeviceAuthorization", "DevicePoller"]

DEVICE_GRANT_TYPE: Final = "urn:ietf:params:oauth:grant-type:device_code"
_DEFAULT_INTERVAL: Final = 5.0
_SLOW_DOWN_STEP: Final = 5.0
_MAX_LIFE: Final = 24 * 3600.0
"""Longest device-code lifetime read, seconds (Civitai's live 15 minutes)."""
_MAX_STEP: Final = 3600.0
"""Longest poll interval read, seconds (Civitai asks for 5)."""
_MIN_STEP: Final = 1.0
"""Shortest wait between polls, seconds: an ``interval`` of 0 (no minimum, RFC 8628
§3.2) must not turn the wait for the user into a busy loop on the token endpoint."""
_MAX_FAILURES: Final = 5
"""Polls in a row that may fail (no answer, or a 5xx) before the failure is raised."""
_PENDING: Final = frozenset({"authorization_pending"})
_SLOW_DOWN: Final = frozenset({"slow_down", "rate_limited"})


def _shown(key: str, value: str) -> str:
    """A value shown to the user: printable text, and a web address for the URIs.

    A hostile server could otherwise send terminal escapes or a ``javascript:`` link.
    """
    if any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in value):
        raise ValueError(f"{key} holds control characters")
    if key.startswith("verification_uri"):
        parts = urlsplit(value)
        if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
            raise ValueError(f"{key} is not an http(s) URL")
    return value


def _seconds(
    key: str, value: object, default: float | None, most: float, *, zero: bool = False
) -> float:
    """A number of seconds up to ``most``, above 0 (or 0 too with ``zero``); ``default``
    when absent (if any).

    A longer one is a broken or hostile server: it would hold a caller for days, and a
    large enough one made ``time.sleep`` raise ``OverflowError``.
    """
    if value is None and default is not None:
        return default
    number = finite_number(value)
    if number is not None and (number >= 0 if zero else number > 0) and number <= most:
        return number
    bounds = f"from 0 to {most:g}" if zero else f"above 0, up to {most:g}"
    raise ValueError(f"{key} is not a number of seconds {bounds}")


@attrs.frozen
class DeviceAuthorization:
    """A started device grant: show ``user_code`` and ``verification_uri`` to the user.

    ``expires_at`` is epoch seconds; ``interval`` is the server's minimum poll interval
    in seconds (5 when it sends none; 0, no minimum, is polled once a second). The
    ``device_code`` is secret and hidden from ``repr``.
    """

    device_code: str = attrs.field(repr=hidden_repr)
    user_code: str
    verification_uri: str
    expires_at: float
    interval: float = _DEFAULT_INTERVAL
    verification_uri_complete: str | None = None

    @classmethod
    def from_response(cls, body: object, *, now: float) -> DeviceAuthorization:
        """Shape the device endpoint's JSON; :class:`OAuthError` if a field is missing."""
        try:
            if not isinstance(body, dict):
                raise ValueError("the body is not a JSON object")
            data: dict[str, Any] = body
            strings = {}
            for key in ("device_code", "user_code", "verification_uri"):
                value = data.get(key)
                if not isinstance(value, str) or not value:
                    raise ValueError(f"{key} is missing")
                strings[key] = value if key == "device_code" else _shown(key, value)
            complete = data.get("verification_uri_complete")
            if isinstance(complete, str):
                complete = _shown("verification_uri_complete", complete)
            return cls(
                device_code=strings["device_code"],
                user_code=strings["user_code"],
                verification_uri=strings["verification_uri"],
                expires_at=now + _seconds("expires_in", data.get("expires_in"), None, _MAX_LIFE),
                interval=_seconds(
                    "interval", data.get("interval"), _DEFAULT_INTERVAL, _MAX_STEP, zero=True
                ),
                verification_uri_complete=complete if isinstance(complete, str) else None,
            )
        except ValueError as exc:
            raise OAuthError("invalid_response", f"device response rejected: {exc}") from None


class DevicePoller:
    """When to poll next, shared by the sync and async clients.

    Waits the server's ``interval`` (at least a second) before each poll, adds 5 s after
    ``slow_down`` (RFC 8628) or ``rate_limited`` (what this server sends instead), keeps
    going on ``authorization_pending`` and through up to five lost answers or 5xx in a
    row (a network blip must not end a sign-in the user is still typing: if a lost
    answer had redeemed the code, the next poll says ``invalid_grant``), and gives up with
    ``expired_token`` at ``expires_at`` or after ``max_wait`` seconds (naming the last
    poll's failure, if it failed). Any other error is raised.
    """

    def __init__(
        self,
        authorization: DeviceAuthorization,
        *,
        clock: Callable[[], float],
        max_wait: float | None = None,
    ) -> None:
        """Start the schedule now; ``max_wait`` (seconds, 0 or more) may end it before the
        code expires."""
        self.interval = max(authorization.interval, _MIN_STEP)
        self._clock = clock
        deadline = authorization.expires_at
        if max_wait is not None:
            seconds = finite_number(max_wait)
            if seconds is None or seconds < 0:
                raise ConfigurationError("max_wait must be a finite number of seconds, 0 or more")
            deadline = min(deadline, clock() + seconds)
        self._deadline = deadline
        self._lost: CivitaiError | None = None
        self._failures = 0

    def next_delay(self) -> float:
        """Seconds to sleep before the next poll; raises once the deadline has passed."""
        remaining = self._deadline - self._clock()
        if remaining <= 0:
            why = "the device code expired before approval"
            if self._lost is not None:
                why += f" (the last poll failed: {self._lost})"
            raise OAuthError("expired_token", why) from self._lost
        return min(self.interval, remaining)

    def on_error(self, error: CivitaiError) -> None:
        """Absorb a "keep polling" answer (slowing down if told to), else re-raise it."""
        oauth = error.error if isinstance(error, OAuthError) else None
        if oauth in _SLOW_DOWN:
            self.interval += _SLOW_DOWN_STEP
        elif oauth in _PENDING:
            self._lost, self._failures = None, 0
        elif unanswered(error):
            self._failures += 1
            if self._failures > _MAX_FAILURES:
                raise error
            self._lost = error
        else:
            raise error
