"""Commands the CLI prints for the user to paste (follow, cancel, check, retry key, save):
split as a shell would and parsed by the CLI's own parser, they name the same workflow,
blob and key. Ids starting with ``-`` were read as options, a key ``--json`` asked for
JSON, and a line break escaped for the terminal named another id. No network (respx).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import respx
from hypothesis import given
from hypothesis import strategies as st
from test_cli_commands import WF
from test_cli_truth import _login

from civitai_app_sdk._escape import printable
from civitai_app_sdk.cli._exit import ExitCode
from civitai_app_sdk.cli._shell import command, option
from civitai_app_sdk.cli.inspect import still_running
from civitai_app_sdk.cli.submit import _submit_failed
from tests.cli.conftest import API, Run
from tests.cli.pasting import parsed

ODD_IDS = ["wf-1", "-wf", "--json", "a b", "it's", "$(touch pwned)", "line\nbreak", "\x1b[2Jx"]
"""Ids a server (or a user) could give, each a trap for a command pasted as printed."""
QUOTED = re.compile(r"`(civitai-orch [^`]*)`")


@pytest.fixture
def api(authed: Run) -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as mock:
        yield mock


@pytest.mark.parametrize("workflow_id", ODD_IDS)
def test_the_follow_and_cancel_commands_name_the_running_workflow(workflow_id: str) -> None:
    stopped = still_running(workflow_id, "processing", "interrupted", ExitCode.INTERRUPTED)
    follow, cancel = QUOTED.findall(printable(stopped.format_message()))
    followed = parsed(follow)
    assert (followed["workflow_id"], followed["wait"]) == (workflow_id, True)
    assert (followed["as_json"], followed["json_requested"]) == (False, False)
    assert parsed(cancel)["workflow_id"] == workflow_id
    assert parsed(stopped.extra["cancel"])["workflow_id"] == workflow_id


@pytest.mark.parametrize("key", ["k-1", "-x", "--json", "--yes"])
def test_the_retry_key_pasted_is_the_key(key: str) -> None:
    """Keys are ``[A-Za-z0-9_-]``: ``--external-id --json`` also asked for JSON."""
    message = printable(_submit_failed(None, key).format_message())
    retry = message.split("retry with `")[1].split("`")[0]
    params = parsed(f"civitai-orch submit - {retry}")
    assert params["external_id"] == key
    assert (params["yes"], params["as_json"], params["json_requested"]) == (False, False, False)


def test_the_save_hints_name_the_blob_and_the_workflow(
    authed: Run, api: respx.MockRouter, cli_home: object
) -> None:
    """They also dropped what was asked with them: `results --nsfw` listed mature outputs
    its hint did not download, `blob --workflow --nsfw-level` read another blob."""
    api.head(f"{API}/v2/consumer/blobs/-b").respond(204, headers={"content-length": "3"})
    looked_up = authed("blob", "--workflow=-wf", "--nsfw-level=r", "--", "-b")
    assert looked_up.exit_code == 0, looked_up.stderr
    saved = parsed(looked_up.stderr.split("Save it with: ")[1].strip())
    assert (saved["blob_id"], saved["download"]) == ("-b", True)
    assert (saved["workflow_id"], saved["nsfw_level"]) == ("-wf", "r")
    api.get(f"{API}/v2/consumer/workflows/-wf").respond(json={**WF, "id": "-wf"})
    for nsfw in ([], ["--nsfw"]):
        listed = authed("results", *nsfw, "--", "-wf")
        assert listed.exit_code == 0, listed.stderr
        saved = parsed(listed.stderr.split("Save them with: ")[1].strip())
        assert (saved["workflow_id"], saved["download"], saved["nsfw"]) == ("-wf", True, bool(nsfw))


@given(
    operand=st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\0"), min_size=1),
    value=st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\0")),
)
def test_any_printed_command_parses_back_to_its_words(operand: str, value: str) -> None:
    line = printable(command("blob", operand, options=["--download", option("--workflow", value)]))
    params = parsed(line)
    assert (params["blob_id"], params["workflow_id"], params["download"]) == (operand, value, True)
    assert params["json_requested"] is False


def test_the_login_hint_names_the_api_url(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    """It was written unquoted: a path with ``;`` or ``$(...)`` ran as commands."""
    _login(run, API)
    elsewhere = "https://elsewhere.test/v2;$(touch pwned)"
    monkeypatch.setenv("CIVITAI_API_URL", elsewhere)
    result = run("workflows")
    assert result.exit_code == ExitCode.AUTH
    (login,) = QUOTED.findall(result.stderr)
    assert parsed(login)["api_url"] == elsewhere
