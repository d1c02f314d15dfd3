"""Shared helpers for the blocks tests: a valid base manifest and the pinned schema's path."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from tests.pinned import pinned_path

ROOT = Path(__file__).resolve().parents[2]
"""The repository's root folder."""


def schema_path() -> Path:
    """The pinned schema in `specs/` (copied from ../shared/specs), or the test skips."""
    return pinned_path("app_block_schema")


BASE: dict[str, Any] = {
    "blockId": "prompt-lab",
    "version": "1.2.0",
    "name": "Prompt Lab",
    "contentRating": "pg",
    "scopes": ["models:read:self", "apps:storage:read"],
    "iframe": {
        "minHeight": 320,
        "maxHeight": None,
        "resizable": True,
        "sandbox": "allow-scripts allow-forms",
    },
}


def _replaced(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of ``base`` with keys replaced (a value of ... deletes the key)."""
    result = copy.deepcopy(base)
    for key, value in changes.items():
        if value is ...:
            result.pop(key, None)
        else:
            result[key] = value
    return result


def manifest(**changes: Any) -> dict[str, Any]:
    """A deep copy of BASE with top-level keys replaced (a value of ... deletes the key)."""
    return _replaced(BASE, changes)


def with_iframe(**changes: Any) -> dict[str, Any]:
    """BASE with iframe keys replaced (... deletes one)."""
    return manifest(iframe=_replaced(BASE["iframe"], changes))


SDK014_BASE: dict[str, Any] = {
    "$schema": "https://civitai.com/schemas/app-block/v1.json",
    "appId": "my-app",
    "blockId": "my-block",
    "version": "1.0.0",
    "name": "My Block",
    "type": "block",
    "targets": [{"slotId": "model.sidebar_top", "priority": 100}],
    "scopes": ["ai:write:budgeted"],
    "iframe": {
        "src": "https://my-block.civit.ai/",
        "minHeight": 200,
        "resizable": True,
        "sandbox": "allow-scripts",
    },
    "contentRating": "pg",
    "minApiVersion": "1.0",
}


def sdk014(**changes: Any) -> dict[str, Any]:
    """A deep copy of a manifest 0.14 accepts, with top-level keys replaced."""
    return _replaced(SDK014_BASE, changes)
