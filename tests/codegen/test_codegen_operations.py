"""The operation layer: spec paths -> IR records -> rendered descriptors and client methods."""

from __future__ import annotations

import copy
import dataclasses
import importlib
import re
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest

from codegen import __main__ as cli
from codegen import normalize, operations, pipeline, render

WIDGET_OP = {
    "operationId": "GetWidgetSnapshot",
    "summary": "Get a widget",
    "parameters": [
        {"name": "widgetId", "in": "path", "required": True, "schema": {"type": "string"}},
        {"name": "limit", "in": "query", "schema": {"type": "integer", "default": 5}},
        {"name": "fromDate", "in": "query", "schema": {"type": "string", "format": "date-time"}},
    ],
    "responses": {
        "200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Blob"}}}}
    },
}


def _spec_with_widget(spec: Any) -> Any:
    extended = copy.deepcopy(spec)
    extended["paths"]["/v2/consumer/widgets/{widgetId}"] = {"get": WIDGET_OP}
    return extended


def test_every_spec_operation_becomes_one_record(spec: Any) -> None:
    ops = operations.build_operations(spec)
    assert len(ops) == 68
    by_id = {op.operation_id: op for op in ops}
    recipe = by_id["InvokeTextToImageStepTemplate"]
    assert recipe.attribute == "recipes.text_to_image"
    assert recipe.may_charge
    assert not recipe.idempotent
    assert [p.wire for p in recipe.query_params] == [
        "experimental",
        "allowMatureContent",
        "whatif",
        "ephemeral",
    ]
    assert recipe.body is not None
    assert recipe.body.model == "TextToImageInput"
    get = by_id["GetWorkflow"]
    assert (get.method, get.path, get.facade) == (
        "GET",
        "/v2/consumer/workflows/{workflowId}",
        True,
    )
    assert [(p.attr, p.kind, p.default) for p in get.query_params] == [
        ("wait", "int", 0),
        ("hide_mature_content", "bool", False),
    ]
    assert by_id["PatchWorkflow"].body is not None
    assert by_id["PatchWorkflow"].body.content_type == "application/json-patch+json"
    assert by_id["GetBlockedContent"].returns == "bytes"  # documents only its errors
    assert by_id["DeleteWorkflow"].returns == "None"
    assert by_id["InvalidateUserCache"].path_params[0].kind == "int"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("textToImage", "text_to_image"),
        ("batchOCRSafetyClassification", "batch_ocr_safety_classification"),
        ("wdTagging", "wd_tagging"),
        ("GetConsumerBlobUploadUrl", "get_consumer_blob_upload_url"),
        ("import", "import_"),
    ],
)
def test_snake_case_names(name: str, expected: str) -> None:
    assert operations.snake(name) == expected


def test_config_mistakes_are_refused(spec: Any) -> None:
    config = operations.load_config()
    clash = operations.Config(
        {**config.names, "DeleteWorkflow": {"attribute": "get"}},
        config.charges,
        config.retry_safe,
        config.free,
    )
    with pytest.raises(ValueError, match="both map to 'get'"):
        operations.build_operations(spec, clash)
    unknown = operations.Config(
        {**config.names, "NoSuchOp": {"attribute": "x"}},
        config.charges,
        config.retry_safe,
        config.free,
    )
    with pytest.raises(ValueError, match="NoSuchOp"):
        operations.build_operations(spec, unknown)


@pytest.mark.parametrize("section", ["charges", "free", "retry_safe"])
def test_a_charging_or_retry_entry_the_spec_lacks_is_refused(spec: Any, section: str) -> None:
    # `charges` is what makes a call carry an idempotency key: an entry that no longer
    # matches an operationId (a rename in a new spec, a typo) used to be ignored silently.
    config = operations.load_config()
    lists = {"charges": config.charges, "free": config.free, "retry_safe": config.retry_safe}
    lists[section] = lists[section] | {"SubmitWorkflowV2"}
    stale = operations.Config(config.names, lists["charges"], lists["retry_safe"], lists["free"])
    with pytest.raises(ValueError, match=f"{section} lists operations the spec lacks"):
        operations.build_operations(spec, stale)


def test_an_operation_the_spec_dropped_stops_codegen_with_one_line(
    spec: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A new spec without InvalidateUserCache (listed in `free`) ended `make codegen` in a
    # ValueError traceback; like every other spec mismatch it is one line and exit 2.
    shrunk = copy.deepcopy(spec)
    for item in shrunk["paths"].values():
        for method in [m for m, op in item.items() if isinstance(op, dict)]:
            if item[method].get("operationId") == "InvalidateUserCache":
                del item[method]
    with pytest.raises(normalize.UnsupportedSpecError, match=r"free lists .*InvalidateUserCache"):
        operations.build_operations(shrunk)

    def generate(entries: Any) -> Any:
        return operations.build_operations(shrunk)

    monkeypatch.setattr(cli.pipeline, "generate", generate)
    assert cli.main(["generate"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: operations.toml free lists")
    assert "Traceback" not in err


def _with_operation(spec: Any, path: str, method: str, op_id: str) -> Any:
    grown = copy.deepcopy(spec)
    grown["paths"][path] = {method: {"operationId": op_id, "responses": {"204": {}}}}
    return grown


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_a_new_operation_that_changes_something_waits_for_a_charge_decision(
    spec: Any, method: str
) -> None:
    # A new paid POST generated without a decision would get no idempotency key: a retry
    # after a lost answer could charge twice. `make codegen` stops until it is listed.
    grown = _with_operation(spec, "/v2/consumer/boosts", method, "BoostWorkflow")
    config = operations.load_config()
    with pytest.raises(normalize.UnsupportedSpecError, match=r"\['BoostWorkflow'\]\. Say in"):
        operations.build_operations(grown, config)
    paid = dataclasses.replace(config, charges=config.charges | {"BoostWorkflow"})
    free = dataclasses.replace(config, free=config.free | {"BoostWorkflow"})
    by_id = {op.operation_id: op for op in operations.build_operations(grown, paid)}
    assert by_id["BoostWorkflow"].may_charge
    by_id = {op.operation_id: op for op in operations.build_operations(grown, free)}
    assert not by_id["BoostWorkflow"].may_charge
    both = dataclasses.replace(paid, free=free.free)
    with pytest.raises(normalize.UnsupportedSpecError, match="both `charges` and `free`"):
        operations.build_operations(grown, both)


@pytest.mark.parametrize(
    ("path", "method"), [("/v2/consumer/boosts", "get"), ("/v2/consumer/recipes/boost", "post")]
)
def test_a_read_or_a_recipe_needs_no_charge_decision(spec: Any, path: str, method: str) -> None:
    grown = _with_operation(spec, path, method, "BoostThing")
    by_id = {op.operation_id: op for op in operations.build_operations(grown)}
    assert by_id["BoostThing"].may_charge is (method == "post")  # a recipe always may


def test_every_operation_that_changes_something_is_decided_once() -> None:
    config = operations.load_config()
    assert not config.charges & config.free
    assert "PatchWorkflow" in config.charges  # it can set allowMatureContent, as PUT can


def _render_package(spec: Any, folder: Path, name: str) -> Any:
    """Render the operation layer for ``spec`` into an importable package ``name``."""
    package = folder / name
    package.mkdir()
    (package / "__init__.py").write_text("")
    for module, text in pipeline.render_operations(operations.build_operations(spec), "#").items():
        text = text.replace("civitai_app_sdk_generated.operations", f"{name}.operations")
        (package / f"{module}.py").write_text(render.ruff_format(text))
    sys.path.insert(0, str(folder))
    try:
        return importlib.import_module(f"{name}.client_methods")
    finally:
        sys.path.remove(str(folder))


def test_a_new_operation_reaches_both_clients_without_hand_written_code(
    spec: Any, tmp_path: Path
) -> None:
    methods = _render_package(_spec_with_widget(spec), tmp_path, "widget_generated")

    class Sync(methods.SyncOperations):  # type: ignore[name-defined,misc]
        def _perform(self, op: Any, path: Any, query: Any, body: Any) -> Any:
            return op.operation_id, op.method, op.path, path, dict(query), body

    class Async(methods.AsyncOperations):  # type: ignore[name-defined,misc]
        async def _perform(self, op: Any, path: Any, query: Any, body: Any) -> Any:
            return op.operation_id, path, dict(query)

    sent = Sync().get_widget_snapshot("w1", limit=3)
    assert sent == (
        "GetWidgetSnapshot",
        "GET",
        "/v2/consumer/widgets/{widgetId}",
        ("w1",),
        {"limit": 3, "fromDate": None},
        None,
    )
    assert Sync().recipes.text_to_image({"prompt": "x"}, whatif=True)[0] == (
        "InvokeTextToImageStepTemplate"
    )

    async def call() -> Any:
        return await Async().get_widget_snapshot("w2")

    assert anyio.run(call) == ("GetWidgetSnapshot", ("w2",), {"limit": None, "fromDate": None})
    doc = methods.SyncOperations.get_widget_snapshot.__doc__
    assert "server default: 5" in doc


def test_operation_modules_are_rendered_and_deterministic(
    generation: pipeline.Generation, spec: Any
) -> None:
    assert {"operations.py", "client_methods.py"} <= set(generation.files)
    assert len(generation.methods) == 68
    first = pipeline.render_operations(operations.build_operations(spec), "#")
    assert first == pipeline.render_operations(operations.build_operations(spec), "#")


def test_codegen_check_fails_when_an_operation_has_no_method(
    spec: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # `spec`: without the pinned spec, `check` skips before it compares anything
    fake = pipeline.Generation({}, (), {"NewOp": "new_op"})
    monkeypatch.setattr(pipeline, "generate", lambda entries: fake)
    monkeypatch.setattr(pipeline, "differences", lambda generation: [])
    assert cli.main(["check"]) == 1
    assert "NewOp: OrchestratorClient.new_op" in capsys.readouterr().err


def test_generated_code_imports_nothing_from_src(generation: pipeline.Generation) -> None:
    for name, text in generation.files.items():
        imported = re.findall(r"^\s*(?:from|import) (civitai_app_sdk\S*)", text, re.MULTILINE)
        assert all(m.startswith("civitai_app_sdk_generated") for m in imported), name
