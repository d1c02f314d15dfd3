"""Find every downloadable output of a workflow, whatever the step type.

Works on plain JSON data (see :func:`~._output.to_data`). Any object with a blob
``type`` (image, video, audio, model3d) and an ``id`` counts, wherever it sits in
``step.output``: ``images[]``, ``video``, ``additionalVideos[]``, ``blobs[]``, ``frames[]``,
``audioBlob``, polyGen models, training epochs… Two shapes without a ``type`` are
added: transcode's inline blob (``output.id`` + ``url``) and blobArchive's ``output.url``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final

import attrs

from ._output import entries

BLOB_TYPES: Final = frozenset({"image", "video", "audio", "model3d"})


@attrs.frozen
class Media:
    """One output file of a step. ``url`` is signed and expires; it may be missing."""

    step: str
    kind: str
    blob_id: str | None
    url: str | None
    available: bool
    blocked_reason: str | None = None
    width: int | None = None
    height: int | None = None
    nsfw_level: str | None = None

    def describe(self) -> str:
        """A short size text: ``1024x768``, or empty."""
        return f"{self.width}x{self.height}" if self.width and self.height else ""


def _walk(value: Any) -> Iterator[Mapping[str, Any]]:
    if isinstance(value, Mapping):
        kind = value.get("type")
        if isinstance(kind, str) and kind in BLOB_TYPES and isinstance(value.get("id"), str):
            yield value
            return
        for child in value.values():
            yield from _walk(child)
    elif isinstance(value, list):
        for child in value:
            yield from _walk(child)


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _media(step: str, kind: str, blob: Mapping[str, Any]) -> Media:
    blob_id = blob.get("id")
    url = blob.get("url")
    blocked = blob.get("blockedReason")
    nsfw = blob.get("nsfwLevel")
    return Media(
        step=step,
        kind=kind,
        blob_id=blob_id if isinstance(blob_id, str) and blob_id else None,
        url=url if isinstance(url, str) and url else None,
        available=blob.get("available") is not False,
        blocked_reason=blocked if isinstance(blocked, str) and blocked else None,
        width=_int(blob.get("width")),
        height=_int(blob.get("height")),
        nsfw_level=nsfw if isinstance(nsfw, str) else None,
    )


def step_media(step: Mapping[str, Any]) -> list[Media]:
    """The output files of one step (JSON data), in document order, without duplicates."""
    name = str(step.get("name") or "")
    output = step.get("output")
    if not isinstance(output, Mapping):
        return []
    found: list[Media] = []
    seen: set[str] = set()
    for blob in _walk(output):
        if blob["id"] not in seen:
            seen.add(blob["id"])
            found.append(_media(name, str(blob["type"]), blob))
    if not found and isinstance(output.get("url"), str):
        kind = "file" if isinstance(output.get("id"), str) else "archive"
        found.append(_media(name, kind, output))
    return found


def workflow_media(workflow: Mapping[str, Any]) -> list[Media]:
    """The output files of every step of a workflow."""
    steps = entries(workflow.get("steps"))
    return [m for step in steps if isinstance(step, Mapping) for m in step_media(step)]
