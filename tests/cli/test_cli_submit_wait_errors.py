"""`civitai-orch submit --wait`: an error while waiting still names what was bought.

A 404 while following the workflow just paid for (an ephemeral workflow is gone once it
finishes; a proxy or a replica that has not seen it yet) ended with "not found: check
the id", naming neither the workflow nor its retry key; a 403 string answer said
"nothing was charged". Now the error names the workflow and its key (in ``--json``
too), and a read's 403 is a permission error.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import respx
from test_cli_commands import BODY, WF

from civitai_app_sdk.cli._exit import ExitCode
from tests.cli.conftest import API, Run


@pytest.fixture
def api(authed: Run) -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as mock:
        mock.post(f"{API}/v2/consumer/workflows").respond(202, json={**WF, "status": "processing"})
        yield mock


def _submit(authed: Run, cli_home: Path, *extra: str) -> tuple[int, str, str]:
    body = cli_home / "work" / "wf.json"
    body.write_text(json.dumps(BODY))
    args = ("submit", str(body), "--yes", "--wait", "--external-id", "key-7", *extra)
    result = authed(*args)
    return result.exit_code, result.stdout, result.stderr


def test_a_404_while_waiting_names_the_workflow_and_its_key(
    api: respx.MockRouter, authed: Run, cli_home: Path
) -> None:
    api.get(f"{API}/v2/consumer/workflows/wf-1").respond(404, json={"title": "Not Found"})
    code, _, stderr = _submit(authed, cli_home)
    assert code == ExitCode.NOT_FOUND
    assert "wf-1" in stderr.split("error:")[1]
    assert "--external-id=key-7" in stderr
    code, stdout, _ = _submit(authed, cli_home, "--json")
    document = json.loads(stdout)
    assert (document["id"], document["externalId"]) == ("wf-1", "key-7")
    assert document["error"]["exitCode"] == ExitCode.NOT_FOUND


def test_a_403_string_while_waiting_is_no_buzz_refusal(
    api: respx.MockRouter, authed: Run, cli_home: Path
) -> None:
    api.get(f"{API}/v2/consumer/workflows/wf-1").respond(403, json="Forbidden")
    code, _, stderr = _submit(authed, cli_home)
    assert code == ExitCode.FORBIDDEN
    assert "nothing was charged" not in stderr
    assert "wf-1" in stderr.split("error:")[1]


@pytest.mark.parametrize("missing", [None, ""])
@pytest.mark.parametrize("extra", [[], ["--wait"]])
def test_an_answer_without_a_workflow_id_gives_the_key(
    authed: Run, cli_home: Path, missing: str | None, extra: list[str]
) -> None:
    """A 200 answer naming no workflow printed "Submitted workflow  (processing)" and
    "Follow it with: civitai-orch workflow '' --wait", exit 0 (``--wait`` skipped): the
    user had paid and held neither an id nor the retry key."""
    with respx.mock(assert_all_called=False) as mock:
        answer = {**WF, "id": missing, "status": "processing"}
        mock.post(f"{API}/v2/consumer/workflows").respond(json=answer)
        code, _, stderr = _submit(authed, cli_home, *extra)
        assert code == ExitCode.ERROR
        assert "named no workflow id" in stderr
        assert "--external-id=key-7" in stderr
        assert "civitai-orch workflows" in stderr
        assert "workflow ''" not in stderr
        code, stdout, _ = _submit(authed, cli_home, *extra, "--json")
        assert code == ExitCode.ERROR
        document = json.loads(stdout)
        assert document["externalId"] == "key-7"
        assert document["error"]["exitCode"] == ExitCode.ERROR
