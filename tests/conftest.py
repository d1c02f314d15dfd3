"""Shared test configuration."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

# Speed is measured in bench/, never asserted here: on a loaded CI machine a property
# test's example may take longer than hypothesis's default 200 ms deadline.
settings.register_profile("civitai", deadline=None)
settings.load_profile("civitai")

collect_ignore = [] if os.environ.get("CIVITAI_BROWSER_TESTS") == "1" else ["browser"]
"""The real-browser tests run only under `make test-browser` (CIVITAI_BROWSER_TESTS=1):
whatever `-m` a run passes, they never share a worker with the rest of the suite."""


@pytest.fixture
def anyio_backend() -> str:
    """Run `@pytest.mark.anyio` tests on asyncio only."""
    return "asyncio"
