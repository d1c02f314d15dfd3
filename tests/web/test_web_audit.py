"""Regressions from the adversarial audit of the web helpers (issue 20)."""

from __future__ import annotations

import httpx
import pytest

from civitai_app_sdk.local import LocalServer

from .test_web_asgi import APP, asgi_client, make_app, server, sign_in

pytestmark = pytest.mark.anyio
__all__ = ["server"]  # the module-scoped local OAuth server fixture


async def test_a_cookie_header_split_in_several_fields_still_carries_the_session(
    server: LocalServer,
) -> None:
    # HTTP/2 may send each cookie in its own `cookie` field (RFC 9113 8.2.3); before,
    # only the first field was read, so the session was lost
    app, _ = make_app(server)
    async with asgi_client(app) as client:
        await sign_in(client)
        session = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
        client.cookies.clear()
        headers = httpx.Headers([("cookie", "theme=dark"), ("cookie", session)])
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=APP) as bare:
            answer = await bare.get("/me", headers=headers)
    assert answer.status_code == 200
    assert answer.text == "local-user"
