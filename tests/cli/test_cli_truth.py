"""The CLI tells the truth (issue 16, and the CLI side of issue 13).

Every test runs the real `civitai-orch` entry point through click's runner, against
respx or the local orchestrator on loopback.
"""

from __future__ import annotations

import copy
import json
import shlex
import socket
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar

import httpx
import pytest
import respx
from test_cli_commands import API, BODY, WF

from civitai_app_sdk.cli import _confirm as confirm_module
from civitai_app_sdk.cli._exit import ExitCode
from civitai_app_sdk.cli.inspect import still_running
from civitai_app_sdk.local import LocalConfig, LocalServer
from civitai_app_sdk.local.timeline import Timings
from tests.cli.conftest import ME, SITE, Run

RUNNING: dict[str, Any] = {**copy.deepcopy(WF), "status": "processing"}


@pytest.fixture
def api(authed: Run) -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as mock:
        yield mock


@pytest.fixture
def body_file(cli_home: Path) -> Path:
    path = cli_home / "work" / "wf.json"
    path.write_text(json.dumps(BODY))
    return path


def _estimate(api: respx.MockRouter) -> respx.Route:
    return api.post(f"{API}/v2/consumer/workflows", params={"whatif": "true"}).respond(
        json={**WF, "id": None, "status": "unassigned"}
    )


# --- money: a failed submit says which key makes the retry safe (13.1) -------------------


@pytest.mark.parametrize("as_json", [False, True], ids=["human", "json"])
def test_failed_submit_prints_the_key_to_reuse_and_the_retry_uses_it(
    authed: Run,
    api: respx.MockRouter,
    body_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    as_json: bool,
) -> None:
    monkeypatch.setenv("CIVITAI_MAX_RETRIES", "0")
    _estimate(api)
    submit = api.post(f"{API}/v2/consumer/workflows", params__contains={}).mock(
        side_effect=[httpx.Response(503, text="upstream died"), httpx.Response(200, json=WF)]
    )
    first = authed("submit", str(body_file), "--yes", *(["--json"] if as_json else []))
    assert first.exit_code == ExitCode.SERVER
    sent = json.loads(submit.calls[0].request.content)["externalId"]
    assert f"`--external-id={sent}`" in first.stderr
    assert "may have been created" in first.stderr
    if as_json:
        document = json.loads(first.stdout)
        assert document["externalId"] == sent
        assert document["error"]["status"] == 503
        assert sent in document["error"]["message"]
    retry = authed("submit", str(body_file), "--yes", "--external-id", sent, "--json")
    assert retry.exit_code == 0, retry.stderr
    assert json.loads(submit.calls[1].request.content)["externalId"] == sent


def test_a_body_key_that_differs_from_external_id_is_refused_in_the_cli_words(
    authed: Run, api: respx.MockRouter, cli_home: Path
) -> None:
    """The SDK's refusal read '/externalId: differs from external_id=.' (its Python
    keyword, no values): the CLI names the file's key and the flag, before any request."""
    path = cli_home / "work" / "keyed.json"
    path.write_text(json.dumps({**BODY, "externalId": "body-key"}))
    routes = api.post(f"{API}/v2/consumer/workflows", params__contains={})
    result = authed("submit", str(path), "--yes", "--external-id", "flag-key", "--json")
    assert result.exit_code == ExitCode.USAGE
    message = json.loads(result.stdout)["error"]["message"]
    assert "'body-key'" in message
    assert "--external-id 'flag-key'" in message
    assert "external_id=" not in message
    assert not routes.called
    same = authed("submit", str(path), "--yes", "--external-id", "body-key", "--json")
    assert "keep one of them" not in same.stderr  # the same key in both is fine


def test_submit_without_answer_takes_the_key_from_the_exception(
    authed: Run, api: respx.MockRouter, body_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CIVITAI_MAX_RETRIES", "0")
    _estimate(api)
    api.post(f"{API}/v2/consumer/workflows", params__contains={}).mock(
        side_effect=httpx.ConnectError("refused")
    )
    result = authed("submit", str(body_file), "--yes", "--external-id", "my-key-1", "--json")
    assert result.exit_code == ExitCode.NETWORK
    assert json.loads(result.stdout)["externalId"] == "my-key-1"
    assert "`--external-id=my-key-1`" in result.stderr


@pytest.mark.parametrize("body", ["<html>", " " * (64 << 20)], ids=["not-json", "64MB"])
def test_an_unreadable_answer_to_a_submit_says_the_workflow_may_exist(
    authed: Run, api: respx.MockRouter, body_file: Path, body: str
) -> None:
    """A 200 whose body is not a workflow: the server took (and charged) the submit."""
    _estimate(api)
    api.post(f"{API}/v2/consumer/workflows", params__contains={}).respond(200, text=body)
    result = authed("submit", str(body_file), "--yes", "--external-id", "my-key-2", "--json")
    assert result.exit_code != 0
    assert json.loads(result.stdout)["externalId"] == "my-key-2"
    assert "may have been created" in result.stderr
    assert "`--external-id=my-key-2`" in result.stderr


@pytest.mark.parametrize(
    ("answer", "unsure"),
    [(httpx.Response(503, text="down"), True), (httpx.Response(400, json={}), False)],
    ids=["503", "400"],
)
def test_a_recipe_run_without_a_clear_answer_warns_before_a_paid_retry(
    authed: Run, api: respx.MockRouter, cli_home: Path, answer: httpx.Response, unsure: bool
) -> None:
    """A recipe has no idempotency key: after a 5xx it may have run, so say so."""
    step_input = cli_home / "input.json"
    step_input.write_text('{"message": "hi"}')
    route = api.post(f"{API}/v2/consumer/recipes/echo").mock(return_value=answer)
    result = authed("recipe", "echo", str(step_input), "--yes", "--json")
    assert result.exit_code != 0
    assert route.call_count == 1
    assert ("may have run and been charged" in result.stderr) is unsure
    assert json.loads(result.stdout)["error"]["status"] == answer.status_code


def test_a_recipe_that_never_connected_does_not_warn_of_a_charge(
    authed: Run, cli_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing listens on the API's port: the recipe was never sent, so it cannot have
    run or been charged (no 'look for it before running it again')."""
    with socket.socket() as probe:  # a free loopback port, closed again: refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("CIVITAI_API_URL", f"http://127.0.0.1:{port}")
    step_input = cli_home / "input.json"
    step_input.write_text('{"message": "hi"}')
    result = authed("recipe", "echo", str(step_input), "--yes")
    assert result.exit_code == ExitCode.NETWORK
    assert "may have run" not in result.stderr
    assert "cannot reach the API" in result.stderr


@pytest.mark.parametrize("command", ["submit", "recipe"])
def test_an_unreadable_answer_to_a_paid_call_speaks_cli_not_python(
    authed: Run, api: respx.MockRouter, body_file: Path, cli_home: Path, command: str
) -> None:
    """A 200 the CLI cannot read ran (and charged) the call: the message says so once,
    in the CLI's words, not the SDK's advice to Python callers (``submit(body,
    external_id=exc.external_id)``, ``client.list()``)."""
    _estimate(api)
    api.post(f"{API}/v2/consumer/workflows", params__contains={}).respond(200, json=[1])
    api.post(f"{API}/v2/consumer/recipes/echo").respond(200, json=[1])
    step_input = cli_home / "input.json"
    step_input.write_text('{"message": "hi"}')
    target = str(body_file) if command == "submit" else "echo"
    key = ["--external-id", "k-1"] if command == "submit" else []
    args = [target] if command == "submit" else [target, str(step_input)]
    result = authed(command, *args, "--yes", *key)
    assert result.exit_code == ExitCode.ERROR
    message = result.stderr
    for python_only in ("exc.external_id", "client.list()", "submit(body"):
        assert python_only not in message
    if command == "submit":
        assert message.count("may have been created") == 1
        assert "`--external-id=k-1`" in message
    else:
        assert message.count("may have run") == 1
        assert "civitai-orch workflows" in message


def test_a_web_page_for_an_answer_points_at_the_api_url_not_an_upgrade(
    authed: Run, api: respx.MockRouter
) -> None:
    """CIVITAI_API_URL set to a website that answers every path with its page (200
    HTML): the fix is the URL, not a newer SDK."""
    page = "<!doctype html><html><body>Welcome</body></html>"
    api.get(f"{API}/v2/consumer/workflows").respond(200, html=page)
    api.get(f"{API}/v2/consumer/workflows/wf-1").respond(200, html=page)
    for args in (["workflows"], ["workflow", "wf-1"]):
        result = authed(*args)
        assert result.exit_code == ExitCode.ERROR
        assert "Upgrade civitai-app-sdk" not in result.stderr
        assert "web page" in result.stderr
        assert "CIVITAI_API_URL" in result.stderr


@pytest.mark.parametrize("as_json", [False, True], ids=["human", "json"])
def test_a_web_page_for_the_answer_to_cancel_is_no_cancel(
    authed: Run, api: respx.MockRouter, as_json: bool
) -> None:
    """A captive portal answers the PUT with 200 HTML: the workflow was not canceled and
    spends on; the user must not be told it was."""
    page = "<!doctype html><html><body>Sign in to the Wi-Fi</body></html>"
    api.get(f"{API}/v2/consumer/workflows/wf-1").respond(200, html=page)
    api.put(f"{API}/v2/consumer/workflows/wf-1").respond(200, html=page)
    result = authed("cancel", "wf-1", *(["--json"] if as_json else []))
    assert result.exit_code == ExitCode.ERROR
    assert "Canceled" not in result.stdout
    assert "cancel may not have happened" in result.stderr
    assert "`civitai-orch workflow wf-1`" in result.stderr
    if as_json:
        document = json.loads(result.stdout)
        assert document["canceled"] is False
        assert document["error"]["status"] == 200


def test_a_web_page_for_a_signed_url_is_not_saved_as_the_image(
    authed: Run, api: respx.MockRouter, cli_home: Path
) -> None:
    page = "<!doctype html><html><body>Sign in to the Wi-Fi</body></html>"
    api.get(f"{API}/v2/consumer/workflows/wf-1").respond(json=WF)
    api.get("https://cdn.test/IMGA.jpeg").respond(200, html=page)
    api.get("https://cdn.test/VIDB.mp4").respond(
        content=b"mp4-bytes", headers={"content-type": "video/mp4"}
    )
    api.head(f"{API}/v2/consumer/blobs/IMGB.jpeg").respond(200, html=page)
    out = cli_home / "work" / "out"
    result = authed("results", "wf-1", "--download", "--dir", str(out), "--json")
    assert result.exit_code == ExitCode.DOWNLOAD_FAILED, result.stderr
    reports = json.loads(result.stdout)["downloads"]
    assert [r["status"] for r in reports] == ["failed", "skipped", "saved"]
    assert "web page" in reports[0]["reason"]
    assert sorted(p.name for p in out.iterdir()) == ["wf-1_vid_0.mp4"]
    head = authed("blob", "IMGB.jpeg")
    assert head.exit_code == ExitCode.ERROR
    assert "web page" in head.stderr


def test_ctrl_c_during_the_submit_request_still_prints_the_key(
    authed: Run, api: respx.MockRouter, body_file: Path
) -> None:
    def interrupt(request: httpx.Request) -> httpx.Response:
        raise KeyboardInterrupt

    _estimate(api)
    api.post(f"{API}/v2/consumer/workflows", params__contains={}).mock(side_effect=interrupt)
    result = authed("submit", str(body_file), "--yes", "--json")
    assert result.exit_code == ExitCode.INTERRUPTED
    key = json.loads(result.stdout)["externalId"]
    assert key.startswith("sdk-")
    assert f"--external-id={key}" in result.stderr


# --- a --wait that ends early keeps the workflow (13.1) ----------------------------------


@pytest.mark.parametrize(("status", "code"), [(500, ExitCode.SERVER), (401, ExitCode.AUTH)])
def test_an_api_error_during_a_submit_wait_keeps_the_paid_workflows_id(
    authed: Run, api: respx.MockRouter, body_file: Path, status: int, code: ExitCode
) -> None:
    _estimate(api)
    api.post(f"{API}/v2/consumer/workflows", params__contains={}).respond(
        json={**WF, "status": "scheduled"}
    )
    api.get(f"{API}/v2/consumer/workflows/wf-1").respond(
        status, json={"title": "boom"}, headers={"x-request-id": "rq-1"}
    )
    result = authed("submit", str(body_file), "--yes", "--wait", "--json")
    assert result.exit_code == code
    document = json.loads(result.stdout)
    assert (document["id"], document["status"]) == ("wf-1", "scheduled")
    assert document["cancel"] == "civitai-orch cancel wf-1"
    assert (document["error"]["status"], document["error"]["requestId"]) == (status, "rq-1")
    assert "workflow wf-1 is still scheduled on the server" in result.stderr


@pytest.mark.parametrize("timeout", ["nan", "inf"])
def test_a_wait_timeout_that_is_not_finite_is_refused_before_submitting(
    authed: Run, api: respx.MockRouter, body_file: Path, timeout: str
) -> None:
    """It was refused only by the poll, after the workflow was submitted and paid for,
    with "nothing was sent"."""
    route = api.route(host="orch.test").respond(json={**WF, "status": "scheduled"})
    result = authed("submit", str(body_file), "--yes", "--wait", "--timeout", timeout, "--json")
    assert result.exit_code == ExitCode.USAGE
    assert "is not a finite number of seconds" in json.loads(result.stdout)["error"]["message"]
    assert not route.called


def test_ctrl_c_while_the_wait_bar_starts_still_prints_the_id_and_the_cancel_command(
    authed: Run, api: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Starting the bar loads rich, long enough under load for a Ctrl-C to land there."""
    from civitai_app_sdk.cli import inspect

    def interrupted_bar(*args: object, **kwargs: object) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(inspect, "bar", interrupted_bar)
    api.get(f"{API}/v2/consumer/workflows/wf-1").respond(202, json=RUNNING)
    result = authed("workflow", "wf-1", "--wait", "--json")
    assert result.exit_code == ExitCode.INTERRUPTED
    assert json.loads(result.stdout)["cancel"] == "civitai-orch cancel wf-1"
    assert "`civitai-orch cancel wf-1`" in result.stderr


@pytest.mark.parametrize("wait", [True, False])
def test_ctrl_c_right_after_the_submit_answered_still_names_the_workflow(
    authed: Run,
    api: respx.MockRouter,
    body_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    wait: bool,
) -> None:
    """The first note loads rich (long under load): a Ctrl-C there must not lose what
    was just paid for."""
    from civitai_app_sdk.cli import submit

    def interrupted(*args: object, **kwargs: object) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(submit, "note" if wait else "stdout", interrupted)
    _estimate(api)
    api.post(f"{API}/v2/consumer/workflows", params__contains={}).respond(
        json={**WF, "status": "scheduled"}
    )
    result = authed("submit", str(body_file), "--yes", *(["--wait"] if wait else []))
    assert result.exit_code == ExitCode.INTERRUPTED
    assert "workflow wf-1 is still scheduled on the server" in result.stderr
    assert "`civitai-orch cancel wf-1`" in result.stderr


def test_ctrl_c_before_the_first_poll_of_a_submit_wait_shows_the_submits_status(
    authed: Run, api: respx.MockRouter, body_file: Path
) -> None:
    def interrupt(request: httpx.Request) -> httpx.Response:
        raise KeyboardInterrupt

    _estimate(api)
    api.post(f"{API}/v2/consumer/workflows", params__contains={}).respond(
        json={**WF, "status": "scheduled"}
    )
    api.get(f"{API}/v2/consumer/workflows/wf-1").mock(side_effect=interrupt)
    result = authed("submit", str(body_file), "--yes", "--wait", "--json")
    assert result.exit_code == ExitCode.INTERRUPTED
    assert json.loads(result.stdout)["status"] == "scheduled"
    assert "workflow wf-1 is still scheduled on the server" in result.stderr


@pytest.mark.parametrize("as_json", [False, True], ids=["human", "json"])
def test_ctrl_c_during_wait_prints_the_id_and_the_cancel_command(
    authed: Run, api: respx.MockRouter, as_json: bool
) -> None:
    calls: list[int] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) > 1:
            raise KeyboardInterrupt
        return httpx.Response(202, json=RUNNING)

    api.get(f"{API}/v2/consumer/workflows/wf-1").mock(side_effect=answer)
    result = authed("workflow", "wf-1", "--wait", *(["--json"] if as_json else []))
    assert result.exit_code == ExitCode.INTERRUPTED
    assert "civitai-orch cancel wf-1" in result.stderr
    assert "still processing" in result.stderr
    if as_json:
        document = json.loads(result.stdout)
        assert (document["id"], document["status"]) == ("wf-1", "processing")
        assert document["cancel"] == "civitai-orch cancel wf-1"
    else:
        assert result.stdout == ""


def test_wait_that_times_out_prints_the_id_and_the_cancel_command(
    authed: Run, api: respx.MockRouter
) -> None:
    api.get(f"{API}/v2/consumer/workflows/wf-1").respond(202, json=RUNNING)
    result = authed("workflow", "wf-1", "--wait", "--timeout=1", "--json")
    assert result.exit_code == ExitCode.ERROR
    document = json.loads(result.stdout)
    assert (document["id"], document["status"]) == ("wf-1", "processing")
    assert "the wait ended after 1 s" in result.stderr
    assert "`civitai-orch cancel wf-1`" in result.stderr


def test_wait_on_a_server_that_stops_answering_prints_the_id_and_the_cancel_command(
    authed: Run, api: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hanging server cut by the wait's deadline: the workflow lives on, say how to stop it."""
    from civitai_app_sdk import errors as sdk
    from civitai_app_sdk.orchestrator import OrchestratorClient

    def hang(self: object, workflow_id: str, **kw: Any) -> Any:
        kw["on_update"](RUNNING)
        raise sdk.RequestTimeoutError("GET timed out")

    monkeypatch.setattr(OrchestratorClient, "poll", hang)
    result = authed("workflow", "wf-1", "--wait", "--json")
    assert result.exit_code == ExitCode.NETWORK
    document = json.loads(result.stdout)
    assert (document["id"], document["status"]) == ("wf-1", "processing")
    assert "the request timed out: workflow wf-1 is still processing" in result.stderr
    assert "`civitai-orch cancel wf-1`" in result.stderr


# --- what the server said ----------------------------------------------------------------


def test_human_errors_show_field_errors_and_request_id_without_double_periods(
    authed: Run, api: respx.MockRouter, body_file: Path
) -> None:
    api.post(f"{API}/v2/consumer/workflows").respond(
        400,
        json={
            "title": "One or more validation errors occurred.",
            "errors": {"steps[0].input.width": ["The width is not valid."]},
        },
        headers={"x-request-id": "req-77"},
    )
    result = authed("estimate", str(body_file))
    assert result.exit_code == ExitCode.ERROR
    line = result.stderr.strip()
    assert len(line.splitlines()) == 1
    assert "steps[0].input.width: The width is not valid" in line
    assert "req-77" in line
    assert ".." not in line


def test_a_failed_workflow_names_the_failing_step_and_its_reason(
    authed: Run, api: respx.MockRouter
) -> None:
    failed = copy.deepcopy(WF) | {"status": "failed"}
    failed["steps"][0]["status"] = "failed"
    failed["steps"][0]["jobs"][0] |= {"status": "failed", "reason": "Prompt blocked by moderation."}
    api.get(f"{API}/v2/consumer/workflows/wf-1").respond(json=failed)
    result = authed("workflow", "wf-1", "--wait")
    assert result.exit_code == ExitCode.WORKFLOW_FAILED, result.stderr
    assert "step $0 (textToImage) failed: Prompt blocked by moderation" in result.stderr
    assert "Error: Prompt blocked by moderation" in result.stdout  # the step view shows it
    assert ".." not in result.stderr


def test_the_workflow_view_shows_a_refund(authed: Run, api: respx.MockRouter) -> None:
    canceled = copy.deepcopy(WF) | {
        "status": "canceled",
        "transactions": {
            "list": [
                {"type": "debit", "amount": 12, "accountType": "yellow"},
                {"type": "credit", "amount": 12, "accountType": "yellow"},
            ]
        },
    }
    api.get(f"{API}/v2/consumer/workflows/wf-1").respond(json=canceled)
    result = authed("workflow", "wf-1")
    assert result.exit_code == 0, result.stderr
    assert "Charged:   12 Buzz" in result.stdout
    assert "Refunded:  12 Buzz" in result.stdout


# --- bad input is a usage error ----------------------------------------------------------


def test_a_mistyped_command_suggests_the_closest(run: Run) -> None:
    result = run("workflwos")
    assert result.exit_code == 2
    assert "did you mean 'workflows'" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unknown_step_type_lists_the_valid_ones(authed: Run, cli_home: Path) -> None:
    body = copy.deepcopy(BODY)
    body["steps"][0]["$type"] = "textToImag"
    path = cli_home / "work" / "typo.json"
    path.write_text(json.dumps(body))
    for command in ("estimate", "submit"):
        result = authed(command, str(path), "--json")
        assert result.exit_code == 2
        error = json.loads(result.stdout)["error"]["message"]
        assert "did you mean 'textToImage'?" in error
        assert "videoGen" in error
        assert "imageGen" in error


def test_a_busy_port_hints_port_zero(run: Run) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        result = run("serve-local", "--port", str(busy.getsockname()[1]))
    assert result.exit_code == 2
    assert "--port 0" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["--port", "70000"],
        ["--port", "-1"],
        ["--step-seconds", "nan"],
        ["--step-seconds", "inf"],
        ["--step-seconds", "0"],
        ["--latency", "nan"],
        ["--latency", "-1"],
    ],
)
def test_serve_local_refuses_a_port_or_seconds_out_of_range_before_starting(
    run: Run, args: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from civitai_app_sdk.cli import serve_local

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("the server was started")

    monkeypatch.setattr(serve_local, "LocalServer", never)
    result = run("serve-local", *args)  # the runner re-raises what escapes: no traceback
    assert result.exit_code == 2, result.stderr
    assert f"Invalid value for '{args[0]}'" in result.stderr


@pytest.mark.parametrize("answer", ["n", ""], ids=["no", "default"])
def test_declining_the_prompt_has_its_own_exit_code_and_no_error_prefix(
    authed: Run,
    api: respx.MockRouter,
    body_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    answer: str,
) -> None:
    _terminal(monkeypatch, True)
    _estimate(api)
    submit = api.post(f"{API}/v2/consumer/workflows", params__contains={})
    result = authed("submit", str(body_file), input=answer + "\n")
    assert result.exit_code == ExitCode.DECLINED == 12
    assert "error" not in result.stderr.lower()
    assert "Not submitted; nothing was spent." in result.stderr
    assert all(c.request.url.params.get("whatif") == "true" for c in submit.calls)


def _terminal(monkeypatch: pytest.MonkeyPatch, present: bool) -> None:
    """Whether the prompt finds a terminal on stdin (the test runner has none)."""
    stdin = SimpleNamespace(isatty=lambda: present)
    monkeypatch.setattr(confirm_module, "sys", SimpleNamespace(stdin=stdin))


ASKING = {
    "submit": ("Submit and spend", "Not submitted; nothing was spent.", "submitting spends Buzz"),
    "recipe": ("Run echo and spend Buzz?", "Not run; nothing was spent.", "spends Buzz"),
    "delete": ("Delete workflow wf-1?", "Not deleted; nothing was changed.", "cannot be undone"),
}


@pytest.mark.parametrize("command", sorted(ASKING))
@pytest.mark.parametrize("answer", ["n", "y", None], ids=["no", "yes", "no-terminal"])
def test_every_command_that_spends_or_destroys_asks_the_same_way(
    authed: Run,
    api: respx.MockRouter,
    body_file: Path,
    cli_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    command: str,
    answer: str | None,
) -> None:
    question, declined, stakes = ASKING[command]
    step_input = cli_home / "input.json"
    step_input.write_text('{"message": "hi"}')
    _estimate(api)
    acting = {
        "submit": api.post(f"{API}/v2/consumer/workflows", params__contains={}).respond(json=WF),
        "recipe": api.post(f"{API}/v2/consumer/recipes/echo").respond(json={"message": "hi"}),
        "delete": api.delete(f"{API}/v2/consumer/workflows/wf-1").respond(204),
    }[command]
    args = {"submit": [str(body_file)], "recipe": ["echo", str(step_input)], "delete": ["wf-1"]}
    _terminal(monkeypatch, answer is not None)
    result = authed(command, *args[command], input=f"{answer}\n" if answer else None)
    acted = [c for c in acting.calls if c.request.url.params.get("whatif") != "true"]
    if answer == "y":
        assert result.exit_code == 0, result.stderr
        assert question in result.stderr
        assert len(acted) == 1
        return
    assert acted == []  # nothing spent, nothing deleted
    if answer is None:
        assert result.exit_code == ExitCode.USAGE
        assert stakes in result.stderr
        assert "add --yes to confirm when there is no terminal to ask" in result.stderr
    else:
        assert result.exit_code == ExitCode.DECLINED
        assert question in result.stderr
        assert declined in result.stderr
        assert "error" not in result.stderr.lower()


@pytest.mark.parametrize("terminal", [True, False])
def test_delete_refuses_a_dot_only_id_before_asking(
    authed: Run, api: respx.MockRouter, monkeypatch: pytest.MonkeyPatch, terminal: bool
) -> None:
    everything = api.route().respond(204)
    _terminal(monkeypatch, terminal)
    result = authed("delete", "..", input="y\n")
    assert result.exit_code == ExitCode.USAGE, result.stderr
    assert "only dots" in result.stderr
    assert "Delete workflow" not in result.stderr  # no question about an id never sent
    assert "--yes" not in result.stderr
    assert not everything.called


def test_delete_shows_an_ids_terminal_escapes_instead_of_sending_them_to_the_terminal(
    authed: Run, api: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    hostile = "wf\x1b[2J\u202e1\r"
    deleted = api.delete(url__startswith=f"{API}/v2/consumer/workflows/").respond(204)
    _terminal(monkeypatch, True)
    result = authed("delete", hostile, input="y\n")
    assert result.exit_code == 0, result.stderr
    assert "Delete workflow wf\\x1b[2J\\u202e1\\r?" in result.stderr
    assert "Deleted wf\\x1b[2J\\u202e1\\r." in result.stdout
    assert not any(c in result.stderr + result.stdout for c in "\x1b\u202e\r")
    sent = deleted.calls.last.request.url.raw_path
    assert sent == b"/v2/consumer/workflows/wf%1B%5B2J%E2%80%AE1%0D"


def test_cancel_shows_an_ids_terminal_escapes_as_delete_does(
    authed: Run, api: respx.MockRouter
) -> None:
    api.put(url__startswith=f"{API}/v2/consumer/workflows/").respond(204)
    api.get(url__startswith=f"{API}/v2/consumer/workflows/").respond(json={"status": "scheduled"})
    result = authed("cancel", "wf\x1b]0;owned\x07\u202e1")
    assert result.exit_code == 0, result.stderr
    assert "Canceled wf\\x1b]0;owned\\x07\\u202e1." in result.stdout
    assert not any(c in result.stdout for c in "\x1b\x07\u202e")


def test_a_servers_words_in_an_error_reach_the_terminal_escaped(
    authed: Run, api: respx.MockRouter
) -> None:
    detail = "gone\x1b]0;owned\x07\x1b[2J\u202eevil\x9b1m"
    api.get(f"{API}/v2/consumer/workflows/wf-1").respond(404, json={"detail": detail})
    result = authed("workflow", "wf-1")
    assert result.exit_code == ExitCode.NOT_FOUND, result.stderr
    assert "gone\\x1b]0;owned\\x07\\x1b[2J\\u202eevil\\x9b1m" in result.stderr
    assert not any(c in result.stderr for c in "\x1b\x07\u202e\x9b")


def test_submit_shows_a_hostile_servers_workflow_id_escaped_and_never_as_markup(
    authed: Run, api: respx.MockRouter, body_file: Path
) -> None:
    _estimate(api)
    hostile = "wf[/]\x1b]0;owned\x07[red]1"
    api.post(f"{API}/v2/consumer/workflows", params__contains={}).respond(
        json={**WF, "id": hostile, "status": "processing"}
    )
    result = authed("submit", str(body_file), "--yes")
    assert result.exit_code == 0, result.stderr  # the server charged: the id must show
    assert "Submitted workflow wf[/]\\x1b]0;owned\\x07[red]1 (processing)" in result.stdout
    assert not any(c in result.stdout + result.stderr for c in "\x1b\x07")


def test_commands_to_paste_quote_a_servers_workflow_id(
    authed: Run, api: respx.MockRouter, body_file: Path
) -> None:
    hostile = "wf-1; touch pwned #"
    _estimate(api)
    api.post(f"{API}/v2/consumer/workflows", params__contains={}).respond(
        json={**WF, "id": hostile, "status": "processing"}
    )
    result = authed("submit", str(body_file), "--yes")
    assert result.exit_code == 0, result.stderr
    hint = result.stderr.split("Follow it with: ")[1].strip()
    assert shlex.split(hint) == ["civitai-orch", "workflow", hostile, "--wait"]  # one word
    stopped = still_running(hostile, "processing", "interrupted", ExitCode.INTERRUPTED)
    assert shlex.split(stopped.extra["cancel"]) == ["civitai-orch", "cancel", hostile]
    assert f"`civitai-orch workflow '{hostile}' --wait`" in stopped.format_message()


# --- logins: checked, bound to their API, in the keyring (13.3) --------------------------


def _login(run: Run, api_url: str, key: str = "key-1", **kw: Any) -> Any:
    with respx.mock(assert_all_called=False) as mock:
        me = mock.get(f"{SITE}/api/v1/me").respond(json=ME)
        result = run(
            "login", "--with-token", "--api-url", api_url, "--json", input=key + "\n", **kw
        )
    assert result.exit_code == 0, result.stderr
    assert me.calls.last.request.headers["authorization"] == f"Bearer {key}"
    return json.loads(result.stdout)


def test_login_with_token_says_whose_key_it_is(run: Run) -> None:
    with respx.mock:
        respx.get(f"{SITE}/api/v1/me").respond(json=ME)
        result = run("login", "--with-token", "--api-url", API, input="k\n")
    assert result.exit_code == 0, result.stderr
    assert f"Signed in as maker (user 7) for {API}" in result.stdout


def test_login_with_a_refused_key_saves_nothing(run: Run, cli_home: Path) -> None:
    with respx.mock:
        respx.get(f"{SITE}/api/v1/me").respond(401, json={"error": "Unauthorized"})
        result = run("login", "--with-token", "--api-url", API, input="bad\n")
    assert result.exit_code == ExitCode.AUTH
    assert "was not saved" in result.stderr
    assert not (cli_home / "config" / "credentials.json").exists()


def test_a_stored_login_is_never_sent_to_another_api(run: Run, monkeypatch) -> None:
    _login(run, API)
    monkeypatch.setenv("CIVITAI_API_URL", "https://elsewhere.test")
    with respx.mock:
        other = respx.route(host="elsewhere.test").respond(json={"items": []})
        result = run("workflows")
    assert result.exit_code == ExitCode.AUTH
    assert not other.called
    assert "belongs to another server (https://orch.test)" in result.stderr
    monkeypatch.setenv("CIVITAI_API_URL", API + "/")
    with respx.mock:
        mine = respx.get(f"{API}/v2/consumer/workflows").respond(json={"items": []})
        assert run("workflows").exit_code == 0
    assert mine.calls.last.request.headers["authorization"] == "Bearer key-1"


def test_a_dotenv_url_cannot_redirect_the_stored_login(
    run: Run, cli_home: Path, monkeypatch
) -> None:
    _login(run, API)
    (cli_home / "work" / ".env").write_text("CIVITAI_API_URL=https://attacker.test\n")
    monkeypatch.setenv("CIVITAI_API_URL", API)
    monkeypatch.delenv("CIVITAI_API_URL")
    with respx.mock(assert_all_called=False) as mock:
        attacker = mock.route(host="attacker.test").respond(json={"items": []})
        result = run("workflows")
    assert not attacker.called
    assert "ignoring CIVITAI_API_URL from ./.env" in result.stderr
    assert result.exit_code == ExitCode.AUTH  # the login is for orch.test, not production


class MemoryKeyring:
    """An in-memory keyring backend (the keyring package's interface)."""

    priority = 10

    def __init__(self) -> None:
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, user: str) -> str | None:
        return self.entries.get((service, user))

    def set_password(self, service: str, user: str, password: str) -> None:
        self.entries[(service, user)] = password

    def delete_password(self, service: str, user: str) -> None:
        del self.entries[(service, user)]


def test_logins_go_to_the_keyring_and_logout_removes_both(
    run: Run, cli_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from civitai_app_sdk.cli import _keyring

    ring = MemoryKeyring()
    monkeypatch.setattr(_keyring, "system_keyring", lambda: ring)
    file = cli_home / "config" / "credentials.json"
    file.parent.mkdir(parents=True)
    file.write_text('{"tokens": {"access_token": "old", "expires_at": 1e10}}')
    saved = _login(run, API, "ring-key")
    assert saved["path"] == "the OS keyring"
    assert not file.exists()  # the old file copy is gone
    (entry,) = ring.entries.values()
    assert json.loads(entry)["tokens"]["access_token"] == "ring-key"
    monkeypatch.setenv("CIVITAI_API_URL", API)
    with respx.mock:
        route = respx.get(f"{API}/v2/consumer/workflows").respond(json={"items": []})
        assert run("workflows").exit_code == 0
    assert route.calls.last.request.headers["authorization"] == "Bearer ring-key"
    file.write_text('{"tokens": {"access_token": "stale", "expires_at": 1e10}}')
    out = run("logout", "--json")
    assert json.loads(out.stdout)["removed"] is True
    assert ring.entries == {}
    assert not file.exists()


def test_a_broken_keyring_falls_back_to_the_file(
    run: Run, cli_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from civitai_app_sdk.cli import _keyring

    class Locked(MemoryKeyring):
        def set_password(self, service: str, user: str, password: str) -> None:
            raise RuntimeError("locked")

    monkeypatch.setattr(_keyring, "system_keyring", Locked)
    with respx.mock:
        respx.get(f"{SITE}/api/v1/me").respond(json=ME)
        result = run("login", "--with-token", "--api-url", API, input="k\n")
    assert result.exit_code == 0, result.stderr
    assert "cannot write the OS keyring" in result.stderr
    assert (cli_home / "config" / "credentials.json").exists()


class LockableKeyring(MemoryKeyring):
    """A keyring that refuses writes while ``locked``."""

    locked = False

    def set_password(self, service: str, user: str, password: str) -> None:
        if self.locked:
            raise RuntimeError("locked")
        super().set_password(service, user, password)


def test_a_login_saved_to_the_file_while_the_keyring_is_locked_is_the_one_used(
    run: Run, cli_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the file said "Saved to credentials.json" but every command sent the old key
    from civitai_app_sdk.cli import _keyring

    ring = LockableKeyring()
    monkeypatch.setattr(_keyring, "system_keyring", lambda: ring)
    assert _login(run, API, "old-key")["path"] == "the OS keyring"
    ring.locked = True
    assert _login(run, API, "new-key")["path"].endswith("credentials.json")
    monkeypatch.setenv("CIVITAI_API_URL", API)
    with respx.mock:
        route = respx.get(f"{API}/v2/consumer/workflows").respond(json={"items": []})
        assert run("workflows").exit_code == 0
    assert route.calls.last.request.headers["authorization"] == "Bearer new-key"


def test_a_pair_rotated_while_the_keyring_is_locked_is_not_lost(tmp_path: Path) -> None:
    from civitai_app_sdk.cli._credentials import StoredLogin
    from civitai_app_sdk.cli._keyring import CredentialStore
    from civitai_app_sdk.oauth import TokenSet

    ring = LockableKeyring()
    store = CredentialStore(tmp_path, ring)  # type: ignore[arg-type]
    old = TokenSet(access_token="at-1", expires_at=1.0, refresh_token="rt-1")
    store.write(StoredLogin(old, "cid", "https://auth.test", API))
    ring.locked = True
    store.save(TokenSet(access_token="at-2", expires_at=4e9, refresh_token="rt-2"))
    again = CredentialStore(tmp_path, ring)  # type: ignore[arg-type]
    login = again.read()
    assert login is not None
    assert (login.tokens.refresh_token, login.client_id, login.api_url) == ("rt-2", "cid", API)


def test_logout_that_cannot_remove_the_keyring_entry_says_so(
    run: Run, cli_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # it said "Not signed in; nothing to remove." (exit 0) and the key stayed in use
    from civitai_app_sdk.cli import _keyring

    class Undeletable(MemoryKeyring):
        def delete_password(self, service: str, user: str) -> None:
            raise RuntimeError("locked")

    ring = Undeletable()
    monkeypatch.setattr(_keyring, "system_keyring", lambda: ring)
    _login(run, API, "ring-key")
    result = run("logout", "--json")
    assert result.exit_code == ExitCode.ERROR
    message = json.loads(result.stdout)["error"]["message"]
    assert message.startswith("you may still be signed in: the OS keyring entry")
    assert "cannot remove the OS keyring entry (RuntimeError)" in result.stderr
    assert "ring-key" not in result.stdout + result.stderr


def test_logout_with_a_keyring_that_cannot_be_read_does_not_say_signed_out(
    run: Run, cli_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "Signed out." (the file went) while the locked keyring kept its login for later
    from civitai_app_sdk.cli import _keyring

    class Locked(MemoryKeyring):
        locked = False

        def get_password(self, service: str, user: str) -> str | None:
            if self.locked:
                raise RuntimeError("locked")
            return super().get_password(service, user)

    ring = Locked()
    monkeypatch.setattr(_keyring, "system_keyring", lambda: ring)
    _login(run, API, "ring-key")
    ring.locked = True
    result = run("logout")
    assert result.exit_code == ExitCode.ERROR
    assert "Signed out" not in result.stdout
    assert "error: you may still be signed in" in result.stderr
    ring.locked = False
    assert run("logout").exit_code == 0
    assert ring.entries == {}


def test_a_keyring_that_drops_what_it_is_given_leaves_the_login_in_the_file(
    run: Run, cli_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # login said "Saved to the OS keyring", deleted the file, and the login was gone
    from civitai_app_sdk.cli import _keyring

    class Forgetful(MemoryKeyring):
        def set_password(self, service: str, user: str, password: str) -> None:
            pass

    monkeypatch.setattr(_keyring, "system_keyring", Forgetful)
    with respx.mock:
        respx.get(f"{SITE}/api/v1/me").respond(json=ME)
        result = run("login", "--with-token", "--api-url", API, input="kept-key\n")
    assert result.exit_code == 0, result.stderr
    assert "the OS keyring did not keep the login; using the file" in result.stderr
    assert "Saved to the OS keyring" not in result.stdout
    monkeypatch.setenv("CIVITAI_API_URL", API)
    with respx.mock:
        route = respx.get(f"{API}/v2/consumer/workflows").respond(json={"items": []})
        assert run("workflows").exit_code == 0
    assert route.calls.last.request.headers["authorization"] == "Bearer kept-key"


def test_an_empty_keyring_chain_is_no_keyring(monkeypatch: pytest.MonkeyPatch) -> None:
    import keyring
    from keyring.backends.chainer import ChainerBackend

    from civitai_app_sdk.cli._keyring import system_keyring

    class Empty(ChainerBackend):
        backends: ClassVar[list[object]] = []

    monkeypatch.delenv("CIVITAI_KEYRING", raising=False)
    monkeypatch.setattr(keyring, "get_keyring", Empty)
    assert system_keyring() is None


def test_a_keyring_backend_that_does_not_load_is_a_warning_not_a_traceback(
    run: Run, cli_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # PYTHON_KEYRING_BACKEND=no.Such: every command that reads the login crashed
    import keyring

    def broken() -> None:
        raise ModuleNotFoundError("No module named 'no'")

    monkeypatch.delenv("CIVITAI_KEYRING")
    monkeypatch.setattr(keyring, "get_keyring", broken)
    monkeypatch.setenv("CIVITAI_API_URL", API)
    result = run("workflows")
    assert result.exit_code == ExitCode.AUTH
    assert "warning: cannot load the OS keyring (ModuleNotFoundError" in result.stderr
    assert "error: no API token" in result.stderr
    assert "Traceback" not in result.stderr


# --- serve-local logins ------------------------------------------------------------------


@pytest.fixture
def local(run: Run) -> Iterator[LocalServer]:
    fast = Timings(unassigned=0.01, preparing=0.01, scheduled=0.01, processing=0.05)
    with LocalServer(LocalConfig(timings=fast, fail_steps=frozenset({"broken"}))) as server:
        yield server


def test_a_login_for_serve_local_works_there_and_only_there(
    run: Run, local: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_token = run("login", "--with-token", "--api-url", local.url, "--json", input="lk\n")
    assert with_token.exit_code == 0, with_token.stderr
    assert json.loads(with_token.stdout)["user"]["username"] == "local-user"
    monkeypatch.setenv("CIVITAI_API_URL", local.url)
    assert run("workflows", "--json").exit_code == 0
    monkeypatch.setenv("CIVITAI_API_URL", "http://127.0.0.1:1")
    moved = run("workflows")
    assert moved.exit_code == ExitCode.AUTH
    assert f"belongs to another server ({local.url})" in moved.stderr


def test_serve_local_failed_step_and_refund_after_cancel(
    run: Run, local: LocalServer, cli_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CIVITAI_API_URL", local.url)
    monkeypatch.setenv("CIVITAI_API_TOKEN", "t")
    body = copy.deepcopy(BODY)
    body["steps"][0]["name"] = "broken"
    path = cli_home / "work" / "broken.json"
    path.write_text(json.dumps(body))
    failed = run("submit", str(path), "--yes", "--wait", "--timeout=30")
    assert failed.exit_code == ExitCode.WORKFLOW_FAILED
    assert "step broken (textToImage) failed: the server gave no reason" in failed.stderr

    slow = Timings(unassigned=30, preparing=30, scheduled=30, processing=30)
    with LocalServer(LocalConfig(timings=slow)) as server:
        monkeypatch.setenv("CIVITAI_API_URL", server.url)
        created = json.loads(run("submit", str(path), "--yes", "--json").stdout)
        assert run("cancel", created["id"]).exit_code == 0
        view = run("workflow", created["id"])
    assert view.exit_code == 0, view.stderr
    assert "Refunded:" in view.stdout


def test_a_relative_config_dir_gets_one_keyring_entry_per_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # CIVITAI_CONFIG_DIR=.civitai in two projects shared one entry: a login in one
    # replaced (and a logout removed) the other's
    from civitai_app_sdk.cli._credentials import StoredLogin
    from civitai_app_sdk.cli._keyring import CredentialStore
    from civitai_app_sdk.oauth import TokenSet

    ring = MemoryKeyring()
    for project in ("a", "b"):
        (tmp_path / project).mkdir()
        monkeypatch.chdir(tmp_path / project)
        store = CredentialStore(Path(".civitai"), ring)  # type: ignore[arg-type]
        store.write(StoredLogin(TokenSet(access_token=f"key-{project}", expires_at=4e9)))
    monkeypatch.chdir(tmp_path / "a")
    login = CredentialStore(Path(".civitai"), ring).read()  # type: ignore[arg-type]
    assert login is not None
    assert login.tokens.access_token == "key-a"
    assert len(ring.entries) == 2
