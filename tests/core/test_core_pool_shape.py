"""The SDK's mends of httpcore's pool (spare held connections, reclaim cancelled slots,
forget connections in a fork) need its private state; a pool without it is left alone.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from civitai_app_sdk import _fork
from civitai_app_sdk._held import spare_held
from civitai_app_sdk._pools import pool_of
from civitai_app_sdk._reclaim import reclaim


@pytest.mark.parametrize("kind", [httpx.HTTPTransport, httpx.AsyncHTTPTransport])
def test_the_installed_httpcore_has_the_pool_state_the_mends_use(kind: type[Any]) -> None:
    # an httpcore that changed it fails here, not silently in a busy service
    transport = kind()
    assert pool_of(transport) is transport._pool


@pytest.mark.parametrize("missing", ["_requests", "_connections", "_optional_thread_lock"])
def test_a_pool_of_another_shape_is_left_alone(missing: str) -> None:
    sync, asynchronous = httpx.HTTPTransport(), httpx.AsyncHTTPTransport()
    for transport in (sync, asynchronous):
        delattr(transport._pool, missing)
        assert pool_of(transport) is None
    spare_held(sync)
    assert "_assign_requests_to_connections" not in vars(sync._pool)  # not wrapped
    asyncio.run(reclaim(asynchronous, None))  # no AttributeError over the real failure
    _fork.track(sync)
    assert sync._pool not in _fork._POOLS
    known = httpx.HTTPTransport()
    _fork.track(known)
    assert known._pool in _fork._POOLS
