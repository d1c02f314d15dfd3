"""What refusing a broken answer costs does not grow with its problems.

A hostile 2xx body that fits the size cap but not the schema (hundreds of thousands of
bad steps) took seconds of CPU to refuse, long after the call's ``timeout=``: it was
read twice more leniently although nothing there could be mended, and every problem
was listed to name the first, and the error parsed the whole body for its ``body`` even
when nobody read it (now parsed when first read). The error stays the same
``ResponseValidationError``.
"""

from __future__ import annotations

import json
import pickle
from typing import Any

import pytest
from civitai_app_sdk_generated import Workflow
from civitai_app_sdk_generated._base import json_location, reported_errors
from pydantic import ValidationError

from civitai_app_sdk.errors import OrchestratorError, ResponseValidationError, UnparsedBody
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


BAD = [{"$type": "textToImage", "priority": []}] * 3


def test_a_refused_answer_is_parsed_only_when_its_body_is_read(monkeypatch: Any) -> None:
    # before: the error parsed the whole body as it was made (a second at 60 MB), even
    # for a caller that never looks at it
    body = _steps(*BAD)
    loads = json.loads
    parsed: list[object] = []

    def parsing(text: str | bytes) -> Any:
        parsed.append(text)
        return loads(text)

    monkeypatch.setattr(json, "loads", parsing)
    with pytest.raises(ResponseValidationError) as refused:
        read(Workflow, body, "workflow")
    assert parsed == []
    error = refused.value
    assert error.body == loads(body)
    assert error.body is error.body
    assert parsed == [body.decode()]


def test_a_body_parsed_on_demand_reads_pickles_and_sets_as_before() -> None:
    body = _steps(*BAD)
    with pytest.raises(ResponseValidationError) as refused:
        read(Workflow, body, "workflow")
    error = refused.value
    copied = pickle.loads(pickle.dumps(error))
    assert copied.body == json.loads(body)
    assert error.__reduce__()[2]["body"] == json.loads(body)
    kept: Any = error.body
    kept["steps"].clear()  # the parsed body is kept, with the caller's changes
    assert error.body == {**json.loads(body), "steps": []}
    error.body = {"replaced": True}
    assert error.body == {"replaced": True}


@pytest.mark.parametrize(("content", "body"), [(b"", None), (b"{nope", "{nope"), (b"[1]", [1])])
def test_a_body_that_is_no_workflow_is_kept_as_0_14_keeps_it(content: bytes, body: Any) -> None:
    with pytest.raises(ResponseValidationError) as refused:
        read(Workflow, content, "workflow")
    assert refused.value.body == body
    assert refused.value.body_text == content.decode()


def test_a_body_given_unparsed_reads_as_a_parsed_one() -> None:
    error = OrchestratorError("failed", body=UnparsedBody('{"a": [1]}'))
    assert error.body == {"a": [1]}
    assert OrchestratorError("failed", body='{"a": [1]}').body == '{"a": [1]}'
