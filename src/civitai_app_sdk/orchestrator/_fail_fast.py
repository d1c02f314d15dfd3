"""A validator that stops each list at its first bad item, to name a broken answer's
first problem.

``ValidationError.errors()`` makes every problem at once (about 5 µs each): a hostile
answer with hundreds of thousands of problems took seconds to name its first one. The
same models read with every list, tuple and set failing fast (plain models validated
as :mod:`._relaxed` does, not by their classes' own validators) stop near that problem,
so naming it costs at most one more read of the body, however many problems it has.

An answer too large to read strictly first (:data:`._reading.LARGE_ANSWER`) is read by
these validators alone: a body that fits gives the same models, one that does not stops
near its first problem.
"""

from __future__ import annotations

from typing import Any, Final

from pydantic_core import CoreSchema, SchemaValidator

from ._relaxed import OPAQUE, as_plain, config_of, is_plain_model, loosen

__all__ = ["fail_fast_validator", "relaxed_fail_fast_validator"]

_SEQUENCES: Final = frozenset({"list", "tuple", "set", "frozenset"})


def _stop_early(node: Any) -> Any:
    """A copy of the core schema ``node`` whose sequences stop at their first bad item."""
    if isinstance(node, list | tuple):
        return type(node)(_stop_early(item) for item in node)
    if not isinstance(node, dict):
        return node
    kind = node.get("type")
    if kind == "model" and is_plain_model(node):  # not the class's own validator
        return as_plain(node, _stop_early(node["schema"]))
    schema = isinstance(kind, str)  # not a mapping of fields or tags to schemas
    built = {
        key: value if schema and key in OPAQUE else _stop_early(value)
        for key, value in node.items()
    }
    if schema and kind in _SEQUENCES:
        built["fail_fast"] = True
    return built


def fail_fast_validator(schema: CoreSchema) -> SchemaValidator:
    """A validator of ``schema`` (an adapter's core schema) whose sequences fail fast."""
    return SchemaValidator(_stop_early(schema), config_of(schema))


def relaxed_fail_fast_validator(schema: CoreSchema) -> SchemaValidator:
    """A validator of ``schema`` without its constraints (:mod:`._relaxed`) whose
    sequences fail fast."""
    return SchemaValidator(_stop_early(loosen(schema)), config_of(schema))
