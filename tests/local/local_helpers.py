"""Shared values for the local server tests (a module name unique across the test tree)."""

from __future__ import annotations

from typing import Any

TOKEN = "local-test-token"


def text_to_image(
    prompt: str = "a lighthouse at dusk", *, quantity: int = 1, **extra: Any
) -> dict[str, Any]:
    """A valid SubmitWorkflow body with one textToImage step; ``extra`` are body fields."""
    step_input = {
        "prompt": prompt,
        "cfgScale": 7,
        "width": 512,
        "height": 512,
        "quantity": quantity,
    }
    return {"currencies": [], "steps": [{"$type": "textToImage", "input": step_input}], **extra}
