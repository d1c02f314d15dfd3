"""A stdout that cannot encode every character (``PYTHONIOENCODING=ascii``, a latin-1
terminal, a cron job's C locale on an old system) still gets the command's output.

Before, the first character outside its encoding (a prompt in Japanese, an ``é`` in a
tag, the ``…`` of a shortened cell) ended the command with a ``UnicodeEncodeError``
traceback and exit code 1. Now human output writes such characters as ``\\uXXXX``
escapes, and ``--json`` writes them as JSON escapes: the same JSON value.
"""

from __future__ import annotations

import copy
import io
import json
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import respx
from click.testing import CliRunner, Result
from test_cli_commands import API, WF

from civitai_app_sdk.cli import main
from civitai_app_sdk.cli._output import fit_stdout
from tests.cli.conftest import Run

PROMPT = "un chat rouge é 猫 👩\u200d💻, a very long prompt " + "x" * 80


@pytest.fixture
def api(authed: Run) -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as mock:
        yield mock


def _workflow() -> dict[str, Any]:
    wf = copy.deepcopy(WF)
    wf["tags"] = ["café"]
    wf["steps"][0]["input"]["prompt"] = PROMPT
    return wf


def _ascii(*args: str) -> Result:
    """Run the CLI with stdout encoding ASCII strictly (stderr escapes, as Python's does)."""
    return CliRunner(charset="ascii").invoke(main, list(args), catch_exceptions=False)


@pytest.mark.parametrize("args", [("workflows",), ("workflow", "wf-1")])
def test_human_output_on_an_ascii_stdout_escapes_what_it_cannot_encode(
    api: respx.MockRouter, args: tuple[str, ...]
) -> None:
    api.get(f"{API}/v2/consumer/workflows").respond(json={"next": "", "items": [_workflow()]})
    api.get(f"{API}/v2/consumer/workflows/wf-1").respond(json=_workflow())
    result = _ascii(*args)
    assert result.exit_code == 0, result.stderr
    assert "wf-1" in result.stdout
    assert "\\u732b" in result.stdout  # 猫, escaped rather than a crash
    result.stdout_bytes.decode("ascii")


def test_json_on_an_ascii_stdout_is_the_same_document_in_ascii(api: respx.MockRouter) -> None:
    api.get(f"{API}/v2/consumer/workflows/wf-1").respond(json=_workflow())
    result = _ascii("workflow", "wf-1", "--json")
    assert result.exit_code == 0, result.stderr
    text = result.stdout_bytes.decode("ascii")
    assert json.loads(text) == _workflow()


@pytest.mark.parametrize("errors", ["strict", "surrogateescape"])
def test_the_c_locales_stdout_is_fitted_too(monkeypatch: pytest.MonkeyPatch, errors: str) -> None:
    """Under the C locale (no UTF-8 mode, no locale coercion) Python's stdout is ASCII
    with ``surrogateescape``, which fails on ``…`` as ``strict`` does."""
    stream = io.TextIOWrapper(io.BytesIO(), encoding="ascii", errors=errors)
    monkeypatch.setattr(sys, "stdout", stream)
    fit_stdout()
    stream.write("猫…")
    stream.flush()
    assert stream.buffer.getvalue() == b"\\u732b\\u2026"  # type: ignore[attr-defined]


def test_a_utf8_stdout_is_left_as_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict")
    monkeypatch.setattr(sys, "stdout", stream)
    fit_stdout()
    assert stream.errors == "strict"
