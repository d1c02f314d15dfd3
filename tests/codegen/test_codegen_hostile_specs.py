"""The pipeline against its surroundings and surprising specs: settings it must not read,
shapes it must refuse with one clear error, and shapes it must generate from."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest

from codegen import models

TINY: dict[str, Any] = {
    "openapi": "3.1.1",
    "info": {"title": "tiny", "version": "1"},
    "components": {
        "schemas": {
            "Thing": {
                "type": "object",
                "properties": {
                    "someRatherLongPropertyName": {"type": ["string", "null"]},
                    "count": {"type": "integer", "minimum": 1, "maximum": 5},
                },
            }
        }
    },
}


def test_generator_output_ignores_a_pyproject_above_the_temp_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The generator runs in a temp dir and read its options, line length and quote style
    # from the nearest pyproject.toml above it: a TMPDIR inside some project changed the
    # generated code (line length 40: every field exploded over lines; strip-default-none:
    # optional fields became required), so `make codegen-check` failed on that machine.
    clean = models.run_generator(TINY, {})
    hostile = tmp_path / "project"
    (hostile / "tmp").mkdir(parents=True)
    (hostile / "pyproject.toml").write_text(
        "[tool.datamodel-codegen]\nstrip-default-none = true\n"
        "[tool.ruff]\nline-length = 40\n[tool.black]\nskip-string-normalization = true\n"
    )
    monkeypatch.setattr(tempfile, "tempdir", str(hostile / "tmp"))
    assert models.run_generator(TINY, {}) == clean
