"""Workflow body builders with the TypeScript SDK's defaults, minus its silent data loss.

Each returns the JSON body (a ``WorkflowTemplateParam`` dict, keys in the TypeScript SDK's
order) after checking it strictly, so a typo raises :class:`RequestValidationError` instead
of vanishing. Every field the step accepts is kept (sampler-like options, LoRAs, priority,
retries…).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, cast

from civitai_app_sdk_generated import TextToImageInput
from civitai_app_sdk_generated._base import format_timespan
from pydantic import BaseModel

from ..errors import RequestValidationError
from ._jsonable import json_problems
from .validation import as_sent, validate_workflow_body

if TYPE_CHECKING:
    from civitai_app_sdk_generated import ImageGenInput, WorkflowStepTemplate
    from civitai_app_sdk_generated.params import (
        ImageGenInputParam,
        TextToImageInputParam,
        WorkflowStepTemplateParam,
        WorkflowTemplateParam,
    )

__all__ = [
    "DEFAULT_MODEL_AIR",
    "DEFAULT_STEP_NAME",
    "DEFAULT_STEP_TIMEOUT",
    "build_image_gen_body",
    "build_text_to_image_body",
    "build_workflow_body",
]

DEFAULT_MODEL_AIR: Final = "urn:air:sdxl:checkpoint:civitai:101055@128078"
"""The checkpoint `build_text_to_image_body` uses when no model is given (SDXL)."""
DEFAULT_STEP_NAME: Final = "step_0"
"""Name given to the single step of a built body."""
DEFAULT_STEP_TIMEOUT: Final = 600.0
"""Step timeout in seconds (10 minutes) when none is given."""

_TEXT_TO_IMAGE_DEFAULTS: Final[tuple[tuple[str, Any], ...]] = (
    ("prompt", None),
    ("negativePrompt", None),
    ("model", DEFAULT_MODEL_AIR),
    ("width", 1024),
    ("height", 1024),
    ("steps", 25),
    ("cfgScale", 5),
    ("seed", None),
    ("quantity", 1),
)
_UNSET: Final = object()

Duration = float | dt.timedelta | str
"""Seconds, a ``timedelta``, or a .NET TimeSpan string such as ``"00:10:00"``."""


def _invalid(problem: str) -> RequestValidationError:
    return RequestValidationError([problem], "argument")


def _timespan(value: Duration) -> str:
    """TimeSpan text for a step timeout; text is checked with the body."""
    if isinstance(value, str):
        return value
    if not isinstance(value, dt.timedelta):
        if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
            raise _invalid("timeout: a step timeout is a positive number of seconds")
        try:
            value = dt.timedelta(seconds=value)
        except OverflowError:
            raise _invalid("timeout: too long for a step timeout") from None
    if value <= dt.timedelta(0):
        raise _invalid("timeout: a step timeout is a positive duration")
    return format_timespan(value)


def _wire(value: object, what: str) -> dict[str, Any]:
    """A copy in JSON form; models (at any depth) keep only the fields the caller set and
    their tags, as a typed body sends them (the server applies its own defaults). What
    JSON would alter is refused first (dumping a model would make ``NaN`` a ``null``)."""
    if not isinstance(value, BaseModel | Mapping):
        raise _invalid(f"{what}: expected a dict or a model, not {type(value).__name__}")
    unsendable = json_problems(value)
    if unsendable:
        raise RequestValidationError(unsendable, what)
    sent: dict[str, Any] = as_sent(value)
    return sent


def _input_keys(model: type[BaseModel], data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with Python field names turned into JSON ones; one field given under both
    names (``cfg_scale`` and ``cfgScale``) is refused rather than one value dropped."""
    aliases = {name: field.alias for name, field in model.model_fields.items() if field.alias}
    keyed: dict[str, Any] = {}
    given_as: dict[str, str] = {}
    for key, value in data.items():
        wire = aliases.get(key, key)
        if wire in keyed:
            raise _invalid(f"input: {given_as[wire]!r} and {key!r} are the same field; give one")
        keyed[wire], given_as[wire] = value, key
    return keyed


def _body(step: dict[str, Any], tags: Sequence[str] | None) -> WorkflowTemplateParam:
    """The body of one step, checked; a lone string ``tags`` is one tag, not its letters."""
    body: dict[str, Any] = {"steps": [step]}
    if tags:
        body["tags"] = [tags] if isinstance(tags, str) else list(tags)
    checked = cast("WorkflowTemplateParam", body)
    validate_workflow_body(checked)
    return checked


def _step_extras(
    step: dict[str, Any], priority: str | None, retries: int | None, metadata: object
) -> dict[str, Any]:
    if metadata is not None:
        step["metadata"] = metadata
    if priority is not None:
        step["priority"] = priority
    if retries is not None:
        step["retries"] = retries
    return step


def build_text_to_image_body(
    input: TextToImageInputParam | TextToImageInput,
    *,
    tags: Sequence[str] | None = None,
    name: str = DEFAULT_STEP_NAME,
    timeout: Duration = DEFAULT_STEP_TIMEOUT,
    priority: str | None = None,
    retries: int | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> WorkflowTemplateParam:
    """A one-step ``textToImage`` body.

    Defaults as in the TypeScript SDK (model :data:`DEFAULT_MODEL_AIR`, 1024x1024, 25 steps,
    CFG 5, quantity 1; ``None`` also takes the default), and every other input field is
    kept. ``input`` may use JSON (``cfgScale``) or Python (``cfg_scale``) names.
    """
    given = _input_keys(TextToImageInput, _wire(input, "input"))
    step_input: dict[str, Any] = {}
    for key, default in _TEXT_TO_IMAGE_DEFAULTS:
        value = given.pop(key, _UNSET)
        if value is _UNSET and default is None:
            continue
        step_input[key] = (
            default if value is _UNSET or (value is None and default is not None) else value
        )
    step_input.update(given)
    step = {
        "$type": "textToImage",
        "name": name,
        "timeout": _timespan(timeout),
        "input": step_input,
    }
    return _body(_step_extras(step, priority, retries, metadata), tags)


def build_image_gen_body(
    input: ImageGenInputParam | ImageGenInput,
    *,
    name: str = DEFAULT_STEP_NAME,
    timeout: Duration = DEFAULT_STEP_TIMEOUT,
    tags: Sequence[str] | None = None,
    priority: str | None = None,
    retries: int | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> WorkflowTemplateParam:
    """A one-step ``imageGen`` body; ``input`` (an engine's input) is kept as given."""
    step_input = _wire(input, "input")
    step = {"$type": "imageGen", "name": name, "timeout": _timespan(timeout), "input": step_input}
    return _body(_step_extras(step, priority, retries, metadata), tags)


def build_workflow_body(
    step: WorkflowStepTemplateParam | WorkflowStepTemplate, *, tags: Sequence[str] | None = None
) -> WorkflowTemplateParam:
    """A one-step body for any step type: ``{"$type": ..., "input": ...}`` plus options.

    ``name`` defaults to ``step_0`` and ``timeout`` to 10 minutes (seconds, ``timedelta``
    or TimeSpan text); ``metadata``, ``priority``, ``retries`` and every other field the
    step accepts are kept.
    """
    given = _wire(step, "step")
    if "$type" not in given and "type" in given:
        raise _invalid("type: a step's type goes in '$type', not 'type'")
    name, timeout = given.pop("name", None), given.pop("timeout", None)
    built: dict[str, Any] = {
        "$type": given.pop("$type", None),
        "name": DEFAULT_STEP_NAME if name is None else name,
        "timeout": _timespan(DEFAULT_STEP_TIMEOUT if timeout is None else timeout),
    }
    if "input" in given:
        built["input"] = given.pop("input")
    metadata = given.pop("metadata", None)
    if metadata is not None:
        built["metadata"] = metadata
    built.update(given)
    return _body(built, tags)
