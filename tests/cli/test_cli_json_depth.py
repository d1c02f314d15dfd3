"""Every JSON document the CLI parses goes through one parser: one nested past Python's
parser depth is refused as text that is not JSON (a ``ValueError``), never a
``RecursionError`` traceback, and the files the CLI keeps name themselves in the error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from civitai_app_sdk.cli._config import ConfigError, read_config_file
from civitai_app_sdk.cli._credentials import CredentialsFile
from civitai_app_sdk.cli._exit import CliError
from civitai_app_sdk.cli._json import NestedTooDeeplyError, parse_json
from civitai_app_sdk.cli._json_input import read_json

DEEP = 100_000


@pytest.mark.parametrize(
    "text", ["[" * DEEP + "]" * DEEP, '{"a":' * DEEP + "1" + "}" * DEEP], ids=["array", "object"]
)
def test_too_deep_is_a_value_error_with_one_message(text: str) -> None:
    with pytest.raises(NestedTooDeeplyError, match="nested too deeply") as caught:
        parse_json(text)
    assert isinstance(caught.value, ValueError)
    with pytest.raises(NestedTooDeeplyError):
        parse_json(text.encode())


@given(st.recursive(st.none() | st.integers() | st.text(), st.lists, max_leaves=20))
def test_readable_documents_parse_as_json_loads_does(value: object) -> None:
    assert parse_json(json.dumps(value)) == value


def test_a_deep_config_file_is_a_config_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text("[" * DEEP + "]" * DEEP, encoding="utf-8")
    with pytest.raises(ConfigError, match="nested too deeply") as caught:
        read_config_file(path)
    assert str(path) in str(caught.value)


def test_a_deep_credentials_file_is_a_config_error_naming_it(tmp_path: Path) -> None:
    store = CredentialsFile(tmp_path)
    store.path.write_text("[" * DEEP + "]" * DEEP, encoding="utf-8")
    with pytest.raises(ConfigError, match="nested too deeply") as caught:
        store.read()
    assert "civitai-orch login" in str(caught.value)


def test_an_input_file_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    # Windows Notepad writes one; Python's json refuses it ("Unexpected UTF-8 BOM").

    path = tmp_path / "body.json"
    path.write_text('\ufeff{"steps": []}', encoding="utf-8")
    with path.open(encoding="utf-8") as handle:
        assert read_json(handle) == {"steps": []}
    path.write_text('\ufeff\ufeff{"steps": []}', encoding="utf-8")  # one mark, not any text
    with path.open(encoding="utf-8") as handle, pytest.raises(CliError, match="not valid JSON"):
        read_json(handle)
