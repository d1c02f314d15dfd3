"""Typed extractors for what a finished workflow produced: images, videos, audio, text.

Blobs are found by walking every step's output for objects with a blob ``type`` and an
``id`` (so new step types and nested outputs are covered without a table); texts come
from the step types whose output is text. Works on a ``Workflow`` or its JSON dict, and
tolerates missing or null steps.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final, TypeVar

from civitai_app_sdk_generated import AudioBlob, Blob, ImageBlob, Model3DBlob, VideoBlob, Workflow
from civitai_app_sdk_generated._base import with_extra
from pydantic import BaseModel, ValidationError

from ..errors import RequestValidationError
from ._reading import adapter

__all__ = [
    "extract_audio",
    "extract_blobs",
    "extract_image_urls",
    "extract_images",
    "extract_models",
    "extract_texts",
    "extract_videos",
]

_BLOB_TYPES: Final = frozenset({"image", "video", "audio", "model3d"})
_BLOB_MODELS: Final = (ImageBlob, VideoBlob, AudioBlob, Model3DBlob)
B = TypeVar("B", ImageBlob, VideoBlob, AudioBlob, Model3DBlob)
WorkflowLike = Workflow | Mapping[str, Any]
"""A workflow as a model or as its JSON dict."""


def _steps(workflow: WorkflowLike | None) -> Iterator[tuple[Any, Any]]:
    """``($type, output)`` of every step, read from the model or the dict as it is.

    Anything but a workflow (a page of them, an id) is a :class:`RequestValidationError`
    rather than an empty answer; ``steps`` that is not a list holds no step.
    """
    if workflow is None:
        return
    if isinstance(workflow, Workflow):
        for step in workflow.steps or ():
            yield getattr(step, "field_type", None), getattr(step, "output", None)
        return
    if not isinstance(workflow, Mapping):
        problem = f"expected a Workflow or its JSON dict, not {type(workflow).__name__}"
        raise RequestValidationError([problem], "argument")
    steps = workflow.get("steps")
    for step in steps if isinstance(steps, list | tuple) else ():
        if isinstance(step, Mapping):
            yield step.get("$type"), step.get("output")


def _walk(value: Any) -> Iterator[Any]:
    """Blob models (already read) and blob-shaped dicts (still to be read), in order."""
    if isinstance(value, _BLOB_MODELS):
        yield value
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _walk(getattr(value, name))
        for item in (value.model_extra or {}).values():
            yield from _walk(item)
    elif isinstance(value, Mapping):
        if value.get("type") in _BLOB_TYPES and isinstance(value.get("id"), str):
            yield value
            return
        for item in value.values():
            yield from _walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)


def extract_blobs(workflow: WorkflowLike | None) -> list[Blob]:
    """Every output blob of every step, in step order, each blob id once."""
    seen: set[str] = set()
    blobs: list[Blob] = []
    for _, output in _steps(workflow):
        for found in _walk(output):
            if isinstance(found, _BLOB_MODELS):
                blob: Blob = found
            else:
                try:
                    blob = adapter(Blob).validate_python(
                        found, extra="allow", context=with_extra(None, "allow")
                    )
                except ValidationError:
                    continue
            if blob.id not in seen:
                seen.add(blob.id)
                blobs.append(blob)
    return blobs


def _of(workflow: WorkflowLike | None, kind: type[B]) -> list[B]:
    return [blob for blob in extract_blobs(workflow) if isinstance(blob, kind)]


def extract_images(workflow: WorkflowLike | None) -> list[ImageBlob]:
    """Output images (textToImage, imageGen, upscalers, frames, comfy blobs…)."""
    return _of(workflow, ImageBlob)


def extract_videos(workflow: WorkflowLike | None) -> list[VideoBlob]:
    """Output videos (videoGen's ``video`` and ``additionalVideos``, enhancers…)."""
    return _of(workflow, VideoBlob)


def extract_audio(workflow: WorkflowLike | None) -> list[AudioBlob]:
    """Output audio (textToSpeech, aceStepAudio, composeMedia…)."""
    return _of(workflow, AudioBlob)


def extract_models(workflow: WorkflowLike | None) -> list[Model3DBlob]:
    """Output 3D models (polyGen)."""
    return _of(workflow, Model3DBlob)


def _is_image_kind(kind: object) -> bool:
    return kind is None or kind == "image" or (isinstance(kind, str) and kind.startswith("image/"))


def _url(item: Mapping[str, Any]) -> str | None:
    """The item's ``url`` when it is non-empty text (a number or an object is no URL)."""
    url = item.get("url")
    return url if isinstance(url, str) and url else None


def _available_image(blob: Mapping[str, Any]) -> bool:
    return blob.get("type") == "image" and bool(blob.get("available")) and _url(blob) is not None


def _listed(output: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    items = output.get(key)
    return [i for i in items if isinstance(i, Mapping)] if isinstance(items, list) else []


def _step_image_urls(output: Mapping[str, Any]) -> Iterator[str]:
    """One step's image URLs: ``images[]``, then ``blobs[]``, then images found elsewhere."""
    for item in _listed(output, "images"):
        url = _url(item)
        if item.get("available") and url and _is_image_kind(item.get("type")):
            yield url
    for item in _listed(output, "blobs"):
        mime, url = item.get("mimeType"), _url(item)
        kind = mime if mime is not None else item.get("type")
        mime_image = isinstance(kind, str) and kind.startswith("image/")
        if url and (mime_image or (mime is None and _available_image(item))):
            yield url
    rest = {key: value for key, value in output.items() if key not in ("images", "blobs")}
    for found in _walk(rest):
        if isinstance(found, Mapping) and _available_image(found):
            yield found["url"]


def extract_image_urls(workflow: WorkflowLike | None) -> list[str]:
    """URLs of the available output images, in step order, duplicates kept (as in 0.14).

    Reads both snapshot shapes: this API's blobs (``type: "image"``, ``available``, ``url``)
    and the TypeScript SDK 0.14's (``images[]`` with ``url``/``available``, ``blobs[]`` with
    a ``mimeType`` such as ``image/png``). Per step: ``images[]``, then ``blobs[]``, then
    image blobs anywhere else in the output (an upscaler's ``blob``, extracted ``frames``).
    Blocked or hidden images have no URL and are skipped.
    """
    urls: list[str] = []
    for _, output in _steps(workflow):
        if isinstance(output, BaseModel):
            output = output.model_dump(mode="json", by_alias=True)
        if isinstance(output, list):  # no images[]/blobs[]: the blobs found in it
            output = {"": output}
        if isinstance(output, Mapping):
            urls.extend(_step_image_urls(output))
    return urls


def _message_text(content: Any) -> str | None:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [p.get("text") for p in content if isinstance(p, Mapping)]
        return "".join(p for p in parts if isinstance(p, str)) or None
    return None


def _texts(step_type: Any, output: Any) -> Iterator[str | None]:
    if step_type != "chatCompletion" and step_type not in _TEXT_FIELDS:
        return
    if isinstance(output, BaseModel):
        output = output.model_dump(mode="json", by_alias=True)
    if not isinstance(output, Mapping):
        return
    if step_type == "chatCompletion":
        choices = output.get("choices")
        for choice in choices if isinstance(choices, list | tuple) else ():
            message = choice.get("message") if isinstance(choice, Mapping) else None
            if isinstance(message, Mapping):
                yield _message_text(message.get("content"))
    else:
        key = _TEXT_FIELDS.get(step_type)
        if key is not None:
            yield output.get(key)


_TEXT_FIELDS: Final = {
    "transcription": "text",
    "mediaCaptioning": "caption",
    "promptEnhancement": "enhancedPrompt",
    "echo": "message",
}


def extract_texts(workflow: WorkflowLike | None) -> list[str]:
    """Text outputs: chat completions, transcriptions, captions, enhanced prompts, echoes."""
    texts: list[str] = []
    for step_type, output in _steps(workflow):
        texts.extend(t for t in _texts(step_type, output) if isinstance(t, str))
    return texts
