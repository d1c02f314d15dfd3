"""`civitai-orch cancel` of a workflow that has already ended says so.

The API answers a cancel of a finished workflow with 204 and does nothing; the CLI
printed "Canceled wf-1." (``"canceled": true``), so a user believed a succeeded
workflow was stopped and refunded. The workflow is read first: one that has ended is
reported as it is and no cancel is sent; a read that fails never stands in the way
of a cancel.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import respx
from test_cli_commands import WF

from tests.cli.conftest import API, Run

WORKFLOW = f"{API}/v2/consumer/workflows/wf-1"


@pytest.fixture
def api(authed: Run) -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as mock:
        yield mock


@pytest.mark.parametrize("status", ["succeeded", "failed", "expired"])
def test_an_ended_workflow_is_not_reported_canceled(
    api: respx.MockRouter, authed: Run, status: str
) -> None:
    api.get(WORKFLOW).respond(json={**WF, "status": status})
    put = api.put(WORKFLOW).respond(204)
    result = authed("cancel", "wf-1")
    assert result.exit_code == 0, result.stderr
    assert "Canceled" not in result.stdout
    assert f"already ended {status}" in result.stdout
    document = json.loads(authed("cancel", "wf-1", "--json").stdout)
    assert document == {"id": "wf-1", "canceled": False, "status": status}
    assert not put.called


@pytest.mark.parametrize("answer", [{"status": "processing"}, {"status": "canceled"}, None])
def test_a_running_or_unreadable_workflow_is_canceled(
    api: respx.MockRouter, authed: Run, answer: dict[str, str] | None
) -> None:
    if answer is None:
        api.get(WORKFLOW).respond(500, json={"title": "down"})
    else:
        api.get(WORKFLOW).respond(json={**WF, **answer})
    put = api.put(WORKFLOW).respond(204)
    result = authed("cancel", "wf-1", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {"id": "wf-1", "canceled": True}
    assert json.loads(put.calls.last.request.content) == {"status": "canceled"}


def test_the_look_before_a_cancel_is_short_so_a_slow_api_barely_delays_it(
    api: respx.MockRouter, authed: Run
) -> None:
    # the read went out with the client's own timeout (a minute by default), so an API
    # slow to answer, when people cancel most, held the cancel of a workflow spending Buzz
    get = api.get(WORKFLOW).respond(json={**WF, "status": "processing"})
    api.put(WORKFLOW).respond(204)
    assert authed("cancel", "wf-1", "--json").exit_code == 0
    timeouts = get.calls.last.request.extensions["timeout"]
    assert max(t for t in timeouts.values() if t is not None) <= 5.0
