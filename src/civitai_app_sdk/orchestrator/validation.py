"""Strict checking of request bodies before anything is sent."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeAlias

from civitai_app_sdk_generated import HOMES, WorkflowTemplate
from civitai_app_sdk_generated._base import STRICT_CONTEXT, UNKNOWN_TAG, request_problems
from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticSerializationError, to_json

from ..errors import RequestValidationError

if TYPE_CHECKING:
    from civitai_app_sdk_generated.params import WorkflowTemplateParam

__all__ = ["WorkflowBody", "validate_workflow_body"]

WorkflowBody: TypeAlias = "WorkflowTemplate | WorkflowTemplateParam"
"""A workflow request: a ``WorkflowTemplate`` model or its JSON form (a typed dict).

A dict literal is checked by mypy against ``WorkflowTemplateParam``; for a body built at
run time, ``cast(WorkflowTemplateParam, data)``. Any mapping is validated strictly before
it is sent. (A string alias, so the TypedDicts are never imported at run time.)
"""


def _is_union_tag(part: int | str) -> bool:
    """A location part naming the union member tried (not a JSON key): left out of paths."""
    return isinstance(part, str) and (part == UNKNOWN_TAG or part in HOMES)


def _pydantic_problems(error: ValidationError) -> list[str]:
    return [
        "/"
        + "/".join(str(part) for part in item["loc"] if not _is_union_tag(part))
        + f": {item['msg']}"
        for item in error.errors()
    ]


def validate_workflow_body(body: WorkflowBody) -> dict[str, Any]:
    """Check a workflow body strictly and return the JSON to send.

    Typed models are dumped and re-read, so both forms get the same checks, made strictly
    on the JSON to be sent (``"512"`` is not a number): the schema's types and bounds, no
    unknown fields, step types or enum values. Only what the caller gave is sent (the
    server applies its own defaults). Raises :class:`RequestValidationError` listing every
    problem.
    """
    if isinstance(body, BaseModel):
        data: dict[str, Any] = body.model_dump(mode="json", by_alias=True, exclude_none=True)
    elif isinstance(body, Mapping):
        data = dict(body)
    else:
        problem = f"/: a workflow body is a WorkflowTemplate or a dict, not {type(body).__name__}"
        raise RequestValidationError([problem], "workflow body")
    try:
        text = to_json(data, inf_nan_mode="constants")
        model = WorkflowTemplate.model_validate_json(
            text, strict=True, context={STRICT_CONTEXT: True}
        )
    except PydanticSerializationError as exc:
        problem = f"/: not JSON-serialisable: {exc}"
        raise RequestValidationError([problem], "workflow body") from None
    except ValidationError as exc:
        raise RequestValidationError(_pydantic_problems(exc), "workflow body") from None
    problems = request_problems(model)
    if problems:
        raise RequestValidationError(problems, "workflow body")
    return model.model_dump(mode="json", by_alias=True, exclude_none=True, exclude_unset=True)
