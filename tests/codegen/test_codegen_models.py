"""The generated models parse realistic workflows for every step type and round-trip."""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

import pytest
from civitai_app_sdk_generated import engines, models, steps
from civitai_app_sdk_generated._base import format_timespan, parse_timespan, request_problems
from pydantic import ValidationError

from tests.codegen.instances import InstanceBuilder


def workflow(step_list: list[Any], status: str = "succeeded", **extra: Any) -> dict[str, Any]:
    """A workflow response around `step_list`, shaped like the service's answers."""
    return {
        "id": "8484131-20260121222126332",
        "createdAt": "2026-01-21T22:21:26.3321234Z",
        "status": status,
        "arguments": {},
        "callbacks": [],
        "cost": {"base": 12, "total": 12, "tips": {"civitai": 0, "creators": 0}},
        "currencies": ["blue"],
        "forceRefunded": False,
        "metadata": {"app": "tests"},
        "tags": ["civitai-app-sdk"],
        "tips": {"civitai": 0, "creators": 0},
        "upgradeMode": "manual",
        "transactions": {"list": [{"type": "debit", "amount": 12, "accountType": "blue"}]},
        "steps": step_list,
        **extra,
    }


def step_json(builder: InstanceBuilder, schemas: dict[str, Any], entry: Any, status: str) -> Any:
    """A step of type `entry.type` with input and, when succeeded, output."""
    schema = schemas[entry.step_model_name]
    step = builder.build(schema)
    step.update({"$type": entry.type, "name": "$0", "status": status, "priority": "normal"})
    job = builder.build(schemas["WorkflowStepJob"])
    job.update(id="6f1c2e0a-8a53-4c0e-9d5c-3c7a1f9b2d11", status=status)
    step["jobs"] = [job]
    if status != "succeeded":
        step.pop("output", None)
    elif entry.output_model_name is not None and "output" not in step:
        step["output"] = builder.build(schema["properties"]["output"])
    return step


def roundtrip(parsed: models.Workflow) -> models.Workflow:
    """Dump by alias and parse again."""
    return models.Workflow.model_validate_json(
        parsed.model_dump_json(by_alias=True, exclude_none=True)
    )


@pytest.fixture(scope="module")
def schemas(normalised: Any) -> dict[str, Any]:
    return normalised[0]["components"]["schemas"]  # type: ignore[no-any-return]


def test_catalog_lists_every_step_type(spec: Any) -> None:
    mapping = spec["components"]["schemas"]["WorkflowStep"]["discriminator"]["mapping"]
    assert set(steps.WORKFLOW_STEP_TYPES) == set(mapping)
    assert len(steps.WORKFLOW_STEP_TYPES) == 40


@pytest.mark.parametrize("step_type", sorted(steps.WORKFLOW_STEP_TYPES))
@pytest.mark.parametrize("full", [False, True], ids=["required", "full"])
def test_every_step_type_parses_and_roundtrips(
    step_type: str, full: bool, schemas: dict[str, Any]
) -> None:
    entry = steps.WORKFLOW_STEP_TYPES[step_type]
    builder = InstanceBuilder(schemas, full=full)
    data = workflow([step_json(builder, schemas, entry, "succeeded")])
    parsed = models.Workflow.model_validate_json(json.dumps(data))
    step = parsed.steps[0]
    assert type(step) is entry.step_model
    assert step.field_type == step_type
    assert roundtrip(parsed) == parsed
    template = entry.template_model.model_validate(
        {"$type": step_type, "input": data["steps"][0]["input"]}
    )
    assert template.field_type == step_type


@pytest.mark.parametrize(
    "variant", engines.IMAGE_GEN_VARIANTS + engines.VIDEO_GEN_VARIANTS, ids=lambda v: v.model_name
)
def test_every_generation_variant_selects_its_leaf(variant: Any, schemas: dict[str, Any]) -> None:
    builder = InstanceBuilder(schemas)
    kind = "imageGen" if variant in engines.IMAGE_GEN_VARIANTS else "videoGen"
    entry = steps.WORKFLOW_STEP_TYPES[kind]
    body = builder.build(schemas[variant.model_name])
    body.update(variant.selectors)
    step = {"$type": kind, "name": "gen", "status": "processing", "priority": "normal"}
    step.update(metadata={}, input=body)
    parsed = models.Workflow.model_validate(workflow([step], status="processing"))
    assert type(parsed.steps[0]) is entry.step_model
    assert type(parsed.steps[0].input) is variant.model
    assert roundtrip(parsed) == parsed


def test_engine_catalog_matches_the_spec_tree() -> None:
    assert len(engines.IMAGE_GEN_ENGINES) == 11
    assert len(engines.VIDEO_GEN_ENGINES) == 17
    assert len(engines.IMAGE_GEN_VARIANTS) == 87
    assert len(engines.VIDEO_GEN_VARIANTS) == 49
    deepest = [
        v for v in engines.IMAGE_GEN_VARIANTS if v.model_name == "ZImageTurboCreateImageGenInput"
    ]
    assert dict(deepest[0].selectors) == {
        "engine": "sdcpp",
        "ecosystem": "zImage",
        "model": "turbo",
        "operation": "createImage",
    }


@pytest.mark.parametrize("status", ["processing", "failed", "unassigned"])
def test_workflows_in_other_states_parse(status: str, schemas: dict[str, Any]) -> None:
    entry = steps.WORKFLOW_STEP_TYPES["textToImage"]
    builder = InstanceBuilder(schemas)
    data = workflow([step_json(builder, schemas, entry, status)], status=status)
    parsed = models.Workflow.model_validate(data)
    assert parsed.status == status
    assert parsed.steps[0].output is None
    assert roundtrip(parsed) == parsed


def test_whatif_workflow_carries_cost_and_insufficient_buzz(schemas: dict[str, Any]) -> None:
    entry = steps.WORKFLOW_STEP_TYPES["textToImage"]
    data = workflow([step_json(InstanceBuilder(schemas), schemas, entry, "unassigned")])
    data.update(status="unassigned", id=None)
    data["transactions"]["insufficientBuzz"] = True
    parsed = models.Workflow.model_validate(data)
    assert parsed.cost.total == 12
    assert parsed.transactions is not None
    assert parsed.transactions.insufficient_buzz is True


def test_unknown_step_type_keeps_its_raw_data() -> None:
    step = {
        "$type": "holoGen",
        "name": "$0",
        "status": "succeeded",
        "priority": "normal",
        "metadata": {},
        "input": {"hologram": "cat", "layers": 3},
        "output": {"holograms": [{"id": "H1"}]},
    }
    parsed = models.Workflow.model_validate(workflow([step]))
    unknown = parsed.steps[0]
    assert isinstance(unknown, models.UnknownWorkflowStep)
    assert unknown.field_type == "holoGen"
    assert unknown.model_extra == {
        "input": {"hologram": "cat", "layers": 3},
        "output": {"holograms": [{"id": "H1"}]},
    }
    dumped = json.loads(parsed.model_dump_json(by_alias=True, exclude_none=True))
    assert dumped["steps"][0]["input"] == step["input"]


def test_unknown_nested_engine_falls_back_at_its_level() -> None:
    step = {
        "$type": "imageGen",
        "name": "$0",
        "status": "processing",
        "priority": "normal",
        "metadata": {},
        "input": {"engine": "comfy", "ecosystem": "future-eco", "prompt": "p"},
    }
    parsed = models.Workflow.model_validate(workflow([step]))
    assert isinstance(parsed.steps[0], models.ImageGenStep)
    assert isinstance(parsed.steps[0].input, models.UnknownComfyImageGenInput)
    assert parsed.steps[0].input.ecosystem == "future-eco"


def test_unknown_enum_values_and_extra_fields_survive() -> None:
    data = workflow([], status="hibernating", brandNewField={"a": 1})
    parsed = models.Workflow.model_validate(data)
    assert parsed.status == "hibernating"
    assert not parsed.status.is_known()
    assert parsed.model_extra == {"brandNewField": {"a": 1}}
    dumped = json.loads(parsed.model_dump_json(by_alias=True))
    assert dumped["status"] == "hibernating"
    assert dumped["brandNewField"] == {"a": 1}


def test_listing_page_parses() -> None:
    page = {"next": "cursor-2", "items": [workflow([]), workflow([], status="failed")]}
    parsed = models.CursedArrayOfTelemetryCursorAndWorkflow.model_validate(page)
    assert parsed.next == "cursor-2"
    assert [w.status for w in parsed.items] == ["succeeded", "failed"]


def test_bad_known_step_is_an_error_not_a_fallback() -> None:
    step = {"$type": "textToImage", "name": "$0", "status": "succeeded", "priority": "normal"}
    step.update(metadata={}, input={"prompt": 5})
    with pytest.raises(ValidationError):
        models.Workflow.model_validate(workflow([step]))


def test_requests_are_strict() -> None:
    body = {
        "currencies": [],
        "steps": [
            {"$type": "textToImage", "input": {"prompt": "a cat", "cfgScale": 7, "modle": "x"}},
            {"$type": "holoGen", "input": {}},
            {"$type": "textToImage", "priority": "urgent", "input": {"prompt": "p", "cfgScale": 1}},
        ],
    }
    with pytest.raises(ValidationError, match="modle"):
        models.WorkflowTemplate.model_validate(body)
    parsed = models.WorkflowTemplate.model_validate(body, extra="allow")
    problems = request_problems(parsed)
    assert "/steps/0/input/modle: field not allowed here" in problems
    assert any(p.startswith("/steps/1") and "unknown" in p for p in problems)
    assert any(p.startswith("/steps/2/priority") and "'urgent'" in p for p in problems)
    good = copy.deepcopy(body)
    good["steps"] = [{"$type": "textToImage", "input": {"prompt": "a cat", "cfgScale": 7}}]
    assert request_problems(models.WorkflowTemplate.model_validate(good)) == []


@pytest.mark.parametrize(
    ("text", "delta"),
    [
        ("00:10:00", dt.timedelta(minutes=10)),
        ("1.02:10:00.5", dt.timedelta(days=1, hours=2, minutes=10, milliseconds=500)),
        ("-00:00:01", dt.timedelta(seconds=-1)),
        ("00:00:00.0000010", dt.timedelta(microseconds=1)),
    ],
)
def test_timespan_reads_and_writes_dotnet_form(text: str, delta: dt.timedelta) -> None:
    assert parse_timespan(text) == delta
    assert parse_timespan(format_timespan(delta)) == delta


def test_timespan_rejects_iso_durations() -> None:
    with pytest.raises(ValueError, match="TimeSpan"):
        parse_timespan("PT10M")


def test_step_timeout_serialises_as_timespan(schemas: dict[str, Any]) -> None:
    template = models.TextToImageStepTemplate.model_validate(
        {"$type": "textToImage", "timeout": "1.00:00:00", "input": {"prompt": "p", "cfgScale": 7}}
    )
    assert template.timeout == dt.timedelta(days=1)
    assert json.loads(template.model_dump_json(by_alias=True))["timeout"] == "1.00:00:00"


def test_documented_short_bodies_parse_with_empty_defaults() -> None:
    body = {
        "id": "wf-1",
        "createdAt": "2026-01-21T22:21:26Z",
        "status": "processing",
        "cost": {"base": 1, "total": 1, "tips": {"civitai": 0, "creators": 0}},
        "steps": [{"$type": "videoGen", "name": "v", "status": "processing",
                   "input": {"engine": "kling", "prompt": "a dog"}}],
    }  # fmt: skip
    parsed = models.Workflow.model_validate(body)
    assert parsed.tags == []
    assert parsed.metadata == {}
    assert parsed.tips is None
    assert parsed.steps[0].priority is None
    assert parsed.steps[0].input.cfg_scale == 0.5
    page = models.CursedArrayOfTelemetryCursorAndWorkflow.model_validate(
        {"items": [body], "next": None}
    )
    assert page.next is None


def test_missing_field_without_default_is_still_an_error() -> None:
    with pytest.raises(ValidationError, match="status"):
        models.Workflow.model_validate({"id": "w", "createdAt": "2026-01-01T00:00:00Z"})
