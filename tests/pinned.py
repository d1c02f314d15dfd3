"""Pinned inputs for tests, read through the codegen lock (sha256 verified).

Only tests that regenerate or diff the specs, or cross-check the SDK against them, use
these. When an input is neither in `specs/` nor in ../shared/specs, such a test skips with
a reason naming `make specs`; under `CI=true` that is a failure instead, so CI can never
pass by skipping them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, NoReturn

import pytest

from codegen import inputs

HINT = "run `make specs` (it needs ../shared/specs or network access)"


def unavailable(what: str) -> NoReturn:
    """Skip the calling test or module, or fail it under `CI=true`."""
    message = f"pinned spec input {what} unavailable: {HINT}"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} (CI=true: a missing spec is a failure)", pytrace=False)
    pytest.skip(message, allow_module_level=True)


def require(*keys: str) -> dict[str, inputs.LockEntry]:
    """The lock entries `keys` (all when none), present in `specs/` or skipped.

    Copies from ../shared/specs when needed; never downloads (tests use no network).
    """
    entries = inputs.read_lock()
    wanted = {key: entries[key] for key in keys} if keys else entries
    inputs.fill_pinned(wanted, fetch=False)
    missing = [entry.file for entry in wanted.values() if not inputs.is_present(entry)]
    if missing:
        unavailable(", ".join(missing))
    return wanted


def pinned_path(key: str) -> Path:
    """The verified local copy of the pinned input `key`."""
    return require(key)[key].path


def pinned_json(key: str) -> Any:
    """The pinned document `key` of `specs/lock.json`, parsed."""
    return inputs.load_json(require(key)[key])
