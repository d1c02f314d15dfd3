"""Fixtures for the local server tests: a server on a manual clock and an httpx client."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from local_helpers import TOKEN

from civitai_app_sdk.local import LocalConfig, LocalServer, ManualClock


@pytest.fixture
def clock() -> ManualClock:
    """Time that only moves when a test (or a long-poll) moves it."""
    return ManualClock()


@pytest.fixture
def config() -> LocalConfig:
    """The server configuration; override in a test module to change it."""
    return LocalConfig()


@pytest.fixture
def server(config: LocalConfig, clock: ManualClock) -> Iterator[LocalServer]:
    """A running local server on a free loopback port."""
    with LocalServer(config, clock=clock) as running:
        yield running


@pytest.fixture
def api(server: LocalServer) -> Iterator[httpx.Client]:
    """An httpx client for the server, with a Bearer token."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=10) as client:
        yield client
