"""An error message reads as sentences: a server's words that end with a full stop are
not followed by another one.

"failed with HTTP 500: Injected server error.. A service-side failure" came from a
problem detail ending with "." and the error's hint (and the retry note after it)
joined with ". ".
"""

from __future__ import annotations

from typing import Any

import pytest

from civitai_app_sdk import errors
from civitai_app_sdk.orchestrator import build_text_to_image_body

BODY = build_text_to_image_body({"prompt": "a cat"})


@pytest.mark.parametrize("end", [".", "!", "?"])
def test_a_detail_ending_a_sentence_gets_no_second_full_stop(
    client: Any, api: Any, end: str
) -> None:
    problem = {"title": "Server Error", "detail": f"Something broke{end}"}
    api.get("/v2/consumer/workflows/w1").respond(500, json=problem)
    api.post("/v2/consumer/workflows").respond(500, json=problem)
    with pytest.raises(errors.ServerError) as read:
        client.with_options(max_retries=0).get("w1")
    with pytest.raises(errors.ServerError) as submitted:
        client.with_options(max_retries=0).submit(BODY)
    for error in (read.value, submitted.value):
        assert f"{end}." not in str(error)
        assert f"Something broke{end} A service-side failure" in str(error)
    assert ". The workflow may have been created" in str(submitted.value)


def test_an_argument_refused_is_not_called_a_json_field(client: Any) -> None:
    """`get("..")` said "Fix these fields (names are the API's camelCase JSON names)"
    of ``workflow_id``, a Python argument; a body's problems still name JSON fields."""
    with pytest.raises(errors.RequestValidationError) as argument:
        client.get("..")
    assert "camelCase" not in str(argument.value)
    assert str(argument.value).startswith("invalid argument, nothing was sent: workflow id: ")
    with pytest.raises(errors.RequestValidationError) as body:
        client.submit({"steps": []})
    assert "camelCase JSON names" in str(body.value)
