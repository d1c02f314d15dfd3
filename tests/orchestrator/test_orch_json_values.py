"""Values JSON cannot carry as given are refused with their path before anything is sent."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import httpx
import pytest
import respx
from civitai_app_sdk_generated import (
    ComfyInput,
    TextToImageInput,
    TextToImageStepTemplate,
    WorkflowTemplate,
)
from hypothesis import given
from hypothesis import strategies as st

from civitai_app_sdk.errors import RequestValidationError
from civitai_app_sdk.orchestrator import (
    OrchestratorClient,
    build_workflow_body,
    validate_workflow_body,
)
from civitai_app_sdk.orchestrator._jsonable import MAX_DEPTH
from civitai_app_sdk.orchestrator.requests import check_body
from tests.orchestrator.conftest import BASE, TOKEN

MODEL = "urn:air:sdxl:checkpoint:civitai:101055@128078"


def _body(**extra: Any) -> Any:
    step: dict[str, Any] = {"$type": "textToImage", "name": "a", "input": {"model": MODEL}}
    step["input"]["prompt"] = extra.pop("prompt", "x")
    if "step_metadata" in extra:
        step["metadata"] = extra.pop("step_metadata")
    return {"steps": [step], **extra}


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, Decimal("NaN"), Decimal("-Inf")])
@pytest.mark.parametrize(
    ("where", "path"),
    [
        (lambda v: _body(metadata={"score": v}), "/metadata/score"),
        (lambda v: _body(step_metadata={"a": [1, v]}), "/steps/0/metadata/a/1"),
    ],
)
def test_non_finite_numbers_are_refused_with_their_path(
    client: Any, api: Any, bad: object, where: Any, path: str
) -> None:
    route = api.post("/v2/consumer/workflows").respond(200, json={})
    with pytest.raises(RequestValidationError) as caught:
        client.submit(where(bad))
    assert caught.value.problems[0].startswith(f"{path}: ")
    assert "NaN or infinity" in caught.value.problems[0]
    with pytest.raises(RequestValidationError, match=path):
        client.estimate(where(bad))
    assert not route.called


def test_non_finite_number_in_a_typed_body_is_refused() -> None:
    step = TextToImageStepTemplate(
        input=TextToImageInput(model=MODEL, prompt="x"), metadata={"w": math.nan}
    )
    with pytest.raises(RequestValidationError, match="/steps/0/metadata/w: nan"):
        validate_workflow_body(WorkflowTemplate(steps=[step]))


@pytest.mark.parametrize(
    ("bad", "said"), [(math.nan, "nan cannot be sent"), (b"\xff", "not JSON-serialisable: bytes")]
)
def test_a_typed_step_for_a_builder_is_checked_before_it_is_dumped(bad: object, said: str) -> None:
    """A builder dumped a typed input to JSON first: ``NaN`` went out as ``null`` and bytes
    that are not UTF-8 ended in a bare pydantic error."""
    comfy = ComfyInput(comfy_workflow={"1": {"inputs": {"v": bad}}})
    with pytest.raises(RequestValidationError, match=f"/input/comfyWorkflow/1/inputs/v: {said}"):
        build_workflow_body({"$type": "comfy", "input": comfy})


def test_non_finite_number_in_an_operation_body_is_refused() -> None:
    with pytest.raises(RequestValidationError, match="/metadata/x: inf"):
        check_body("WorkflowTemplate", _body(metadata={"x": math.inf}))


@pytest.mark.parametrize("key", [1, (1, 2), None, 1.5])
def test_non_string_keys_are_refused_not_renamed(key: object) -> None:
    with pytest.raises(RequestValidationError, match="/metadata: object keys must be strings"):
        validate_workflow_body(_body(metadata={key: "v"}))


@pytest.mark.parametrize("value", [b"png", bytearray(b"x"), memoryview(b"x")])
def test_bytes_are_refused_not_sent_as_text(value: object) -> None:
    with pytest.raises(RequestValidationError, match="/metadata/blob: not JSON-serialisable"):
        validate_workflow_body(_body(metadata={"blob": value}))


def test_lone_surrogates_are_named_by_path() -> None:
    with pytest.raises(RequestValidationError, match="/steps/0/input/prompt: contains a lone"):
        validate_workflow_body(_body(prompt="a\ud800b"))
    with pytest.raises(RequestValidationError, match="/metadata: a key contains a lone"):
        validate_workflow_body(_body(metadata={"\udc80": 1}))


def test_deep_or_self_containing_bodies_are_refused_without_recursion() -> None:
    deep: dict[str, Any] = {}
    inner = deep
    for _ in range(5 * MAX_DEPTH):
        inner["a"] = {}
        inner = inner["a"]
    with pytest.raises(RequestValidationError, match=f"deeper than {MAX_DEPTH} levels"):
        validate_workflow_body(_body(metadata=deep))
    loop: dict[str, Any] = {}
    loop["self"] = loop
    with pytest.raises(RequestValidationError, match="contains itself"):
        validate_workflow_body(_body(metadata=loop))


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(_JSON)
def test_plain_json_metadata_is_sent_unchanged(metadata: object) -> None:
    sent = validate_workflow_body(_body(metadata={"m": metadata}))
    assert sent["metadata"] == {"m": metadata}


def test_a_model_inside_a_dict_body_sends_only_what_the_caller_set() -> None:
    """A typed step or input inside a dict body sent every spec default (``cfgScale`` 7.5,
    ``steps`` 30, 512x512…) as if the caller had set them; a typed body sends none."""
    typed_input = TextToImageInput(model=MODEL, prompt="x", cfg_scale=3)
    step = TextToImageStepTemplate(input=typed_input)
    expected = {"model": MODEL, "prompt": "x", "cfgScale": 3.0}
    bodies: list[Any] = [
        WorkflowTemplate(steps=[step]),
        {"steps": [step]},
        {"steps": [{"$type": "textToImage", "input": typed_input}]},
        {"steps": ({"$type": "textToImage", "input": typed_input},)},
    ]
    for body in bodies:
        assert validate_workflow_body(body)["steps"][0]["input"] == expected


def test_a_recipe_sends_only_what_the_caller_gave_not_the_spec_defaults() -> None:
    """Operation bodies sent every spec default: a recipe without a ``model`` ran on the
    spec's SD1 checkpoint at 512x512 and 30 steps, whatever the server would choose."""
    bodies: list[Any] = [
        {"prompt": "x", "cfgScale": 3},
        TextToImageInput(prompt="x", cfg_scale=3),
    ]
    with respx.mock(base_url=BASE) as mock:
        route = mock.post("/v2/consumer/recipes/textToImage").respond(200, json={"images": []})
        with OrchestratorClient(TOKEN, base_url=BASE) as client:
            for body in bodies:
                client.recipes.text_to_image(body, whatif=True)
                sent = route.calls.last.request.content
                assert httpx.Response(200, content=sent).json() == {"prompt": "x", "cfgScale": 3.0}
