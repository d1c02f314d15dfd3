"""Lazy package exports: a name loads its module on first use, so importing is cheap."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

__all__ = ["load_export"]


def load_export(namespace: dict[str, Any], exports: Mapping[str, str], name: str) -> Any:
    """The attribute ``exports[name]`` (``"module:attribute"``), cached in ``namespace``.

    For a package's ``__getattr__``. Another name is the package's submodule of that name
    (as after an eager import of it), else an ``AttributeError`` as usual.
    """
    package = namespace["__name__"]
    target = exports.get(name)
    if target is None:
        try:
            value = importlib.import_module(f"{package}.{name}")
        except ModuleNotFoundError as missing:
            if missing.name != f"{package}.{name}":
                raise
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        namespace[name] = value
        return value
    module, _, attribute = target.partition(":")
    value = getattr(importlib.import_module(module), attribute)
    namespace[name] = value
    return value
