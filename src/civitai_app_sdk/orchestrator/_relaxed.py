"""Reading a response that echoes a value the spec's constraints refuse.

The service may widen a range (``cfgScale`` 45, ``steps`` 999) or accept a new form of
a value (a model AIR the spec's pattern does not know yet) before the spec says so. A
workflow echoing such an input must stay readable, or a paid result could not be
fetched. Such a response is read again by a validator of the same models without their
constraints: no bounds on numbers, no lengths on texts and lists, no patterns. The
values are kept as sent; types still hold (a text where a number belongs still fails).
A date-time without a time zone where the spec wants one (``AwareDatetime``, such as
an echoed ``createdAt`` of ``2026-01-21T22:21:26``) is read as UTC, the zone the service
writes its times in.
The models themselves keep their constraints for requests and code, and nothing of
this runs on the path of an answer that fits.

pydantic-core reuses the validator of a model class that is already built wherever a
schema names that class, constraints included. So each plain model of the relaxed
schema validates its fields itself and makes the instance as ``model_validate`` does.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any, Final

from pydantic import BaseModel
from pydantic_core import CoreSchema, SchemaValidator

__all__ = [
    "MENDED",
    "OPAQUE",
    "as_plain",
    "config_of",
    "is_plain_model",
    "loosen",
    "relaxed_validator",
]

_CONSTRAINED: Final = frozenset(
    {"int", "float", "decimal", "str", "bytes", "list", "set", "frozenset", "tuple", "dict"}
)
"""Schema types whose constraints a relaxed read drops."""
_CONSTRAINTS: Final = frozenset(
    {"ge", "le", "gt", "lt", "multiple_of", "min_length", "max_length", "pattern"}
)
MENDED: Final = frozenset(
    {
        "greater_than",
        "greater_than_equal",
        "less_than",
        "less_than_equal",
        "multiple_of",
        "too_short",
        "too_long",
        "string_too_short",
        "string_too_long",
        "string_pattern_mismatch",
        "bytes_too_short",
        "bytes_too_long",
        "timezone_aware",
    }
)
"""Types of the problems a relaxed read does not have (those of the dropped constraints
and of a date-time without a time zone)."""
OPAQUE: Final = frozenset({"default", "metadata", "serialization", "cls", "function"})
"""Members holding values or code rather than schemas: kept as they are."""


def _instance(cls: type[BaseModel], fields: tuple[dict[str, Any], Any, set[str]]) -> BaseModel:
    """A ``cls`` holding the fields its model-fields schema validated."""
    values, extra, fields_set = fields
    model = cls.__new__(cls)
    object.__setattr__(model, "__dict__", values)
    object.__setattr__(model, "__pydantic_extra__", extra)
    object.__setattr__(model, "__pydantic_fields_set__", fields_set)
    object.__setattr__(model, "__pydantic_private__", None)
    return model


def _assume_utc(value: dt.datetime) -> dt.datetime:
    """``value``, in UTC when it came without a time zone."""
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def is_plain_model(node: dict[str, Any]) -> bool:
    """A model schema whose instance is only its validated fields (no ``__init__``,
    ``model_post_init`` or private attributes to run)."""
    cls = node.get("cls")
    return (
        isinstance(cls, type)
        and issubclass(cls, BaseModel)
        and node.get("schema", {}).get("type") == "model-fields"
        and not (node.get("custom_init") or node.get("root_model") or node.get("post_init"))
        and not cls.__private_attributes__
    )


def _after(node: dict[str, Any], function: Any, schema: Any) -> dict[str, Any]:
    """``schema`` then ``function``, in the place (and under the ``ref``) of ``node``."""
    built: dict[str, Any] = {"type": "function-after", "schema": schema}
    built["function"] = {"type": "no-info", "function": function}
    if "ref" in node:
        built["ref"] = node["ref"]
    return built


def as_plain(node: dict[str, Any], fields: Any) -> dict[str, Any]:
    """The plain model schema ``node`` with its model-fields schema ``fields`` in its place,
    validated here rather than by the class's own (already built) validator."""
    return _after(node, functools.partial(_instance, node["cls"]), fields)


def loosen(node: Any) -> Any:
    """A copy of the core schema ``node`` without the constraints of its scalar and
    collection schemas (a field named ``pattern``, or ``metadata``, is a field like any);
    an aware date-time reads a naive one as UTC."""
    if isinstance(node, list | tuple):
        return type(node)(loosen(item) for item in node)
    if not isinstance(node, dict):
        return node
    kind = node.get("type")
    if kind == "model" and is_plain_model(node):
        return as_plain(node, loosen(node["schema"]))
    if kind == "datetime" and node.get("tz_constraint") == "aware":
        naive = {key: value for key, value in node.items() if key not in ("tz_constraint", "ref")}
        return _after(node, _assume_utc, naive)
    schema = isinstance(kind, str)  # not a mapping of fields or tags to schemas
    drop = schema and kind in _CONSTRAINED
    return {
        key: value if schema and key in OPAQUE else loosen(value)
        for key, value in node.items()
        if not (drop and key in _CONSTRAINTS)
    }


def config_of(schema: CoreSchema) -> Any:
    """The core config of the model ``schema`` reads (its nested models share it: a
    relaxed model has no config of its own), or None."""
    top: Any = schema["schema"] if schema["type"] == "definitions" else schema
    config = top.get("config") if top.get("type") == "model" else None
    return None if config is None else {k: v for k, v in config.items() if k != "title"}


def relaxed_validator(schema: CoreSchema) -> SchemaValidator:
    """A validator of ``schema`` (an adapter's core schema) that reads the same models
    without their bounds, lengths and patterns."""
    return SchemaValidator(loosen(schema), config_of(schema))
