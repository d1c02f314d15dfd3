"""Strict checking of request bodies before anything is sent."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeAlias, get_origin

from civitai_app_sdk_generated import WorkflowTemplate
from civitai_app_sdk_generated._base import STRICT_CONTEXT, request_problems
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import PydanticSerializationError, to_json

from ..errors import RequestValidationError
from ._jsonable import MAX_DEPTH, json_problems
from ._problems import pydantic_problems
from ._reading import adapter

if TYPE_CHECKING:
    from civitai_app_sdk_generated.params import WorkflowTemplateParam

__all__ = ["WorkflowBody", "validate_workflow_body"]

WorkflowBody: TypeAlias = "WorkflowTemplate | WorkflowTemplateParam"
"""A workflow request: a ``WorkflowTemplate`` model or its JSON form (a typed dict).

A dict literal is checked by mypy against ``WorkflowTemplateParam``; for a body built at
run time, ``cast(WorkflowTemplateParam, data)``. Any mapping is validated strictly before
it is sent. (A string alias, so the TypedDicts are never imported at run time.)
"""


def _is_tag(field: FieldInfo) -> bool:
    """A constant field (``$type``, ``engine``…): sent even when left at its default."""
    return get_origin(field.annotation) is Literal


def _given(value: Any, dumped: Any) -> Any:
    """``dumped`` (the JSON of ``value``) keeping only fields the caller set, and tags.

    A typed body then sends what the caller wrote, as a dict body does, and not the
    spec's defaults (those are the server's business).
    """
    if isinstance(value, BaseModel) and isinstance(dumped, dict):
        kept: dict[str, Any] = {}
        for name, field in type(value).model_fields.items():
            key = field.serialization_alias or field.alias or name
            if key in dumped and (name in value.model_fields_set or _is_tag(field)):
                kept[key] = _given(getattr(value, name), dumped[key])
        kept.update({k: dumped[k] for k in value.model_extra or {} if k in dumped})
        return kept
    if isinstance(value, list | tuple) and isinstance(dumped, list) and len(value) == len(dumped):
        return [_given(item, part) for item, part in zip(value, dumped, strict=True)]
    if isinstance(value, Mapping) and isinstance(dumped, dict):
        return {k: _given(value[k], part) if k in value else part for k, part in dumped.items()}
    return dumped


def as_sent(value: Any, depth: int = 0) -> Any:
    """``value`` in JSON form: each model in it (at any depth, also inside a dict body)
    dumped by alias with only what the caller set (see :func:`_given`). Past
    :data:`MAX_DEPTH` levels it is left as it is (:func:`json_problems` reports it)."""
    if depth > MAX_DEPTH:
        return value
    if isinstance(value, BaseModel):
        return _given(value, value.model_dump(mode="json", by_alias=True, exclude_none=True))
    if isinstance(value, Mapping):
        return {key: as_sent(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [as_sent(item, depth + 1) for item in value]
    return value


def check_json(kind: Any, body: object, label: str, *, keep_nulls: bool = False) -> Any:
    """``body`` checked strictly as ``kind`` (a model or a union), as the JSON to send.

    Nothing JSON would alter (:func:`json_problems`); models in it sent as the caller set
    them (:func:`as_sent`); then the JSON is read strictly, lazy unions included (``"512"``
    is not a number): the schema's types and bounds, no unknown fields, tags or enum
    values. ``keep_nulls`` keeps explicit ``null`` values. ``label`` names the body in
    the :class:`RequestValidationError` that lists every problem.
    """
    unsendable = json_problems(body)
    if unsendable:
        raise RequestValidationError(unsendable, label)
    checker = adapter(kind)
    try:
        text = to_json(as_sent(body), inf_nan_mode="constants")
        value = checker.validate_json(text, strict=True, context={STRICT_CONTEXT: True})
    except PydanticSerializationError as exc:
        raise RequestValidationError([f"/: not JSON-serialisable: {exc}"], label) from None
    except ValidationError as exc:
        raise RequestValidationError(pydantic_problems(exc), label) from None
    problems = request_problems(value)
    if problems:
        raise RequestValidationError(problems, label)
    return checker.dump_python(
        value, mode="json", by_alias=True, exclude_unset=True, exclude_none=not keep_nulls
    )


def validate_workflow_body(body: WorkflowBody) -> dict[str, Any]:
    """Check a workflow body strictly and return the JSON to send.

    Typed models are dumped and re-read, so both forms get the same checks, made strictly
    on the JSON to be sent (``"512"`` is not a number): the schema's types and bounds, no
    unknown fields, step types or enum values, and nothing JSON would alter (``NaN``, a
    non-string key, bytes). Only what the caller gave is sent (the server applies its own
    defaults). Raises :class:`RequestValidationError` listing every problem.
    """
    if not isinstance(body, BaseModel | Mapping):
        problem = f"/: a workflow body is a WorkflowTemplate or a dict, not {type(body).__name__}"
        raise RequestValidationError([problem], "workflow body")
    checked: dict[str, Any] = check_json(WorkflowTemplate, body, "workflow body")
    return checked
