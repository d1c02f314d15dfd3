"""A clone with no ../shared beside it: the README's two commands pass there.

Slow (a fresh venv, the demo, then lint, types, tests, docs and the wheel smoke test): a
few minutes. Inside that clone this test skips itself, and the inner `make check` runs
the fast tests only (`-m "not slow"`); the slow ones are the outer run's job.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
INSIDE = "CIVITAI_SDK_FRESH_CLONE"


def readme_commands() -> list[str]:
    """The commands of the README's "Two commands" section."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Two commands", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert block is not None, "the Two commands section has no sh block"
    return [line.split("#", 1)[0].strip() for line in block.group(1).splitlines() if line]


def test_the_readme_names_make_demo_and_make_check() -> None:
    assert readme_commands() == ["make demo", "make check"]


@pytest.mark.slow
@pytest.mark.skipif(bool(os.environ.get(INSIDE)), reason="already inside the fresh clone")
def test_readme_two_commands_pass_in_a_clone_without_shared(tmp_path: Path) -> None:
    git, uv = shutil.which("git"), shutil.which("uv") or str(ROOT / ".tools" / "bin" / "uv")
    if git is None or not Path(uv).exists():
        pytest.skip("needs git and uv")
    clone = tmp_path / "elsewhere" / "civitai-app-sdk"
    subprocess.run([git, "clone", "--quiet", str(ROOT), str(clone)], check=True)
    assert not (clone.parent / "shared").exists()
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "CIVITAI_SHARED_SPECS")}
    env |= {
        INSIDE: "1",
        "PATH": f"{Path(uv).parent}{os.pathsep}{env.get('PATH', '')}",
        "PYTEST_ARGS": '-m "not slow" -n 2 -p no:randomly',
        "NO_COLOR": "1",
    }
    for command in readme_commands():
        done = subprocess.run(
            command.split(), cwd=clone, env=env, capture_output=True, text=True,
            timeout=1800, check=False,
        )  # fmt: skip
        tail = (done.stdout + done.stderr)[-4000:]
        assert done.returncode == 0, f"`{command}` failed in the clone:\n{tail}"
    assert list((clone / "demo-output").rglob("*.png")), "the demo saved no image"
