"""A ``null`` where the spec promises a list or object keeps the rest of the answer readable."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from civitai_app_sdk_generated import Workflow

from civitai_app_sdk.errors import ResponseValidationError
from civitai_app_sdk.orchestrator import extract_image_urls, extract_images
from civitai_app_sdk.orchestrator._reading import read
from civitai_app_sdk.orchestrator.calls import WorkflowPage
from tests.orchestrator.conftest import TOKEN, workflow_json

SECRET = "sig=capability-SECRET"


def _read(data: object, kind: Any = Workflow) -> Any:
    return read(kind, json.dumps(data).encode(), "workflow")


def _set(data: dict[str, Any], path: str, value: object) -> dict[str, Any]:
    data = copy.deepcopy(data)
    *parents, last = path.split("/")
    target: Any = data
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    if isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return data


@pytest.mark.parametrize(
    "path",
    [
        "tags",
        "callbacks",
        "currencies",
        "metadata",
        "arguments",
        "transactions/list",
        "steps/0/metadata",
        "steps/0/jobs",
        "cost",
    ],
)
def test_null_collections_read_as_empty_and_the_rest_is_kept(path: str) -> None:
    data = _set(workflow_json("succeeded"), path, None)
    workflow = _read(data)
    assert workflow.id == data["id"]
    assert [image.id for image in extract_images(workflow)] == ["JNFDW54JNTATNW42HACYCWSQP0.jpeg"]
    assert len(extract_image_urls(workflow)) == 1


def test_null_required_list_and_null_items_are_read_leniently() -> None:
    data = workflow_json("succeeded")
    first = data["steps"][0]
    second = _set(first, "output/images", None)
    third = _set(first, "output/images/0", None)
    data["steps"] = [None, first, second, third, None]
    workflow = _read(data)
    assert [step.output.images for step in workflow.steps][1:] == [[], []]
    assert len(workflow.steps) == 3
    assert len(extract_images(workflow)) == 1
    page = _read({"items": None, "next": None}, WorkflowPage)
    assert page.items == []


@pytest.mark.parametrize(
    ("path", "where"),
    [
        ("status", "at status"),
        ("steps/0/input", "at steps/0/input"),
        ("steps/0/$type", r"at steps/0/\$type"),
    ],
)
def test_a_null_the_model_cannot_do_without_is_still_an_error_naming_its_path(
    path: str, where: str
) -> None:
    data = _set(workflow_json("succeeded"), path, None)
    with pytest.raises(ResponseValidationError, match=where) as caught:
        _read(data)
    assert caught.value.body == data


@pytest.mark.parametrize(
    "path", ["createdAt", "cost/total", "steps/0/output/images/0/width", "transactions/list"]
)
def test_a_broken_answer_never_repeats_its_values_in_the_message(
    client: Any, api: Any, path: str
) -> None:
    data = _set(workflow_json("succeeded"), path, f"https://blobs.example/x?{SECRET}")
    api.get("/v2/consumer/workflows/w1").respond(200, json=data)
    with pytest.raises(ResponseValidationError) as caught:
        client.get("w1")
    message = str(caught.value)
    assert SECRET not in message
    assert TOKEN not in message
    assert f"at {path}" in message


def test_a_message_that_would_quote_the_sent_value_does_not() -> None:
    data = _set(workflow_json("succeeded"), "steps/0/timeout", f"https://blobs.example/?{SECRET}")
    with pytest.raises(ResponseValidationError, match="TimeSpan") as caught:
        _read(data)
    assert SECRET not in str(caught.value)
    assert "at steps/0/timeout" in str(caught.value)
    assert SECRET in (caught.value.body_text or "")  # the body is still there to report


@pytest.mark.parametrize("content", [b"", b"<html>busy</html>", b"null", b"[]"])
def test_a_body_that_is_no_workflow_names_the_top_level(content: bytes) -> None:
    with pytest.raises(ResponseValidationError, match=r"at the top level\.") as caught:
        read(Workflow, content, "workflow")
    assert " at . " not in str(caught.value)


def test_a_lone_surrogate_escape_in_an_echoed_prompt_keeps_the_workflow_readable() -> None:
    """JavaScript's JSON.stringify writes a lone surrogate as ``"\\ud800"``, which the
    model's parser refuses: one such prompt made the workflow (or a page) unreadable."""
    data = _set(workflow_json("succeeded"), "steps/0/input/prompt", "a\ud800b")
    data["metadata"] = {"k\udc00": None}
    data["tags"] = None
    raw = json.dumps(data).encode()
    assert b"\\ud800" in raw
    workflow = read(Workflow, raw, "workflow")
    assert workflow.steps[0].input.prompt == "a\ufffdb"
    assert workflow.metadata == {"k\ufffd": None}
    assert workflow.tags == []
    assert len(extract_images(workflow)) == 1
    page = read(WorkflowPage, json.dumps({"items": [data], "next": None}).encode(), "page")
    assert page.items[0].id == data["id"]
