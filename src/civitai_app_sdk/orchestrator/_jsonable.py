"""What JSON cannot carry faithfully, found (with its path) before a body is encoded.

The JSON encoder would otherwise turn ``NaN`` and infinities into ``null``, a key ``1`` or
``(1, 2)`` into ``"1"`` or ``"1,2"`` and ``b"..."`` into text, or fail with no path at all
(a lone surrogate, bytes that are not UTF-8, a body that contains itself).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Final

from pydantic import BaseModel

__all__ = ["MAX_DEPTH", "json_problems"]

MAX_DEPTH: Final = 200
"""Deepest nesting of objects and arrays a request body may have."""


def _surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _children(value: object) -> Iterator[tuple[object, object]]:
    """``(key, child)`` of a container, keys as the JSON will name them."""
    if isinstance(value, BaseModel):
        for name, field in type(value).model_fields.items():
            child = getattr(value, name)
            if child is not None:
                yield field.serialization_alias or field.alias or name, child
        yield from (value.model_extra or {}).items()
    elif isinstance(value, Mapping):
        yield from value.items()
    elif isinstance(value, list | tuple | set | frozenset):
        yield from enumerate(value)


def _scalar_problem(value: object) -> str | None:
    if isinstance(value, float | Decimal) and not isinstance(value, bool):
        if not math.isfinite(value):
            return f"{value} cannot be sent: JSON has no NaN or infinity (it would arrive as null)"
    elif isinstance(value, str):
        if _surrogate(value):
            return "contains a lone surrogate (not valid text)"
    elif isinstance(value, bytes | bytearray | memoryview):
        return "not JSON-serialisable: bytes (decode them to text, or base64-encode binary data)"
    return None


_PLAIN: Final = (int, bool, type(None))
"""Values JSON carries as they are (checked without a path being built)."""


def _is_container(value: object) -> bool:
    return isinstance(value, BaseModel | Mapping | list | tuple | set | frozenset)


def json_problems(value: object) -> list[str]:
    """One ``/json/path: what is wrong`` line for each value JSON cannot carry as given.

    Refused: non-finite numbers (``NaN``, ``±inf``, also as ``Decimal``), object keys
    that are not strings, lone surrogates, bytes, and nesting deeper than
    :data:`MAX_DEPTH` (which includes a body that contains itself). Other values are left
    to the encoder.
    """
    problems: list[str] = []
    if not _is_container(value):
        problem = _scalar_problem(value)
        return [] if problem is None else [f"/: {problem}"]
    stack: list[tuple[str, object, int]] = [("", value, 0)]
    while stack:
        path, item, depth = stack.pop()
        children = list(_children(item))
        if children and depth >= MAX_DEPTH:
            problems.append(f"{path}: nested deeper than {MAX_DEPTH} levels (or contains itself)")
            continue
        is_object = isinstance(item, Mapping)
        for key, child in reversed(children):
            if is_object and not isinstance(key, str):
                problems.append(
                    f"{path or '/'}: object keys must be strings, not {type(key).__name__} "
                    f"({key!r})"
                )
            elif isinstance(key, str) and _surrogate(key):
                problems.append(f"{path or '/'}: a key contains a lone surrogate (not valid text)")
            elif _is_container(child):
                stack.append((f"{path}/{key}", child, depth + 1))
            elif not isinstance(child, _PLAIN):
                problem = _scalar_problem(child)
                if problem is not None:
                    problems.append(f"{path}/{key}: {problem}")
    return problems
