"""Big tagged unions load their members on first use, and behave as eager ones did."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import Any

import civitai_app_sdk_generated as generated
import pytest
from civitai_app_sdk_generated import TextToImageStep, UnknownWorkflowStep, Workflow
from civitai_app_sdk_generated._base import json_location, reported_errors
from pydantic import TypeAdapter, ValidationError

from civitai_app_sdk.errors import RequestValidationError
from civitai_app_sdk.orchestrator.validation import validate_workflow_body


def test_reading_a_workflow_imports_only_its_own_step_modules(
    make_workflow: Callable[..., dict[str, Any]],
) -> None:
    payload = json.dumps(make_workflow("succeeded"))
    code = (
        "import sys, civitai_app_sdk_generated as g\n"
        f"g.Workflow.model_validate_json({payload!r})\n"
        "print(sorted(m for m in sys.modules if '._models.' in m))"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    loaded = set(json.loads(output.replace("'", '"')))
    home = "civitai_app_sdk_generated.{}".format
    assert home(generated.HOMES["TextToImageStep"]) in loaded
    assert home(generated.HOMES["VideoGenStep"]) not in loaded
    assert home(generated.HOMES["ComfyStep"]) not in loaded
    assert len(loaded) < 40  # of some 270


def test_members_resolve_to_the_same_classes_as_the_package(
    make_workflow: Callable[..., dict[str, Any]],
) -> None:
    workflow = Workflow.model_validate(make_workflow("succeeded"))
    assert type(workflow.steps[0]) is TextToImageStep
    assert TextToImageStep is generated.TextToImageStep


def test_unknown_step_type_still_falls_back(make_workflow: Callable[..., dict[str, Any]]) -> None:
    data = make_workflow("succeeded")
    data["steps"][0] = {"$type": "brandNewStep", "name": "s", "status": "succeeded", "x": 1}
    step = Workflow.model_validate_json(json.dumps(data)).steps[0]
    assert isinstance(step, UnknownWorkflowStep)
    assert step.model_extra == {"x": 1} or step.model_dump(by_alias=True)["x"] == 1


def test_errors_name_the_union_and_tag_and_json_location_drops_them(
    make_workflow: Callable[..., dict[str, Any]],
) -> None:
    data = make_workflow("succeeded")
    data["steps"][0]["input"]["width"] = "wide"
    with pytest.raises(ValidationError) as caught:
        Workflow.model_validate(data)
    (error,) = reported_errors(caught.value)
    assert error["loc"] == ("steps", 0, "WorkflowStep", "textToImage", "input", "width")
    assert json_location(error["loc"]) == ("steps", 0, "input", "width")


def _in_fresh_interpreter(script: str, workflow: dict[str, Any]) -> Any:
    """The JSON `script` prints, run with `workflow` in a fresh interpreter.

    Which members are built, and which models rebuilt, is per process.
    """
    output = subprocess.run(
        [sys.executable, "-c", script, json.dumps(workflow)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(output)


_FIRST_AND_LATER_READS = """
import json, sys
import civitai_app_sdk_generated as g
from civitai_app_sdk_generated import _base
from pydantic import TypeAdapter, ValidationError

slow = []  # values a union read with Python, not natively
read = _base.OpenUnion._read
def spy(self, *args):
    slow.append(self._name)
    return read(self, *args)
_base.OpenUnion._read = spy

good = json.loads(sys.argv[1])
bad = json.loads(sys.argv[1])
bad["steps"][0]["input"]["width"] = "wide"
unknown = json.loads(sys.argv[1])
unknown["steps"].append({"$type": "brandNewStep", "name": "n", "status": "succeeded", "x": 1})

def locations(read):
    try:
        read(bad)
    except ValidationError as error:  # every line, none left out
        return [list(e["loc"]) for e in error.errors()]
    raise AssertionError("bad workflow was read")

report = {"first_bad": locations(g.Workflow.model_validate)}
for name in ("first", "second", "third"):
    slow.clear()
    g.Workflow.model_validate_json(json.dumps(good))
    report[name] = list(slow)
report["later_bad"] = locations(g.Workflow.model_validate)
report["adapter_bad"] = locations(TypeAdapter(g.Workflow).validate_python)
bad = json.loads(sys.argv[1])  # a member met for the first time, after others went native
bad["steps"][0] = {"$type": "imageGen", "name": "i", "status": "succeeded", "input": {
    "engine": "sdcpp", "ecosystem": "flux2Klein", "operation": "createImage", "prompt": "p",
    "width": "wide"}}
report["new_member_bad"] = locations(g.Workflow.model_validate)
slow.clear()
steps = g.Workflow.model_validate_json(json.dumps(unknown)).steps
report["unknown"] = [type(s).__name__ for s in steps]
report["unknown_slow"] = list(slow)
print(json.dumps(report))
"""


def test_a_lazy_member_is_read_natively_once_built_and_reads_the_same(
    make_workflow: Callable[..., dict[str, Any]],
) -> None:
    report = _in_fresh_interpreter(_FIRST_AND_LATER_READS, make_workflow("succeeded"))
    assert report["first"] == []  # built by the failed read before, already rebuilt for it
    assert report["second"] == report["third"] == []  # no Python branch on the hot path
    where = [["steps", 0, "WorkflowStep", "textToImage", "input", "width"]]
    assert report["first_bad"] == report["later_bad"] == report["adapter_bad"] == where
    through = ["WorkflowStep", "imageGen", "input", "ImageGenInput", "sdcpp"]
    through += ["SdCppImageGenInput", "flux2Klein", "Flux2KleinSdCppImageGenInput", "createImage"]
    # one line, located through three lazy unions
    assert report["new_member_bad"] == [["steps", 0, *through, "width"]]
    assert report["unknown"] == ["TextToImageStep", "UnknownWorkflowStep"]
    assert report["unknown_slow"] == ["WorkflowStep"]  # only the unknown step took it


_SCHEMAS_MADE = """
import json, sys
from pydantic._internal import _generate_schema
import civitai_app_sdk_generated as g

made = []  # the models whose core schema pydantic generates
generate = _generate_schema.GenerateSchema._model_schema
def spy(self, cls):
    made.append(cls.__name__)
    return generate(self, cls)
_generate_schema.GenerateSchema._model_schema = spy

report = {}
for name in ("first", "second", "third"):
    made.clear()
    g.Workflow.model_validate_json(sys.argv[1])
    report[name] = sorted(made)
print(json.dumps(report))
"""


def test_a_member_schema_is_made_once_and_reused_by_the_rebuild(
    make_workflow: Callable[..., dict[str, Any]],
) -> None:
    # the member was built by a TypeAdapter of its own, which left its class unbuilt: the
    # rebuild of Workflow on the second read made the schemas of the step's models again
    report = _in_fresh_interpreter(_SCHEMAS_MADE, make_workflow("succeeded"))
    step = {"TextToImageInput", "TextToImageOutput", "ImageBlob"}  # the step's models
    assert step <= set(report["first"])
    assert step.isdisjoint(report["second"])  # Workflow's own models are made again
    assert "Workflow" in report["second"]
    assert report["third"] == []


def test_a_first_read_goes_through_the_python_branch_then_never_again(
    make_workflow: Callable[..., dict[str, Any]],
) -> None:
    code = _FIRST_AND_LATER_READS.replace(
        'report = {"first_bad": locations(g.Workflow.model_validate)}', "report = {}"
    ).replace('report["later_bad"]', 'report["later"]')
    report = _in_fresh_interpreter(code, make_workflow("succeeded"))
    assert report["first"] == ["WorkflowStep"]
    assert report["second"] == report["third"] == []


def test_typed_members_pass_through_a_union_read_natively() -> None:
    from civitai_app_sdk_generated import (
        TextToImageInput,
        TextToImageStepTemplate,
        WorkflowTemplate,
    )

    step = TextToImageStepTemplate(
        input=TextToImageInput(model="urn:air:sdxl:checkpoint:civitai:1@2", prompt="x")
    )
    for _ in range(3):  # the first read builds the member; later ones read it natively
        template = WorkflowTemplate.model_validate({"steps": [step]})
        assert template.steps is not None
        assert template.steps[0] is step or template.steps[0] == step


def test_json_dump_round_trips_through_a_lazy_union(
    make_workflow: Callable[..., dict[str, Any]],
) -> None:
    raw = make_workflow("succeeded")
    workflow = Workflow.model_validate(raw)
    dumped = json.loads(workflow.model_dump_json(by_alias=True, exclude_none=True))
    again = Workflow.model_validate(dumped)
    assert again == workflow
    assert dumped["steps"][0]["$type"] == "textToImage"
    assert dumped["steps"][0]["input"]["prompt"] == raw["steps"][0]["input"]["prompt"]


def test_request_strictness_reaches_members_of_lazy_unions() -> None:
    body: dict[str, Any] = {
        "steps": [
            {
                "$type": "textToImage",
                "input": {"model": "urn:air:sdxl:checkpoint:civitai:1@2", "prompt": "x"},
            }
        ]
    }
    for _ in range(3):  # a first read, then reads by the rebuilt (native) validator
        validate_workflow_body(body)
    body["steps"][0]["input"]["width"] = "512"
    for _ in range(2):
        with pytest.raises(RequestValidationError, match=r"steps/0/input/width: Input should"):
            validate_workflow_body(body)


def test_strict_reaches_members_of_lazy_unions_without_a_context() -> None:
    from civitai_app_sdk_generated import WorkflowTemplate

    body: dict[str, Any] = {
        "steps": [
            {
                "$type": "textToImage",
                "input": {"model": "urn:air:sdxl:checkpoint:civitai:1@2", "prompt": "x"},
            }
        ]
    }
    body["steps"][0]["input"]["width"] = "512"
    for _ in range(3):  # before and after the models holding the step are rebuilt
        WorkflowTemplate.model_validate(body)  # lax: "512" is a number
        with pytest.raises(ValidationError):
            WorkflowTemplate.model_validate(body, strict=True)


_THREADS_READING = """
import json, sys, threading
import civitai_app_sdk_generated as g

text = json.loads(sys.argv[1])
image = json.loads(sys.argv[1])
image["steps"] = [{"$type": "imageGen", "name": "i", "status": "succeeded", "input": {
    "engine": "sdcpp", "ecosystem": "flux2Klein", "operation": "createImage",
    "prompt": "p", "brandNew": 1}}]
unknown = json.loads(sys.argv[1])
unknown["steps"] = [{"$type": "brandNewStep", "name": "n", "status": "succeeded", "x": 1}]
cases = [(json.dumps(text), "TextToImageStep"), (json.dumps(image), "ImageGenStep"),
         (json.dumps(unknown), "UnknownWorkflowStep")]
start = threading.Barrier(6)
wrong = []

done = []

def read(offset):
    start.wait()
    for i in range(150):
        data, expected = cases[(i + offset) % 3]
        try:
            step = g.Workflow.model_validate_json(data).steps[0]
        except Exception as error:
            wrong.append(repr(error))
            continue
        done.append(1)
        if type(step).__name__ != expected:
            wrong.append((expected, type(step).__name__))
        elif expected == "ImageGenStep" and step.input.model_extra != {"brandNew": 1}:
            wrong.append(("extra lost", step.input.model_extra))

threads = [threading.Thread(target=read, args=(n,)) for n in range(6)]
for t in threads: t.start()
for t in threads: t.join()
print(json.dumps({"reads": len(done), "wrong": wrong[:5]}))
"""


def test_threads_reading_new_members_while_models_are_rebuilt_read_correctly(
    make_workflow: Callable[..., dict[str, Any]],
) -> None:
    """Members built and models rebuilt under six threads: every read is still right."""
    report = _in_fresh_interpreter(_THREADS_READING, make_workflow("succeeded"))
    assert report == {"reads": 900, "wrong": []}


class _PausedCount:
    """Stands for `_base._Freshness`: the first read of `built` waits until another
    thread has counted a member too, or waits for the lock (then counts after it)."""

    def __init__(self) -> None:
        self.count = self.reads = 0
        self.reading, self.moved = threading.Event(), threading.Event()
        self._lock = threading.Lock()
        self.lock = self

    def __enter__(self) -> None:
        self.moved.set()
        self._lock.acquire()

    def __exit__(self, *_: object) -> None:
        self._lock.release()

    @property
    def built(self) -> int:
        count = self.count
        self.reads += 1
        if self.reads == 1:
            self.reading.set()
            self.moved.wait(10)
        return count

    @built.setter
    def built(self, count: int) -> None:
        self.count = count
        self.moved.set()


def test_members_built_by_two_threads_at_once_are_both_counted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the count was read and written back outside the lock: of two threads counting at
    # once, one count was lost; one written back late could undo a third thread's, and
    # the models were then not rebuilt for its member (read the slow way, through
    # Python, until yet another member was built)
    from civitai_app_sdk_generated import _base

    count = _PausedCount()
    monkeypatch.setattr(_base, "_Freshness", count)
    targets = {"textToImage": "TextToImageStep", "imageGen": "ImageGenStep"}
    union = _base.OpenUnion(
        "WorkflowStep", "$type", "field_type", targets, UnknownWorkflowStep, lazy=True
    )
    first = threading.Thread(target=union._validator, args=("textToImage",))
    first.start()
    assert count.reading.wait(10)
    union._validator("imageGen")
    first.join()
    assert count.count == 2


def test_cached_adapters_start_afresh_after_a_rebuild() -> None:
    """A rebuild for new members drops the adapters made before it (no pile-up)."""
    from civitai_app_sdk_generated import _base

    from civitai_app_sdk.orchestrator import _reading

    first = _reading.adapter(Workflow)
    assert _reading.adapter(Workflow) is first
    with _base._Freshness.lock:
        _base._Freshness.built += 1  # as when a lazy union builds a member
    again = _reading.adapter(Workflow)
    assert again is not first
    assert list(_reading._current.made) == [Workflow]


def test_an_adapter_made_while_another_thread_rebuilds_the_models_is_not_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # an adapter made from the models before a rebuild went into the cache of the models
    # after it (and the validators derived from it too): until yet another member was
    # built, reads used the old validators, where a member built since is read the slow
    # way and, in a lenient read, not leniently (a ResponseValidationError instead)
    from civitai_app_sdk_generated import WorkflowStep, _base

    from civitai_app_sdk.orchestrator import _reading

    made: list[object] = []

    def made_as_the_models_are_rebuilt(kind: Any) -> Any:
        new = TypeAdapter(kind)
        made.append(new)
        if len(made) == 1:  # another thread builds a member and reads: a new generation
            with _base._Freshness.lock:
                _base._Freshness.built += 1
            _reading.adapter(WorkflowStep)
        return new

    with _base._Freshness.lock:
        _base._Freshness.built += 1  # no adapter of Workflow cached yet
    monkeypatch.setattr(_reading, "TypeAdapter", made_as_the_models_are_rebuilt)
    old = _reading.adapter(Workflow)  # made before the rebuild, used once
    assert old is made[0]
    current = _reading.adapter(Workflow)
    assert current is not old
    assert current is made[-1]
    assert _reading.adapter(Workflow) is current


def test_a_read_without_options_is_remembered_per_generated_model(
    make_workflow: Callable[..., dict[str, Any]],
) -> None:
    """The no-option call reuses the model's current validator, and only a generated one."""
    from civitai_app_sdk_generated import _base
    from pydantic_core import SchemaValidator

    class Mine(Workflow):
        """A subclass an app makes: read the same way, never kept in the table."""

    payload = json.dumps(make_workflow("succeeded"))
    for _ in range(2):  # a first read may build a step's classes, which empties the table
        Workflow.model_validate_json(payload)
    read_json, read_python, extra, context = _base._READERS[Workflow]
    validator = Workflow.__pydantic_validator__
    assert isinstance(validator, SchemaValidator)
    assert read_json == validator.validate_json
    assert read_python == validator.validate_python
    assert (extra, context) == ("allow", {_base.EXTRA_CONTEXT: "allow"})
    mine = Mine.model_validate_json(payload)
    assert type(mine) is Mine
    assert Mine.model_validate(json.loads(payload)) == mine
    assert mine.model_dump() == Workflow.model_validate_json(payload).model_dump()
    assert Mine not in _base._READERS


def test_a_request_model_read_without_options_still_refuses_unknown_keys() -> None:
    """The remembered read of a request model passes no `extra=`: its own config holds."""
    from civitai_app_sdk_generated import TextToImageInput, _base

    for _ in range(2):  # the first read remembers, the second uses what it remembered
        with pytest.raises(ValidationError, match="widht"):
            TextToImageInput.model_validate_json('{"prompt": "p", "widht": 7}')
        with pytest.raises(ValidationError, match="widht"):
            TextToImageInput.model_validate({"prompt": "p", "widht": 7})
    assert _base._READERS[TextToImageInput][2:] == (None, None)


_DEFERRED_FIRST_READ = """
import json, sys
import civitai_app_sdk_generated as g
from civitai_app_sdk_generated import _base
tips = g.WorkflowTips.model_validate_json('{"civitai": 1, "creators": 2}')  # builds it
kept_tips = _base._READERS.get(g.WorkflowTips)
first = g.Workflow.model_validate_json(sys.argv[1])  # builds it, and the step's classes
after_first = g.Workflow in _base._READERS
second = g.Workflow.model_validate_json(sys.argv[1])  # rebuilt to hold them, remembered
kept = _base._READERS.get(g.Workflow)
print(json.dumps({
    "tips": kept_tips is not None
    and kept_tips[0] == g.WorkflowTips.__pydantic_validator__.validate_json,
    "after_first": after_first,
    "kept": kept is not None and kept[0] == g.Workflow.__pydantic_validator__.validate_json,
    "same": second == first,
}))
"""


def test_the_first_read_of_a_deferred_model_remembers_its_built_validator(
    make_workflow: Callable[..., dict[str, Any]],
) -> None:
    report = _in_fresh_interpreter(_DEFERRED_FIRST_READ, make_workflow("succeeded"))
    # a read that builds a lazy member forgets every model: those holding it are rebuilt
    assert report == {"tips": True, "after_first": False, "kept": True, "same": True}


_KEPT_VALIDATORS = """
import json, sys
from civitai_app_sdk_generated import _base
import civitai_app_sdk_generated as g

g.Workflow.model_validate_json(sys.argv[1])
import gc
kept = {}
for union in (o for o in gc.get_objects() if isinstance(o, _base.OpenUnion)):
    for tag, validator in union._validators.items():
        kept[f"{union._name}:{tag}"] = type(validator).__name__
print(json.dumps(kept))
"""


def test_a_member_validator_is_kept_built_not_as_pydantics_placeholder(
    make_workflow: Callable[..., dict[str, Any]],
) -> None:
    # a deferred class's __pydantic_validator__ is a MockValSer until built: kept so, each
    # later read through the union asked pydantic to rebuild the class before validating
    report = _in_fresh_interpreter(_KEPT_VALIDATORS, make_workflow("succeeded"))
    assert report  # the step's member was read through the union
    assert set(report.values()) == {"SchemaValidator"}, report
