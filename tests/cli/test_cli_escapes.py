"""No terminal control sequence from data reaches the terminal.

A hostile (or buggy) server puts escape sequences (clear screen, window title, OSC 8
links), C1 controls and bidirectional overrides into ids, tags, prompts, reasons,
usernames, device codes and cursors; a user's manifest can hold them too. Every command
must show them escaped, and ``--json`` must keep their value while writing them as
``\\uXXXX``.
"""

from __future__ import annotations

import copy
import io
import json
import logging
import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import respx
from hypothesis import given, settings
from hypothesis import strategies as st
from test_cli_commands import API, JOB, WF

from civitai_app_sdk._logging import LOGGER_NAME
from civitai_app_sdk.cli import _output, _progress
from civitai_app_sdk.cli._console import TerminalConsole
from civitai_app_sdk.cli._output import json_text, printable, terminal_safe
from tests.cli.conftest import ME, Run
from tests.cli.pasting import shell_split

CLEAR = "\x1b[2J"
TITLE = "\x1b]0;owned\x07"
LINK = "\x1b]8;;https://evil.test/\x1b\\here\x1b]8;;\x1b\\"
CSI = "\x9b31m"
RTL = "\u202eevil"
HOSTILE = f"x{CLEAR}{TITLE}{LINK}{CSI}{RTL}"
"""Every kind at once: ESC [2J, OSC 0 title ended by BEL, an OSC 8 link, C1 CSI, RLO."""
SHOWN = ("\\x1b[2J", "\\x1b]0;owned", "\\x1b]8;;https://evil.test/\\x1b\\here", "\\x9b31m")
"""What must be visible instead (rich itself drops the BEL)."""

DANGEROUS = {"Cc", "Cf", "Cs", "Zl", "Zp"}


def raw_controls(text: str) -> set[str]:
    """The characters in ``text`` a terminal would act on or hide (line breaks and the
    zero-width joiner and non-joiner of emoji and Persian text aside)."""
    return {c for c in text if c not in "\n\u200c\u200d" and unicodedata.category(c) in DANGEROUS}


def assert_escaped(text: str, *, rtl: bool = True) -> None:
    assert not raw_controls(text), sorted(raw_controls(text))
    for shown in SHOWN:
        assert shown in text
    if rtl:
        assert "\\u202eevil" in text


@pytest.fixture
def api(authed: Run) -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as mock:
        yield mock


def _hostile_workflow() -> dict[str, Any]:
    wf = copy.deepcopy(WF)
    wf.update(id=f"wf-1{HOSTILE}", status=f"processing{HOSTILE}", tags=[f"tag{HOSTILE}"])
    step = wf["steps"][0]
    step.update(name=f"$0{HOSTILE}", status=f"failed{HOSTILE}")
    step["$type"] = f"textToImage{HOSTILE}"
    step["input"].update(prompt=f"a cat{HOSTILE}", negativePrompt=f"dog{HOSTILE}")
    step["jobs"] = [
        {"id": f"job{HOSTILE}", "status": "failed", "cost": 1, "reason": f"why{HOSTILE}"}
    ]
    step["output"]["errors"] = [f"err{HOSTILE}"]
    step["output"]["images"][0]["id"] = f"IMG{HOSTILE}.jpeg"
    step["output"]["images"][1]["blockedReason"] = f"blocked{HOSTILE}"
    return wf


# --- server data in human views ----------------------------------------------------------


def test_the_workflows_table_escapes_every_cell_and_stays_aligned(
    authed: Run, api: respx.MockRouter
) -> None:
    hostile = {**_hostile_workflow(), "status": f"failed{CLEAR}{CSI}"}
    api.get(f"{API}/v2/consumer/workflows").respond(json={"next": HOSTILE, "items": [hostile, WF]})
    for columns in ("230", "300"):  # the prompt cut to the room left, and whole
        result = authed("workflows", env={"COLUMNS": columns})
        assert result.exit_code == 0, result.stderr
        assert_escaped(result.stdout)
        lines = result.stdout.splitlines()
        header = next(line for line in lines if "Created" in line)
        rows = [line for line in lines if "2026-01-21" in line]
        assert len(rows) == 2
        for row in rows:  # measured on the escaped text: the columns line up
            assert row.index("2026-01-21") == header.index("Created")
            assert row.index(" Buzz") == rows[0].index(" Buzz")
        assert not raw_controls(result.stderr)  # the next-page hint quotes the cursor
        hint = result.stderr.split("Next page: ")[1].strip()
        assert shell_split(hint)[-1] == f"--cursor={HOSTILE}"  # pasted, it is the cursor


def test_table_cells_are_text_never_markup(authed: Run, api: respx.MockRouter) -> None:
    marked = "wf[/]1[red]x"
    wf = copy.deepcopy(WF)
    wf.update(id=marked, status="[bold]done")
    wf["steps"][0]["input"]["prompt"] = "a [link=https://evil.test]cat[/link]"
    wf["steps"][0]["output"]["images"][0]["id"] = "IMG[/].jpeg"
    api.get(f"{API}/v2/consumer/workflows").respond(json={"items": [wf]})
    api.get(f"{API}/v2/consumer/workflows/wf-1").respond(json=wf)
    listed = authed("workflows", env={"COLUMNS": "200"})
    assert listed.exit_code == 0, listed.stderr  # `[/]` crashed rich's markup parser
    for text in (marked, "[bold]done", "a [link=https://evil.test]cat[/link]"):
        assert text in listed.stdout
    results = authed("results", "wf-1")
    assert results.exit_code == 0, results.stderr
    assert "IMG[/].jpeg" in results.stdout


def test_emoji_codes_in_a_servers_words_stay_text(authed: Run, api: respx.MockRouter) -> None:
    wf = copy.deepcopy(WF)
    wf.update(id="wf:cat:1", tags=[":fire:"])
    wf["steps"][0]["input"]["prompt"] = "a :smile: cat"
    api.get(f"{API}/v2/consumer/workflows/wf-1").respond(json=wf)
    api.put(url__startswith=f"{API}/v2/consumer/workflows/").respond(204)
    running = {**wf, "id": "wf:cat:1", "status": "processing"}
    api.get(f"{API}/v2/consumer/workflows/wf%3Acat%3A1").respond(json=running)
    shown = authed("workflow", "wf-1")
    assert shown.exit_code == 0, shown.stderr
    for text in ("Workflow wf:cat:1", "Tags:      :fire:", "Prompt: a :smile: cat"):
        assert text in shown.stdout
    assert "Canceled wf:cat:1." in authed("cancel", "wf:cat:1").stdout  # rich made it wf🐱1


def test_a_workflow_and_its_steps_show_the_servers_words_escaped(
    authed: Run, api: respx.MockRouter
) -> None:
    hostile = _hostile_workflow()
    api.get(f"{API}/v2/consumer/workflows/wf-1").respond(json=hostile)
    api.get(f"{API}/v2/consumer/workflows/wf-1/steps/%240").respond(json=hostile["steps"][0])
    shown = authed("workflow", "wf-1")
    assert shown.exit_code == 0, shown.stderr
    step = authed("step", "wf-1", "$0")
    assert step.exit_code == 0, step.stderr
    for out in (shown.stdout, step.stdout):
        assert_escaped(out)
        for word in ("$0", "textToImage", "a cat", "dog", "job", "why", "err", "IMG", "blocked"):
            assert f"{word}x\\x1b[2J" in out
    for word in ("wf-1", "processing", "tag"):
        assert f"{word}x\\x1b[2J" in shown.stdout
    assert not raw_controls(shown.stderr + step.stderr)


def test_results_tags_job_and_upload_escape_the_servers_words(
    authed: Run, api: respx.MockRouter, cli_home: Path
) -> None:
    hostile = _hostile_workflow()
    api.get(f"{API}/v2/consumer/workflows/wf-1").respond(json=hostile)
    job = copy.deepcopy(JOB)
    job["job"]["params"]["prompt"] = f"cat{HOSTILE}"
    job["job"]["lastEvent"]["provider"] = f"prov{HOSTILE}"
    api.get(f"{API}/v1/consumer/jobs/job-1").respond(json=job)
    api.post(f"{API}/v2/consumer/blobs").respond(
        201, json={"type": "image", "id": f"blob{HOSTILE}", "available": True}
    )
    (cli_home / "work" / "a.png").write_bytes(b"\x89PNG")
    for args in (("results", "wf-1"), ("tags", "wf-1"), ("job", "job-1"), ("upload", "a.png")):
        result = authed(*args)
        assert result.exit_code == 0, (args, result.stderr)
        assert_escaped(result.stdout)
        assert not raw_controls(result.stderr)


def test_a_servers_field_errors_are_escaped(authed: Run, api: respx.MockRouter) -> None:
    api.get(f"{API}/v2/consumer/workflows/wf-1").respond(
        400, json={"detail": f"bad{HOSTILE}", "errors": {f"field{HOSTILE}": [f"msg{HOSTILE}"]}}
    )
    result = authed("workflow", "wf-1")
    assert result.exit_code != 0
    assert_escaped(result.stderr)
    assert "field" in result.stderr
    document = json.loads(authed("workflow", "wf-1", "--json").stdout)
    assert document["error"]["fields"] == {f"field{HOSTILE}": [f"msg{HOSTILE}"]}


@respx.mock
def test_device_login_shows_the_servers_code_link_and_username_escaped(run: Run) -> None:
    auth = "https://auth.test"
    respx.post(f"{auth}/api/auth/oauth/device").respond(
        json={
            "device_code": "d" * 64,
            "user_code": f"ABCD{RTL}",  # the SDK refuses control characters here,
            "verification_uri": f"https://auth.test/device{RTL}",  # not bidi overrides
            "expires_in": 900,
            "interval": 0.01,
        }
    )
    respx.post(f"{auth}/api/auth/oauth/device-token").respond(
        json={
            "access_token": "civitai_" + "a" * 36,
            "expires_in": 3600,
            "scope": "114689",
            "token_type": "Bearer",
        }
    )
    respx.get(f"{auth}/api/v1/me").respond(json={**ME, "username": f"maker{HOSTILE}"})
    result = run("login", "--client-id", "cid", "--auth-url", auth)
    assert result.exit_code == 0, result.stderr
    assert not raw_controls(result.stderr)
    assert "https://auth.test/device\\u202eevil and enter the code ABCD\\u202eevil" in result.stderr
    assert_escaped(result.stdout)
    assert "Signed in as makerx\\x1b[2J" in result.stdout


def test_a_servers_wrong_types_show_as_nothing_rather_than_a_traceback(
    authed: Run, api: respx.MockRouter
) -> None:
    broken = copy.deepcopy(WF)  # `workflow` and `job` show the server's JSON unchecked
    broken["tags"] = True
    broken["steps"][0]["jobs"] = 1.5
    broken["steps"][0]["output"]["images"][1]["type"] = []
    broken["steps"][1]["output"] = [{"type": {}, "id": "x"}]
    job = copy.deepcopy(JOB)
    job["result"] = 7
    api.get(f"{API}/v2/consumer/workflows/wf-1").respond(json=broken)
    api.get(f"{API}/v2/consumer/workflows/wf-2").respond(json={**WF, "steps": 5})
    api.get(f"{API}/v1/consumer/jobs/job-1").respond(json=job)
    for args in (("workflow", "wf-1"), ("workflow", "wf-2"), ("job", "job-1")):
        result = authed(*args)  # the runner re-raises what escapes: no traceback
        assert result.exit_code == 0, (args, result.stderr)
    assert "Workflow wf-1" in authed("workflow", "wf-2").stdout


@pytest.mark.parametrize(
    ("items", "shown"),
    [(5, []), ("x", []), ([1, None, "x", [WF]], []), ([1, None, "x", WF], ["wf-1"])],
)
def test_a_broken_list_of_workflows_shows_the_workflows_in_it_not_a_traceback(
    authed: Run, api: respx.MockRouter, items: object, shown: list[str]
) -> None:
    api.get(f"{API}/v2/consumer/workflows").respond(json={"items": items, "next": None})
    api.get(f"{API}/v1/manager/workflows").respond(json=items)  # a bare list, or not
    for args in (("workflows",), ("workflows", "--status", "succeeded"), ("user", "9")):
        result = authed(*args)  # the runner re-raises what escapes: no traceback
        assert result.exit_code == 0, (args, result.stderr)
        assert ("wf-1" in result.stdout) == bool(shown), (args, result.stdout)
        listed = json.loads(authed(*args, "--json").stdout)["items"]
        assert [w["id"] for w in listed] == shown


# --- a user's manifest ---------------------------------------------------------------------


def test_block_validate_escapes_a_manifests_words(run: Run, cli_home: Path) -> None:
    manifest = {
        "blockId": "prompt-lab",
        "version": f"1.0{HOSTILE}",
        "name": "Prompt Lab",
        "contentRating": "pg",
        "scopes": ["models:read:self"],
        "iframe": {"minHeight": 320, "maxHeight": None, "resizable": True, "sandbox": ""},
    }
    path = cli_home / "work" / "block.manifest.json"
    path.write_text(json.dumps(manifest), encoding="utf-8")
    text = run("block", "validate", str(path))
    assert text.exit_code == 1, text.stderr
    assert_escaped(text.stdout)
    assert "\\x07" in text.stdout  # not through rich: even the BEL shows
    as_json = run("block", "validate", str(path), "--json")
    assert not raw_controls(as_json.stdout)
    messages = [p["message"] for p in json.loads(as_json.stdout)["problems"]]
    assert any(HOSTILE in m for m in messages)  # the same value, written escaped
    broken = cli_home / "work" / f"x{CLEAR}{RTL}.json"
    broken.write_text("{", encoding="utf-8")
    unreadable = run("block", "validate", str(broken))
    assert unreadable.exit_code == 2
    assert not raw_controls(unreadable.stderr)
    assert "x\\x1b[2J\\u202eevil.json" in unreadable.stderr


def test_verbose_log_lines_are_escaped_and_one_line_each(run: Run) -> None:
    root = logging.getLogger(LOGGER_NAME)
    before, level = list(root.handlers), root.level
    try:
        assert run("--verbose", "help").exit_code == 0
        (handler,) = [h for h in root.handlers if h not in before]
        assert isinstance(handler, logging.StreamHandler)
        stream = io.StringIO()
        handler.setStream(stream)
        log = logging.getLogger(f"{LOGGER_NAME}.transport")
        log.info("GET /w -> 503 %s", f"reason{HOSTILE}\nforged 1970-01-01 line")
        try:
            raise ValueError(f"boom{HOSTILE}")
        except ValueError:
            log.exception("failed %s", "x")
    finally:
        root.handlers[:] = before
        root.setLevel(level)
    text = stream.getvalue()
    assert_escaped(text)
    assert "reason" in text
    assert "\\nforged" in text
    assert not any(line.startswith("forged") for line in text.splitlines())
    assert "Traceback (most recent call last):\n" in text  # a traceback keeps its lines
    assert "ValueError: boomx\\x1b[2J" in text


def test_clicks_own_errors_show_a_file_name_escaped(run: Run) -> None:
    name = f"no{CLEAR}{RTL}.json"  # click quotes the name it could not open as it is
    for command in ("submit", "estimate", "upload"):
        result = run(command, name)
        assert result.exit_code == 2, result.stderr
        assert not raw_controls(result.stderr)
        assert "no\\x1b[2J\\u202eevil.json" in result.stderr
    as_json = run("submit", name, "--json")
    assert name in json.loads(as_json.stdout)["error"]["message"]  # the value, kept


# --- JSON ---------------------------------------------------------------------------------


def test_json_output_keeps_the_value_and_escapes_what_a_terminal_acts_on(
    authed: Run, api: respx.MockRouter
) -> None:
    hostile = _hostile_workflow()
    api.get(f"{API}/v2/consumer/workflows/wf-1").respond(json=hostile)
    result = authed("workflow", "wf-1", "--json")
    assert result.exit_code == 0, result.stderr
    assert not raw_controls(result.stdout)
    assert "\\u009b31m" in result.stdout
    assert "\\u202eevil" in result.stdout
    assert json.loads(result.stdout)["id"] == hostile["id"]
    assert json.loads(result.stdout)["tags"] == hostile["tags"]


def test_json_of_ordinary_text_is_what_json_dumps_gives() -> None:
    value = {"prompt": "un chat rouge é 猫 👩\u200d💻 a\u00a0b\u3000c", "n": [1, 2.5, None]}
    assert json_text(value) == json.dumps(value, indent=2, ensure_ascii=False)


def test_recent_emoji_private_use_and_persian_joiners_are_ordinary_text() -> None:
    # U+1FAE8 (Unicode 15) is unassigned in older Python releases' data, U+E000 is private
    # use, and Persian is written with the zero-width non-joiner: all shown as they are.
    prompt = "shaking \U0001fae8, heart \U0001fa77, \ue000, \u0645\u06cc\u200c\u0631\u0648\u0645"
    value = {"prompt": prompt}
    assert json_text(value) == json.dumps(value, indent=2, ensure_ascii=False)
    assert printable(prompt) == terminal_safe(prompt) == prompt


# --- progress bars and the console itself ---------------------------------------------------

CONSOLE_CODES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\]8;[^\x1b]*\x1b\\")
"""What the console itself writes: SGR styles, cursor moves, its own OSC 8 links."""


def _terminal(width: int = 60) -> tuple[TerminalConsole, io.StringIO]:
    """A colour terminal whatever the environment says (TERM=dumb, NO_COLOR)."""
    out = io.StringIO()
    console = TerminalConsole(
        file=out,
        width=width,
        force_terminal=True,
        force_interactive=True,
        highlight=False,
        color_system="standard",
        _environ={"TERM": "xterm-256color"},  # rich's own switch for tests
    )
    return console, out


def test_progress_bars_show_descriptions_escaped_and_never_as_markup(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    console, out = _terminal(width=160)
    monkeypatch.setattr(_progress, "stderr", lambda: console)
    monkeypatch.setattr(_progress, "on_terminal", lambda: True)
    with _progress.bar(f"Uploading a[/]b{HOSTILE}.png", 10, transfer=True) as bar:
        bar.advance(5)
        console.print(f"meanwhile {HOSTILE}", markup=False)
    with _progress.bar("waiting") as bar:
        _progress.workflow_updater(bar)({"id": f"wf{HOSTILE}", "status": "processing"})
        bar.advance(1)
    console.print(f"after {HOSTILE}", markup=False)
    written = CONSOLE_CODES.sub("", out.getvalue())
    assert not raw_controls(written.replace("\r", ""))
    assert "Uploading a[/]bx\\x1b[2J" in written
    assert "wfx\\x1b[2J" in written
    flat = written.replace("\n", "")  # long words are wrapped (measured escaped), not cut
    assert f"meanwhile {printable(HOSTILE.replace(chr(7), ''))}" in flat
    assert f"after {printable(HOSTILE.replace(chr(7), ''))}" in flat  # after the bars too
    assert "5/10 bytes ? 0:00:00" in written  # measured escaped: no bar cut at the edge


def test_the_console_escapes_links_and_keeps_its_own_styles() -> None:
    from rich.style import Style
    from rich.text import Text

    console, out = _terminal()
    console.print(Text("click", style=Style(link=f"https://x.test/{HOSTILE}", bold=True)))
    console.print(f"[bold]two[/]\nlines\t{CSI}")
    written = out.getvalue()
    assert "\x1b[1m" in written  # bold is still bold
    assert "\x1b]8;" in written  # and the link is still a link, to an escaped address
    assert not raw_controls(CONSOLE_CODES.sub("", written))
    assert "https://x.test/x\\x1b[2J" in written
    assert "two\nlines" in CONSOLE_CODES.sub("", written)


def test_long_escaped_text_wraps_whole_with_its_styles_on_the_same_words() -> None:
    console, out = _terminal(width=40)
    console.print(f"[red]before[/] {HOSTILE} [bold]after[/] {HOSTILE}")
    written = out.getvalue()
    lines = CONSOLE_CODES.sub("", written).split("\n")
    assert all(len(line) <= 40 for line in lines)  # measured escaped
    whole = printable(HOSTILE.replace("\x07", ""))  # rich drops the BEL itself
    assert "".join(lines) == f"before {whole} after {whole}"  # wrapped, nothing cut
    assert "\x1b[31mbefore\x1b[0m" in written
    assert "\x1b[1mafter\x1b[0m" in written


def test_the_cli_consoles_are_terminal_consoles() -> None:
    assert isinstance(_output.stdout(), TerminalConsole)
    assert isinstance(_output.stderr(), TerminalConsole)


# --- the escaping functions ------------------------------------------------------------------

TRICKY = "\x1b\x9b\x07\r\n\t\x7f\u202e\u2066\u200b\u200d\u00a0\u3000\u2028\ufeff\udc80"
ANY_TEXT = st.lists(  # not st.text: it merges the alphabets and then seldom draws TRICKY
    st.characters(codec=None, exclude_categories=()) | st.sampled_from(TRICKY), max_size=60
).map("".join)


@settings(deadline=None)
@given(ANY_TEXT)
def test_terminal_safe_leaves_nothing_a_terminal_acts_on_and_keeps_lines(text: str) -> None:
    safe = terminal_safe(text)
    assert not raw_controls(safe.replace("\t", ""))
    assert safe.count("\n") == text.count("\n")
    one_line = printable(text)
    assert not raw_controls(one_line)
    assert "\n" not in one_line
    if text.isprintable():
        assert safe == one_line == text


@settings(deadline=None)
@given(st.text(st.characters(exclude_categories=("Cc", "Cf", "Cs", "Zl", "Zp"))))
def test_text_a_terminal_shows_as_it_is_is_left_alone(text: str) -> None:
    assert terminal_safe(text) == printable(text) == text


@settings(deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | ANY_TEXT,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ANY_TEXT, inner, max_size=4),
        max_leaves=12,
    )
)
def test_json_text_is_the_same_value_with_nothing_a_terminal_acts_on(value: Any) -> None:
    text = json_text(value)
    # as JSON itself reads it back: a high and a low surrogate, written as two escapes,
    # come back as the one character they make
    assert json.loads(text) == json.loads(json.dumps(value))
    assert not raw_controls(text)
    plain = json.dumps(value, indent=2, ensure_ascii=False)
    if plain.replace("\n", "").isprintable():
        assert text == plain


def test_escapes_are_written_as_python_and_json_would() -> None:
    assert printable("a\x1b[2J\u202e\x9b\udc80\n") == "a\\x1b[2J\\u202e\\x9b\\udc80\\n"
    assert terminal_safe("a\x1b\nb\tc\U000e0041") == "a\\x1b\nb\tc\\U000e0041"
    assert json_text("\x9b\u202e\U000e0041\x7f") == '"\\u009b\\u202e\\udb40\\udc41\\u007f"'
