"""`OpenUnion`: native reads of known members, a fallback for the rest, stable schemas."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from civitai_app_sdk_generated import (
    Blob,
    ImageBlob,
    UnknownBlob,
    UnknownWorkflowStep,
    Workflow,
    WorkflowStep,
)
from civitai_app_sdk_generated._base import UNLISTED_TAG, json_location, reported_errors
from pydantic import TypeAdapter, ValidationError

IMAGE = {"type": "image", "id": "B.jpeg", "available": True, "width": 8, "height": 8}


def test_known_and_unknown_tags_of_an_eager_union() -> None:
    blobs = TypeAdapter(list[Blob]).validate_json(
        json.dumps([IMAGE, {"type": "hologram", "id": "H", "available": True, "depth": 3}])
    )
    assert type(blobs[0]) is ImageBlob
    assert isinstance(blobs[1], UnknownBlob)
    assert blobs[1].model_dump(by_alias=True)["depth"] == 3


@pytest.mark.parametrize("tag", [5, None, ["image"]])
def test_a_tag_that_is_not_a_string_reads_as_unknown_or_fails_cleanly(tag: Any) -> None:
    value = {**IMAGE, "type": tag}
    with pytest.raises(ValidationError) as caught:
        TypeAdapter(Blob).validate_python(value)
    errors = reported_errors(caught.value)
    assert errors
    assert all(e["type"] != UNLISTED_TAG for e in errors)
    assert [json_location(e["loc"]) for e in errors] == [("type",)]  # the fallback's own field


def test_an_instance_passes_through_unchanged() -> None:
    blob = ImageBlob.model_validate(IMAGE)
    assert TypeAdapter(Blob).validate_python(blob) is blob


def test_an_eager_union_schema_lists_its_members_by_tag() -> None:
    schema = TypeAdapter(Blob).json_schema()
    assert schema["discriminator"]["propertyName"] == "type"
    assert set(schema["discriminator"]["mapping"]) == {"audio", "image", "model3d", "video"}
    assert len(schema["oneOf"]) == 4


def test_a_lazy_union_schema_does_not_depend_on_what_was_built(
    make_workflow: Callable[..., dict[str, Any]],
) -> None:
    before = TypeAdapter(WorkflowStep).json_schema()
    for _ in range(2):  # build textToImage, then rebuild the models holding it
        Workflow.model_validate(make_workflow("succeeded"))
    assert (
        TypeAdapter(WorkflowStep).json_schema()
        == before
        == {
            "type": "object",
            "required": ["$type"],
        }
    )
    assert Workflow.model_json_schema()["$defs"]["WorkflowStep"] == before


def test_dumping_keeps_each_member_s_own_serialisation(
    make_workflow: Callable[..., dict[str, Any]],
) -> None:
    data = make_workflow("succeeded")
    data["steps"].append({"$type": "brandNewStep", "name": "n", "status": "succeeded", "x": 1})
    for _ in range(2):
        workflow = Workflow.model_validate(data)
    assert isinstance((workflow.steps or [])[1], UnknownWorkflowStep)
    dumped = workflow.model_dump(mode="json", by_alias=True, exclude_none=True)
    assert dumped["steps"][0]["$type"] == "textToImage"
    unknown = {"$type": "brandNewStep", "name": "n", "status": "succeeded", "x": 1}
    assert dumped["steps"][1].items() >= unknown.items()
    assert "completedAt" not in dumped["steps"][1]  # exclude_none reached the member
