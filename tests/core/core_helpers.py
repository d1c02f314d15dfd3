"""Shared values for the request-core tests (a module name unique across the test tree)."""

from __future__ import annotations

from typing import Any

API = "https://orch.test"
BODY: dict[str, Any] = {"steps": [{"$type": "textToImage", "input": {"prompt": "a cat"}}]}


def workflow(
    status: str = "succeeded", steps: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The smallest workflow body the models read, with ``status`` and ``steps``."""
    return {
        "id": "wf-1",
        "createdAt": "2026-01-21T22:21:26Z",
        "status": status,
        "cost": {"base": 4, "tips": {"civitai": 0, "creators": 0}, "total": 4},
        "tips": {"civitai": 0, "creators": 0},
        "transactions": {"list": []},
        "steps": steps or [],
    }
