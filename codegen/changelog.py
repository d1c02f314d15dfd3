"""Record an orchestrator API release in CHANGELOG.md under "Unreleased".

When `make codegen` runs on a spec whose sha256 differs from the one the committed
generated code names, the drift report between the two (breaking and additive lines;
cosmetic ones are left out) is added to the changelog's "Unreleased" section: breaking
changes under "Changed", additive ones under "Added". A marker line with the new digest
keeps a second run from adding the same release twice.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from codegen import drift, inputs

CHANGELOG = inputs.ROOT / "CHANGELOG.md"
UNRELEASED = "## [Unreleased]"
_DIGEST = re.compile(r"^# orchestrator sha256: ([0-9a-f]{64})$", re.MULTILINE)


class ChangelogError(ValueError):
    """CHANGELOG.md cannot take the release notes (it has no "Unreleased" section)."""


def marker(sha256: str) -> str:
    """The line that says a release of the spec with `sha256` is already recorded."""
    return f"<!-- orchestrator spec {sha256[:12]} -->"


def _bullet(change: drift.Change, prefix: str = "") -> str:
    return f"- {prefix}`{change.pointer or '/'}`: {change.message}"


def _insert(section: str, heading: str, bullets: list[str]) -> str:
    """Add `bullets` at the top of `heading` within `section`, creating the heading."""
    if not bullets:
        return section
    block = "\n".join(bullets)
    # The heading line and the blank lines after it, if any ("### Added" right above its
    # first bullet is common Markdown too).
    found = re.search(rf"^{re.escape(heading)}[ \t]*\n(?:[ \t]*\n)*", section, re.MULTILINE)
    if found:
        return f"{section[: found.end()]}{block}\n{section[found.end() :]}"
    return f"{section.rstrip()}\n\n{heading}\n\n{block}\n"


def record(text: str, report: drift.DriftReport, label: str, sha256: str) -> str:
    """`text` (a Keep a Changelog document) with the release of `report` recorded."""
    if marker(sha256) in text or not (report.breaking or report.additive):
        return text
    if UNRELEASED not in text:
        raise ChangelogError(
            f"the changelog has no {UNRELEASED!r} section: add one above the latest release "
            "and run `make codegen` again (nothing was written)"
        )
    head, rest = text.split(UNRELEASED, 1)
    found = re.search(r"^## ", rest, re.MULTILINE)
    section, tail = (rest[: found.start()], rest[found.start() :]) if found else (rest, "")
    intro = f"{marker(sha256)}\n- Orchestrator API release: {label} (recorded by `make codegen`)."
    section = _insert(section, "### Changed", [intro] + [
        _bullet(change, "**Breaking:** ") for change in report.breaking
    ])  # fmt: skip
    section = _insert(section, "### Added", [_bullet(change) for change in report.additive])
    return f"{head}{UNRELEASED}{section.rstrip()}\n\n{tail}".rstrip() + "\n"


def committed_digest(models: Path) -> str | None:
    """The orchestrator sha256 the committed generated code was made from."""
    if not models.is_file():
        return None
    found = _DIGEST.search(models.read_text(encoding="utf-8")[:2000])
    return found.group(1) if found else None


def find_spec(sha256: str, folders: tuple[Path, ...]) -> Path | None:
    """A JSON file in `folders` whose bytes hash to `sha256`."""
    for folder in folders:
        for path in sorted(folder.glob("*.json")) if folder.is_dir() else ():
            if inputs.sha256_of(path.read_bytes()) == sha256:
                return path
    return None


def record_spec_change(
    entries: dict[str, inputs.LockEntry], models: Path, changelog: Path = CHANGELOG
) -> list[str]:
    """Record the drift from the committed spec to the pinned one; return notes."""
    entry = entries["orchestrator"]
    old = committed_digest(models)
    if old is None or old == entry.sha256 or not changelog.is_file():
        return []
    previous = find_spec(old, (inputs.SPECS_DIR, inputs.SHARED_SPECS))
    if previous is None:
        return [f"CHANGELOG.md not updated: no copy of the previous spec (sha256 {old[:12]})"]
    old_spec: Any = json.loads(previous.read_bytes())
    report = drift.diff(old_spec, inputs.load_json(entry))
    label = f"spec of {entry.date}, sha256 {entry.sha256[:12]} (was {old[:12]})"
    before = changelog.read_text(encoding="utf-8")
    after = record(before, report, label, entry.sha256)
    if after == before:
        return []
    changelog.write_text(after, encoding="utf-8")
    return [
        f"CHANGELOG.md: recorded {len(report.breaking)} breaking and "
        f"{len(report.additive)} additive changes under Unreleased"
    ]
