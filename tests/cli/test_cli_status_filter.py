"""`civitai-orch workflows --status S` filters the page fetched, not the whole list.

When no workflow of the page had the status, it printed "No workflows found." and
then "Next page: …": read as "you have none", while later pages could hold some. It
now says how many were fetched and that none of them has the status.
"""

from __future__ import annotations

import copy

import respx
from test_cli_commands import WF

from tests.cli.conftest import API, Run


def test_a_page_with_none_of_the_statuses_says_so(authed: Run) -> None:
    page = {"next": "C2", "items": [WF, copy.deepcopy(WF) | {"id": "wf-2"}]}
    with respx.mock(assert_all_called=False) as mock:
        mock.get(f"{API}/v2/consumer/workflows").respond(json=page)
        result = authed("workflows", "--status", "failed", "--status", "expired")
    assert result.exit_code == 0, result.stderr
    assert "No workflows found." not in result.stdout
    assert "None of the 2 workflows on this page is failed or expired." in result.stdout
    assert "Next page: civitai-orch workflows --status=failed --status=expired" in result.stderr
