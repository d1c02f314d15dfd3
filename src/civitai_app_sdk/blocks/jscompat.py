"""JavaScript semantics the manifest rules depend on, for values decoded from JSON.

The platform and 0.14 are TypeScript; these helpers close the usual porting gaps: lengths in
UTF-16 code units, JS whitespace for ``trim``/``split(/\\s+/)``, ``typeof x === 'number'``
(which excludes booleans), arrays counting as objects, and ``JSON.stringify``/``String()``
renderings for error texts.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from typing import Final, TypeGuard

JS_WHITESPACE: Final = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)
_WS_TABLE: Final = {ord(ch): " " for ch in JS_WHITESPACE}
_MAX_ARRAY_INDEX: Final = 2**32 - 2
_END: Final = object()


def utf16_len(text: str) -> int:
    """Length as JavaScript counts it (``"😀"`` is 2); lone surrogates count 1."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def js_trim(text: str) -> str:
    """``String.prototype.trim``: strips JS whitespace (incl. U+FEFF, not U+0085)."""
    return text.strip(JS_WHITESPACE)


def js_split_whitespace(text: str) -> list[str]:
    """``text.split(/\\s+/).filter(Boolean)`` with the JS definition of ``\\s``."""
    return [part for part in text.translate(_WS_TABLE).split(" ") if part]


def is_number(value: object) -> TypeGuard[float]:
    """``typeof value === 'number'``: ints and floats, never booleans."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_integer(value: object) -> bool:
    """``typeof value === 'number' && Number.isInteger(value)`` (``200.0`` counts; an int past
    the double range does not: ``JSON.parse`` makes it Infinity)."""
    if isinstance(value, float):
        return math.isfinite(value) and value.is_integer()
    return is_number(value) and math.isfinite(as_js_number(value))


def as_js_number(value: float) -> float:
    """The double JavaScript holds for a JSON number: an int is rounded to the nearest
    double (``2**53 + 1`` is ``2**53``), and past the double range it is +-Infinity."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def is_object(value: object) -> bool:
    """``value != null && typeof value === 'object'`` for JSON values: dicts and lists."""
    return isinstance(value, dict | list)


def js_key_order(keys: Iterable[str]) -> list[str]:
    """Own-key order of a JS object: array-index keys ascending, then insertion order."""
    items = list(keys)
    indices = sorted((k for k in items if _is_array_index(k)), key=int)
    return indices + [k for k in items if not _is_array_index(k)]


def _is_array_index(key: str) -> bool:
    if not key.isascii() or not key.isdigit() or (len(key) > 1 and key[0] == "0"):
        return False
    return int(key) <= _MAX_ARRAY_INDEX


def js_number(value: float) -> str:
    """``String(n)`` (ECMAScript ``Number::toString``) for a JSON number.

    An int becomes the double JavaScript holds (``2**53 + 1`` prints as ``…992``, ``10**400``
    as ``Infinity``); the shortest round-trip digits are laid out as JavaScript lays them
    out: plain from 1e-6 up to 1e21, ``1e-7`` and ``1.5e+21`` (no zero-padded exponent)
    outside.
    """
    number = as_js_number(value)
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    if number == 0:
        return "0"
    sign = "-" if number < 0 else ""
    mantissa, _, exponent = repr(abs(number)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    # |number| = 0.<digits> * 10**point, `digits` without leading or trailing zeros
    raw = whole + fraction
    digits = raw.lstrip("0")
    point = len(whole) + int(exponent or 0) - (len(raw) - len(digits))
    digits = digits.rstrip("0")
    k = len(digits)
    if k <= point <= 21:
        return sign + digits + "0" * (point - k)
    if 0 < point <= 21:
        return f"{sign}{digits[:point]}.{digits[point:]}"
    if -6 < point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    shift = point - 1
    head = digits if k == 1 else f"{digits[0]}.{digits[1:]}"
    return f"{sign}{head}e{'+' if shift > 0 else '-'}{abs(shift)}"


def js_string(value: object) -> str:
    """``String(value)`` for JSON values (nested arrays at any depth, without recursion)."""
    if not isinstance(value, list):
        return _js_scalar_string(value)
    parts: list[str] = []
    stack, firsts = [iter(value)], [True]
    while stack:
        item = next(stack[-1], _END)
        if item is _END:
            stack.pop()
            firsts.pop()
            continue
        if not firsts[-1]:
            parts.append(",")
        firsts[-1] = False
        if isinstance(item, list):
            stack.append(iter(item))
            firsts.append(True)
        elif item is not None:
            parts.append(_js_scalar_string(item))
    return "".join(parts)


def _js_scalar_string(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return js_number(value)
    if isinstance(value, str):
        return value
    return "[object Object]"


class _Text:
    """Output text queued between the values ``js_json`` still has to write."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def js_json(value: object) -> str:
    """``JSON.stringify(value)`` (compact) for JSON values; non-finite numbers become null.

    Written with a work list, not recursion, so any depth ``json.loads`` produced is fine.
    """
    out: list[str] = []
    todo: list[object] = [value]
    while todo:
        item = todo.pop()
        if isinstance(item, _Text):
            out.append(item.text)
        elif isinstance(item, dict):
            todo.append(_Text("}"))
            keys = js_key_order(str(key) for key in item)
            by_name = {str(key): entry for key, entry in item.items()}
            for index in reversed(range(len(keys))):
                todo.append(by_name[keys[index]])
                label = _json_string(keys[index])
                todo.append(_Text(f"{',' if index else ''}{label}:"))
            out.append("{")
        elif isinstance(item, list | tuple):
            todo.append(_Text("]"))
            for index in reversed(range(len(item))):
                todo.append(item[index])
                if index:
                    todo.append(_Text(","))
            out.append("[")
        else:
            out.append(_json_scalar(item))
    return "".join(out)


def _json_scalar(value: object) -> str:
    if is_number(value):
        text = js_number(value)
        return "null" if text in ("NaN", "Infinity", "-Infinity") else text
    if isinstance(value, str):
        return _json_string(value)
    return json.dumps(value, ensure_ascii=False)


_SURROGATE_PAIR: Final = re.compile("[\ud800-\udbff][\udc00-\udfff]")
_LONE_SURROGATE: Final = re.compile("[\ud800-\udfff]")


def _json_string(text: str) -> str:
    """A JSON string literal as well-formed ``JSON.stringify`` writes it: a surrogate pair is
    its character and a lone surrogate a ``\\udXXX`` escape (so the text encodes as UTF-8)."""
    if _LONE_SURROGATE.search(text) is not None:
        text = _SURROGATE_PAIR.sub(_paired, text)
    quoted = json.dumps(text, ensure_ascii=False)
    return _LONE_SURROGATE.sub(lambda match: f"\\u{ord(match.group()):04x}", quoted)


def _paired(match: re.Match[str]) -> str:
    return match.group().encode("utf-16-le", "surrogatepass").decode("utf-16-le")
