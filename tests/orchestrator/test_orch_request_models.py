"""Strict writing, lenient reading: request models refuse unknown keys, responses keep them."""

from __future__ import annotations

import json
import typing
from typing import Any

import civitai_app_sdk_generated as generated
import pytest
from civitai_app_sdk_generated import (
    Flux2KleinCreateImageInput,
    ImageBlob,
    ImageGenStepTemplate,
    TextToImageInput,
    TextToImageStep,
    TextToImageStepTemplate,
    UnknownBlob,
    Workflow,
    WorkflowTemplate,
    models,
    params,
)
from civitai_app_sdk_generated._base import RequestModel
from pydantic import BaseModel, ValidationError

from civitai_app_sdk.errors import RequestValidationError
from civitai_app_sdk.orchestrator import (
    extract_image_urls,
    extract_images,
    validate_workflow_body,
)
from tests.orchestrator.conftest import BASE, workflow_json


def test_request_model_refuses_unknown_keyword() -> None:
    with pytest.raises(ValidationError, match="widht") as caught:
        TextToImageInput(prompt="x", **{"widht": 7})
    assert caught.value.errors()[0]["type"] == "extra_forbidden"
    with pytest.raises(ValidationError, match="modle"):
        WorkflowTemplate.model_validate(
            {"steps": [{"$type": "textToImage", "input": {"prompt": "x", "modle": "m"}}]}
        )


def test_step_tag_is_set_from_its_wire_name() -> None:
    step = TextToImageStepTemplate(input=TextToImageInput(prompt="a cat"))
    body = WorkflowTemplate(steps=[step])
    sent = validate_workflow_body(body)
    assert sent["steps"][0]["$type"] == "textToImage"
    assert sent["steps"][0]["input"]["prompt"] == "a cat"


def _single_literal(model: type[BaseModel], name: str) -> str | None:
    args = typing.get_args(model.model_fields[name].annotation)
    return args[0] if len(args) == 1 and isinstance(args[0], str) else None


def test_every_request_tag_with_one_value_is_its_default() -> None:
    checked = 0
    for value in (getattr(generated, name) for name in generated.HOMES):
        if not (isinstance(value, type) and issubclass(value, RequestModel)):
            continue
        for name, field in value.model_fields.items():
            if field.alias == "$type" and _single_literal(value, name) is not None:
                assert field.default == _single_literal(value, name), (value, name)
                checked += 1
    assert checked >= 40  # every step template of the pinned spec


def test_responses_keep_unknown_fields_inside_echoed_inputs() -> None:
    data = workflow_json("succeeded", brandNewTopLevel=3)
    data["steps"][0]["input"]["brandNewOption"] = {"x": 1}
    for parsed in (
        Workflow.model_validate(data),
        Workflow.model_validate_json(json.dumps(data)),
    ):
        step = parsed.steps[0]
        assert isinstance(step, TextToImageStep)
        assert step.input.model_extra == {"brandNewOption": {"x": 1}}
        assert parsed.model_extra == {"brandNewTopLevel": 3}


def test_dumping_a_read_workflow_keeps_unknown_fields_inside_echoed_inputs() -> None:
    """A request model's config forbids extras, which left them out of every dump: a
    workflow read and printed (``civitai-orch get --json``) lost the server's new fields."""
    data = workflow_json("succeeded")
    data["steps"][0]["input"]["brandNewOption"] = {"x": [1, None]}
    data["steps"][0]["input"]["brandNewNull"] = None
    parsed = Workflow.model_validate_json(json.dumps(data))
    sent = parsed.model_dump(mode="json", by_alias=True, exclude_unset=True)
    assert sent["steps"][0]["input"] == data["steps"][0]["input"]
    assert (
        "brandNewNull"
        not in json.loads(parsed.model_dump_json(exclude_none=True))["steps"][0]["input"]
    )
    python = parsed.steps[0].input.model_dump(by_alias=True)
    assert python["brandNewOption"] == {"x": [1, None]}
    built = TextToImageInput(prompt="x")
    assert "brandNewOption" not in built.model_dump(by_alias=True)


def test_client_reads_a_workflow_echoing_new_input_fields(client: Any, api: Any) -> None:
    data = workflow_json("succeeded")
    data["steps"][0]["input"]["brandNewOption"] = True
    api.get("/v2/consumer/workflows/w1").respond(200, json=data)
    assert client.get("w1").steps[0].input.model_extra == {"brandNewOption": True}
    assert BASE.startswith("https://")


def test_unknown_blob_type_in_images_keeps_the_workflow_readable() -> None:
    data = workflow_json("succeeded")
    known = data["steps"][0]["output"]["images"][0]
    odd = {"type": "hologram", "id": "H1.holo", "available": True, "url": "https://x.test/h"}
    data["steps"][0]["output"]["images"] = [odd, known]
    workflow = Workflow.model_validate_json(json.dumps(data))
    images = workflow.steps[0].output.images
    assert isinstance(images[0], UnknownBlob)
    assert images[0].type == "hologram"
    assert isinstance(images[1], ImageBlob)
    assert [blob.id for blob in extract_images(workflow)] == [known["id"]]
    assert extract_image_urls(workflow) == [known["url"]]


def test_typed_dict_keys_match_the_request_models() -> None:
    compared = 0
    for name in dir(params):
        typed = getattr(params, name)
        if not (name.endswith("Param") and isinstance(typed, type)):
            continue
        model = getattr(models, name.removesuffix("Param"))
        wire = {field.alias or attr for attr, field in model.model_fields.items()}
        assert typed.__required_keys__ | typed.__optional_keys__ == wire, name
        required = {f.alias or a for a, f in model.model_fields.items() if f.is_required()}
        assert required <= typed.__required_keys__, name
        compared += 1
    assert compared > 300


def test_mapping_bodies_are_still_validated_at_run_time() -> None:
    body: Any = {"steps": [{"$type": "textToImage", "input": {"prompt": "x", "widht": 1}}]}
    with pytest.raises(RequestValidationError, match="/steps/0/input/widht"):
        validate_workflow_body(body)
    with pytest.raises(RequestValidationError, match="/steps/0"):
        validate_workflow_body({"steps": [{"$type": "textToImag", "input": {"prompt": "x"}}]})


def test_a_typed_body_sends_only_what_the_caller_set_and_its_tags() -> None:
    # audit (issue 20): a model body sent every spec default (width 512, cfgScale 7.5,
    # steps 30…) that the same body written as a dict does not send
    air = "urn:air:sdxl:checkpoint:civitai:1@2"
    typed = WorkflowTemplate(
        steps=[
            TextToImageStepTemplate(input=TextToImageInput(prompt="x", model=air, width=640)),
            ImageGenStepTemplate(input=Flux2KleinCreateImageInput(prompt="y", steps=20)),
        ]
    )
    assert validate_workflow_body(typed) == {
        "steps": [
            {"$type": "textToImage", "input": {"model": air, "prompt": "x", "width": 640}},
            {
                "$type": "imageGen",
                "input": {
                    "engine": "flux2",
                    "model": "klein",
                    "operation": "createImage",
                    "prompt": "y",
                    "steps": 20,
                },
            },
        ]
    }


def test_a_new_model_class_evaluates_no_string_annotation_of_its_bases(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # `_base` had `from __future__ import annotations`: pydantic evaluates the annotations
    # of every base of each model class it creates, and compiled the string of
    # `_read_extra` (twice for a request model) for each of the classes a read creates,
    # and its serializer's return type when it built one
    from pydantic._internal import _typing_extra

    strings: list[str] = []
    convert = _typing_extra._type_convert

    def counted(annotation: Any) -> Any:
        if isinstance(annotation, str):
            strings.append(annotation)
        return convert(annotation)

    monkeypatch.setattr(_typing_extra, "_type_convert", counted)
    namespace = {"__annotations__": {"x": int}, "__module__": __name__}
    probe: Any = type("Probe", (RequestModel,), namespace)
    assert probe(x=1).x == 1
    assert strings == []
