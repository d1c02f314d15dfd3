"""Reading a response that echoes a value past the spec's bounds (``cfgScale`` 45).

The service may widen a range before the spec says so. Such a response is read by
setting the values aside: each is replaced, in the parsed JSON, by one that meets the
bound the error names; the JSON is validated again; and the original values are put
back on the models at the same places. Only a number beyond a bound, or a text too long
or too short, is set aside; other problems (a pattern, a wrong type) still fail. The
models keep refusing such values in requests and in code. Nothing runs on the path of an
answer that fits.
"""

from __future__ import annotations

import math
from typing import Any, Final

from civitai_app_sdk_generated._base import json_location, reported_errors
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

__all__ = ["put_back", "set_aside", "value_at"]

Path = tuple[int | str, ...]

_NUMBER: Final = {
    "greater_than_equal": "ge",
    "less_than_equal": "le",
    "greater_than": "gt",
    "less_than": "lt",
    "multiple_of": "multiple_of",
}


def _meeting(item: ErrorDetails) -> tuple[bool, Any]:
    """Whether ``item`` is a value past a bound, and a value that meets that bound."""
    value, kind, ctx = item["input"], item["type"], item.get("ctx") or {}
    if isinstance(value, int | float) and not isinstance(value, bool) and kind in _NUMBER:
        bound = ctx.get(_NUMBER[kind])
        if not isinstance(bound, int | float) or isinstance(bound, bool):
            return False, None
        if kind in ("greater_than_equal", "less_than_equal"):
            return True, bound
        if kind == "multiple_of":  # the multiple away from zero (a bound above 0 holds)
            if bound == 0:
                return False, None
            turns = value / bound
            return True, (math.ceil(turns) if turns > 0 else math.floor(turns)) * bound
        step = 1 if isinstance(value, int) and isinstance(bound, int) else 0
        up = kind == "greater_than"
        if step:
            return True, bound + step if up else bound - step
        return True, math.nextafter(bound, math.inf if up else -math.inf)
    if isinstance(value, str) and kind == "string_too_long":
        return True, value[: ctx.get("max_length", len(value))]
    if isinstance(value, str) and kind == "string_too_short":
        return True, value.ljust(ctx.get("min_length", len(value)), "_")
    return False, None


def set_aside(data: Any, error: ValidationError) -> list[tuple[Path, Any]] | None:
    """Replace in ``data`` each value past a bound that ``error`` names; ``None`` unless
    every problem is one. The result pairs each JSON path with the value that was there.
    """
    errors = [(json_location(item["loc"]), item) for item in reported_errors(error)]
    moved: list[tuple[Path, Any]] = []
    for path, item in errors:
        fits, value = _meeting(item)
        parent = value_at(data, path[:-1]) if path else None
        key = path[-1] if path else None
        if not fits or not _holds(parent, key, item["input"]):
            return None
        moved.append((path, item["input"]))
        parent[key] = value  # type: ignore[index]
    return moved


def _holds(parent: Any, key: Any, value: Any) -> bool:
    if isinstance(parent, dict) and isinstance(key, str):
        return key in parent and parent[key] == value
    if isinstance(parent, list) and isinstance(key, int):
        return 0 <= key < len(parent) and parent[key] == value
    return False


def value_at(data: Any, path: Path) -> Any:
    """What is at ``path`` in the parsed JSON ``data``, or None when nothing is."""
    for part in path:
        if isinstance(data, dict) and isinstance(part, str):
            data = data.get(part)
        elif isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
            data = data[part]
        else:
            return None
    return data


def _field(model: BaseModel, key: str) -> str | None:
    """The attribute of ``model`` that the JSON member ``key`` fills."""
    for name, info in type(model).model_fields.items():
        if (info.alias or name) == key:
            return name
    return None


def _child(node: Any, part: int | str) -> Any:
    if isinstance(node, BaseModel) and isinstance(part, str):
        name = _field(node, part)
        if name is not None:
            return getattr(node, name)
        return (node.model_extra or {}).get(part)
    if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
        return node[part]
    if isinstance(node, dict):
        return node.get(part)
    return None


def _in_list(node: Any, key: int | str) -> bool:
    return isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node)


def put_back(root: Any, moved: list[tuple[Path, Any]]) -> bool:
    """Set each original value on the models of ``root`` at its path; False when a path
    leads nowhere (the value is then not kept, so the read must fail)."""
    for path, value in moved:
        node = root
        for part in path[:-1]:
            node = _child(node, part)
        last = path[-1]
        if isinstance(node, BaseModel) and isinstance(last, str):
            name = _field(node, last)
            if name is None:
                return False
            node.__dict__[name] = value
        elif isinstance(node, dict) or _in_list(node, last):  # a list, or a free-form object
            node[last] = value
        else:
            return False
    return True
