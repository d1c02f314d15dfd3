"""Fixtures for the CLI tests: an isolated config dir and working directory, and a runner."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from civitai_app_sdk.cli import main

API = "https://orch.test"
ME = {"id": 7, "username": "maker", "tokenScope": 114689, "subject": {"type": "apiKey", "id": 3}}
"""What ``/api/v1/me`` answers for a good key in these tests."""
SITE = "https://civitai.com"
"""Where ``/api/v1/me`` is asked for any API that is not on loopback."""

Run = Callable[..., Result]


@pytest.fixture
def cli_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temp config dir (CIVITAI_CONFIG_DIR) and working dir; no real settings leak in."""
    for name in (
        "CIVITAI_API_TOKEN",
        "CIVITAI_API_URL",
        "CIVITAI_CLIENT_ID",
        "CIVITAI_AUTH_URL",
        "CIVITAI_MAX_RETRIES",
        "NO_COLOR",
        "FORCE_COLOR",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CIVITAI_KEYRING", "0")  # never the developer's real keyring
    config = tmp_path / "config"
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.setenv("CIVITAI_CONFIG_DIR", str(config))
    monkeypatch.chdir(work)
    return tmp_path


@pytest.fixture(autouse=True)
def fresh_consoles() -> Iterator[None]:
    """Forget the cached rich consoles around each test, so its environment (COLUMNS,
    TERM, NO_COLOR) is the one they see."""
    from civitai_app_sdk.cli import _output

    _output.stderr.cache_clear()
    _output.stdout.cache_clear()
    yield
    _output.stderr.cache_clear()
    _output.stdout.cache_clear()


@pytest.fixture
def run(cli_home: Path) -> Run:
    """Invoke `civitai-orch` in-process; stdout and stderr are kept apart."""

    def invoke(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
        return CliRunner().invoke(main, list(args), input=input, env=env, catch_exceptions=False)

    return invoke


@pytest.fixture
def authed(run: Run, monkeypatch: pytest.MonkeyPatch) -> Run:
    """``run`` with a token and the test API URL in the environment."""
    monkeypatch.setenv("CIVITAI_API_TOKEN", "tok-123")
    monkeypatch.setenv("CIVITAI_API_URL", API)
    return run
