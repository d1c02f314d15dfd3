"""Refusing an answer under ``LARGE_ANSWER`` whose unions fail a million times is bounded.

A 2xx body of 1.04 MB of ``{}`` steps took 3 to 8 s to refuse through ``client.get``:
each step failed the step union's first branch and its fallback, a Python call building
a ``ValidationError``. The strict read now stops past ``UNION_FAILURES`` such failures
and the answer is refused as a large one is ("at least"). A valid answer spends nothing,
an answer with a few problems is reported as before, and a user's own
``Workflow.model_validate_json`` has no budget.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable
from typing import Any

import pytest
import respx
from civitai_app_sdk_generated import Workflow
from civitai_app_sdk_generated import _base as base
from civitai_app_sdk_generated._base import json_location, reported_errors
from pydantic import ValidationError

from civitai_app_sdk.errors import ResponseValidationError
from civitai_app_sdk.orchestrator import _reading
from civitai_app_sdk.orchestrator._reading import (
    LARGE_ANSWER,
    MOST_LENIENT,
    UNION_FAILURES,
    adapter,
    read,
)
from civitai_app_sdk.orchestrator.calls import WorkflowPage
from tests.orchestrator.conftest import BASE, workflow_json
from tests.orchestrator.conftest import errors_on_both_clients as _both

STEP = workflow_json("succeeded")["steps"][0]
SLACK = 10
"""Failing union reads past the budget: the one that stops the read, and the fail-fast
read's (its lists stop at their first bad item)."""


def _filled(item: Any, size: int, page: bool = False) -> bytes:
    """A workflow (or a page of workflows) of about ``size`` bytes of ``item``s."""
    count = max(1, (size - 1500) // (len(json.dumps(item)) + 2))
    if page:
        return json.dumps({"items": [item] * count, "next": None}).encode()
    return json.dumps(workflow_json("succeeded", steps=[item] * count)).encode()


def _empty_steps() -> bytes:
    """The hostile answer: a workflow just under ``LARGE_ANSWER`` of ``{}`` steps."""
    body = _filled({}, LARGE_ANSWER - 100)
    assert 1_000_000 < len(body) <= LARGE_ANSWER
    return body


def _page_of_empty_steps() -> bytes:
    """A page whose one workflow has the ``{}`` steps."""
    body = b'{"items": [' + _empty_steps() + b'], "next": null}'
    assert len(body) <= LARGE_ANSWER
    return body


def _union_failures(monkeypatch: Any) -> list[int]:
    """Counts (in its one item) the calls of the unions' second branch, which fails for
    each ``{}`` step. The models are rebuilt so that their schemas call the counter."""
    calls = [0]
    rest = base.OpenUnion._read_rest

    def counted(self: Any, *args: Any) -> Any:
        calls[0] += 1
        return rest(self, *args)

    monkeypatch.setattr(base.OpenUnion, "_read_rest", counted)
    Workflow.model_rebuild(force=True)
    monkeypatch.setattr(_reading, "_current", _reading._Adapters(-1))  # new adapters
    return calls


@pytest.fixture(autouse=True)
def _fresh_models() -> Any:
    yield
    Workflow.model_rebuild(force=True)  # the unions' own second branch again


def _as_before(kind: Any, body: bytes, what: str) -> tuple[str, int]:
    """The message and count of a broken answer with few problems: its strict read's."""
    with pytest.raises(ValidationError) as strict:
        adapter(kind).validate_json(body, extra="allow", context={"civitai_extra": "allow"})
    count = strict.value.error_count()
    first = reported_errors(strict.value)[0]
    where = "/".join(map(str, json_location(first["loc"])))
    message = (
        f"the {what} in the response does not match the API's schema: {count} problem(s), "
        f"first: {_reading._said(first)} at {where}"
    )
    return message, count


def _refused_at_least(error: BaseException) -> None:
    assert isinstance(error, ResponseValidationError)
    assert "does not match the API's schema: at least " in str(error)
    assert "first: Field required at " in str(error)
    assert error.every_problem_counted is False
    assert error.problem_count is not None
    assert 0 < error.problem_count <= MOST_LENIENT


def test_a_hostile_answer_under_the_bound_stops_at_the_budget(monkeypatch: Any) -> None:
    calls = _union_failures(monkeypatch)
    body = _empty_steps()
    with pytest.raises(ResponseValidationError) as refused:
        read(Workflow, body, "workflow")
    assert calls[0] <= UNION_FAILURES + SLACK  # before: one per step, 261,000
    _refused_at_least(refused.value)
    assert str(refused.value).startswith(
        "the workflow in the response does not match the API's schema: at least "
        f"{refused.value.problem_count} problem(s), first: Field required at steps/0/$type."
    )
    assert refused.value.body == json.loads(body)


def test_a_users_own_read_still_lists_every_problem() -> None:
    body = _filled({}, 64 * 1024)
    steps = len(json.loads(body)["steps"])
    assert steps > UNION_FAILURES
    with pytest.raises(ValidationError) as listed:
        Workflow.model_validate_json(body)
    assert listed.value.error_count() >= steps


class _Spy:
    """An adapter whose read notes its budget, and what another thread sees meanwhile."""

    def __init__(self, seen: list[Any]) -> None:
        self._seen = seen

    def validate_json(self, *args: Any, **kwargs: Any) -> None:
        self._seen.append(base.UNION_FAILURES_LEFT.get())
        thread = threading.Thread(target=lambda: self._seen.append(base.UNION_FAILURES_LEFT.get()))
        thread.start()
        thread.join()


def test_the_budget_is_the_reads_own(monkeypatch: Any) -> None:
    """Set for the strict read only, on its thread only, and not left set after a read,
    refused or not."""
    workflow = json.dumps(workflow_json("succeeded")).encode()
    for body in (_filled({}, 64 * 1024), workflow, _filled({"$type": 1}, 8000)):
        with contextlib.suppress(ResponseValidationError):
            read(Workflow, body, "workflow")
        assert base.UNION_FAILURES_LEFT.get() is None
    seen: list[Any] = []
    monkeypatch.setattr(_reading, "adapter", lambda kind: _Spy(seen))
    _reading._validate(Workflow, workflow)
    assert seen == [[UNION_FAILURES], None]
    assert base.UNION_FAILURES_LEFT.get() is None


def test_concurrent_reads_each_have_their_budget() -> None:
    """A valid read running beside hostile ones on other threads is not stopped."""
    hostile, valid = _filled({}, 256 * 1024), _filled(STEP, 256 * 1024)
    results: list[Any] = []

    def run(body: bytes) -> None:
        try:
            results.append(type(read(Workflow, body, "workflow")).__name__)
        except ResponseValidationError as error:
            results.append(error.every_problem_counted)

    threads = [threading.Thread(target=run, args=(b,)) for b in [hostile, valid] * 3]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(map(str, results)) == ["False"] * 3 + ["Workflow"] * 3


@pytest.mark.parametrize(
    "steps",
    [[{}], [1], [{"$type": "textToImage", "input": []}]],
    ids=["empty", "not-an-object", "bad-member"],
)
def test_each_way_a_union_fails_spends_the_budget(steps: list[Any]) -> None:
    body = json.dumps(workflow_json("succeeded", steps=steps * (UNION_FAILURES + 50)))
    with pytest.raises(ResponseValidationError) as refused:
        read(Workflow, body.encode(), "workflow")
    assert refused.value.every_problem_counted is False


FEW_PROBLEMS = {
    "bad-priority": {**STEP, "priority": []},
    "bad-date": {**STEP, "startedAt": "not a date"},
    "bad-job": {**STEP, "jobs": [{"id": "j", "status": "processing", "cost": "x"}]},
    "empty": {},
}


@pytest.mark.parametrize("size", [4_000, 64 * 1024, 256 * 1024])
@pytest.mark.parametrize("bad", list(FEW_PROBLEMS), ids=list(FEW_PROBLEMS))
def test_an_answer_with_a_few_problems_is_reported_as_before(bad: str, size: int) -> None:
    data = json.loads(_filled(STEP, size))
    data["steps"][1::40] = [FEW_PROBLEMS[bad]] * len(data["steps"][1::40])
    body = json.dumps(data).encode()
    message, count = _as_before(Workflow, body, "workflow")
    assert 0 < count <= 60
    with pytest.raises(ResponseValidationError) as refused:
        read(Workflow, body, "workflow")
    assert str(refused.value).startswith(message + ". Upgrade civitai-app-sdk")
    assert refused.value.problem_count == count
    assert refused.value.every_problem_counted is True


DEEP = {
    "$type": "imageGen",
    "name": "s",
    "status": "succeeded",
    "input": {
        "engine": "sdcpp",
        "ecosystem": "zImage",
        "model": "turbo",
        "operation": "createImage",
        "prompt": "p",
        "seed": "x",
    },
}
"""A step whose one problem is inside five nested unions (step, engine, ecosystem,
model, operation; some of them lazy, read by a Python call)."""


def test_deep_problems_up_to_the_lenient_limit_are_all_counted() -> None:
    """Each problem here fails five nested unions: the budget leaves room for them."""
    body = json.dumps(workflow_json("succeeded", steps=[DEEP] * MOST_LENIENT)).encode()
    message, count = _as_before(Workflow, body, "workflow")
    assert count == MOST_LENIENT
    with pytest.raises(ResponseValidationError) as refused:
        read(Workflow, body, "workflow")
    assert str(refused.value).startswith(message + ".")
    assert refused.value.every_problem_counted is True


def test_the_budget_stops_a_read_deep_in_nested_unions(monkeypatch: Any) -> None:
    calls = _union_failures(monkeypatch)
    steps = [DEEP] * (UNION_FAILURES // 5 + 100)
    body = json.dumps(workflow_json("succeeded", steps=steps)).encode()
    with pytest.raises(ResponseValidationError) as refused:
        read(Workflow, body, "workflow")
    assert calls[0] <= UNION_FAILURES + SLACK
    assert refused.value.every_problem_counted is False
    assert "at least 1 problem(s), first: Input should be a valid integer" in str(refused.value)
    assert base.UNION_FAILURES_LEFT.get() is None


@pytest.mark.parametrize(
    ("call", "path", "body"),
    [
        (lambda c: c.get("wf-1"), "/v2/consumer/workflows/wf-1", _empty_steps),
        (lambda c: c.poll("wf-1", timeout=60), "/v2/consumer/workflows/wf-1", _empty_steps),
        (lambda c: c.list(), "/v2/consumer/workflows", _page_of_empty_steps),
    ],
    ids=["get", "poll", "list"],
)
def test_both_clients_refuse_a_hostile_answer_within_the_budget(
    call: Callable[[Any], Any], path: str, body: Callable[[], bytes], monkeypatch: Any
) -> None:
    calls = _union_failures(monkeypatch)
    with respx.mock(base_url=BASE) as api:
        api.get(path).respond(200, content=body(), headers={"content-type": "application/json"})
        errors = _both(call)
    assert calls[0] <= 2 * (UNION_FAILURES + SLACK)
    assert len(errors) == 2
    for error in errors:
        _refused_at_least(error)


def test_a_submit_refused_so_still_says_how_to_retry_safely(monkeypatch: Any) -> None:
    calls = _union_failures(monkeypatch)
    body = {"steps": [{"$type": "echo", "input": {"message": "hi"}}]}
    with respx.mock(base_url=BASE) as api:
        api.post("/v2/consumer/workflows").respond(200, content=_empty_steps())
        keyed, _ = _both(lambda c: c.submit(body, external_id="key-1"))
        unkeyed, _ = _both(lambda c: c.submit(body, idempotent=False))
    assert calls[0] <= 4 * (UNION_FAILURES + SLACK)
    _refused_at_least(keyed)
    _refused_at_least(unkeyed)
    assert "external_id='key-1'" in str(keyed)
    assert "may have run and spent Buzz" in str(unkeyed)


def test_both_clients_report_a_few_problems_as_before() -> None:
    data = json.loads(_filled(STEP, 64 * 1024))
    data["steps"][2] = FEW_PROBLEMS["bad-priority"]
    body = json.dumps(data).encode()
    message, count = _as_before(Workflow, body, "workflow")
    with respx.mock(base_url=BASE) as api:
        api.get("/v2/consumer/workflows/wf-1").respond(200, content=body)
        errors = _both(lambda c: c.get("wf-1"))
    for error in errors:
        assert isinstance(error, ResponseValidationError)
        assert str(error).startswith(message + ".")
        assert (error.problem_count, error.every_problem_counted) == (count, True)


def test_a_valid_page_spends_nothing(monkeypatch: Any) -> None:
    spent: list[int] = []
    monkeypatch.setattr(base, "_spend_failure", lambda: spent.append(1))
    body = _filled(workflow_json("succeeded"), 256 * 1024, page=True)
    read(WorkflowPage, body, "workflow page")
    assert spent == []
