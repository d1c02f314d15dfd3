"""A 2xx web page (a captive portal, a proxy, a website at the API's URL) is no answer.

Before, the calls that read no body (``cancel``, tag changes, ``delete``) took such a
page for success, so a user cancelling to stop spending Buzz was told it worked while the
workflow ran on.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from typing import Any

import anyio
import pytest
import respx

from civitai_app_sdk.errors import ResponseValidationError
from civitai_app_sdk.orchestrator import AsyncOrchestratorClient, OrchestratorClient

BASE = "https://orch.test"
TOKEN = "0123456789abcdef0123456789abcdef"
PAGE = "<!doctype html><html><body>Sign in to the Wi-Fi</body></html>"
WF = "/v2/consumer/workflows/wf-1"

Call = Callable[[Any], Any]

NO_BODY: dict[str, tuple[str, str, Call, str]] = {
    "cancel": ("PUT", WF, lambda c: c.cancel("wf-1"), "cancel may not have happened"),
    "add_tag": ("POST", f"{WF}/tags", lambda c: c.add_tag("wf-1", "t"), "not have been added"),
    "remove_tag": (
        "DELETE",
        f"{WF}/tags/t",
        lambda c: c.remove_tag("wf-1", "t"),
        "not have been removed",
    ),
    "delete": ("DELETE", WF, lambda c: c.delete("wf-1"), "may not have happened"),
}


def _both(call: Call) -> list[Any]:
    """What ``call`` gives with the sync client, then with the async one (or its error)."""
    outcomes: list[Any] = []
    with OrchestratorClient(TOKEN, base_url=BASE) as client:
        try:
            outcomes.append(call(client))
        except Exception as error:  # compared below
            outcomes.append(error)

    async def main() -> None:
        async with AsyncOrchestratorClient(TOKEN, base_url=BASE) as client:
            try:
                outcomes.append(await call(client))
            except Exception as error:  # compared below
                outcomes.append(error)

    anyio.run(main)
    return outcomes


@pytest.mark.parametrize("name", list(NO_BODY))
@pytest.mark.parametrize("header", [{"content-type": "text/html; charset=utf-8"}, {}])
def test_a_web_page_for_a_call_with_no_body_is_an_error(name: str, header: dict[str, str]) -> None:
    method, path, call, consequence = NO_BODY[name]
    with respx.mock(base_url=BASE) as api:
        api.route(method=method, path=path).respond(200, content=PAGE.encode(), headers=header)
        outcomes = _both(call)
    for error in outcomes:
        assert isinstance(error, ResponseValidationError), error
        assert consequence in str(error)
        assert "web page" in str(error)
        assert "CIVITAI_API_URL" in str(error)
        assert "Upgrade" not in str(error)
        assert error.status == 200
        assert error.body_text == PAGE
        assert pickle.loads(pickle.dumps(error)).hint == error.hint


@pytest.mark.parametrize("name", list(NO_BODY))
def test_an_empty_or_json_answer_to_a_call_with_no_body_still_succeeds(name: str) -> None:
    method, path, call, _ = NO_BODY[name]
    with respx.mock(base_url=BASE) as api:
        route = api.route(method=method, path=path)
        route.side_effect = [
            respx.MockResponse(204),
            respx.MockResponse(200, json={"ok": True}),
            respx.MockResponse(204),
            respx.MockResponse(200, json={"ok": True}),
        ]
        assert _both(call) == [None, None]
        assert _both(call) == [None, None]


def test_a_web_page_for_a_json_answer_names_the_url_not_an_upgrade() -> None:
    with respx.mock(base_url=BASE) as api:
        api.get(WF).respond(200, html=PAGE)
        outcomes = _both(lambda c: c.get("wf-1"))
    for error in outcomes:
        assert isinstance(error, ResponseValidationError)
        assert "web page" in str(error)
        assert "CIVITAI_API_URL" in str(error)
        assert "Upgrade" not in str(error)
