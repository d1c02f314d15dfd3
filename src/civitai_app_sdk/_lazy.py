"""Lazy package exports: a name loads its module on first use, so importing is cheap."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

__all__ = ["load_export"]


def load_export(namespace: dict[str, Any], exports: Mapping[str, str], name: str) -> Any:
    """The attribute ``exports[name]`` (``"module:attribute"``), cached in ``namespace``.

    For a package's ``__getattr__``; an unknown name is an ``AttributeError`` as usual.
    """
    target = exports.get(name)
    if target is None:
        raise AttributeError(f"module {namespace['__name__']!r} has no attribute {name!r}")
    module, _, attribute = target.partition(":")
    value = getattr(importlib.import_module(module), attribute)
    namespace[name] = value
    return value
