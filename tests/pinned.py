"""Pinned inputs for tests, read through the codegen lock (sha256 verified)."""

from __future__ import annotations

from typing import Any

from codegen import inputs


def pinned_json(key: str) -> Any:
    """The pinned document `key` of `specs/lock.json`, filling `specs/` first if needed."""
    entries = inputs.read_lock()
    inputs.fill_from_shared({key: entries[key]})
    return inputs.load_json(entries[key])
