"""Settings: the strict .env parser and flag > environment > .env > config file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from civitai_app_sdk.cli._config import (
    ConfigError,
    config_dir,
    load_settings,
    parse_dotenv,
)
from civitai_app_sdk.orchestrator import DEFAULT_ORCHESTRATOR_BASE_URL


def test_dotenv_forms() -> None:
    text = (
        "# comment\n\n"
        "A=plain value # trailing comment\n"
        "export B='single # kept $X'\n"
        'C="line\\nbreak \\"q\\""\n'
        "D=\n"
        "E=a=b=c\n"
    )
    assert parse_dotenv(text) == {
        "A": "plain value",
        "B": "single # kept $X",
        "C": 'line\nbreak "q"',
        "D": "",
        "E": "a=b=c",
    }


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("NOEQUALS", "line 1: expected KEY=value"),
        ("1BAD=x", "expected KEY=value"),
        ("A='open", "unterminated"),
        ('A="x" junk', "after the closing quote"),
        ('A="bad \\q"', "unknown escape"),
    ],
)
def test_dotenv_rejects(line: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_dotenv(line)


def test_precedence(tmp_path: Path) -> None:
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    (cfg / "config.json").write_text(json.dumps({"api_url": "https://file.test/"}))
    env = {"CIVITAI_CONFIG_DIR": str(cfg)}
    assert load_settings(environ=env, cwd=tmp_path).api_url == "https://file.test"
    (tmp_path / ".env").write_text("CIVITAI_API_URL=https://dotenv.test\nCIVITAI_API_TOKEN=t1\n")
    s = load_settings(environ=env, cwd=tmp_path)
    assert (s.api_url, s.token, s.token_source) == ("https://dotenv.test", "t1", ".env")
    env |= {"CIVITAI_API_URL": "https://env.test", "CIVITAI_API_TOKEN": "t2"}
    s = load_settings(environ=env, cwd=tmp_path)
    assert (s.api_url, s.token, s.token_source) == ("https://env.test", "t2", "environment")
    s = load_settings(token="t3", api_url="https://flag.test", environ=env, cwd=tmp_path)
    assert (s.api_url, s.token, s.token_source) == ("https://flag.test", "t3", "flag")
    assert "t3" not in repr(s)


def test_defaults_and_bad_files(tmp_path: Path) -> None:
    env = {"CIVITAI_CONFIG_DIR": str(tmp_path)}
    s = load_settings(environ=env, cwd=tmp_path)
    assert (s.api_url, s.token, s.token_source) == (DEFAULT_ORCHESTRATOR_BASE_URL, None, "login")
    (tmp_path / "config.json").write_text("[1]")
    with pytest.raises(ConfigError, match="not a JSON object"):
        load_settings(environ=env, cwd=tmp_path)


def test_config_dir_defaults_to_platform_dir() -> None:
    assert config_dir({}).name == "civitai-orch"
    assert config_dir({"CIVITAI_CONFIG_DIR": "/x/y"}) == Path("/x/y")
