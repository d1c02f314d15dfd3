"""What refusing a broken answer costs does not grow with its problems.

A hostile 2xx body that fits the size cap but not the schema (hundreds of thousands of
bad steps) took seconds of CPU to refuse, long after the call's ``timeout=``: it was
read twice more leniently although nothing there could be mended, and every problem
was listed to name the first. The error stays the same ``ResponseValidationError``.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from civitai_app_sdk_generated import Workflow
from civitai_app_sdk_generated._base import json_location, reported_errors
from pydantic import ValidationError

from civitai_app_sdk.errors import ResponseValidationError
from civitai_app_sdk.orchestrator import _reading
from civitai_app_sdk.orchestrator._reading import MOST_LENIENT, read
from tests.orchestrator.conftest import workflow_json


def _steps(*steps: Any) -> bytes:
    data = workflow_json("succeeded")
    data["steps"] = list(steps)
    return json.dumps(data).encode()


def _step(**changes: Any) -> dict[str, Any]:
    step: dict[str, Any] = workflow_json("succeeded")["steps"][0]
    return {**step, **changes}


def test_an_answer_with_nothing_to_mend_is_not_read_again(monkeypatch: Any) -> None:
    relaxed: list[object] = []
    monkeypatch.setattr(_reading, "_validate_relaxed", lambda *args: relaxed.append(args))
    body = _steps(*[_step(priority=[], name=f"s{index}") for index in range(3)])
    with pytest.raises(ResponseValidationError, match="3 problem\\(s\\), first: Input should"):
        read(Workflow, body, "workflow")
    assert relaxed == []


def test_an_answer_with_something_to_mend_is_still_read_leniently() -> None:
    # a value past its bound beside a refused null: both are mended, as before
    data = workflow_json("succeeded", tags=None)
    data["steps"][0]["input"]["cfgScale"] = 45
    workflow: Workflow = read(Workflow, json.dumps(data).encode(), "workflow")
    assert workflow.tags == []


@pytest.mark.parametrize(
    "steps",
    [
        [7] * (MOST_LENIENT + 1),
        [{"$type": "textToImage", "priority": []}] * MOST_LENIENT,
        [_step(), *[{"$type": "notAStep", "status": 5}] * (MOST_LENIENT + 1)],
    ],
    ids=["numbers", "bad-members", "bad-fallbacks"],
)
def test_a_hostile_answer_names_its_first_problem_without_listing_them_all(
    steps: list[Any], monkeypatch: Any
) -> None:
    body = _steps(*steps)
    with pytest.raises(ValidationError) as strict:
        Workflow.model_validate_json(body)
    assert strict.value.error_count() > MOST_LENIENT
    first = reported_errors(strict.value)[0]
    listed: list[int] = []

    def listing(error: ValidationError) -> Any:
        listed.append(error.error_count())
        return reported_errors(error)

    monkeypatch.setattr(_reading, "reported_errors", listing)
    with pytest.raises(ResponseValidationError) as refused:
        read(Workflow, body, "workflow")
    where = "/".join(map(str, json_location(first["loc"])))
    assert f"{strict.value.error_count()} problem(s), first: {first['msg']} at {where}." in str(
        refused.value
    )
    assert refused.value.body == json.loads(body)
    assert listed
    assert max(listed) <= MOST_LENIENT
