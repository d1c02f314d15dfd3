"""A crash in a serve-local handler answers 500 ProblemDetails and keeps the connection.

Starlette's catch-all answered the 500 and then re-raised, so uvicorn closed the
kept-alive connection without a ``Connection: close``: the client's next request on it
was reset (or, if the close came first, went over a new connection).
"""

from __future__ import annotations

import logging

import httpx
import pytest
from local_helpers import TOKEN

from civitai_app_sdk.local import LocalServer
from civitai_app_sdk.local import workflows as local_workflows


def _local_port(response: httpx.Response) -> int:
    """The client's port of the connection the response came over."""
    port: int = response.extensions["network_stream"].get_extra_info("client_addr")[1]
    return port


def test_a_crashing_handler_answers_500_and_the_connection_serves_the_next_request(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def crash(_: object) -> None:
        raise ZeroDivisionError("injected crash")

    monkeypatch.setattr(local_workflows, "query_workflows", crash)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with (
        caplog.at_level(logging.ERROR),
        LocalServer() as server,
        httpx.Client(base_url=server.url, headers=headers, timeout=10) as client,
    ):
        crashed = client.get("/v2/consumer/workflows")
        first_port = _local_port(crashed)
        after = client.get("/v2/consumer/workflows/no-such-workflow")
        assert _local_port(after) == first_port  # the same kept-alive connection
    assert crashed.status_code == 500
    assert crashed.headers["content-type"] == "application/problem+json"
    assert crashed.json()["status"] == 500
    assert "connection" not in crashed.headers
    assert after.status_code == 404
    assert "injected crash" in caplog.text  # the traceback is still logged
