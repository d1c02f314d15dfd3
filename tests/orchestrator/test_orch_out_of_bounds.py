"""A response echoing a value past the spec's bounds, lengths or patterns is read with
the value as sent.

The service may widen a range (more steps, a larger size) or accept a new form of a value
(a model AIR) before the spec says so: a workflow echoing such an input must stay
readable, or a paid result could not be fetched. Requests and models built in code are
still held to the constraints, and nothing runs on the path of an answer that fits
(issue 18's parse row).
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from typing import Annotated, Any

import pytest
from civitai_app_sdk_generated import (
    TextToImageInput,
    TextToImageStep,
    UnknownWorkflowStep,
    Workflow,
)
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, Field, ValidationError

from civitai_app_sdk.errors import RequestValidationError, ResponseValidationError
from civitai_app_sdk.orchestrator import validate_workflow_body
from civitai_app_sdk.orchestrator._reading import MOST_LENIENT, read
from tests.orchestrator.conftest import workflow_json

WIDENED: dict[str, Any] = {
    "cfgScale": 45,
    "steps": 999,
    "quantity": 0,
    "width": 100_000,
    "seed": 2**40,
}


def _echoing(**values: Any) -> dict[str, Any]:
    data = workflow_json("succeeded")
    data["steps"][0]["input"].update(values)
    return data


def _read(data: dict[str, Any]) -> Workflow:
    workflow: Workflow = read(Workflow, json.dumps(data).encode(), "workflow")
    return workflow


def _input(workflow: Workflow) -> dict[str, Any]:
    step = (workflow.steps or [])[0]
    assert isinstance(step, TextToImageStep)
    dumped: dict[str, Any] = workflow.model_dump(mode="json", by_alias=True)["steps"][0]
    return dumped["input"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("key", sorted(WIDENED))
def test_a_response_keeps_a_value_past_the_spec_s_bounds(key: str) -> None:
    data = _echoing(**{key: WIDENED[key]})
    with pytest.raises(ValidationError):  # pydantic alone refuses it
        Workflow.model_validate_json(json.dumps(data))
    echoed = _input(_read(data))
    assert echoed[key] == WIDENED[key]
    assert echoed["prompt"] == data["steps"][0]["input"]["prompt"]  # the rest is read


def test_several_values_past_their_bounds_and_a_null_list_are_all_kept() -> None:
    data = _echoing(cfgScale=45, steps=999)
    data["tags"] = None
    workflow = _read(data)
    assert workflow.tags == []
    assert (_input(workflow)["cfgScale"], _input(workflow)["steps"]) == (45, 999)


@given(st.integers(min_value=31, max_value=10**6) | st.integers(min_value=-(10**6), max_value=-1))
def test_any_cfg_scale_past_its_range_is_kept_exactly(value: int) -> None:
    assert _input(_read(_echoing(cfgScale=value)))["cfgScale"] == value


def test_requests_and_models_built_in_code_are_still_held_to_the_bounds() -> None:
    with pytest.raises(ValidationError, match="less than or equal to 30"):
        TextToImageInput(prompt="x", cfg_scale=45)
    body: Any = {"steps": [{"$type": "textToImage", "input": {"prompt": "x", "cfgScale": 45}}]}
    with pytest.raises(RequestValidationError, match="/steps/0/input/cfgScale"):
        validate_workflow_body(body)


@pytest.mark.parametrize("value", ["forty-five", [45], {"v": 45}, "a" * 3])
def test_a_value_of_the_wrong_kind_is_still_a_broken_answer(value: object) -> None:
    with pytest.raises(ResponseValidationError, match="at steps/0/input/cfgScale"):
        _read(_echoing(cfgScale=value))


def test_a_number_in_a_string_past_its_bound_reads_as_one_within_does() -> None:
    assert _input(_read(_echoing(cfgScale="7")))["cfgScale"] == 7
    assert _input(_read(_echoing(cfgScale="45")))["cfgScale"] == 45


NEW_AIR = "urn:air:sdxl:checkpoint:civitai:101055@128078#fp8 pruned"
"""A model AIR in a form the spec's pattern does not know (the service may add one)."""


def test_a_response_keeps_a_text_the_spec_s_pattern_refuses() -> None:
    data = _echoing(model=NEW_AIR)
    with pytest.raises(ValidationError, match="should match pattern"):  # pydantic alone
        Workflow.model_validate_json(json.dumps(data))
    workflow = _read(data)
    step = (workflow.steps or [])[0]
    assert isinstance(step, TextToImageStep)
    assert type(step.input) is TextToImageInput
    assert step.input.model == NEW_AIR
    with pytest.raises(ValidationError, match="should match pattern"):  # in code: refused
        TextToImageInput(prompt="x", model=NEW_AIR)


def test_a_relaxed_read_gives_the_same_models_as_a_strict_one() -> None:
    """Same classes, same set fields, unknown fields kept at every depth (inside the
    echoed request model too) and an unknown step type still read as one."""
    fits = _echoing(newKnob=[1, 2])
    fits["newTopLevel"] = {"a": 1}
    fits["steps"].append(
        {"$type": "fromTheFuture", "name": "later", "status": "succeeded", "input": {"x": 1}}
    )
    strict = _read(fits)
    widened = json.loads(json.dumps(fits))
    widened["steps"][0]["input"]["cfgScale"] = 45
    widened["steps"][0]["input"]["model"] = NEW_AIR
    relaxed = _read(widened)
    assert type(relaxed) is Workflow
    assert [type(step) for step in relaxed.steps or []] == [TextToImageStep, UnknownWorkflowStep]
    assert relaxed.model_extra == strict.model_extra == {"newTopLevel": {"a": 1}}
    for ours, theirs in zip(relaxed.steps or [], strict.steps or [], strict=True):
        assert ours.model_fields_set == theirs.model_fields_set
    first, reference = (relaxed.steps or [])[0], (strict.steps or [])[0]
    assert isinstance(first, TextToImageStep)
    assert isinstance(reference, TextToImageStep)
    assert first.input.model_extra == reference.input.model_extra == {"newKnob": [1, 2]}
    assert first.input.model_fields_set == reference.input.model_fields_set
    expected = strict.model_dump(mode="json", by_alias=True, exclude_unset=True)
    expected["steps"][0]["input"].update(cfgScale=45, model=NEW_AIR)
    assert relaxed.model_dump(mode="json", by_alias=True, exclude_unset=True) == expected


def test_a_workflow_whose_times_lack_a_zone_is_read_as_utc(client: Any, api: Any) -> None:
    # The models want aware date-times (AwareDatetime) and the relaxed read kept that
    # constraint: a workflow echoing a `createdAt` without a zone could not be read.
    data = _echoing()
    data["createdAt"] = "2026-01-21T22:21:26.3320000"
    data["steps"][0].update(
        startedAt="2026-01-21T22:21:27", completedAt="2026-01-21T23:00:00+02:00"
    )
    with pytest.raises(ValidationError, match="timezone"):  # pydantic alone refuses it
        Workflow.model_validate_json(json.dumps(data))
    api.get("/v2/consumer/workflows/w1").respond(200, json=data)
    workflow = client.get("w1")
    step = (workflow.steps or [])[0]
    assert isinstance(step, TextToImageStep)
    assert workflow.created_at == dt.datetime(2026, 1, 21, 22, 21, 26, 332000, tzinfo=dt.UTC)
    assert step.started_at == dt.datetime(2026, 1, 21, 22, 21, 27, tzinfo=dt.UTC)
    assert step.completed_at is not None  # an aware value keeps its own zone
    assert step.completed_at.utcoffset() == dt.timedelta(hours=2)
    assert _input(workflow)["prompt"] == data["steps"][0]["input"]["prompt"]


def test_a_value_past_its_bound_beside_a_real_problem_is_a_broken_answer() -> None:
    data = _echoing(cfgScale=45)
    data["steps"][0]["input"]["width"] = "wide"
    with pytest.raises(ResponseValidationError, match="2 problem"):
        _read(data)


class Echo(BaseModel):
    text: Annotated[str, Field(min_length=2, max_length=3)]
    ratio: Annotated[float, Field(gt=0, lt=1)]
    count: Annotated[int, Field(gt=0, multiple_of=5)]
    items: list[Annotated[int, Field(le=9)]]
    code: Annotated[str, Field(pattern="^[a-z]+$")]
    pair: Annotated[list[int], Field(min_length=2, max_length=2)]


@given(
    text=st.text(min_size=4) | st.text(max_size=1),
    ratio=st.floats(min_value=1, allow_nan=False, allow_infinity=False)
    | st.floats(max_value=0, allow_nan=False, allow_infinity=False),
    count=st.integers(min_value=1).filter(lambda n: n % 5),
    item=st.integers(min_value=10),
    code=st.text().filter(
        lambda text: not text.isascii() or not text.isalpha() or not text.islower()
    ),
    pair=st.lists(st.integers(), max_size=1) | st.lists(st.integers(), min_size=3),
)
def test_every_kind_of_constraint_is_relaxed_on_read(
    text: str, ratio: float, count: int, item: int, code: str, pair: list[int]
) -> None:
    data = {
        "text": text,
        "ratio": ratio,
        "count": count,
        "items": [1, item, 2],
        "code": code,
        "pair": pair,
    }
    with pytest.raises(ValidationError):
        Echo.model_validate_json(json.dumps(data))
    echo = read(Echo, json.dumps(data).encode(), "echo")
    assert type(echo) is Echo
    assert echo.model_dump() == data


def test_an_answer_with_more_values_past_bounds_than_a_widened_range_explains_fails() -> None:
    data = _echoing()
    step = data["steps"][0]
    step["input"]["cfgScale"] = 45
    data["steps"] = [{**step, "name": f"s{index}"} for index in range(MOST_LENIENT + 1)]
    with pytest.raises(ResponseValidationError, match="at steps/0/input/cfgScale"):
        _read(data)
    data["steps"] = data["steps"][:MOST_LENIENT]
    assert len(_read(data).steps or []) == MOST_LENIENT


class Named(BaseModel):
    """Fields named as members of a core schema (``ChatCompletionTool.function``,
    every step's ``metadata``)."""

    metadata: Annotated[int, Field(le=3)]
    default: Annotated[str, Field(max_length=1)]
    function: Echo
    pattern: Annotated[list[int], Field(max_length=1)]


def test_fields_named_as_schema_members_are_relaxed_too() -> None:
    echo = {"text": "abcdef", "ratio": 2.0, "count": 7, "items": [10], "code": "A", "pair": [1]}
    data = {"metadata": 9, "default": "long", "function": echo, "pattern": [1, 2]}
    named = read(Named, json.dumps(data).encode(), "named")
    assert type(named.function) is Echo
    assert named.model_dump() == data


_FIRST_READ_OF_A_LAZY_MEMBER = r"""
import json, sys
from civitai_app_sdk_generated import Workflow
from civitai_app_sdk.orchestrator._reading import read
workflow = read(Workflow, sys.argv[1].encode(), "workflow")
step_input = workflow.steps[1].input
print(json.dumps([type(step_input).__name__, step_input.steps, step_input.prompt]))
"""


def test_a_lazy_member_met_first_in_a_body_with_a_lone_surrogate_keeps_its_widened_value() -> None:
    # the strict read refuses the whole text (no member is built); the relaxed one builds
    # the members as it meets them, then reads again with them relaxed
    data = workflow_json("succeeded")
    member: dict[str, Any] = {"engine": "comfy", "ecosystem": "sdxl", "operation": "createImage"}
    member |= {"model": "urn:air:sdxl:checkpoint:civitai:1@2", "prompt": "p\ud800", "steps": 999}
    data["steps"].append({"$type": "imageGen", "name": "g", "status": "succeeded", "input": member})
    body = json.dumps(data)
    assert "\\ud800" in body  # a lone surrogate, as JSON writes it
    done = subprocess.run(  # which members are built is per process
        [sys.executable, "-c", _FIRST_READ_OF_A_LAZY_MEMBER, body],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout) == ["ComfySdxlCreateImageGenInput", 999, "p\ufffd"]


@pytest.mark.parametrize("depth", [250, 600, 5000])
def test_an_answer_nested_deeper_than_the_parser_allows_is_a_broken_answer(depth: int) -> None:
    # the model's parser refuses it as invalid JSON; making its text whole must not
    # recurse past Python's limit (a RecursionError, not the SDK's error)
    data = _echoing()
    data["metadata"] = {"deep": "X"}
    body = json.dumps(data).replace('"X"', "[" * depth + "]" * depth)
    with pytest.raises(ResponseValidationError, match="recursion limit exceeded"):
        read(Workflow, body.encode(), "workflow")


@pytest.mark.parametrize("count", [3, MOST_LENIENT + 1])
def test_a_step_that_is_no_object_is_one_problem_not_a_fallback_read_too(count: int) -> None:
    # The union's fallback (a model) cannot hold a number or a text; trying it anyway
    # doubled the problems and cost a Python call each: a body of 200,000 such steps
    # took 3.7 s to refuse, 0.9 s now.
    data = _echoing()
    data["steps"] = [5, "x", []] * (count // 3) + [7] * (count % 3)
    with pytest.raises(ResponseValidationError, match=f"{count} problem\\(s\\), first: Input "):
        _read(data)
