"""Turn a generated :class:`OperationSpec` and its arguments into a :class:`calls.Operation`.

The rendered client methods hand their arguments here; path values become single URL
segments, query values are type-checked and encoded, bodies are checked strictly against
the spec's model, and the 2xx answer is read as the spec's response model.
"""

from __future__ import annotations

import datetime as dt
import enum
import importlib
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar, cast

import httpx
from civitai_app_sdk_generated import OperationSpec

from .._request import Call
from ..errors import ArgumentTypeError, RequestValidationError
from . import calls
from ._charges import warn_charged
from ._reading import read, refuse_page_for_file, refuse_web_page
from .validation import check_json

__all__ = ["build_operation", "check_body", "reader"]

T = TypeVar("T")
_PLACEHOLDER = re.compile(r"\{([^}]+)\}")
_BUILTINS: dict[str, type] = {"str": str, "int": int, "float": float, "bool": bool}


def _model(name: str) -> Any:
    if name in _BUILTINS:
        return _BUILTINS[name]
    return getattr(importlib.import_module("civitai_app_sdk_generated"), name)


def _fill_path(spec: OperationSpec[Any], values: tuple[str | int, ...]) -> str:
    names = _PLACEHOLDER.findall(spec.path)
    if len(names) != len(values):
        raise ArgumentTypeError(
            f"{spec.operation_id} takes {len(names)} path values, not {len(values)}"
        )
    path = spec.path
    for param, value in zip(spec.path_params, values, strict=True):
        if param.kind == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                raise RequestValidationError([f"{param.wire}: expected an integer"], "path")
            value = str(value)
        elif not isinstance(value, str) or not value.strip():
            raise RequestValidationError([f"{param.wire}: expected a non-empty string"], "path")
        path = path.replace("{" + param.wire + "}", calls.segment(value, param.attr), 1)
    return path


def _scalar(kind: str, wire: str, value: object) -> str:
    if kind == "bool":
        if not isinstance(value, bool):
            raise RequestValidationError([f"?{wire}: expected true or false"], "query")
        return "true" if value else "false"
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise RequestValidationError([f"?{wire}: expected an integer"], "query")
        return str(value)
    if kind == "datetime" and isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise RequestValidationError([f"?{wire}: the datetime must be timezone-aware"])
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    if kind == "enum" and isinstance(value, enum.Enum):
        return str(value.value)
    if not isinstance(value, str):
        raise RequestValidationError([f"?{wire}: expected a string"], "query")
    return value


def _query(spec: OperationSpec[Any], values: Mapping[str, object]) -> tuple[tuple[str, str], ...]:
    params: list[tuple[str, str]] = []
    for param in spec.query_params:
        value = values.get(param.wire)
        if value is None:
            continue
        if param.kind == "array":
            items = [value] if isinstance(value, str) else value
            if not isinstance(items, Sequence):
                raise RequestValidationError([f"?{param.wire}: expected a list of strings"])
            params.extend((param.wire, _scalar("str", param.wire, item)) for item in items)
        else:
            params.append((param.wire, _scalar(param.kind, param.wire, value)))
    return tuple(params)


def check_body(model_name: str, body: object, *, keep_nulls: bool = False) -> Any:
    """``body`` checked strictly against the named model, as the JSON to send.

    The same checks as a workflow body (:func:`.validation.check_json`): typed and dict
    bodies send the same JSON, without the spec's defaults; the schema's types and
    bounds, no unknown fields, tags or enum values, nothing JSON would alter (``NaN``, a
    non-string key, bytes). ``keep_nulls`` keeps explicit ``null`` values (JSON Patch
    ``value: null``). Raises :class:`RequestValidationError` listing every problem.
    """
    return check_json(_model(model_name), body, model_name, keep_nulls=keep_nulls)


def reader(spec: OperationSpec[T]) -> Callable[[httpx.Response], T]:
    """What reads a 2xx answer of ``spec``: its response model, the bytes, or None.

    A web page (a captive portal, a proxy) is none of them: it raises
    :class:`~civitai_app_sdk.errors.ResponseValidationError`, also for a call with no body.
    """
    model = spec.response_model
    if spec.response == "json" and model is not None:
        return lambda response: cast(T, read(_model(model), response.content, model, response))
    if spec.response == "bytes":
        return lambda response: cast(T, _file_content(response))
    what = f"the {spec.operation_id} call"
    return lambda response: cast(T, refuse_web_page(response, what, "it may not have happened"))


def _file_content(response: httpx.Response) -> bytes:
    refuse_page_for_file(response, "file")
    return response.content


def build_operation(
    spec: OperationSpec[T],
    path: tuple[str | int, ...],
    query: Mapping[str, object],
    body: object,
) -> calls.Operation[T]:
    """The call and reader for ``spec`` with these path values, query and body.

    A call is retried after a lost answer only when the spec marks it safe, or when it is a
    ``whatif`` estimate (nothing runs, nothing is charged). A recipe (or a workflow patch,
    which can release mature output for yellow Buzz) that may have run before failing says
    so in its error (:func:`._charges.warn_charged`).
    """
    json_body: Any = None
    if spec.body_model is not None:
        if body is None:
            raise RequestValidationError(["/: a body is required"], spec.operation_id)
        patch = spec.body_content_type == "application/json-patch+json"
        json_body = check_body(spec.body_model, body, keep_nulls=patch)
    estimate = query.get("whatif") is True
    call = Call(
        spec.method,
        _fill_path(spec, path),
        _query(spec, query),
        json=json_body,
        content_type=spec.body_content_type or "application/json",
        idempotent=spec.idempotent or estimate,
    )
    charges = spec.may_charge and not spec.idempotent and not estimate  # a recipe, a patch
    what = "recipe" if spec.attribute.startswith("recipes.") else spec.attribute
    return calls.Operation(
        call, reader(spec), on_failure=warn_charged(what, None) if charges else None
    )
