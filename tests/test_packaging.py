"""Package metadata: one version source, the licence, the PyPI fields a stranger needs."""

from __future__ import annotations

import importlib.metadata
import tomllib
from pathlib import Path

import civitai_app_sdk

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_the_version_has_one_source() -> None:
    project = PYPROJECT["project"]
    assert "version" not in project
    assert project["dynamic"] == ["version"]
    assert PYPROJECT["tool"]["hatch"]["version"]["path"] == "src/civitai_app_sdk/__init__.py"
    assert importlib.metadata.version("civitai-app-sdk") == civitai_app_sdk.__version__


def test_license_is_mit_and_shipped() -> None:
    assert PYPROJECT["project"]["license"] == "MIT"
    assert PYPROJECT["project"]["license-files"] == ["LICENSE"]
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")
    assert "LICENSE" in PYPROJECT["tool"]["hatch"]["build"]["targets"]["sdist"]["include"]


def test_pypi_metadata_names_versions_typing_and_links() -> None:
    project = PYPROJECT["project"]
    classifiers = set(project["classifiers"])
    for minor in (11, 12, 13):
        assert f"Programming Language :: Python :: 3.{minor}" in classifiers
    assert {"Typing :: Typed", "Operating System :: OS Independent"} <= classifiers
    assert {"Repository", "Documentation", "Changelog", "Issues"} <= set(project["urls"])
    assert "civitai" in project["keywords"]
    assert (ROOT / "src" / "civitai_app_sdk" / "py.typed").is_file()


def test_changelog_keeps_an_unreleased_section_first() -> None:
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "Keep a Changelog" in text
    releases = [line for line in text.splitlines() if line.startswith("## ")]
    assert releases[0] == "## [Unreleased]"
