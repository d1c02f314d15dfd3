"""Civitai token scopes: the generated bit table plus the 0.14 helper functions.

``TokenScope`` is generated from the server's scope table (27 bits today); ``Full``
covers bits 0-24 and leaves out the two opt-in App Block bits. Arithmetic here is
arbitrary-precision, unlike 0.14's 32-bit signed ``&``, and unknown bits survive.

Deliberate differences from 0.14:

* :func:`bitmask_from_scopes` raises a ``ValueError`` for an unknown name (0.14 ORs 0,
  so a typo silently grants nothing) and names the two App Block bits;
* :func:`has_scope` and :func:`scopes_from_bitmask` are correct at bit 31 and above
  and reject negative masks instead of reading them as 32-bit two's complement;
* :func:`parse_scope` ORs space-separated and multi-element values (0.14 yields
  ``NaN``) and raises a ``ValueError`` on anything else that is not a bitmask.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Final

from civitai_app_sdk_generated.scopes import (
    ALL_SCOPES,
    PRESET_LABELS,
    SCOPE_INFO,
    SENSITIVE_SCOPES,
    TOKEN_SCOPE_LABELS,
    ScopeInfo,
    TokenScope,
    TokenScopePresets,
)

from civitai_app_sdk.errors import ArgumentTypeError, RequestValidationError

__all__ = [
    "ALL_SCOPES",
    "PRESET_LABELS",
    "SCOPE_INFO",
    "SENSITIVE_SCOPES",
    "TOKEN_SCOPE_LABELS",
    "ScopeInfo",
    "TokenScope",
    "TokenScopePresets",
    "bitmask_from_scopes",
    "get_scope_label",
    "has_scope",
    "parse_scope",
    "scopes_from_bitmask",
]

_BY_NAME: Final[dict[str, TokenScope]] = {"None": TokenScope(0), **TokenScope.__members__}
_PRESET_LABEL_BY_MASK: Final[dict[int, str]] = {
    getattr(TokenScopePresets, key): label for key, label in PRESET_LABELS.items()
}
_DECIMAL = re.compile(r"[0-9]+")
_ASCII_SPACE = re.compile(r"[ \t\r\n]+")
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.:-]{0,63}", re.ASCII)
"""What a scope name may look like (``unknown_names=True`` skips only such words)."""


def _invalid(problem: str) -> RequestValidationError:
    """The error for a scope argument that cannot be read (a ``ValueError`` too)."""
    return RequestValidationError([problem], "argument")


def _mask(value: int) -> int:
    """Validate a bitmask argument: a non-negative int that is not a bool."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ArgumentTypeError(f"a scope bitmask must be an int, not {type(value).__name__}")
    if value < 0:
        raise _invalid("a scope bitmask cannot be negative")
    return value


def bitmask_from_scopes(names: Iterable[str | TokenScope]) -> TokenScope:
    """OR scope names (``"UserRead"``, ``"Full"``, ``"None"``) or members into one mask.

    Raises :class:`~civitai_app_sdk.errors.RequestValidationError` (a ``ValueError``) for
    an unknown name, where 0.14 silently ignores it, and
    :class:`~civitai_app_sdk.errors.ArgumentTypeError` (a ``TypeError``) for a single
    string or anything else that is not a list.
    """
    if isinstance(names, str):
        raise ArgumentTypeError("pass a list of scope names, not a single string")
    try:
        items = iter(names)
    except TypeError:
        raise ArgumentTypeError(
            f"pass a list of scope names, not a {type(names).__name__}"
        ) from None
    result = 0
    for name in items:
        if isinstance(name, TokenScope):
            result |= name
            continue
        scope = _BY_NAME.get(name) if isinstance(name, str) else None
        if scope is None:
            raise _invalid(f"unknown token scope name {name!r}")
        result |= scope
    return TokenScope(result)


def scopes_from_bitmask(mask: int) -> list[str]:
    """Names of the known single-bit scopes set in ``mask``, lowest bit first.

    ``Full`` and ``None`` are never listed; unknown bits have no name and are skipped.
    """
    value = _mask(mask)
    return [info.name for scope, info in SCOPE_INFO.items() if value & scope]


def has_scope(mask: int, scope: int) -> bool:
    """Whether every bit of ``scope`` is set in ``mask`` (``scope`` 0 is always held)."""
    required = _mask(scope)
    return _mask(mask) & required == required


def get_scope_label(mask: int | None) -> str:
    """The preset label of a mask, as 0.14: ``Legacy`` for ``None``, else ``Custom``.

    Exactly ``Full``, ``ReadOnly``, ``Creator`` or ``AIServices`` give their preset label;
    any other value (0, single bits, a numeric string) gives ``Custom``. Per-bit texts are
    in :data:`TOKEN_SCOPE_LABELS`.
    """
    if mask is None:
        return "Legacy"
    if isinstance(mask, int) and not isinstance(mask, bool):
        return _PRESET_LABEL_BY_MASK.get(mask, "Custom")
    return "Custom"


def _parse_item(item: object, unknown_names: bool) -> int:
    if isinstance(item, bool):
        raise _invalid("a boolean is not a scope")
    if isinstance(item, int):
        return _mask(item)
    if isinstance(item, float):
        if not math.isfinite(item) or not item.is_integer() or item < 0:
            raise _invalid(f"scope {item!r} is not a non-negative integer")
        return int(item)
    if isinstance(item, str):
        result = 0
        for word in _ASCII_SPACE.split(item.strip(" \t\r\n")):
            if not word:
                continue
            if _DECIMAL.fullmatch(word):
                try:
                    result |= int(word)
                except ValueError:  # past Python's digit limit for int(str): 4,300
                    raise _invalid(
                        f"scope {word[:12]}… ({len(word)} digits) is too large for a scope bitmask"
                    ) from None
            elif word in _BY_NAME:
                result |= _BY_NAME[word]
            elif not (unknown_names and _NAME.fullmatch(word)):
                shown = repr(word) if len(word) <= 40 else f"{word[:40]!r}… ({len(word)} chars)"
                raise _invalid(f"scope value {shown} is neither a decimal bitmask nor a name")
        return result
    raise _invalid(f"cannot read a scope from a {type(item).__name__}")


def parse_scope(value: object, *, unknown_names: bool = False) -> TokenScope:
    """Read a token response's ``scope`` field into a :class:`TokenScope`.

    Accepts a non-negative int (or integral float), a decimal string such as
    ``"114689"``, space-separated decimals or scope names (ORed), and a list of any of
    those (``["114689"]``, as the token endpoint sends it). ``""`` and ``[]`` give 0.
    Unknown bits are kept. An unknown name raises
    :class:`~civitai_app_sdk.errors.RequestValidationError` (a ``ValueError``), unless
    ``unknown_names=True``: it is then skipped (a token answer naming a scope added since
    this SDK was built). Anything else (hex, exponents, negatives, booleans, nested
    lists, ``None``) raises it too.
    """
    if isinstance(value, list | tuple):
        result = 0
        for item in value:
            if isinstance(item, list | tuple):
                raise _invalid("nested lists are not a scope")
            result |= _parse_item(item, unknown_names)
        return TokenScope(result)
    return TokenScope(_parse_item(value, unknown_names))
