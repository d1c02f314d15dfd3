"""`make demo`: the offline demo runs end to end against the local servers."""

from __future__ import annotations

from pathlib import Path

import pytest

from civitai_app_sdk import demo


def test_offline_demo_logs_in_estimates_submits_and_downloads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CIVITAI_API_TOKEN", raising=False)
    monkeypatch.delenv("CIVITAI_API_URL", raising=False)
    assert demo.main([]) == 0
    files = sorted((tmp_path / demo.OUTPUT_DIR).rglob("*.png"))
    assert len(files) == 2
    assert all(path.read_bytes().startswith(b"\x89PNG") for path in files)
    out = capsys.readouterr().out
    for step in ("Logged in with PKCE", "Buzz:", "Estimated cost: 8 Buzz", "Submitted", "Summary"):
        assert step in out
    assert "charged 8" in out


def test_live_demo_needs_a_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CIVITAI_API_TOKEN", raising=False)
    assert demo.main(["--live"]) == 2


def test_a_local_server_that_misbehaves_ends_the_demo_with_a_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A redirect with the wrong state raised a bare RuntimeError (a traceback)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CIVITAI_API_TOKEN", raising=False)
    monkeypatch.setattr(demo, "parse_qs", lambda _query: {"state": ["forged"], "code": ["c"]})
    assert demo.main([]) == 1
    assert "the authorize redirect carried the wrong state" in capsys.readouterr().out
