"""`civitai-orch workflows --from LATER --to EARLIER`: swapped bounds are a usage error.

They printed "No workflows found." (exit 0) after asking the API for a range no
workflow can be in, so a user who swapped them believed there were none.
"""

from __future__ import annotations

import respx

from tests.cli.conftest import API, Run


def test_swapped_bounds_are_refused_before_any_request(authed: Run) -> None:
    with respx.mock(assert_all_called=False) as mock:
        route = mock.get(f"{API}/v2/consumer/workflows").respond(json={"items": [], "next": ""})
        result = authed("workflows", "--from", "2025-01-02", "--to", "2025-01-01")
        assert result.exit_code == 2
        assert "after --to" in result.stderr
        assert not route.called
        same_day = authed("workflows", "--from", "2025-01-01", "--to", "2025-01-01")
        assert same_day.exit_code == 0, same_day.stderr  # one whole day
        zoned = authed("workflows", "--from", "2025-01-01T23:30-05:00", "--to", "2025-01-02")
        assert zoned.exit_code == 0, zoned.stderr  # 04:30 UTC on the 2nd: inside
