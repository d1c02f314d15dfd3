"""Validation of the ``next`` path an app returns to after sign-in (no open redirects)."""

from __future__ import annotations

import re
from typing import Final

from ..errors import ConfigurationError

__all__ = ["MAX_NEXT_LENGTH", "is_safe_next_path", "safe_next_path"]

MAX_NEXT_LENGTH: Final = 1024
"""Longest ``next`` path accepted, in characters."""

# Path-absolute reference of printable ASCII: no backslash (browsers read it as "/"),
# no controls or spaces (browsers strip them, so "/\t/evil" becomes "//evil").
_SAFE: Final = re.compile(r"/(?![/\\])[\x21-\x5b\x5d-\x7e]*")


def is_safe_next_path(value: object) -> bool:
    """Whether ``value`` is a same-site path: ``/`` then anything but ``/`` or ``\\``.

    Refused: absolute URLs (``https://evil.example``), scheme-relative ones
    (``//evil.example``, ``/\\evil.example``), anything with a backslash, whitespace,
    control or non-ASCII character (browsers drop or rewrite those, which can turn a
    path into another host), and values longer than :data:`MAX_NEXT_LENGTH`.
    """
    return (
        isinstance(value, str)
        and len(value) <= MAX_NEXT_LENGTH
        and _SAFE.fullmatch(value) is not None
    )


def safe_next_path(value: object, default: str = "/") -> str:
    """``value`` if :func:`is_safe_next_path` accepts it, else ``default``."""
    if not is_safe_next_path(default):
        raise ConfigurationError("the default next path must itself be a same-site path")
    return value if is_safe_next_path(value) and isinstance(value, str) else default
