"""Package metadata: one version source, the licence, the PyPI fields a stranger needs."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from types import ModuleType

import pytest

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


def load_check_dist() -> ModuleType:
    """`.ci/check_dist.py`, the check `make dist` runs on the built archives."""
    spec = importlib.util.spec_from_file_location("check_dist", ROOT / ".ci" / "check_dist.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


WHEEL = [
    "civitai_app_sdk/__init__.py",
    "civitai_app_sdk/py.typed",
    "civitai_app_sdk_generated/__init__.py",
    "civitai_app_sdk_generated/py.typed",
    "civitai_app_sdk-1.0.dist-info/METADATA",
    "civitai_app_sdk-1.0.dist-info/entry_points.txt",
    "civitai_app_sdk-1.0.dist-info/licenses/LICENSE",
]
ENTRY_POINTS = "[console_scripts]\ncivitai-orch = civitai_app_sdk.cli:run\n"
SDIST = [
    f"civitai_app_sdk-1.0/{name}"
    for name in (
        "PKG-INFO",
        "pyproject.toml",
        "README.md",
        "CHANGELOG.md",
        "LICENSE",
        "src/civitai_app_sdk/__init__.py",
        "generated/civitai_app_sdk_generated/__init__.py",
    )
]


def test_check_dist_passes_a_clean_release_and_names_each_stray_file() -> None:
    check = load_check_dist()
    assert check.wheel_problems(WHEEL, ENTRY_POINTS) == []
    assert check.sdist_problems(SDIST) == []
    junk = [
        "civitai_app_sdk/__pycache__/x.cpython-311.pyc",
        "tests/test_x.py",
        "civitai_app_sdk_generated/v2-consumers.json",
        "conftest.py",
    ]
    found = check.wheel_problems(WHEEL + junk, ENTRY_POINTS)
    assert all(any(name in problem for problem in found) for name in junk), found
    extra = ["bench/README.md", "specs/v2-consumers.json", "tests/conftest.py"]
    found = check.sdist_problems(SDIST + [f"civitai_app_sdk-1.0/{n}" for n in extra])
    assert all(any(name in problem for problem in found) for name in extra), found


def test_check_dist_names_what_a_release_lacks() -> None:
    check = load_check_dist()
    assert check.wheel_problems(WHEEL, "[console_scripts]\n") == [
        "wheel lacks the entry point `civitai-orch = civitai_app_sdk.cli:run`"
    ]
    without = [n for n in WHEEL if not n.endswith(("LICENSE", "generated/py.typed"))]
    assert len(check.wheel_problems(without, ENTRY_POINTS)) == 2
    assert check.sdist_problems([n for n in SDIST if not n.endswith("LICENSE")]) == [
        "sdist lacks LICENSE"
    ]


def test_make_help_lists_every_target() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    phony = re.search(r"^\.PHONY:(.*?)(?<!\\)\n", makefile, re.MULTILINE | re.DOTALL)
    assert phony is not None
    targets = set(phony.group(1).replace("\\", " ").split())
    documented = set(re.findall(r"^([a-z-]+):.*## ", makefile, re.MULTILINE))
    assert targets == documented
    rules = set(re.findall(r"^([a-z][a-z-]*):", makefile, re.MULTILINE))
    assert rules <= targets, f"targets missing from .PHONY and help: {rules - targets}"


def test_wheel_smoke_fails_when_it_finds_no_python(tmp_path: Path) -> None:
    """No interpreter to smoke-test on is a failure, never a silent pass."""
    make = shutil.which("make")
    if make is None:
        pytest.skip("needs make")
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    (tmp_path / ".ci").mkdir()
    finder = tmp_path / ".ci" / "pythons"
    finder.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")  # finds nothing
    finder.chmod(0o755)
    done = subprocess.run(
        [make, "--no-print-directory", "-o", "dist", "wheel-smoke"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode != 0
    assert "no Python >= 3.11 found" in done.stderr


def test_the_soak_runs_without_the_pinned_specs() -> None:
    """tests/faults reads no spec, so `make soak` must not need ../shared or the network."""
    make = shutil.which("make")
    if make is None:
        pytest.skip("needs make")
    done = subprocess.run(
        [make, "--no-print-directory", "-n", "soak"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    assert "pytest tests/faults" in done.stdout
    assert "codegen specs" not in done.stdout


def test_property_tests_carry_no_speed_deadline() -> None:
    """`.ci/run` fails on any failure: a slow moment on a shared CI machine must not be one."""
    from hypothesis import settings

    assert settings.default.deadline is None
