"""A 403 whose body is a bare JSON string means "not enough Buzz" on a submit only.

The API answers a refused submit (or recipe) with the denial as a JSON string; every
other 403 is problem details. A read answered so (a proxy, a firewall, a blob above the
accepted rating) raised ``InsufficientBuzzError``, whose message says "Nothing was
charged. Top up Buzz": during a wait after a charged submit, that was false.
"""

from __future__ import annotations

from typing import Any

import pytest

from civitai_app_sdk import errors
from civitai_app_sdk.orchestrator import build_text_to_image_body

BODY = build_text_to_image_body({"prompt": "a cat"})


def test_a_read_refused_with_a_string_is_forbidden_not_insufficient_buzz(
    client: Any, api: Any
) -> None:
    api.get("/v2/consumer/workflows/w1").respond(403, json="Forbidden by policy")
    with pytest.raises(errors.ForbiddenError) as info:
        client.get("w1")
    assert not isinstance(info.value, errors.InsufficientBuzzError)
    assert "Top up" not in str(info.value)
    assert "Forbidden by policy" in str(info.value)


def test_a_submit_refused_with_a_string_is_still_insufficient_buzz(client: Any, api: Any) -> None:
    api.post("/v2/consumer/workflows").respond(403, json="Insufficient buzz")
    with pytest.raises(errors.InsufficientBuzzError):
        client.submit(BODY)
