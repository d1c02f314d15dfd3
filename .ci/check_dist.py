"""Check what `make dist` built: the wheel and sdist hold LICENSE, the wheel py.typed."""

from __future__ import annotations

import sys
import tarfile
import zipfile
from pathlib import Path


def main(folder: str) -> int:
    """Exit 1 naming each required file that is missing from the built archives."""
    dist = Path(folder)
    wheels, sdists = sorted(dist.glob("*.whl")), sorted(dist.glob("*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        print(f"check-dist: expected one wheel and one sdist in {dist}", file=sys.stderr)
        return 1
    with zipfile.ZipFile(wheels[0]) as wheel:
        in_wheel = wheel.namelist()
    with tarfile.open(sdists[0]) as sdist:
        in_sdist = sdist.getnames()
    required = {
        "wheel LICENSE": any(n.endswith(".dist-info/licenses/LICENSE") for n in in_wheel),
        "wheel civitai_app_sdk/py.typed": "civitai_app_sdk/py.typed" in in_wheel,
        "wheel civitai_app_sdk_generated/py.typed": (
            "civitai_app_sdk_generated/py.typed" in in_wheel
        ),
        "sdist LICENSE": any(n.endswith("/LICENSE") for n in in_sdist),
        "sdist CHANGELOG.md": any(n.endswith("/CHANGELOG.md") for n in in_sdist),
    }
    missing = [name for name, present in required.items() if not present]
    if missing:
        print(f"check-dist: missing {', '.join(missing)}", file=sys.stderr)
        return 1
    print(f"check-dist: {wheels[0].name} and {sdists[0].name} hold LICENSE and py.typed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
