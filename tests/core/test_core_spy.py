"""Every public I/O function, method and CLI command sends through the one request core.

A spy on the core's effect performers records each request the core sends; respx
records each request that reaches the network. Any request that bypassed the core
would show up only in the second list.
"""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from click.testing import CliRunner
from core_helpers import API, BODY, workflow

from civitai_app_sdk import oauth, orchestrator
from civitai_app_sdk._transport import AsyncTransport, Send, SyncTransport
from civitai_app_sdk.cli import COMMANDS, main
from civitai_app_sdk.errors import CivitaiError
from civitai_app_sdk.oauth import (
    AsyncOAuthClient,
    DeviceAuthorization,
    MemoryTokenStore,
    OAuthClient,
    RefreshingTokenProvider,
    TokenSet,
)
from civitai_app_sdk.orchestrator import AsyncOrchestratorClient, OrchestratorClient
from civitai_app_sdk.orchestrator.api import SyncApi

STEP: dict[str, Any] = {
    "$type": "textToImage",
    "name": "step_0",
    "status": "succeeded",
    "input": {"prompt": "a cat"},
    "output": {
        "images": [
            {"type": "image", "id": "IMG.png", "available": True, "url": "https://cdn.test/IMG.png"}
        ]
    },
}
WORKFLOW = workflow(steps=[STEP])
TOKENS = {"access_token": "at-1", "token_type": "Bearer", "expires_in": 3600, "scope": "1"}
DEVICE = {
    "device_code": "d" * 64,
    "user_code": "ABCD-EFGH",
    "verification_uri": "https://auth.civitai.com/device",
    "expires_in": 900,
    "interval": 1,
}
NO_IO = {"with_options", "raw_responses", "authorize_url", "close", "aclose"}


def _answer(request: httpx.Request) -> httpx.Response:
    path = request.url.path
    if path.endswith(("/oauth/token", "/device-token")):
        return httpx.Response(200, json=TOKENS)
    if path.endswith("/oauth/device"):
        return httpx.Response(200, json=DEVICE)
    if "/blobs/" in path or request.url.host == "cdn.test":
        return httpx.Response(200, content=b"png", headers={"content-type": "image/png"})
    if path == "/v2/consumer/workflows" and request.method == "GET":
        return httpx.Response(200, json={"items": [WORKFLOW], "next": None})
    if "/steps/" in path:
        return httpx.Response(200, json=STEP)
    if path.startswith("/v2/consumer/workflows"):
        return httpx.Response(200, json=WORKFLOW)
    return httpx.Response(200, json={})


@pytest.fixture
def wire(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[list[httpx.Request], respx.Route]]:
    """(requests the core sent, the respx route every request on the network hits)."""
    sent: list[httpx.Request] = []
    sync_perform, async_perform = SyncTransport._perform, AsyncTransport._perform

    def spy_sync(self: SyncTransport, effect: Any) -> Any:
        if isinstance(effect, Send):
            sent.append(effect.request)
        return sync_perform(self, effect)

    async def spy_async(self: AsyncTransport, effect: Any) -> Any:
        if isinstance(effect, Send):
            sent.append(effect.request)
        return await async_perform(self, effect)

    monkeypatch.setattr(SyncTransport, "_perform", spy_sync)
    monkeypatch.setattr(AsyncTransport, "_perform", spy_async)
    monkeypatch.setattr(oauth.DevicePoller, "next_delay", lambda self: 0.0)
    with respx.mock(assert_all_called=False) as mock:
        yield sent, mock.route().mock(side_effect=_answer)


def _expect_through_core(
    wire: tuple[list[httpx.Request], respx.Route], act: Callable[..., Any], *args: Any, **kw: Any
) -> None:
    sent, network = wire
    before_core, before_net = len(sent), network.call_count
    try:
        result = _drain(act(*args, **kw))
        if inspect.isawaitable(result):
            asyncio.run(_await(result))
    except CivitaiError:
        pass  # a lenient answer may not parse; only where the request went matters
    reached = network.calls[before_net:]
    assert reached, "no request reached the network"
    on_wire = [(c.request.method, str(c.request.url)) for c in reached]
    assert on_wire == [(r.method, str(r.url)) for r in sent[before_core:]], "bypassed the core"


async def _await(result: Any) -> Any:
    return await result


def _public_io(client: object) -> set[str]:
    """Public I/O methods written by hand (the generated operation methods, which all
    send through ``_perform`` -> ``_run``, are driven through the core spy in
    ``tests/orchestrator/test_orch_operations.py``)."""
    names = {n for n in dir(client) if not n.startswith("_")}
    return {n for n in names if callable(getattr(client, n))} - NO_IO - _GENERATED


_GENERATED = {n for n in dir(SyncApi) if not n.startswith("_")} | {"recipes"}
"""What the operation layer adds (rendered methods, ``recipes``, upload and archive)."""


AUTH = DeviceAuthorization.from_response(DEVICE, now=0.0)
ORCH_CALLS: dict[str, tuple[tuple[Any, ...], dict[str, Any]]] = {
    "estimate": ((BODY,), {}),
    "submit": ((BODY,), {}),
    "get": (("wf-1",), {}),
    "poll": (("wf-1",), {}),
    "cancel": (("wf-1",), {}),
    "add_tag": (("wf-1", "t"), {}),
    "remove_tag": (("wf-1", "t"), {}),
    "get_step": (("wf-1", "step_0"), {}),
    "get_blob": (("IMG.png",), {}),
    "blob_size": (("IMG.png",), {}),
    "download_blob": (("IMG.png",), {"dir": "PLACEHOLDER"}),
    "get_resource": (("urn:air:sdxl:checkpoint:civitai:1@2",), {}),
    "list": ((), {}),
    "iter_workflows": ((), {}),
}
OAUTH_CALLS: dict[str, tuple[tuple[Any, ...], dict[str, Any]]] = {
    "exchange_code": (("code",), {"redirect_uri": "http://127.0.0.1/cb", "code_verifier": "v"}),
    "refresh_token": (("rt",), {}),
    "revoke_token": (("tok",), {}),
    "fetch_me": (("tok",), {}),
    "fetch_buzz_account": (("tok",), {}),
    "fetch_buzz_balances": (("tok",), {}),
    "start_device_authorization": ((1,), {}),
    "poll_device_token": ((AUTH,), {}),
    "wait_for_device_token": ((AUTH,), {}),
}


def _drain(result: Any) -> Any:
    if hasattr(result, "__aiter__"):

        async def consume() -> None:
            async for _ in result:
                pass

        return consume()
    if hasattr(result, "__next__"):
        return list(result)
    return result


@pytest.mark.parametrize("cls", [OrchestratorClient, AsyncOrchestratorClient])
def test_every_orchestrator_method_goes_through_the_core(
    cls: type, wire: Any, tmp_path: Path
) -> None:
    assert _public_io(cls("tok", base_url=API)) == set(ORCH_CALLS), "add it to ORCH_CALLS"
    for name, (args, kwargs) in ORCH_CALLS.items():
        args = tuple(str(tmp_path) if a == "PLACEHOLDER" else a for a in args)
        kwargs = {k: str(tmp_path) if v == "PLACEHOLDER" else v for k, v in kwargs.items()}
        client = cls("tok", base_url=API)
        _expect_through_core(wire, getattr(client, name), *args, **kwargs)


@pytest.mark.parametrize("cls", [OAuthClient, AsyncOAuthClient])
def test_every_oauth_method_goes_through_the_core(cls: type, wire: Any) -> None:
    assert _public_io(cls("app")) == set(OAUTH_CALLS), "add it to OAUTH_CALLS"
    for name, (args, kwargs) in OAUTH_CALLS.items():
        client = cls("app")
        extra = {"sleep": (lambda _: _nowait()) if cls is AsyncOAuthClient else (lambda _: None)}
        options = extra if name == "wait_for_device_token" else {}
        _expect_through_core(wire, getattr(client, name), *args, **kwargs, **options)


async def _nowait() -> None:
    return None


def test_every_module_function_goes_through_the_core(wire: Any) -> None:
    client = OrchestratorClient("tok", base_url=API)
    for name in orchestrator.functions.__all__:
        args: tuple[Any, ...] = (BODY,) if "estimate" in name or "submit" in name else ("wf-1",)
        _expect_through_core(wire, getattr(orchestrator, name), client, *args)
    one_shots = {
        "exchange_code": lambda: oauth.exchange_code(
            "c", client_id="app", redirect_uri="http://127.0.0.1/cb", code_verifier="v"
        ),
        "refresh_token": lambda: oauth.refresh_token("rt", client_id="app"),
        "revoke_token": lambda: oauth.revoke_token("t", client_id="app"),
        "fetch_me": lambda: oauth.fetch_me("t"),
        "fetch_buzz_account": lambda: oauth.fetch_buzz_account("t"),
        "fetch_buzz_balances": lambda: oauth.fetch_buzz_balances("t"),
    }
    for act in one_shots.values():
        _expect_through_core(wire, act)


def test_token_refresh_goes_through_the_core(wire: Any) -> None:
    def expired() -> MemoryTokenStore:
        return MemoryTokenStore(TokenSet(access_token="old", refresh_token="rt", expires_at=1.0))

    sync = RefreshingTokenProvider(expired(), client=OAuthClient("app"))
    _expect_through_core(wire, sync.get_token)
    tokens = RefreshingTokenProvider(expired(), async_client=AsyncOAuthClient("app"))
    _expect_through_core(wire, tokens.aget_token)


CLI_RUNS: dict[str, list[str]] = {
    "test": ["test"],
    "user": ["user", "someone"],
    "workflows": ["workflows", "--json"],
    "workflow": ["workflow", "wf-1", "--json"],
    "job": ["job", "job-1", "--json"],
    "step": ["step", "wf-1", "step_0", "--json"],
    "results": ["results", "wf-1", "--download", "--json"],
    "blob": ["blob", "IMG.png", "--json"],
    "estimate": ["estimate", "body.json", "--json"],
    "submit": ["submit", "body.json", "--yes", "--json"],
    "cancel": ["cancel", "wf-1", "--json"],
    "delete": ["delete", "wf-1", "--yes", "--json"],
    "tags": ["tags", "wf-1", "--add", "t", "--json"],
    "upload": ["upload", "img.png", "--json"],
    "recipe": ["recipe", "textToImage", "input.json", "--estimate", "--json"],
    "login": ["login", "--client-id", "app", "--json"],
}
CLI_WITHOUT_NETWORK = {"scopes", "logout", "block", "serve-local"}


def test_every_cli_command_goes_through_the_core(
    wire: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert set(CLI_RUNS) | CLI_WITHOUT_NETWORK == set(COMMANDS), "add the new command here"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CIVITAI_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("CIVITAI_API_TOKEN", "tok")
    monkeypatch.setenv("CIVITAI_API_URL", API)
    (tmp_path / "body.json").write_text(json.dumps(BODY))
    (tmp_path / "input.json").write_text(json.dumps({"prompt": "a cat"}))
    (tmp_path / "img.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(16))
    for argv in CLI_RUNS.values():
        _expect_through_core(wire, CliRunner().invoke, main, argv, catch_exceptions=False)


def test_the_demo_goes_through_the_core(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from civitai_app_sdk import demo

    sent: list[tuple[str, str]] = []
    wire: list[tuple[str, str]] = []
    perform, handle = SyncTransport._perform, httpx.HTTPTransport.handle_request

    def spy(self: SyncTransport, effect: Any) -> Any:
        if isinstance(effect, Send):
            sent.append((effect.request.method, str(effect.request.url)))
        return perform(self, effect)

    def on_wire(self: httpx.HTTPTransport, request: httpx.Request) -> httpx.Response:
        wire.append((request.method, str(request.url)))
        return handle(self, request)

    monkeypatch.setattr(SyncTransport, "_perform", spy)
    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", on_wire)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CIVITAI_API_TOKEN", raising=False)
    assert demo.main([]) == 0
    capsys.readouterr()
    hops = [w for w in wire if "/blobs/content/" in w[1]]  # redirects the core's send followed
    assert len(hops) == len([s for s in sent if "/v2/consumer/blobs/" in s[1]]) == 2
    assert [w for w in wire if w not in hops] == sent
