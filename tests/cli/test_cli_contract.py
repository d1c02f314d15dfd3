"""Cross-command promises: --json output, progress bars, exit codes, Node CLI names.

Each command is run with ``--json`` and its stdout must parse as exactly one JSON
document (``json.loads`` refuses trailing text). The table below must name every
registered command, so a new command cannot skip the check.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from test_cli_commands import API, BODY, JOB, WF

from civitai_app_sdk.cli import ALIASES, COMMANDS, EXIT_CODES_HELP, _progress
from civitai_app_sdk.cli._exit import ExitCode
from tests.cli.conftest import ME, SITE

Mocker = Callable[[respx.MockRouter], None]


def _workflows(mock: respx.MockRouter) -> None:
    mock.get(f"{API}/v2/consumer/workflows").respond(json={"next": "N2", "items": [WF]})


def _workflow(mock: respx.MockRouter) -> None:
    mock.get(f"{API}/v2/consumer/workflows/wf-1").respond(json=WF)
    mock.get("https://cdn.test/IMGA.jpeg").respond(
        content=b"img", headers={"content-type": "image/jpeg"}
    )
    mock.get("https://cdn.test/VIDB.mp4").respond(
        content=b"vid", headers={"content-type": "video/mp4"}
    )


def _post(mock: respx.MockRouter) -> None:
    mock.post(f"{API}/v2/consumer/workflows").respond(json=WF)
    mock.get(f"{API}/v2/consumer/workflows/wf-1").respond(json=WF)


def _tags(mock: respx.MockRouter) -> None:
    mock.post(f"{API}/v2/consumer/workflows/wf-1/tags").respond(204)
    mock.get(f"{API}/v2/consumer/workflows/wf-1").respond(json=WF)


def _nothing(mock: respx.MockRouter) -> None:
    return None


def _cancel(mock: respx.MockRouter) -> None:
    mock.get(f"{API}/v2/consumer/workflows/wf-1").respond(json={**WF, "status": "processing"})
    mock.put(f"{API}/v2/consumer/workflows/wf-1").respond(204)


# command -> (arguments after the command name, routes it needs)
CASES: dict[str, tuple[list[str], Mocker]] = {
    "test": ([], _workflows),
    "user": (["12345"], lambda m: m.get(f"{API}/v1/manager/workflows").respond(json=[WF])),
    "workflows": (["--excludeFailed", "--take=5"], _workflows),
    "workflow": (["wf-1", "--wait"], _workflow),
    "job": (["job-1"], lambda m: m.get(f"{API}/v1/consumer/jobs/job-1").respond(json=JOB)),
    "step": (
        ["wf-1", "$0"],
        lambda m: m.get(f"{API}/v2/consumer/workflows/wf-1/steps/%240").respond(
            json=WF["steps"][0]
        ),
    ),
    "results": (["wf-1", "--download", "--dir=out"], _workflow),
    "blob": (
        ["IMGA.jpeg", "--download", "--dir=out"],
        lambda m: m.get(f"{API}/v2/consumer/blobs/IMGA.jpeg").respond(
            content=b"img", headers={"content-type": "image/jpeg"}
        ),
    ),
    "estimate": (["wf.json"], _post),
    "submit": (["wf.json", "--yes", "--wait"], _post),
    "cancel": (["wf-1"], _cancel),
    "scopes": (["AIServices", "UserRead"], _nothing),
    "login": (["--with-token"], lambda m: m.get(f"{SITE}/api/v1/me").respond(json=ME)),
    "logout": ([], _nothing),
    "block": (["validate", "manifest.json"], _nothing),
    "upload": (
        ["wf.json"],
        lambda m: m.post(f"{API}/v2/consumer/blobs").respond(
            201, json={"type": "image", "id": "X.png", "available": True}
        ),
    ),
    "delete": (
        ["wf-1", "--yes"],
        lambda m: m.delete(f"{API}/v2/consumer/workflows/wf-1").respond(204),
    ),
    "tags": (["wf-1", "--add", "x"], lambda m: _tags(m)),
    "recipe": (
        ["echo", "input.json", "--estimate"],
        lambda m: m.post(f"{API}/v2/consumer/recipes/echo").respond(json={"message": "hi"}),
    ),
}
NOT_RUN = {"serve-local"}  # starts a server; covered by tests/local


@pytest.fixture
def api(authed) -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as mock:
        yield mock


def test_the_table_names_every_command() -> None:
    assert set(CASES) | NOT_RUN == set(COMMANDS)


@pytest.mark.parametrize("name", sorted(CASES))
def test_json_prints_exactly_one_document(
    authed, api: respx.MockRouter, cli_home: Path, name: str
) -> None:
    work = cli_home / "work"
    (work / "wf.json").write_text(json.dumps(BODY))
    (work / "manifest.json").write_text("{}")
    (work / "input.json").write_text('{"message": "hi"}')
    args, mock = CASES[name]
    mock(api)
    result = authed(name, *args, "--json", input="pasted-key\n")
    assert result.exit_code in (0, 1), result.stderr  # block validate: 1 = invalid manifest
    document = json.loads(result.stdout)  # raises on any extra text
    assert isinstance(document, dict)
    assert result.stdout.count("\n") == result.stdout.rstrip("\n").count("\n") + 1
    assert "Traceback" not in result.stderr
    assert "\x1b[" not in result.stdout + result.stderr  # no colours or bars off a terminal


API_ERRORS = ["test", "user", "workflows", "workflow", "job", "step", "results", "blob", "cancel"]


@pytest.mark.parametrize("name", API_ERRORS)
def test_json_failure_prints_one_error_document(
    authed, api: respx.MockRouter, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.setenv("CIVITAI_MAX_RETRIES", "0")
    api.route(host="orch.test").respond(
        404,
        json={"title": "Not Found", "errors": {"id": ["unknown."]}},
        headers={"x-request-id": "rq-9"},
    )
    args = [a for a in CASES[name][0] if a != "--wait"]
    result = authed(name, *args, "--json")
    assert result.exit_code == ExitCode.NOT_FOUND or (name, result.exit_code) == ("user", 1)
    error = json.loads(result.stdout)["error"]
    assert error["exitCode"] == result.exit_code
    assert error["status"] == 404
    assert error["requestId"] == "rq-9"
    assert error["fields"] == {"id": ["unknown"]}
    assert result.stderr == f"error: {error['message']}\n"
    assert "rq-9" in error["message"]
    assert ".." not in error["message"]


@pytest.mark.parametrize(
    "args",
    [["workflwos"], ["workflows", "--take=0"], ["workflow"], ["estimate", "missing.json"]],
    ids=["command", "range", "missing-argument", "missing-file"],
)
def test_json_usage_errors_print_a_document_too(authed, args: list[str]) -> None:
    result = authed(*args, "--json")
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert error["exitCode"] == 2
    assert error["status"] is None


@pytest.mark.parametrize("args", [["--json", "workflows"], ["--bogus", "workflows", "--json"]])
def test_json_usage_errors_before_the_command_print_a_document_too(authed, args: list[str]) -> None:
    result = authed(*args)
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert error["exitCode"] == 2
    assert "No such option" in error["message"]


@pytest.mark.parametrize(
    "args", [["workflows", "--query", "--json"], ["tags", "wf-1", "--add=--json"]]
)
def test_json_as_an_options_value_prints_no_document(
    authed, api: respx.MockRouter, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    """`--query --json` searched for "--json" and printed text, yet its failure printed a
    JSON document on stdout as well (the root group saw `--json` among the words)."""
    monkeypatch.setenv("CIVITAI_MAX_RETRIES", "0")
    api.route(host="orch.test").respond(500)
    result = authed(*args)
    assert result.exit_code == ExitCode.SERVER
    assert result.stdout == ""
    assert result.stderr.startswith("error: ")


@pytest.fixture
def terminal_stderr(monkeypatch: pytest.MonkeyPatch, fresh_consoles: None) -> None:
    """Make stderr count as an interactive, cursor-capable terminal (whatever TERM is)."""
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setattr(_progress, "on_terminal", lambda: True)


def test_progress_bar_goes_to_stderr_on_a_terminal(
    authed, api: respx.MockRouter, terminal_stderr: None
) -> None:
    running: dict[str, Any] = {**WF, "status": "processing"}
    api.get(f"{API}/v2/consumer/workflows/wf-1").mock(
        side_effect=[httpx.Response(202, json=running), httpx.Response(200, json=WF)]
    )
    result = authed("workflow", "wf-1", "--wait", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["status"] == "succeeded"
    assert "wf-1: " in result.stderr  # the bar's description, drawn on stderr only


def test_wait_bar_counts_every_finished_step() -> None:
    class Recorder(_progress.Bar):
        def __init__(self) -> None:
            super().__init__(None, None)
            self.fields: dict[str, Any] = {}

        def update(self, **fields: Any) -> None:
            self.fields = fields

    statuses = ["succeeded", "failed", "expired", "canceled", "processing", "unassigned"]
    recorder = Recorder()
    _progress.workflow_updater(recorder)(
        {"id": "wf-1", "status": "processing", "steps": [{"status": s} for s in statuses]}
    )
    assert recorder.fields == {
        "total": 6,
        "completed": 4,
        "description": "wf-1: processing",
    }


@pytest.mark.parametrize("force_color", ["", "1"], ids=["plain", "FORCE_COLOR"])
def test_no_progress_bar_off_a_terminal(
    authed,
    api: respx.MockRouter,
    monkeypatch: pytest.MonkeyPatch,
    fresh_consoles: None,
    force_color: str,
) -> None:
    if force_color:
        monkeypatch.setenv("FORCE_COLOR", force_color)
    running: dict[str, Any] = {**WF, "status": "processing"}
    api.get(f"{API}/v2/consumer/workflows/wf-1").mock(
        side_effect=[httpx.Response(202, json=running), httpx.Response(200, json=WF)]
    )
    result = authed("workflow", "wf-1", "--wait", "--json")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""


def test_every_exit_code_is_distinct_and_documented(run) -> None:
    values = [int(code) for code in ExitCode]
    assert len(values) == len(set(values))
    help_text = run("--help").stdout
    for code in ExitCode:
        assert f"  {int(code):<3} " in EXIT_CODES_HELP, code
        assert f"  {int(code):<3} " in help_text, code


def test_node_cli_names_work(authed, api: respx.MockRouter) -> None:
    route = api.get(f"{API}/v1/manager/workflows").respond(json=[WF])
    assert ALIASES == {"user-workflows": "user"}
    result = authed("user-workflows", "12345", "--excludeFailed", "--ascending", "--json")
    assert result.exit_code == 0, result.stderr
    assert route.calls.last.request.url.params["Inverse"] == "true"
    assert "user-workflows" not in authed("--help").stdout
    shown = authed("help")
    assert shown.exit_code == 0
    assert "Exit codes:" in shown.stdout
    sub = authed("help", "workflows")
    assert sub.exit_code == 0
    assert "--exclude-failed, --excludeFailed" in sub.stdout
    assert authed("help", "nope").exit_code == 2


@pytest.mark.parametrize(
    ("statuses", "excluded"),
    [(["succeeded"], True), (["unassigned", "processing"], True), (["failed"], False)],
    ids=["succeeded", "not-failed", "failed"],
)
def test_status_filter_asks_the_api_to_drop_failed_only_when_safe(
    authed, api: respx.MockRouter, statuses: list[str], excluded: bool
) -> None:
    route = api.get(f"{API}/v2/consumer/workflows").respond(json={"next": "", "items": [WF]})
    args = [f"--status={s}" for s in statuses]
    assert authed("workflows", *args, "--json").exit_code == 0
    assert ("excludeFailed" in route.calls.last.request.url.params) is excluded


def test_ctrl_c_exits_130_with_one_line(authed, api: respx.MockRouter) -> None:
    def interrupt(request: object) -> None:
        raise KeyboardInterrupt

    api.get(f"{API}/v2/consumer/workflows/wf-1").mock(side_effect=interrupt)
    result = authed("workflow", "wf-1")
    assert result.exit_code == 130
    assert result.stderr.strip() == "error: interrupted"


def test_transfer_bars_show_bytes_and_rate(monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    import time

    from rich.console import Console

    monkeypatch.setenv("TERM", "xterm-256color")  # a cursor-capable terminal, whatever CI has
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=120, color_system=None)
    monkeypatch.setattr(_progress, "stderr", lambda: console)
    monkeypatch.setattr(_progress, "on_terminal", lambda: True)
    with _progress.bar("Downloading", total=4_000_000, transfer=True) as progress:
        for _ in range(4):
            progress.advance(1_000_000)
            time.sleep(0.05)
    drawn = screen.getvalue()
    assert "4.0/4.0 MB" in drawn
    assert re.search(r"\d+(\.\d+)? [kMG]?B/s", drawn), drawn


def _snake_keys(value: Any, where: str = "") -> list[str]:
    if isinstance(value, dict):
        found = [f"{where}/{k}" for k in value if re.fullmatch(r"[a-z]+(_[a-z0-9]+)+", k)]
        return found + [x for k, v in value.items() for x in _snake_keys(v, f"{where}/{k}")]
    if isinstance(value, list):
        return [x for v in value for x in _snake_keys(v, where)]
    return []


@pytest.mark.parametrize("name", sorted(set(CASES) - {"job"}))  # job: the v1 document as sent
def test_json_documents_use_camel_case_keys(
    authed, api: respx.MockRouter, cli_home: Path, name: str
) -> None:
    work = cli_home / "work"
    (work / "wf.json").write_text(json.dumps(BODY))
    (work / "manifest.json").write_text("{}")
    args, mock = CASES[name]
    mock(api)
    result = authed(name, *args, "--json", input="pasted-key\n")
    assert _snake_keys(json.loads(result.stdout)) == []
