"""Fixtures for the codegen tests: pinned inputs and one shared fresh generation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from codegen import inputs, normalize, pipeline
from tests import pinned


@pytest.fixture(scope="session")
def lock() -> dict[str, inputs.LockEntry]:
    """The lock entries, with their files present (or the codegen tests skip; see pinned)."""
    return pinned.require()


@pytest.fixture(scope="session")
def spec(lock: dict[str, inputs.LockEntry]) -> Any:
    """The pinned orchestrator spec."""
    return inputs.load_json(lock["orchestrator"])


@pytest.fixture(scope="session")
def previous_spec(lock: dict[str, inputs.LockEntry]) -> Any:
    """The older published spec, for drift tests."""
    return inputs.load_json(lock["orchestrator_previous"])


@pytest.fixture(scope="session")
def normalised(spec: Any) -> tuple[Any, dict[str, normalize.Union_], list[str]]:
    """The spec after normalisation, its unions and notes."""
    return normalize.normalize(spec, pipeline.load_patches())


@pytest.fixture(scope="session")
def generation(lock: dict[str, inputs.LockEntry]) -> pipeline.Generation:
    """One fresh run of the whole pipeline."""
    return pipeline.generate(lock)


def load(path: Path) -> Any:
    """Read a JSON file."""
    return json.loads(path.read_text(encoding="utf-8"))
