"""griffe extension: document the clients' `name = operation(builder)` methods as methods.

Read statically, such a class attribute is a value without a docstring, so the API
reference left out `estimate`, `submit`, `get`, `list`, `cancel`… The descriptor carries
the method's runtime signature and docstring; this copies them into the documentation.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

import griffe

_DESCRIPTORS = ("operation(", "client_operation(")


_KINDS = {
    inspect.Parameter.POSITIONAL_ONLY: griffe.ParameterKind.positional_only,
    inspect.Parameter.POSITIONAL_OR_KEYWORD: griffe.ParameterKind.positional_or_keyword,
    inspect.Parameter.VAR_POSITIONAL: griffe.ParameterKind.var_positional,
    inspect.Parameter.KEYWORD_ONLY: griffe.ParameterKind.keyword_only,
    inspect.Parameter.VAR_KEYWORD: griffe.ParameterKind.var_keyword,
}


def _parameter(parameter: inspect.Parameter) -> griffe.Parameter:
    """The griffe form of one runtime parameter (annotations are strings here)."""
    empty = inspect.Parameter.empty
    return griffe.Parameter(
        parameter.name,
        annotation=None if parameter.annotation is empty else str(parameter.annotation),
        kind=_KINDS[parameter.kind],
        default=None if parameter.default is empty else repr(parameter.default),
    )


def _parameters(signature: inspect.Signature) -> griffe.Parameters:
    """The method's parameters: ``self``, then the runtime signature's."""
    self = griffe.Parameter("self", kind=griffe.ParameterKind.positional_or_keyword)
    return griffe.Parameters(self, *map(_parameter, signature.parameters.values()))


class OperationMethods(griffe.Extension):
    """Turn each operation descriptor of a class into a documented method."""

    def on_class_members(self, *, cls: griffe.Class, **kwargs: Any) -> None:
        """Replace the class's `operation(...)` attributes by functions."""
        runtime: type | None = None
        for name, member in list(cls.members.items()):
            if not isinstance(member, griffe.Attribute):
                continue
            if not str(member.value or "").startswith(_DESCRIPTORS):
                continue
            if runtime is None:
                runtime = getattr(importlib.import_module(cls.module.path), cls.name)
            descriptor = runtime.__dict__[name]
            signature: inspect.Signature = descriptor.__signature__
            method = griffe.Function(
                name,
                parameters=_parameters(signature),
                returns=str(signature.return_annotation),
                docstring=griffe.Docstring(inspect.cleandoc(descriptor.__doc__ or "")),
                lineno=member.lineno,
                endlineno=member.endlineno,
            )
            cls.set_member(name, method)
