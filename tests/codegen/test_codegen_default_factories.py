"""Empty `{}` / `[]` defaults: built by a factory on each read, shown in the schema as before."""

from __future__ import annotations

import copy
import datetime as dt
import inspect
import json
import sys
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

import civitai_app_sdk_generated as generated
import pytest
from civitai_app_sdk_generated import TextToImageStep, Workflow, WorkflowStatus
from pydantic import BaseModel, TypeAdapter
from pydantic_core import PydanticUndefined

DEFAULTED: dict[str, Any] = {
    "arguments": {},
    "callbacks": [],
    "currencies": [],
    "metadata": {},
    "tags": [],
}
"""The workflow's fields whose default is an empty container (`steps` too, given here)."""

BODY: dict[str, Any] = {
    "id": "wf-1",
    "createdAt": "2026-01-21T22:21:26Z",
    "status": "succeeded",
    "steps": [{"$type": "textToImage", "name": "$0", "status": "succeeded",
               "input": {"engine": "sdcpp", "prompt": "a cat"}}],
}  # fmt: skip
"""A workflow answer without any of its `DEFAULTED` fields, nor its step's `metadata`."""


def _models() -> Iterator[type[BaseModel]]:
    for name in sorted(generated.HOMES):
        value = getattr(generated, name)
        if isinstance(value, type) and issubclass(value, BaseModel):
            yield value


def _deepcopy_calls(read: Callable[[], object]) -> int:
    """Python calls of `copy.deepcopy` during `read()` (pydantic-core holds its own
    reference to the function, so patching the module would not see them)."""
    calls = 0

    def profile(frame: FrameType, event: str, arg: object) -> None:
        nonlocal calls
        if event == "call" and frame.f_code is copy.deepcopy.__code__:
            calls += 1

    sys.setprofile(profile)
    try:
        read()
    finally:
        sys.setprofile(None)
    return calls


@pytest.mark.parametrize("read", ["model_validate", "model_validate_json"])
def test_reading_a_body_without_its_empty_defaults_copies_nothing(read: str) -> None:
    data = BODY if read == "model_validate" else json.dumps(BODY)
    parse = getattr(Workflow, read)
    parse(data)  # the first read builds the models
    assert _deepcopy_calls(lambda: parse(data)) == 0


def test_no_generated_field_has_a_default_that_pydantic_copies() -> None:
    """pydantic deep-copies an unhashable default on every read that misses the field."""
    copied = []
    for model in _models():
        for name, field in model.model_fields.items():
            if field.default is not PydanticUndefined:
                try:
                    hash(field.default)
                except TypeError:
                    copied.append(f"{model.__name__}.{name}")
    assert copied == []


def test_each_instance_gets_its_own_empty_containers() -> None:
    first, second = Workflow.model_validate(BODY), Workflow.model_validate_json(json.dumps(BODY))
    built = Workflow(id="wf-2", created_at=dt.datetime.now(dt.UTC), status=WorkflowStatus.scheduled)
    for name in DEFAULTED:
        value: Any = getattr(first, name)
        if isinstance(value, dict):
            value["k"] = 1
        else:
            value.append(1)
    first.steps[0].metadata["k"] = 1
    for other in (second, built, Workflow.model_validate(BODY)):
        assert {name: getattr(other, name) for name in DEFAULTED} == DEFAULTED
    assert second.steps[0].metadata == {}
    assert built.steps == []


def test_defaults_read_dump_and_compare_as_plain_values() -> None:
    workflow = Workflow.model_validate(BODY)
    assert {name: getattr(workflow, name) for name in DEFAULTED} == DEFAULTED
    assert DEFAULTED.keys().isdisjoint(workflow.model_fields_set)
    assert "metadata" not in workflow.steps[0].model_fields_set
    assert workflow.model_dump(include=set(DEFAULTED)) == DEFAULTED
    assert DEFAULTED.keys().isdisjoint(workflow.model_dump(exclude_defaults=True))
    assert DEFAULTED.keys().isdisjoint(workflow.model_dump(exclude_unset=True))
    given = Workflow.model_validate({**BODY, "metadata": {}, "tags": ["a"]})
    assert given == workflow.model_copy(update={"tags": ["a"]})
    assert given.model_dump(exclude_defaults=True)["tags"] == ["a"]
    assert given.model_dump(exclude_unset=True)["metadata"] == {}


@pytest.mark.parametrize("mode", ["validation", "serialization"])
def test_the_json_schema_still_shows_the_empty_defaults(mode: Any) -> None:
    properties = Workflow.model_json_schema(mode=mode)["properties"]
    assert {name: properties[name].get("default") for name in DEFAULTED} == DEFAULTED
    assert properties["steps"]["default"] == []
    step = TextToImageStep.model_json_schema(mode=mode)
    assert step["properties"]["metadata"]["default"] == {}
    factories = 0
    for model in _models():
        schema = model.model_json_schema(mode=mode)
        properties, required = schema.get("properties", {}), schema.get("required", [])
        for name, field in model.model_fields.items():
            if field.default_factory is not None:
                key = field.alias or name
                assert properties[key]["default"] == field.default_factory(), key  # type: ignore[call-arg]
                assert key not in required
                factories += 1
    assert factories >= len(DEFAULTED) + 1


def test_building_the_models_parses_no_signature_from_text(monkeypatch: pytest.MonkeyPatch) -> None:
    # pydantic reads each default factory's signature when it builds a schema; `list`'s
    # is parsed from its text form, and the first parse in a process compiles tokenize's
    # regular expressions (about 5 ms of the first workflow read)
    parsed: list[str] = []
    from_text = inspect._signature_fromstr  # type: ignore[attr-defined]

    def counted(cls: Any, obj: Any, text: str, *args: Any, **kwargs: Any) -> Any:
        parsed.append(text)
        return from_text(cls, obj, text, *args, **kwargs)

    monkeypatch.setattr(inspect, "_signature_fromstr", counted)
    adapter = TypeAdapter(Workflow)
    workflow = adapter.validate_python({**BODY, "steps": []})
    assert (workflow.tags, workflow.callbacks, parsed) == ([], [], [])
