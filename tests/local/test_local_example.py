"""The typed example in examples/ runs as written against the local server."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest
from local_helpers import TOKEN

from civitai_app_sdk.local import LocalServer

EXAMPLE = Path(__file__).parents[2] / "examples" / "estimate_submit_poll.py"


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("estimate_submit_poll_example", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def example(server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.setenv("CIVITAI_API_URL", server.url)
    monkeypatch.setenv("CIVITAI_API_TOKEN", TOKEN)
    return load_example()


def spent(server: LocalServer) -> int:
    return 5000 - sum(server.state.store.ledger.balance().values())


@pytest.mark.parametrize("fresh_dir", [False, True], ids=["existing-dir", "new-dir"])
def test_example_estimates_submits_polls_and_saves(
    example: ModuleType,
    server: LocalServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    fresh_dir: bool,
) -> None:
    out_dir = tmp_path / "out" if fresh_dir else tmp_path  # a new dir once lost an image
    monkeypatch.setattr("builtins.input", lambda _prompt: "y")
    assert example.main("a lighthouse at dusk", out_dir) == 0
    saved = sorted(out_dir.glob("*.png"))
    assert len(saved) == 2
    assert all(path.read_bytes().startswith(b"\x89PNG") for path in saved)
    out = capsys.readouterr().out
    assert "This costs 8 Buzz" in out
    assert "Finished: succeeded" in out
    assert spent(server) == 8
    (workflow,) = server.state.store.workflows.values()
    assert workflow.template.external_id is not None


def test_example_declined_spends_nothing(
    example: ModuleType, server: LocalServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr("builtins.input", lambda _prompt: "n")
    assert example.main("a lighthouse at dusk", tmp_path) == 1
    assert spent(server) == 0
    assert not server.state.store.workflows
    assert list(tmp_path.iterdir()) == []
