"""`make codegen` on a new spec records the drift report in CHANGELOG.md."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from codegen import changelog, drift, inputs

BASE = """# Changelog

## [Unreleased]

### Added

- Something already listed.

## [0.1.0] - 2026-01-01

### Added

- First release.
"""


def report() -> drift.DriftReport:
    return drift.DriftReport(
        breaking=[drift.Change("/components/schemas/Gone", "schema removed")],
        additive=[drift.Change("/paths/~1v2~1new", "new path")],
        cosmetic=[drift.Change("/info/description", "description changed")],
    )


def test_breaking_and_additive_lines_land_under_unreleased_only() -> None:
    text = changelog.record(BASE, report(), "spec of 2026-07-01", "ab" * 32)
    unreleased, released = text.split("## [0.1.0]")
    assert "- **Breaking:** `/components/schemas/Gone`: schema removed" in unreleased
    assert "### Changed" in unreleased
    added = unreleased.split("### Added")[1]
    assert added.index("`/paths/~1v2~1new`: new path") < added.index("Something already")
    assert "description changed" not in text, "cosmetic changes are not release notes"
    assert released == BASE.split("## [0.1.0]")[1]


@pytest.mark.parametrize("gap", ["", "\n\n", "  \n"])
def test_additive_lines_land_under_a_heading_written_without_a_blank_line(gap: str) -> None:
    # "### Added" right above its first bullet (no blank line) lost every additive line:
    # the heading was found but not the text searched for, and the marker written with the
    # breaking ones kept a second run from adding them.
    text = BASE.replace("### Added\n\n- Something", f"### Added\n{gap}- Something", 1)
    unreleased = changelog.record(text, report(), "x", "ab" * 32).split("## [0.1.0]")[0]
    assert unreleased.count("### Added") == 1
    added = unreleased.split("### Added")[1]
    assert added.index("`/paths/~1v2~1new`: new path") < added.index("Something already")


def test_recording_twice_adds_nothing_and_no_change_adds_nothing() -> None:
    once = changelog.record(BASE, report(), "x", "cd" * 32)
    assert changelog.record(once, report(), "x", "cd" * 32) == once
    assert changelog.record(BASE, drift.DriftReport(), "x", "ef" * 32) == BASE


def test_a_changelog_without_unreleased_is_refused() -> None:
    with pytest.raises(ValueError, match="Unreleased"):
        changelog.record("# Changelog\n", report(), "x", "01" * 32)


def test_codegen_on_the_newer_spec_documents_the_release(
    lock: dict[str, inputs.LockEntry], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As if generated/ came from the 2026-06-17 spec and the lock now pins the newer one."""
    old, new = lock["orchestrator_previous"], lock["orchestrator"]
    specs = tmp_path / "specs"
    specs.mkdir()
    shutil.copyfile(old.path, specs / "v2-consumers.oldcopy.json")
    shutil.copyfile(new.path, specs / new.file)
    monkeypatch.setattr(inputs, "SPECS_DIR", specs)
    monkeypatch.setattr(inputs, "SHARED_SPECS", tmp_path / "none")
    models = tmp_path / "models.py"
    models.write_text(f"# Generated\n# orchestrator sha256: {old.sha256}\n")
    log = tmp_path / "CHANGELOG.md"
    log.write_text(BASE)
    notes = changelog.record_spec_change({"orchestrator": new}, models, log)
    text = log.read_text()
    assert notes
    assert "breaking" in notes[0]
    assert "`/components/schemas/CustomComfyHooks`" in text
    assert "**Breaking:**" in text
    assert "comfyNodepackSnapshot" in text
    assert changelog.marker(new.sha256) in text
    assert changelog.record_spec_change({"orchestrator": new}, models, log) == []


def test_without_the_previous_spec_the_changelog_is_left_alone(
    lock: dict[str, inputs.LockEntry], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inputs, "SPECS_DIR", tmp_path)
    monkeypatch.setattr(inputs, "SHARED_SPECS", tmp_path)
    models = tmp_path / "models.py"
    models.write_text(f"# orchestrator sha256: {'0' * 64}\n")
    log = tmp_path / "CHANGELOG.md"
    log.write_text(BASE)
    notes = changelog.record_spec_change(lock, models, log)
    assert notes == [f"CHANGELOG.md not updated: no copy of the previous spec (sha256 {'0' * 12})"]
    assert log.read_text() == BASE


def test_make_codegen_without_unreleased_says_so_and_writes_nothing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The ValueError ended `make codegen` in a traceback (after a release renamed the
    # section, the next API release is exactly when this happens).
    from codegen import __main__ as cli
    from codegen import pipeline

    def no_section(entries: object, models: Path) -> list[str]:
        return [changelog.record("# Changelog\n", report(), "x", "01" * 32)]

    written: list[object] = []
    monkeypatch.setattr(pipeline, "generate", lambda entries: pipeline.Generation({}, ()))
    monkeypatch.setattr(pipeline, "write", written.append)
    monkeypatch.setattr(changelog, "record_spec_change", no_section)
    assert cli.main(["generate"]) == 2
    assert capsys.readouterr().err.startswith(
        "error: CHANGELOG.md: the changelog has no '## [Unreleased]' section"
    )
    assert written == []
