"""JSON Patch (RFC 6902) on the parts of a workflow or step the API lets callers change."""

from __future__ import annotations

from typing import Any

import jsonpatch
import jsonpointer

from .common import BadRequestError

__all__ = ["apply_patch"]


def apply_patch(document: dict[str, Any], operations: Any, editable: frozenset[str]) -> Any:
    """``document`` with ``operations`` applied; only ``editable`` top-level members may change.

    Raises :class:`BadRequestError` (a 400) for a malformed patch, a failed ``test``, a
    path that does not exist, or a change outside ``editable``.
    """
    if not isinstance(operations, list) or not all(isinstance(o, dict) for o in operations):
        raise BadRequestError({"$": ["A JSON Patch document must be an array of operations."]})
    try:
        patched = jsonpatch.apply_patch(document, operations)
    except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException) as exc:
        raise BadRequestError({"$": [f"The patch cannot be applied: {exc}"]}) from None
    if not isinstance(patched, dict):
        raise BadRequestError({"$": ["The patch must leave an object."]})
    changed = {k for k in set(document) | set(patched) if document.get(k) != patched.get(k)}
    if changed - editable or set(patched) != set(document):
        raise BadRequestError({"$": [f"Only {', '.join(sorted(editable))} can be patched."]})
    return patched
