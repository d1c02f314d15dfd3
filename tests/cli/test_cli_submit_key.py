"""`civitai-orch submit --external-id KEY`: a key the API cannot take is refused first.

A key outside ``[A-Za-z0-9_-]{1,128}`` was refused only after the estimate had been
asked for and the user had confirmed spending Buzz; an empty one (``--external-id ""``,
an unset shell variable) was dropped without a word for a fresh key, so a retry meant
to reuse a key could be charged again. Both are now usage errors before any request.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import respx
from test_cli_commands import BODY

from tests.cli.conftest import API, Run


@pytest.fixture
def api(authed: Run) -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as mock:
        yield mock


@pytest.mark.parametrize("key", ["bad key!", "", "x" * 129, "clé"])
def test_a_key_the_api_cannot_take_is_refused_before_any_request(
    api: respx.MockRouter, authed: Run, cli_home: Path, key: str
) -> None:
    route = api.post(f"{API}/v2/consumer/workflows").respond(json={"id": "wf-1"})
    body = cli_home / "work" / "wf.json"
    body.write_text(json.dumps(BODY))
    result = authed("submit", str(body), "--external-id", key, "--json", input="y\n")
    assert result.exit_code == 2, result.stderr
    assert "--external-id" in json.loads(result.stdout)["error"]["message"]
    assert not route.called  # not even the estimate
    assert "Submit and spend" not in result.stderr
