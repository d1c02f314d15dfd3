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
