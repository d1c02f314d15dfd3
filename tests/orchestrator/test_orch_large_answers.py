"""Refusing a large broken answer costs about one read of it, after ``timeout=`` too.

A 2xx body that fits the size cap but not the schema (15 MB of 200,000 bad steps, 800,000
problems) took 3-5 s of CPU to refuse once it had arrived, past the call's ``timeout=``:
the strict read listed every problem before the error was made. An answer over
``LARGE_ANSWER`` is now read by validators whose lists stop at their first bad item, and
its error counts "at least" the problems found; smaller ones (every real answer) are read
and counted as before. The error stays a ``ResponseValidationError`` on every path.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import respx
from civitai_app_sdk_generated import Workflow
from civitai_app_sdk_generated._base import json_location, reported_errors, union_props
from pydantic import ValidationError

from civitai_app_sdk.errors import ResponseValidationError
from civitai_app_sdk.orchestrator import _reading
from civitai_app_sdk.orchestrator._reading import LARGE_ANSWER, MOST_LENIENT, read
from civitai_app_sdk.orchestrator.calls import WorkflowPage
from tests.orchestrator.conftest import BASE, workflow_json
from tests.orchestrator.conftest import errors_on_both_clients as _both

WF = "/v2/consumer/workflows/wf-1"
BAD_STEP = {"$type": "textToImage", "name": 1, "status": [], "input": {"width": "x"}}


def _hostile() -> bytes:
    """A workflow just over ``LARGE_ANSWER`` whose every step is broken four ways."""
    data = workflow_json("succeeded")
    data["steps"] = [BAD_STEP] * (LARGE_ANSWER // len(json.dumps(BAD_STEP)) + 1)
    body = json.dumps(data).encode()
    assert len(body) > LARGE_ANSWER
    return body


def _strict_reads(monkeypatch: Any) -> list[int]:
    """The problem counts of the strict reads (those that list every problem) made."""
    counts: list[int] = []
    strict = _reading._validate

    def counting(kind: Any, content: bytes | str) -> Any:
        try:
            return strict(kind, content)
        except ValidationError as error:
            counts.append(error.error_count())
            raise

    monkeypatch.setattr(_reading, "_validate", counting)
    return counts


def test_a_large_hostile_answer_is_refused_without_listing_every_problem(
    monkeypatch: Any,
) -> None:
    body = _hostile()
    with pytest.raises(ValidationError) as strict:
        Workflow.model_validate_json(body)
    first = reported_errors(strict.value)[0]
    counts = _strict_reads(monkeypatch)
    with pytest.raises(ResponseValidationError) as refused:
        read(Workflow, body, "workflow")
    assert counts == []  # before: one read listing 55,000 problems
    error = refused.value
    where = "/".join(map(str, json_location(first["loc"])))
    assert f"at least {error.problem_count} problem(s), first: {first['msg']} at {where}." in (
        str(error)
    )
    assert error.problem_count is not None
    assert 0 < error.problem_count <= MOST_LENIENT < strict.value.error_count()
    assert error.every_problem_counted is False
    assert error.body == json.loads(body)


def test_an_answer_up_to_the_bound_counts_every_problem_as_before() -> None:
    # a workflow of 100 real steps is about 300 KB: read and counted as it always was
    step = {**workflow_json("succeeded")["steps"][0], "priority": []}
    data = workflow_json("succeeded", steps=[{**step, "name": f"s{n}"} for n in range(100)])
    data["padding"] = "x" * (LARGE_ANSWER - len(json.dumps(data)) - 20)
    body = json.dumps(data).encode()
    assert len(body) <= LARGE_ANSWER
    with pytest.raises(ResponseValidationError) as refused:
        read(Workflow, body, "workflow")
    assert "the API's schema: 100 problem(s), first: Input should" in str(refused.value)
    assert refused.value.problem_count == 100
    assert refused.value.every_problem_counted is True


def test_a_large_answer_that_fits_reads_as_the_strict_read_does() -> None:
    workflow = workflow_json("succeeded", extraField={"kept": 1})
    workflow["steps"].append(
        {"$type": "brandNewStep", "name": "n", "status": "succeeded", "input": {"a": 1}}
    )
    body = json.dumps({"next": "c", "items": [workflow] * 1200}).encode()
    assert len(body) > LARGE_ANSWER
    page = read(WorkflowPage, body, "workflow page")
    strict = _reading._validate(WorkflowPage, body)
    assert page == strict
    assert [type(step) for step in page.items[-1].steps] == [
        type(step) for step in strict.items[-1].steps
    ]
    assert page.items[0].model_fields_set == strict.items[0].model_fields_set


def test_a_large_answer_is_mended_as_a_small_one() -> None:
    # in every workflow: a value past its bound, a refused null member, refused null
    # list items (a fail-fast read names those of the first workflow only; before, the
    # 6,000 problems of the strict read were too many to mend)
    data = workflow_json("succeeded", tags=None)
    data["steps"][0]["input"]["cfgScale"] = 45
    data["steps"][0]["jobs"] = [None, *data["steps"][0]["jobs"], None, None]
    small = read(WorkflowPage, json.dumps({"items": [data]}).encode(), "workflow page")
    body = json.dumps({"items": [data] * 1200}).encode()
    assert len(body) > LARGE_ANSWER
    page = read(WorkflowPage, body, "workflow page")
    assert page.items == small.items * 1200
    assert page.items[-1].tags == []
    assert len(page.items[-1].steps[0].jobs or []) == 1


def test_a_null_goes_from_the_other_items_only_where_they_read_the_same_way() -> None:
    # the fail-fast read named the refused null of steps/0 (a textToImage step): the
    # same null of another textToImage step goes too, not that of another step type
    steps: list[Any] = [{"$type": "textToImage", "x": None}, {"$type": "comfy", "x": None}]
    steps += [{"$type": "textToImage", "x": None}, {"$type": "textToImage"}, None]
    loc = ("steps", 0, "WorkflowStep", "textToImage", "x")
    assert json_location(loc) == ("steps", 0, "x")
    assert union_props(loc) == [(2, "$type")]
    alike = _reading._alike({"steps": steps}, ("steps", 0, "x"), loc)
    assert [id(parent) for parent in alike] == [id(steps[0]), id(steps[2]), id(steps[3])]


@pytest.mark.parametrize(
    "call",
    [lambda c: c.get("wf-1"), lambda c: c.poll("wf-1", timeout=60)],
    ids=["get", "poll"],
)
def test_both_clients_and_poll_refuse_a_large_hostile_answer_alike(
    call: Callable[[Any], Any], monkeypatch: Any
) -> None:
    counts = _strict_reads(monkeypatch)
    with respx.mock(base_url=BASE) as api:
        api.get(WF).respond(200, content=_hostile(), headers={"content-type": "application/json"})
        errors = _both(call)
    assert counts == []
    for error in errors:
        assert isinstance(error, ResponseValidationError)
        assert "at least" in str(error)
        assert "Upgrade civitai-app-sdk" in str(error)


def test_a_submit_refused_so_still_says_how_to_retry_safely(monkeypatch: Any) -> None:
    counts = _strict_reads(monkeypatch)
    body = {"steps": [{"$type": "echo", "input": {"message": "hi"}}]}
    with respx.mock(base_url=BASE) as api:
        api.post("/v2/consumer/workflows").respond(200, content=_hostile())
        keyed, _ = _both(lambda c: c.submit(body, external_id="key-1"))
        unkeyed, _ = _both(lambda c: c.submit(body, idempotent=False))
    assert counts == []
    assert "at least" in str(keyed)
    assert "external_id='key-1'" in str(keyed)
    assert "at least" in str(unkeyed)
    assert "may have run and spent Buzz" in str(unkeyed)
