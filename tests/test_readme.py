"""The README's quick start runs as written, against the local orchestrator."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from civitai_app_sdk.local import LocalServer

README = Path(__file__).resolve().parent.parent / "README.md"


def quick_start() -> str:
    """The first Python block of the README."""
    match = re.search(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)
    assert match is not None, "README has no python block"
    return match.group(1)


def test_quick_start_estimates_submits_and_prints_urls(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with LocalServer() as server:
        monkeypatch.setenv("CIVITAI_API_URL", server.url)
        monkeypatch.setenv("CIVITAI_API_TOKEN", "readme-token")
        monkeypatch.setattr("builtins.input", lambda prompt="": "y")
        exec(compile(quick_start(), str(README), "exec"), {"__name__": "readme"})
    out = capsys.readouterr().out
    assert re.search(r"^cost: \d+ Buzz$", out, re.MULTILINE)
    assert re.search(r"^https?://\S+/v2/consumer/blobs/\S+", out, re.MULTILINE)


PUBLIC_MODULES = (
    "civitai_app_sdk",
    "civitai_app_sdk.errors",
    "civitai_app_sdk.orchestrator",
    "civitai_app_sdk.oauth",
    "civitai_app_sdk.web",
)


def errors_table() -> list[str]:
    """The rows of the README's "Errors" table (the header and rule left out)."""
    section = README.read_text(encoding="utf-8").split("## Errors", 1)[1].split("\n## ", 1)[0]
    return [line for line in section.splitlines() if re.match(r"\| \W*`", line)]


def public_error(name: str) -> type[BaseException]:
    """The class ``name`` as a user imports it from one of the public modules."""
    import importlib

    for module in PUBLIC_MODULES:
        found = getattr(importlib.import_module(module), name, None)
        if isinstance(found, type) and issubclass(found, BaseException):
            return found
    raise AssertionError(f"the README names {name}, which no public module exports")


def test_every_error_the_readme_names_is_public_and_has_the_stated_bases() -> None:
    import builtins

    from civitai_app_sdk import CivitaiError

    rows = errors_table()
    assert len(rows) >= 10
    for row in rows:
        first = row.split("|")[1]
        names = re.findall(r"`([A-Z]\w*Error)`", first)
        for name in (n for n in names if not hasattr(builtins, n)):
            assert issubclass(public_error(name), CivitaiError), name
        # "`ConfigurationError` (a `ValueError`)": the first class also is that builtin.
        stated = re.match(r" \W*`(\w+)` \(an? `(\w+)`\)", first)
        if stated:
            assert issubclass(public_error(stated[1]), getattr(builtins, stated[2])), first


def test_readme_links_work_on_pypi() -> None:
    """PyPI shows the README without the repository: a relative link there is a 404."""
    import tomllib

    text = README.read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)\s]+)\)", text)
    assert links, "the README links nothing"
    relative = [link for link in links if not link.startswith(("https://", "#"))]
    assert relative == [], f"relative links break on PyPI: {relative}"
    pyproject = tomllib.loads((README.parent / "pyproject.toml").read_text(encoding="utf-8"))
    repository = pyproject["project"]["urls"]["Repository"]
    for link in links:
        if link.startswith("https://github.com/"):
            assert link.startswith(f"{repository}/blob/main/"), link
            assert (README.parent / link.removeprefix(f"{repository}/blob/main/")).is_file()


def test_the_orchestrator_module_re_exports_every_orchestrator_error() -> None:
    """Its docstring promises the errors there, as `@civitai/app-sdk/orchestrator` has them."""
    from civitai_app_sdk import errors, orchestrator

    for name in errors.__all__:
        found = getattr(errors, name)
        if isinstance(found, type) and issubclass(found, errors.OrchestratorError):
            assert getattr(orchestrator, name, None) is found, name
            assert name in orchestrator.__all__, name


def test_make_demo_live_without_an_answer_says_so_without_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`make demo LIVE=1` on a machine that cannot reach Civitai: a message and exit 1."""
    from civitai_app_sdk import demo

    monkeypatch.setenv("CIVITAI_API_TOKEN", "demo-token")
    monkeypatch.setattr(demo, "DEFAULT_SITE_URL", "http://127.0.0.1:9")  # nothing listens
    assert demo.main(["--live"]) == 1
    assert "Check the network" in capsys.readouterr().out
