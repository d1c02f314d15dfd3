"""Check what `make dist` built: the files a release needs are in, nothing else is.

The wheel and sdist hold LICENSE, the wheel both packages' py.typed and the
`civitai-orch` entry point; neither holds tests, bytecode, pinned spec copies or any
file outside the packages (the sdist: the packages' sources and the top-level files).
"""

from __future__ import annotations

import sys
import tarfile
import zipfile
from pathlib import Path, PurePosixPath

PACKAGES = ("civitai_app_sdk", "civitai_app_sdk_generated")
SDIST_FILES = {"PKG-INFO", "pyproject.toml", "README.md", "CHANGELOG.md", "LICENSE", ".gitignore"}
SDIST_DIRS = ("src/civitai_app_sdk/", "generated/civitai_app_sdk_generated/")
ENTRY_POINT = "civitai-orch = civitai_app_sdk.cli:run"


def stray(name: str) -> bool:
    """Whether an archive member is junk in any release file (bytecode, tests, spec data)."""
    parts = PurePosixPath(name).parts
    return (
        "__pycache__" in parts
        or "tests" in parts
        or name.endswith((".pyc", ".pyo", ".json"))
        or "specs" in parts
    )


def wheel_problems(names: list[str], entry_points: str) -> list[str]:
    """What is missing from, or does not belong in, the wheel's member ``names``."""
    problems = [f"wheel holds {n}" for n in names if stray(n)]
    info = tuple(n.split("/", 1)[0] for n in names if ".dist-info/" in n)
    homes = tuple(f"{p}/" for p in PACKAGES) + tuple(f"{i}/" for i in info)
    problems += [f"wheel holds {n} outside the packages" for n in names if not n.startswith(homes)]
    required = {
        "LICENSE": any(n.endswith(".dist-info/licenses/LICENSE") for n in names),
        **{f"{p}/py.typed": f"{p}/py.typed" in names for p in PACKAGES},
        f"the entry point `{ENTRY_POINT}`": ENTRY_POINT in entry_points.splitlines(),
    }
    return problems + [f"wheel lacks {what}" for what, ok in required.items() if not ok]


def sdist_problems(names: list[str]) -> list[str]:
    """What is missing from, or does not belong in, the sdist's member ``names``."""
    problems = []
    inside = {n.split("/", 1)[1] for n in names if "/" in n}
    for name in sorted(inside):
        if stray(name):
            problems.append(f"sdist holds {name}")
        elif name not in SDIST_FILES and not name.startswith(SDIST_DIRS):
            problems.append(f"sdist holds {name}, which is not part of the package")
    problems += [f"sdist lacks {f}" for f in ("LICENSE", "CHANGELOG.md") if f not in inside]
    return problems


def main(folder: str) -> int:
    """Exit 1 naming each problem of the archives built into ``folder``."""
    dist = Path(folder)
    wheels, sdists = sorted(dist.glob("*.whl")), sorted(dist.glob("*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        print(f"check-dist: expected one wheel and one sdist in {dist}", file=sys.stderr)
        return 1
    with zipfile.ZipFile(wheels[0]) as wheel:
        in_wheel = wheel.namelist()
        points = [n for n in in_wheel if n.endswith(".dist-info/entry_points.txt")]
        entry_points = wheel.read(points[0]).decode() if points else ""
    with tarfile.open(sdists[0]) as sdist:
        in_sdist = [m.name for m in sdist.getmembers() if m.isfile()]
    problems = wheel_problems(in_wheel, entry_points) + sdist_problems(in_sdist)
    if problems:
        print("check-dist: " + "; ".join(problems), file=sys.stderr)
        return 1
    print(f"check-dist: {wheels[0].name} and {sdists[0].name} hold what a release needs")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
