"""The FastAPI example of the docs signs a user in through the local OAuth server."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import httpx
import pytest

from civitai_app_sdk.local import LocalServer

EXAMPLE = Path(__file__).parents[2] / "examples" / "web_login_fastapi.py"
APP = "http://127.0.0.1:5998"
pytestmark = pytest.mark.anyio


def load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("web_login_fastapi_example", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_the_example_signs_in_and_greets(monkeypatch: pytest.MonkeyPatch) -> None:
    with LocalServer() as server:
        for key, value in {
            "CIVITAI_CLIENT_ID": "docs-example",
            "APP_URL": APP,
            "COOKIE_SECRET": "n" * 43 + "," + "o" * 43,
            "CIVITAI_OAUTH_URL": server.url,
            "CIVITAI_SITE_URL": server.url,
        }.items():
            monkeypatch.setenv(key, value)
        app = load().app
        transport = httpx.ASGITransport(app)
        async with (
            httpx.AsyncClient(transport=transport, base_url=APP) as client,
            httpx.AsyncClient() as oauth_server,
        ):
            home = await client.get("/")
            assert "Sign in with Civitai" in home.text
            assert (await client.get("/me")).status_code == 303
            start = await client.get("/auth/login", params={"next": "/me"})
            consent = await oauth_server.get(start.headers["location"])
            done = await client.get(consent.headers["location"])
            assert done.headers["location"] == "/me"
            assert (await client.get("/me")).json() == {"id": 1, "username": "local-user"}
            assert "Hello local-user" in (await client.get("/")).text
