"""The sync clients are the async ones' twins: same signatures, same requests on the wire."""

from __future__ import annotations

import asyncio
import inspect
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from civitai_app_sdk.errors import CivitaiError
from civitai_app_sdk.oauth import AsyncOAuthClient, DeviceAuthorization, OAuthClient
from civitai_app_sdk.orchestrator import AsyncOrchestratorClient, OrchestratorClient
from civitai_app_sdk.orchestrator.api import SyncApi

API = "https://orch.test"
BODY = {"steps": [{"$type": "textToImage", "input": {"prompt": "a cat"}}]}
AUTH = DeviceAuthorization(
    device_code="d" * 64,
    user_code="ABCD",
    verification_uri="https://auth.civitai.com/device",
    verification_uri_complete=None,
    expires_at=10**10,
    interval=1,
)
OPTIONS: dict[str, Any] = {"timeout": 4.0, "extra_headers": {"X-T": "1"}, "extra_query": {"q": "1"}}
INPUTS: dict[str, tuple[tuple[Any, ...], dict[str, Any]]] = {
    "estimate": ((BODY,), OPTIONS),
    "submit": ((BODY,), {"external_id": "k-1", "wait": 5, **OPTIONS}),
    "get": (("wf-1",), {"wait": 3, "hide_mature_content": True, **OPTIONS}),
    "poll": (("wf-1",), {"timeout": 0}),
    "cancel": (("wf-1",), OPTIONS),
    "add_tag": (("wf-1", "t"), OPTIONS),
    "remove_tag": (("wf-1", "a/.."), OPTIONS),
    "get_step": (("wf-1", "$0"), OPTIONS),
    "get_blob": (("b1",), {"workflow_id": "wf-1", "nsfw_level": "R", **OPTIONS}),
    "blob_size": (("b1",), {"workflow_id": "wf-1", "nsfw_level": "R", **OPTIONS}),
    "download_blob": (
        ("b1",),
        {"dir": "DIR", "overwrite": True, "workflow_id": "wf-1", "total_timeout": 60, **OPTIONS},
    ),
    "get_resource": (("urn:air:sdxl:checkpoint:civitai:1@2",), OPTIONS),
    "list": ((), {"tags": ["a", "b"], "take": 5, "ascending": True, **OPTIONS}),
    "iter_workflows": ((), {"tags": "a", "exclude_failed": True}),
    "exchange_code": (("c",), {"redirect_uri": "http://127.0.0.1/cb", "code_verifier": "v"}),
    "refresh_token": (("rt",), OPTIONS),
    "revoke_token": (("tok",), {"token_type_hint": "refresh_token", **OPTIONS}),
    "fetch_me": (("tok",), OPTIONS),
    "fetch_buzz_account": (("tok",), OPTIONS),
    "fetch_buzz_balances": (("tok",), OPTIONS),
    "start_device_authorization": ((["UserRead"],), OPTIONS),
    "poll_device_token": ((AUTH,), OPTIONS),
    "wait_for_device_token": ((AUTH,), {"max_wait": 60.0}),
}
PAIRS = [
    (OrchestratorClient, AsyncOrchestratorClient, ("tok",), {"base_url": API}),
    (OAuthClient, AsyncOAuthClient, ("app", "secret"), {"clock": lambda: 0.0}),
]


def _wire(request: httpx.Request) -> tuple[Any, ...]:
    headers = sorted((k, v) for k, v in request.headers.items() if k != "user-agent")
    # a poll's deadline cuts its timeouts to the time left, which moves by microseconds
    timeout = {part: round(value, 1) for part, value in request.extensions["timeout"].items()}
    return request.method, str(request.url), headers, request.content, timeout


def _record(act: Any, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
    with respx.mock(assert_all_called=False) as mock:
        route = mock.route().respond(503)
        try:
            result = act(*args, **kwargs)
            if hasattr(result, "__aiter__"):
                result = _consume(result)
            if hasattr(result, "__next__"):
                list(result)
            elif inspect.isawaitable(result):
                asyncio.run(_await(result))
        except CivitaiError:
            pass
        return [_wire(call.request) for call in route.calls]


async def _no_sleep(_: float) -> None:
    return None


async def _await(result: Any) -> Any:
    return await result


async def _consume(result: Any) -> None:
    async for _ in result:
        pass


@pytest.mark.parametrize(("sync_cls", "async_cls", "args", "kwargs"), PAIRS)
def test_sync_twin_has_the_same_methods_and_signatures(
    sync_cls: type, async_cls: type, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    sync, aio = sync_cls(*args, **kwargs), async_cls(*args, **kwargs)
    names = {n for n in dir(aio) if not n.startswith("_") and callable(getattr(aio, n))}
    twins = {"aclose": "close"}
    for name in names:
        twin = getattr(sync, twins.get(name, name), None)
        assert twin is not None, f"{sync_cls.__name__} lacks {name}"
        mine = inspect.signature(getattr(aio, name)).parameters
        theirs = inspect.signature(twin).parameters
        if name == "wait_for_device_token":  # sleep is a coroutine function in async
            mine = {k: v for k, v in mine.items() if k != "sleep"}  # type: ignore[assignment]
            theirs = {k: v for k, v in theirs.items() if k != "sleep"}  # type: ignore[assignment]
        assert list(mine.items()) == list(theirs.items()), name


@pytest.mark.parametrize(("sync_cls", "async_cls", "args", "kwargs"), PAIRS)
def test_sync_twin_sends_the_same_requests(
    sync_cls: type, async_cls: type, args: tuple[Any, ...], kwargs: dict[str, Any], tmp_path: Path
) -> None:
    aio_probe = async_cls(*args, **kwargs)
    names = [n for n in INPUTS if hasattr(aio_probe, n)]
    assert names, "no method of the async client has an input"
    covered = {n for n in dir(aio_probe) if n in INPUTS}
    public = {
        n for n in dir(aio_probe) if not n.startswith("_") and callable(getattr(aio_probe, n))
    }
    generated = {n for n in dir(SyncApi) if not n.startswith("_")} | {"recipes"}
    # the operation layer's methods: both flavours are driven in test_orch_operations.py
    allowed = {"with_options", "raw_responses", "authorize_url", "aclose", *generated}
    assert public - covered <= allowed
    for name in names:
        call_args, call_kwargs = INPUTS[name]
        call_args = tuple(str(tmp_path) if a == "DIR" else a for a in call_args)
        call_kwargs = {k: str(tmp_path) if v == "DIR" else v for k, v in call_kwargs.items()}
        extra = dict(max_retries=0) if "max_retries" not in kwargs else {}
        sync = sync_cls(*args, **kwargs, **extra)
        aio = async_cls(*args, **kwargs, **extra)
        sync_kw, aio_kw = dict(call_kwargs), dict(call_kwargs)
        if name == "wait_for_device_token":
            sync_kw["sleep"], aio_kw["sleep"] = (lambda _: None), _no_sleep
        sync_sent = _record(getattr(sync, name), *call_args, **sync_kw)
        aio_sent = _record(getattr(aio, name), *call_args, **aio_kw)
        assert sync_sent, f"{name} sent nothing"
        assert sync_sent == aio_sent, name
