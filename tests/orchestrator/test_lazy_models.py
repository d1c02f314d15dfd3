"""Big tagged unions load their members on first use, and behave as eager ones did."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import civitai_app_sdk_generated as generated
import pytest
from civitai_app_sdk_generated import TextToImageStep, UnknownWorkflowStep, Workflow
from pydantic import ValidationError

from civitai_app_sdk.errors import RequestValidationError
from civitai_app_sdk.orchestrator.validation import validate_workflow_body


def test_reading_a_workflow_imports_only_its_own_step_modules(
    make_workflow: Callable[..., dict[str, Any]],
) -> None:
    payload = json.dumps(make_workflow("succeeded"))
    code = (
        "import sys, civitai_app_sdk_generated as g\n"
        f"g.Workflow.model_validate_json({payload!r})\n"
        "print(sorted(m for m in sys.modules if '._models.' in m))"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    loaded = set(json.loads(output.replace("'", '"')))
    home = "civitai_app_sdk_generated.{}".format
    assert home(generated.HOMES["TextToImageStep"]) in loaded
    assert home(generated.HOMES["VideoGenStep"]) not in loaded
    assert home(generated.HOMES["ComfyStep"]) not in loaded
    assert len(loaded) < 40  # of some 270


def test_members_resolve_to_the_same_classes_as_the_package(
    make_workflow: Callable[..., dict[str, Any]],
) -> None:
    workflow = Workflow.model_validate(make_workflow("succeeded"))
    assert type(workflow.steps[0]) is TextToImageStep
    assert TextToImageStep is generated.TextToImageStep


def test_unknown_step_type_still_falls_back(make_workflow: Callable[..., dict[str, Any]]) -> None:
    data = make_workflow("succeeded")
    data["steps"][0] = {"$type": "brandNewStep", "name": "s", "status": "succeeded", "x": 1}
    step = Workflow.model_validate_json(json.dumps(data)).steps[0]
    assert isinstance(step, UnknownWorkflowStep)
    assert step.model_extra == {"x": 1} or step.model_dump(by_alias=True)["x"] == 1


def test_errors_keep_their_full_location(make_workflow: Callable[..., dict[str, Any]]) -> None:
    data = make_workflow("succeeded")
    data["steps"][0]["input"]["width"] = "wide"
    with pytest.raises(ValidationError) as caught:
        Workflow.model_validate(data)
    locations = [error["loc"] for error in caught.value.errors()]
    assert ("steps", 0, "input", "width") in locations


def test_json_dump_round_trips_through_a_lazy_union(
    make_workflow: Callable[..., dict[str, Any]],
) -> None:
    raw = make_workflow("succeeded")
    workflow = Workflow.model_validate(raw)
    dumped = json.loads(workflow.model_dump_json(by_alias=True, exclude_none=True))
    again = Workflow.model_validate(dumped)
    assert again == workflow
    assert dumped["steps"][0]["$type"] == "textToImage"
    assert dumped["steps"][0]["input"]["prompt"] == raw["steps"][0]["input"]["prompt"]


def test_request_strictness_reaches_members_of_lazy_unions() -> None:
    body: dict[str, Any] = {
        "steps": [
            {
                "$type": "textToImage",
                "input": {"model": "urn:air:sdxl:checkpoint:civitai:1@2", "prompt": "x"},
            }
        ]
    }
    validate_workflow_body(body)
    body["steps"][0]["input"]["width"] = "512"
    with pytest.raises(RequestValidationError, match="steps/0/input/width"):
        validate_workflow_body(body)


def test_strict_reaches_members_of_lazy_unions_without_a_context() -> None:
    from civitai_app_sdk_generated import WorkflowTemplate

    body: dict[str, Any] = {
        "steps": [
            {
                "$type": "textToImage",
                "input": {"model": "urn:air:sdxl:checkpoint:civitai:1@2", "prompt": "x"},
            }
        ]
    }
    body["steps"][0]["input"]["width"] = "512"
    WorkflowTemplate.model_validate(body)  # lax: "512" is a number
    with pytest.raises(ValidationError):
        WorkflowTemplate.model_validate(body, strict=True)
