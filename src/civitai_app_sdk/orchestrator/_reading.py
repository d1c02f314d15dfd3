"""Lenient reading of response bodies into the generated models.

The spec marks many response fields required that real and documented bodies omit
(`tips`, `callbacks`, step `priority`…) or send as null (the last page's `next`). Such a
field is filled with an empty value of
its type (None, [], {}, False, "", 0, or the nearest allowed bound) and validation is
retried; anything else the models
reject is a :class:`ResponseValidationError` that carries the body.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from typing import Any, Final

from pydantic import TypeAdapter, ValidationError

from ..errors import ResponseValidationError

_EMPTY: Final[dict[str, Any]] = {
    "list_type": [],
    "dict_type": {},
    "model_type": {},
    "model_attributes_type": {},
    "bool_type": False,
    "string_type": "",
    "enum": "",
    "int_type": 0,
    "float_type": 0.0,
}
_BOUNDS: Final = {"greater_than_equal": "ge", "less_than_equal": "le"}
_ROUNDS: Final = 8


@cache
def adapter(kind: Any) -> TypeAdapter[Any]:
    """A cached TypeAdapter for a model class or union alias."""
    return TypeAdapter(kind)


def _parent(data: Any, loc: tuple[int | str, ...]) -> dict[Any, Any] | None:
    """The dict holding ``loc``'s last key, skipping union tags that are not data keys."""
    node = data
    for key in loc[:-1]:
        in_list = isinstance(node, list) and isinstance(key, int) and key < len(node)
        if in_list or (isinstance(node, dict) and key in node):
            node = node[key]
        elif not isinstance(node, dict):
            return None
    return node if isinstance(node, dict) else None


def _put(data: Any, loc: tuple[int | str, ...], value: Any) -> bool:
    """Set ``value`` at ``loc``; False when there is no such place."""
    parent = _parent(data, loc)
    if parent is None:
        return False
    parent[loc[-1]] = copy.copy(value)
    return True


def _is_null(data: Any, loc: tuple[int | str, ...]) -> bool:
    parent = _parent(data, loc)
    return parent is not None and loc[-1] in parent and parent[loc[-1]] is None


def read(kind: Any, data: Any, what: str) -> Any:
    """Validate ``data`` as ``kind``, filling fields the server left out with empty values."""
    validator = adapter(kind)
    current = data
    filled: set[tuple[int | str, ...]] = set()
    for _ in range(_ROUNDS):
        try:
            return validator.validate_python(current)
        except ValidationError as exc:
            error = exc
        if current is data:
            current = copy.deepcopy(data)
        changed = False
        for problem in error.errors():
            loc, kind_of = problem["loc"], problem["type"]
            if loc and (kind_of == "missing" or (kind_of in _EMPTY and _is_null(current, loc))):
                changed |= _put(current, loc, None if kind_of == "missing" else _EMPTY[kind_of])
                filled.add(loc)
            elif loc in filled and kind_of in _EMPTY:
                changed |= _put(current, loc, _EMPTY[kind_of])
            elif loc in filled and kind_of in _BOUNDS:
                changed |= _put(current, loc, problem.get("ctx", {}).get(_BOUNDS[kind_of]))
        if not changed:
            break
    raise ResponseValidationError(
        f"the {what} in the response does not match the API's schema: "
        f"{error.error_count()} problem(s), first: {error.errors()[0]['msg']} "
        f"at {'/'.join(map(str, error.errors()[0]['loc']))}",
        body=json.dumps(data)[:2000],
    )
