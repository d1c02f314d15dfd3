"""A response keeps a value outside the spec's bounds or pattern; requests are still held to it.

The service may widen a range (more steps, a larger size) or a format (a new AIR form)
before the spec says so: a workflow echoing such an input must stay readable, with the
value as sent, or a paid result could not be fetched.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from civitai_app_sdk_generated import TextToImageInput, TextToImageStep, Workflow
from pydantic import TypeAdapter, ValidationError

from civitai_app_sdk.errors import RequestValidationError, ResponseValidationError
from civitai_app_sdk.orchestrator import validate_workflow_body
from civitai_app_sdk.orchestrator._reading import read
from codegen.postprocess import keep_out_of_bounds
from tests.orchestrator.conftest import workflow_json

WIDENED: dict[str, Any] = {
    "cfgScale": 45,
    "steps": 999,
    "quantity": 0,
    "width": 100_000,
    "model": "urn:air:sdxl:checkpoint:civitai:101055@128078~new-form!",
}
READERS: dict[str, Callable[[dict[str, Any]], Workflow]] = {
    "sdk_read": lambda data: read(Workflow, json.dumps(data).encode(), "workflow"),
    "model_validate": Workflow.model_validate,
    "model_validate_json": lambda data: Workflow.model_validate_json(json.dumps(data)),
}


def _echoing(**values: Any) -> dict[str, Any]:
    data = workflow_json("succeeded")
    data["steps"][0]["input"].update(values)
    return data


@pytest.mark.parametrize("reader", sorted(READERS))
@pytest.mark.parametrize("key", sorted(WIDENED))
def test_a_response_keeps_a_value_past_the_spec_s_bounds(reader: str, key: str) -> None:
    workflow = READERS[reader](_echoing(**{key: WIDENED[key]}))
    step = (workflow.steps or [])[0]
    assert isinstance(step, TextToImageStep)
    dumped = workflow.model_dump(mode="json", by_alias=True)["steps"][0]["input"]
    assert dumped[key] == WIDENED[key]


def test_requests_and_models_built_in_code_are_still_held_to_the_bounds() -> None:
    with pytest.raises(ValidationError, match="less than or equal to 30"):
        TextToImageInput(prompt="x", cfg_scale=45)
    body: Any = {"steps": [{"$type": "textToImage", "input": {"prompt": "x", "cfgScale": 45}}]}
    with pytest.raises(RequestValidationError, match="/steps/0/input/cfgScale"):
        validate_workflow_body(body)
    with pytest.raises(ValidationError):
        TypeAdapter(TextToImageInput).validate_python({"prompt": "x", "cfgScale": 45})


@pytest.mark.parametrize("value", ["45", [45], {"v": 45}, "a" * 3])
def test_a_value_of_the_wrong_kind_is_still_a_broken_answer(value: object) -> None:
    with pytest.raises(ResponseValidationError, match="at steps/0/input/cfgScale"):
        READERS["sdk_read"](_echoing(cfgScale=value))


def test_the_keeper_follows_each_constrained_field_only() -> None:
    source = (
        "from pydantic import Field\n"
        "class M(ApiModel):\n"
        '    a: Annotated[int, Field(alias="a", ge=1, le=3)] = 1\n'
        '    b: Annotated[str | None, Field(alias="bé")] = None\n'
        '    c: list[Annotated[str, Field(pattern="^é$")]]\n'
    )
    out = keep_out_of_bounds(source)
    assert out.splitlines()[0] == "from civitai_app_sdk_generated._base import KEEP_OUT_OF_BOUNDS"
    assert 'Field(alias="a", ge=1, le=3), KEEP_OUT_OF_BOUNDS]' in out
    assert 'Field(alias="bé")]' in out
    assert 'Field(pattern="^é$"), KEEP_OUT_OF_BOUNDS]]' in out
    assert keep_out_of_bounds("x: int = 1\n") == "x: int = 1\n"
