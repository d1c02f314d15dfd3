"""A response read with no `extra=` (a plain TypeAdapter) keeps unknown fields at every depth."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from civitai_app_sdk_generated import ImageGenStep, Workflow, WorkflowTemplate
from pydantic import BaseModel, TypeAdapter, ValidationError

# Three lazy unions deep: step type -> image engine -> sdcpp ecosystem/operation.
INPUT = {
    "engine": "sdcpp",
    "ecosystem": "flux2Klein",
    "operation": "createImage",
    "prompt": "p",
    "brandNew": 1,
}


def _workflow() -> dict[str, Any]:
    step = {"$type": "imageGen", "name": "s", "status": "succeeded", "input": dict(INPUT)}
    return {"id": "w1", "status": "succeeded", "steps": [step]}


READERS: dict[str, Callable[[dict[str, Any]], Workflow]] = {
    "adapter_python": lambda data: TypeAdapter(Workflow).validate_python(data),
    "adapter_json": lambda data: TypeAdapter(Workflow).validate_json(json.dumps(data)),
    "constructor": lambda data: Workflow(**data),
    "model_validate": Workflow.model_validate,
}


@pytest.mark.parametrize("reader", sorted(READERS))
def test_every_way_of_reading_a_workflow_keeps_unknown_input_fields(reader: str) -> None:
    for _ in range(2):  # once its members are built, models read them natively: same result
        Workflow.model_validate(_workflow())
    (step,) = READERS[reader](_workflow()).steps or []
    assert isinstance(step, ImageGenStep)
    found = step.input
    assert isinstance(found, BaseModel)
    assert type(found).__name__ == "Flux2KleinSdCppCreateImageInput"
    assert found.model_extra == {"brandNew": 1}


def test_an_explicit_extra_still_wins_over_the_read_default() -> None:
    with pytest.raises(ValidationError, match="brandNew"):
        Workflow.model_validate(_workflow(), extra="forbid")


WRITERS: dict[str, Callable[[dict[str, Any]], object]] = {
    "adapter_python": lambda data: TypeAdapter(WorkflowTemplate).validate_python(data),
    "constructor": lambda data: WorkflowTemplate(**data),
    "model_validate": WorkflowTemplate.model_validate,
}


@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_the_same_input_in_a_request_is_still_refused(writer: str) -> None:
    body = {"steps": [{"$type": "imageGen", "name": "s", "input": dict(INPUT)}]}
    with pytest.raises(ValidationError) as caught:
        WRITERS[writer](body)
    errors = caught.value.errors()  # one line, however many members were built before
    assert [e["type"] for e in errors] == ["extra_forbidden"]
    assert errors[0]["loc"][-1] == "brandNew"


def test_include_and_exclude_leave_out_a_kept_unknown_field_like_a_field() -> None:
    # The dump that adds the unknown fields kept on read added them whatever `include=`
    # or `exclude=` said: `exclude={"brandNew"}` still sent it, `include={"prompt"}` too.
    (step,) = Workflow.model_validate(_workflow()).steps or []
    source = step.input
    assert isinstance(source, BaseModel)
    assert source.model_dump()["brandNew"] == 1
    assert source.model_dump(include={"prompt"}) == {"prompt": "p"}
    assert "brandNew" not in source.model_dump(exclude={"brandNew"})
    assert "brandNew" not in source.model_dump(mode="json", exclude={"brandNew": True})
    assert source.model_dump(include={"prompt", "brandNew"}) == {"prompt": "p", "brandNew": 1}
