"""A call that spends Buzz (submit, a recipe) needs AIServicesWrite on the local server:
a read-only token gets the API's 403 string and nothing runs or is charged; a whatif or
a read is still answered, and a token without AIServices scopes gets the 403 problem."""

from __future__ import annotations

import httpx
import pytest
from local_helpers import text_to_image

from civitai_app_sdk.local import LocalServer
from civitai_app_sdk.scopes import TokenScope

SPEND = "The token is not allowed to spend Buzz (AIServicesWrite)."
ECHO = {"message": "hi"}


def _token(server: LocalServer, scope: int) -> httpx.Client:
    access, _ = server.state.tokens.mint("app", scope, server.state.clock.now())
    headers = {"Authorization": f"Bearer {access}"}
    return httpx.Client(base_url=server.url, headers=headers, timeout=10)


@pytest.mark.parametrize(
    ("path", "body"),
    [("/v2/consumer/workflows", text_to_image()), ("/v2/consumer/recipes/echo", ECHO)],
    ids=["submit", "recipe"],
)
def test_a_read_only_token_cannot_spend(server: LocalServer, path: str, body: object) -> None:
    with _token(server, int(TokenScope.AIServicesRead)) as api:
        refused = api.post(path, json=body)
        assert (refused.status_code, refused.json()) == (403, SPEND)
        assert not server.state.store.workflows
        assert api.get("/v2/consumer/workflows").status_code == 200
    with _token(server, int(TokenScope.UserRead)) as api:
        lacking = api.post(path, json=body)
        assert lacking.status_code == 403
        assert lacking.json()["detail"] == "The token lacks the scope this operation needs."
    with _token(server, int(TokenScope.AIServicesRead | TokenScope.AIServicesWrite)) as api:
        assert api.post(path, json=body).status_code == 200
    assert len(server.state.store.workflows) == 1
