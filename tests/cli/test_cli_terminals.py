"""`--help` snapshots for every command, and output that holds on any terminal.

Snapshots live in ``tests/cli/help/``; after an intended change, rewrite them with
``CIVITAI_UPDATE_SNAPSHOTS=1 pytest tests/cli/test_cli_terminals.py``. Help text is
the same at 80 and 200 columns, with ``TERM=dumb`` and with ``NO_COLOR``.
"""

from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
import respx
from click.testing import CliRunner
from test_cli_commands import API, WF

from civitai_app_sdk.cli import COMMANDS, main
from tests.cli.conftest import Run

SNAPSHOTS = Path(__file__).with_name("help")
TERMINALS: dict[str, dict[str, str]] = {
    "80-columns": {"COLUMNS": "80", "TERM": "xterm-256color"},
    "200-columns": {"COLUMNS": "200", "TERM": "xterm-256color"},
    "term-dumb": {"TERM": "dumb", "COLUMNS": "80"},
    "no-color": {"NO_COLOR": "1", "COLUMNS": "120"},
}
ANSI = re.compile(r"\x1b\[")


def _commands() -> list[tuple[str, ...]]:
    """Every command path: the root, each command, each subcommand of a group."""
    paths: list[tuple[str, ...]] = [(), ("help",)]
    ctx = click.Context(main)
    for name in sorted(COMMANDS):
        paths.append((name,))
        command = main.get_command(ctx, name)
        if isinstance(command, click.Group):
            paths += [(name, sub) for sub in sorted(command.commands)]
    return paths


@pytest.fixture(params=sorted(TERMINALS))
def terminal(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    for name in ("NO_COLOR", "FORCE_COLOR", "COLUMNS", "LINES", "TERM"):
        monkeypatch.delenv(name, raising=False)
    for name, value in TERMINALS[request.param].items():
        monkeypatch.setenv(name, value)
    return str(request.param)


@pytest.mark.parametrize("path", _commands(), ids=lambda p: " ".join(p) or "root")
def test_help_matches_its_snapshot(path: tuple[str, ...], terminal: str) -> None:
    result = CliRunner().invoke(
        main, [*path, "--help"], prog_name="civitai-orch", catch_exceptions=False
    )
    assert result.exit_code == 0
    assert not ANSI.search(result.stdout)
    snapshot = SNAPSHOTS / (("-".join(path) or "root") + ".txt")
    if os.environ.get("CIVITAI_UPDATE_SNAPSHOTS") and terminal == "80-columns":
        snapshot.parent.mkdir(exist_ok=True)
        snapshot.write_text(result.stdout, encoding="utf-8")
    assert result.stdout == snapshot.read_text(encoding="utf-8")


def test_every_snapshot_belongs_to_a_command() -> None:
    names = {("-".join(p) or "root") + ".txt" for p in _commands()}
    assert {p.name for p in SNAPSHOTS.iterdir()} == names


# --- the same promises on every terminal -------------------------------------------------

LONG_ID = "8484131-20260121222126332-extra"


@pytest.fixture
def api(authed: Run, terminal: str) -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as mock:
        yield mock


def _long(**changes: Any) -> dict[str, Any]:
    wf = copy.deepcopy(WF) | {"id": LONG_ID} | changes
    wf["steps"][0]["input"]["prompt"] = "a lighthouse at dusk, oil painting, " * 6
    return wf


def test_tables_never_cut_an_id_or_a_saved_path(
    authed: Run, api: respx.MockRouter, cli_home: Path, terminal: str
) -> None:
    api.get(f"{API}/v2/consumer/workflows").respond(json={"items": [_long()], "next": None})
    listed = authed("workflows")
    assert listed.exit_code == 0, listed.stderr
    assert LONG_ID in listed.stdout
    width = int(os.environ["COLUMNS"])
    assert max(len(line) for line in listed.stdout.splitlines()) <= width
    assert ("a lighthouse at dusk" in listed.stdout) is (width >= 100)  # the prompt gives way
    api.get(f"{API}/v2/consumer/workflows/{LONG_ID}").respond(json=_long())
    api.get("https://cdn.test/IMGA.jpeg").respond(
        content=b"i", headers={"content-type": "image/png"}
    )
    api.get("https://cdn.test/VIDB.mp4").respond(
        content=b"v", headers={"content-type": "video/mp4"}
    )
    deep = cli_home / ("a-rather-long-directory-name-" * 3) / "downloads"
    results = authed("results", LONG_ID, "--download", f"--dir={deep}")
    assert results.exit_code == 0, results.stderr
    for path in deep.iterdir():
        assert f"Saved {path}\n" in results.stdout
    for text in (listed.stdout, results.stdout, listed.stderr, results.stderr):
        assert not ANSI.search(text)


def test_json_and_errors_are_the_same_on_every_terminal(
    authed: Run, api: respx.MockRouter, terminal: str
) -> None:
    api.get(f"{API}/v2/consumer/workflows/{LONG_ID}").respond(json=_long())
    api.get(f"{API}/v2/consumer/workflows/missing").respond(404, json={"title": "Not Found"})
    shown = authed("workflow", LONG_ID, "--json")
    assert json.loads(shown.stdout)["id"] == LONG_ID
    missing = authed("workflow", "missing", "--json")
    assert missing.exit_code == 6
    assert json.loads(missing.stdout)["error"]["exitCode"] == 6
    assert missing.stderr.count("\n") == 1
