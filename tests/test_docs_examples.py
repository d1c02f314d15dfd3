"""Every Python code block in README.md and docs/ runs, and passes `mypy --strict`.

Blocks run as a reader would run them after pasting `serve-local`'s export lines: against
the local orchestrator and OAuth server, from an empty working folder, answering "y"
when asked.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
FENCE = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def python_blocks() -> list[tuple[str, str]]:
    """(page:line, code) for every ```python block of the README and the docs."""
    found = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for match in FENCE.finditer(text):
            line = text.count("\n", 0, match.start()) + 2
            found.append((f"{page.relative_to(ROOT)}:{line}", match.group(1)))
    return found


BLOCKS = python_blocks()


def test_the_readme_and_the_guides_have_python_examples() -> None:
    pages = {name.split(":")[0] for name, _ in BLOCKS}
    assert "README.md" in pages
    assert sum(page.startswith("docs/guides/") for page in pages) >= 6


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    pytest.importorskip("uvicorn")
    from civitai_app_sdk.local import LocalConfig, LocalServer, Timings

    config = LocalConfig(timings=Timings(0.01, 0.01, 0.01, 0.1))
    with LocalServer(config) as server:
        yield server.url


@pytest.mark.parametrize(("name", "code"), BLOCKS, ids=[name for name, _ in BLOCKS])
def test_block_runs(
    name: str, code: str, server_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in ("CIVITAI_API_URL", "CIVITAI_AUTH_URL"):
        monkeypatch.setenv(variable, server_url)
    monkeypatch.setenv("CIVITAI_API_TOKEN", "local-dev-token")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("builtins.input", lambda prompt="": "y")
    exec(compile(code, name, "exec"), {"__name__": "docs_example"})


def test_the_app_blocks_example_shows_a_valid_manifest_and_a_refused_version(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Its manifest is one to start from (valid), and `define_block` refuses the version,
    not the call: it takes `{"manifest": ...}`, as 0.14's `defineBlock` does."""
    [(name, code)] = [block for block in BLOCKS if block[0].startswith("docs/guides/app-blocks")]
    exec(compile(code, name, "exec"), {"__name__": "docs_example"})
    printed = capsys.readouterr().out.splitlines()
    assert printed == [
        "valid: True | schema checked: True",
        'manifest.version "1.0" must be semver (e.g. 0.1.0)',
    ]


@pytest.mark.slow
def test_blocks_pass_mypy_strict(tmp_path: Path) -> None:
    files = []
    for index, (name, code) in enumerate(BLOCKS):
        path = tmp_path / f"example_{index}.py"
        path.write_text(f"# {name}\n{code}", encoding="utf-8")
        files.append(path)
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--config-file", str(ROOT / "pyproject.toml"),
         "--cache-dir", str(ROOT / ".mypy_cache"), *map(str, files)],
        capture_output=True, text=True, cwd=ROOT, check=False,
    )  # fmt: skip

    def where(match: re.Match[str]) -> str:
        page, start = BLOCKS[int(match.group(1))][0].rsplit(":", 1)
        return f"{page}:{int(start) + int(match.group(2)) - 2}"

    report = re.sub(r"\S*example_(\d+)\.py:(\d+)", where, done.stdout)
    assert done.returncode == 0, report


SCRIPTS = sorted((ROOT / "examples").glob("*.py"))
CARELESS = {
    "no arguments": [],
    "no token": ["a missing.png", "a lighthouse"],
}


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.stem for s in SCRIPTS])
@pytest.mark.parametrize("args", list(CARELESS.values()), ids=list(CARELESS))
def test_example_scripts_answer_a_careless_run_without_a_traceback(
    script: Path, args: list[str], tmp_path: Path
) -> None:
    """Run as the docstrings say, but without the token or the arguments: a message, no trace."""
    if script.stem == "web_login_fastapi":
        pytest.skip("an ASGI app for uvicorn, not a script")
    env = {"PATH": "", "CIVITAI_API_URL": "http://127.0.0.1:9", "CIVITAI_CONFIG_DIR": "cfg"}
    done = subprocess.run(
        [sys.executable, str(script), *args], cwd=tmp_path, env=env, input="n\n",
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert "Traceback" not in done.stderr, done.stderr
    if done.returncode == 0:  # a script that needs neither (it prints a built body)
        assert done.stdout
    else:
        assert done.stderr.strip()


def test_make_webapp_on_a_taken_port_says_so_without_a_traceback() -> None:
    pytest.importorskip("uvicorn")
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "examples.webapp", "--port", str(port)],
            cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    assert done.returncode == 1
    assert "Traceback" not in done.stderr, done.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr


def test_the_api_reference_documents_the_operation_methods() -> None:
    """`estimate = operation(calls.estimate)` reads as a bare value; the docs extension
    turns each such attribute into a method with the runtime signature and docstring."""
    griffe = pytest.importorskip("griffe")
    extension = griffe.load_extensions(f"{ROOT / 'docs' / 'griffe_operations.py'}:OperationMethods")
    package = griffe.load(
        "civitai_app_sdk.orchestrator.client",
        search_paths=[str(ROOT / "src"), str(ROOT / "generated")],
        extensions=extension,
    )
    base = package["_Orchestrator"]
    for name in ("estimate", "submit", "get", "list", "cancel"):
        method = base.members[name]
        assert method.is_function, name
        assert method.docstring is not None
        assert method.docstring.value, name
    assert "external_id" in base.members["submit"].parameters
    assert str(base.members["get"].returns) == "Workflow"
