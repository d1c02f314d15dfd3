"""Body builders (TypeScript defaults, nothing dropped) and typed output extractors."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from civitai_app_sdk_generated import (
    Flux2KleinCreateImageInput,
    TextToImageInput,
    TextToImageStepTemplate,
    Workflow,
)

from civitai_app_sdk.errors import RequestValidationError
from civitai_app_sdk.orchestrator import (
    DEFAULT_MODEL_AIR,
    build_image_gen_body,
    build_text_to_image_body,
    build_workflow_body,
    extract_audio,
    extract_blobs,
    extract_image_urls,
    extract_images,
    extract_models,
    extract_texts,
    extract_videos,
)


def test_text_to_image_defaults_match_typescript() -> None:
    assert build_text_to_image_body({"prompt": "cat"}, tags=["t"]) == {
        "steps": [
            {
                "$type": "textToImage",
                "name": "step_0",
                "timeout": "00:10:00",
                "input": {
                    "prompt": "cat",
                    "model": DEFAULT_MODEL_AIR,
                    "width": 1024,
                    "height": 1024,
                    "steps": 25,
                    "cfgScale": 5,
                    "quantity": 1,
                },
            }
        ],
        "tags": ["t"],
    }


def test_text_to_image_keeps_every_field() -> None:
    lora = {"urn:air:sdxl:lora:civitai:1@2": {"strength": 0.8}}
    body = build_text_to_image_body(
        {
            "prompt": "cat",
            "negativePrompt": None,
            "seed": 0,
            "width": None,
            "clip_skip": 1,
            "scheduler": "eulerA",
            "additionalNetworks": lora,
        },
        priority="high",
        retries=2,
        timeout=90,
        metadata={},
        tags=[],
    )
    step = body["steps"][0]
    assert "tags" not in body
    assert step["priority"] == "high"
    assert step["retries"] == 2
    assert step["metadata"] == {}
    assert step["timeout"] == "00:01:30"
    assert step["input"]["negativePrompt"] is None
    assert step["input"]["seed"] == 0
    assert step["input"]["width"] == 1024
    assert step["input"]["clipSkip"] == 1
    assert step["input"]["scheduler"] == "eulerA"
    assert step["input"]["additionalNetworks"] == lora


def test_text_to_image_from_model() -> None:
    body = build_text_to_image_body(TextToImageInput(prompt="cat", cfg_scale=7))
    assert body["steps"][0]["input"]["cfgScale"] == 7
    assert body["steps"][0]["input"]["width"] == 1024


@pytest.mark.parametrize(
    "given",
    [
        {},
        {"prompt": "x", "width": "512"},
        {"prompt": "x", "sampler": "euler"},
        {"prompt": "x", "cfgScale": 99},
    ],
)
def test_text_to_image_rejects_invalid_input(given: dict[str, Any]) -> None:
    with pytest.raises(RequestValidationError):
        build_text_to_image_body(given)


def test_image_gen_body() -> None:
    engine_input = {
        "engine": "openai",
        "model": "gpt-image-1",
        "operation": "createImage",
        "prompt": "x",
    }
    body = build_image_gen_body(engine_input, name="", timeout=dt.timedelta(minutes=5))
    step = body["steps"][0]
    assert step == {"$type": "imageGen", "name": "", "timeout": "00:05:00", "input": engine_input}
    with pytest.raises(RequestValidationError):
        build_image_gen_body({"engine": "nope", "prompt": "x"})


def test_workflow_body_keeps_priority_and_retries() -> None:
    body = build_workflow_body(
        {
            "$type": "echo",
            "input": {"message": "hi"},
            "priority": "low",
            "retries": 3,
            "metadata": {},
        },
        tags=["a"],
    )
    assert body["steps"][0] == {
        "$type": "echo",
        "name": "step_0",
        "timeout": "00:10:00",
        "input": {"message": "hi"},
        "metadata": {},
        "priority": "low",
        "retries": 3,
    }
    with pytest.raises(ValueError, match=r"\$type"):
        build_workflow_body({"type": "echo", "input": {}})


def _workflow() -> dict[str, Any]:
    def blob(kind: str, bid: str, **extra: Any) -> dict[str, Any]:
        return {"type": kind, "id": bid, "available": True, "url": f"https://o.test/{bid}", **extra}

    return {
        "steps": [
            None,
            {
                "$type": "textToImage",
                "output": {
                    "images": [
                        blob("image", "i1"),
                        {**blob("image", "i2"), "available": False, "url": None},
                    ]
                },
            },
            {
                "$type": "videoGen",
                "output": {"video": blob("video", "v1"), "additionalVideos": [blob("video", "v2")]},
            },
            {"$type": "textToSpeech", "output": {"audioBlob": blob("audio", "a1", duration=2.5)}},
            {
                "$type": "polyGen",
                "output": {
                    "model": blob("model3d", "m1", format="glb"),
                    "thumbnail": blob("image", "i3"),
                },
            },
            {"$type": "comfy", "output": {"blobs": [blob("image", "i1"), blob("image", "i4")]}},
            {
                "$type": "chatCompletion",
                "output": {"choices": [{"message": {"role": "assistant", "content": "hello"}}]},
            },
            {"$type": "transcription", "output": {"text": "spoken"}},
            {"$type": "mediaCaptioning", "output": {"caption": "a cat"}},
            {"$type": "imageGen", "output": None},
        ]
    }


def test_extractors_find_every_kind() -> None:
    data = _workflow()
    assert [b.id for b in extract_images(data)] == ["i1", "i2", "i3", "i4"]
    assert extract_image_urls(data) == [  # step order, duplicates kept (as 0.14)
        "https://o.test/i1",
        "https://o.test/i3",
        "https://o.test/i1",
        "https://o.test/i4",
    ]
    assert [v.id for v in extract_videos(data)] == ["v1", "v2"]
    assert [(a.id, a.duration) for a in extract_audio(data)] == [("a1", 2.5)]
    assert [m.id for m in extract_models(data)] == ["m1"]
    assert len(extract_blobs(data)) == 8
    assert extract_texts(data) == ["hello", "spoken", "a cat"]
    assert extract_image_urls(None) == []
    assert extract_texts({"steps": None}) == []


def test_extractors_accept_models(make_workflow: Any) -> None:
    workflow = Workflow.model_validate(make_workflow("succeeded"))
    assert extract_image_urls(workflow) == [
        "https://orchestration-new.civitai.com/v2/consumer/blobs/JNFDW54JNTATNW42HACYCWSQP0.jpeg?sig=abc"
    ]


def test_extractors_read_models_as_they_read_json(make_workflow: Any) -> None:
    data = make_workflow("succeeded")
    step = {k: v for k, v in data["steps"][0].items() if k not in ("input", "output")}
    video = {"type": "video", "id": "v1", "available": True, "url": "https://o.test/v1"}
    image = {"type": "image", "id": "i9", "available": False}
    data["steps"] += [
        {**step, "$type": "holoGen", "output": {"clip": video, "more": [{"still": image}]}},
        {**step, "$type": "echo", "input": {"message": "hi"}, "output": {"message": "hi"}},
    ]
    model = Workflow.model_validate(data)
    assert type(model.steps[1]).__name__ == "UnknownWorkflowStep"
    extractors = (extract_blobs, extract_images, extract_videos, extract_image_urls, extract_texts)
    for extract in extractors:
        assert extract(model) == extract(data), extract.__name__
    assert [b.id for b in extract_blobs(model)] == ["JNFDW54JNTATNW42HACYCWSQP0.jpeg", "v1", "i9"]
    assert extract_texts(model) == ["hi"]


def test_extractors_refuse_what_is_not_a_workflow_and_survive_odd_shapes() -> None:
    """A page of workflows, an id or a list is a typed error (it used to be an
    AttributeError, or for a page an empty answer); odd shapes inside a workflow dict
    (``steps`` or ``choices`` not lists) are read as holding nothing."""
    from civitai_app_sdk.orchestrator import WorkflowPage

    page = WorkflowPage.model_validate({"items": [{"status": "succeeded", "steps": []}]})
    for wrong in (page, "1-20260101000000000", [], 5):
        for extract in (extract_images, extract_image_urls, extract_blobs, extract_texts):
            with pytest.raises(RequestValidationError, match="a Workflow or its JSON dict"):
                extract(wrong)  # type: ignore[arg-type]
    chat = {"$type": "chatCompletion", "output": {"choices": 5}}
    assert extract_texts({"steps": [chat]}) == []
    assert extract_images({"steps": 5}) == []
    assert extract_image_urls({"steps": {"a": 1}}) == []


@pytest.mark.parametrize(
    "timeout", [None, -5, 0, float("nan"), float("inf"), 1e300, True, dt.timedelta(seconds=-1)]
)
def test_a_bad_step_timeout_is_a_typed_error(timeout: Any) -> None:
    """It used to be a bare TypeError, ValueError or OverflowError (or, for a negative
    timedelta, a body sent with a negative TimeSpan)."""
    with pytest.raises(RequestValidationError, match="timeout"):
        build_text_to_image_body({"prompt": "x"}, timeout=timeout)


@pytest.mark.parametrize("step", [5, "textToImage", None])
def test_a_step_that_is_not_a_dict_or_model_is_a_typed_error(step: Any) -> None:
    with pytest.raises(RequestValidationError, match="a dict or a model"):
        build_workflow_body(step)


@pytest.mark.parametrize("first", ["cfg_scale", "cfgScale"])
def test_one_field_under_both_names_is_refused_not_half_dropped(first: str) -> None:
    other = "cfgScale" if first == "cfg_scale" else "cfg_scale"
    given: Any = {"prompt": "x", first: 7, other: 3}
    with pytest.raises(RequestValidationError, match="are the same field"):
        build_text_to_image_body(given)


def test_a_lone_string_of_tags_is_one_tag_not_its_letters() -> None:
    built = (
        build_text_to_image_body({"prompt": "x"}, tags="night"),
        build_image_gen_body(
            {"engine": "flux2", "model": "klein", "operation": "createImage", "prompt": "x"},
            tags="night",
        ),
        build_workflow_body({"$type": "echo", "input": {"message": "hi"}}, tags="night"),
    )
    assert [body.get("tags") for body in built] == [["night"]] * 3


@pytest.mark.parametrize("url", [5, {"href": "https://o.test/x"}, ["https://o.test/x"], True, ""])
def test_image_urls_are_text_only_never_the_str_of_something_else(url: object) -> None:
    image = {"type": "image", "id": "i1", "available": True, "url": url}
    blob = {"mimeType": "image/png", "url": url}
    output = {"images": [image], "blobs": [blob], "blob": {**image, "id": "i2"}}
    assert extract_image_urls({"steps": [{"$type": "x", "output": output}]}) == []


def test_image_urls_of_an_output_that_is_a_list_match_its_blobs() -> None:
    image = {"type": "image", "id": "i1", "available": True, "url": "https://o.test/i1"}
    data = {"steps": [{"$type": "newListStep", "output": [image]}]}
    assert [blob.url for blob in extract_images(data)] == extract_image_urls(data)
    assert extract_image_urls(data) == ["https://o.test/i1"]


def test_typed_inputs_and_steps_send_only_what_the_caller_set() -> None:
    """As a typed body does (issue 15): no spec defaults (cfgScale 7.5, 512x512, 30 steps),
    and the built body is plain JSON even when a model sat inside a dict."""
    air = "urn:air:sdxl:checkpoint:civitai:101055@128078"
    typed = TextToImageInput(prompt="x", model=air)
    steps = [
        build_workflow_body(TextToImageStepTemplate(input=typed))["steps"][0],
        build_workflow_body({"$type": "textToImage", "input": typed})["steps"][0],
    ]
    for step in steps:
        assert step["input"] == {"model": air, "prompt": "x"}
        json.dumps(step)
    engine = Flux2KleinCreateImageInput.model_validate(
        {"engine": "flux2", "model": "klein", "operation": "createImage", "prompt": "x"}
    )
    assert build_image_gen_body(engine)["steps"][0]["input"] == {
        "engine": "flux2",
        "model": "klein",
        "operation": "createImage",
        "prompt": "x",
    }


def test_a_builder_input_that_contains_itself_is_a_validation_error() -> None:
    looped: Any = {"prompt": "x"}
    looped["again"] = looped
    with pytest.raises(RequestValidationError, match="contains itself"):
        build_text_to_image_body(looped)
