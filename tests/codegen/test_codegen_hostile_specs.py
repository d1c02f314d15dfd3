"""The pipeline against its surroundings and surprising specs: settings it must not read,
shapes it must refuse with one clear error, and shapes it must generate from."""

from __future__ import annotations

import ast
import copy
import email.message
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import urllib.error
import urllib.request
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from codegen import __main__ as cli
from codegen import (
    catalogs,
    drift,
    inputs,
    models,
    normalize,
    operations,
    pipeline,
    postprocess,
    split,
)

TINY: dict[str, Any] = {
    "openapi": "3.1.1",
    "info": {"title": "tiny", "version": "1"},
    "components": {
        "schemas": {
            "Thing": {
                "type": "object",
                "properties": {
                    "someRatherLongPropertyName": {"type": ["string", "null"]},
                    "count": {"type": "integer", "minimum": 1, "maximum": 5},
                },
            }
        }
    },
}


def test_generator_output_ignores_a_pyproject_above_the_temp_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The generator runs in a temp dir and read its options, line length and quote style
    # from the nearest pyproject.toml above it: a TMPDIR inside some project changed the
    # generated code (line length 40: every field exploded over lines; strip-default-none:
    # optional fields became required), so `make codegen-check` failed on that machine.
    clean = models.run_generator(TINY, {})
    hostile = tmp_path / "project"
    (hostile / "tmp").mkdir(parents=True)
    (hostile / "pyproject.toml").write_text(
        "[tool.datamodel-codegen]\nstrip-default-none = true\n"
        "[tool.ruff]\nline-length = 40\n[tool.black]\nskip-string-normalization = true\n"
    )
    monkeypatch.setattr(tempfile, "tempdir", str(hostile / "tmp"))
    assert models.run_generator(TINY, {}) == clean


REF = "#/components/schemas/"


def small_spec() -> dict[str, Any]:
    """A valid spec for drift: one path and one schema."""
    return {
        "openapi": "3.1.1",
        "paths": {"/w": {"get": {"operationId": "GetW", "responses": {"200": {}}}}},
        "components": {
            "schemas": {"W": {"type": "object", "properties": {"a": {"type": "string"}}}}
        },
    }


def drift_exit(tmp_path: Path, change: Any) -> int:
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    spec = small_spec()
    old.write_text(json.dumps(spec))
    change(spec["components"]["schemas"])
    new.write_text(json.dumps(spec))
    return cli.main(["drift", str(old), str(new)])


@pytest.mark.parametrize(
    ("schemas", "error"),
    [
        (
            {
                "A": {"allOf": [{"$ref": REF + "B"}, {"properties": {"x": {"type": "string"}}}]},
                "B": {"allOf": [{"$ref": REF + "A"}, {"properties": {"y": {"type": "string"}}}]},
            },
            "schemas that are their own allOf base: A -> B -> A",
        ),
        (
            {"Only": {"allOf": [{"properties": {"a": {}}}, {"properties": {"b": {}}}]}},
            "schema Only: unsupported allOf shape",
        ),
        (
            {"Two": {"allOf": [{"$ref": REF + "W"}, {"$ref": REF + "W"}]}},
            "schema Two: unsupported allOf shape",
        ),
        (
            {"Far": {"allOf": [{"$ref": "other.json#/Base"}, {"properties": {}}]}},
            "unsupported $ref 'other.json#/Base'",
        ),
        ({"Orphan": {"allOf": [{"$ref": REF + "Gone"}, {}]}}, "does not define: Gone"),
    ],
)
def test_drift_on_a_spec_it_cannot_flatten_is_an_error_not_a_verdict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], schemas: dict[str, Any], error: str
) -> None:
    # These ended `python -m codegen drift` in a traceback (a RecursionError for the cycle),
    # whose exit status 1 means "additive only" to the drift workflow: a live spec it could
    # not even read passed as compatible and no issue was opened.
    assert drift_exit(tmp_path, lambda s: s.update(schemas)) == drift.EXIT_ERROR
    err = capsys.readouterr().err
    assert err.startswith("drift: cannot compare "), err
    assert error in err
    assert "Traceback" not in err


def test_an_unexpected_failure_in_drift_is_exit_3_not_additive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(old: Any, new: Any) -> drift.DriftReport:
        raise TypeError("unhashable type: 'list'")

    monkeypatch.setattr(drift, "diff", broken)
    assert drift_exit(tmp_path, lambda s: None) == drift.EXIT_ERROR
    err = capsys.readouterr().err
    assert "TypeError" in err
    assert "a bug in drift.py" in err.splitlines()[-1]


@pytest.mark.parametrize(
    ("schemas", "error"),
    [
        ({"My-Thing": {}, "My.Thing": {}}, "MyThing (My-Thing, My.Thing)"),
        ({"A_1": {}, "A1": {}}, "A1 (A1, A_1)"),
        ({"---": {}, "B": {}}, "without a letter or digit: ['---']"),
    ],
)
def test_schema_names_that_meet_as_class_names_are_refused(
    schemas: dict[str, Any], error: str
) -> None:
    # `My-Thing` and `My.Thing` both became `MyThing`: one schema silently replaced the other.
    with pytest.raises(normalize.UnsupportedSpecError, match=re.escape(error)):
        normalize.python_names({"components": {"schemas": schemas}})


@pytest.mark.parametrize("components", [{}, {"schemas": {}}, None])
def test_a_spec_without_schemas_is_named_as_such(components: Any) -> None:
    # An empty `components` ended in a message about the first patch of patches.toml.
    spec: dict[str, Any] = {"openapi": "3.1.1", "paths": {}}
    if components is not None:
        spec["components"] = components
    with pytest.raises(normalize.UnsupportedSpecError, match="no schemas"):
        normalize.normalize(
            spec, [{"op": "remove", "path": "/components/schemas/X", "reason": "r"}]
        )


def test_a_step_type_without_a_template_is_one_clear_error() -> None:
    # A step type added to WorkflowStep but not to WorkflowStepTemplate ended `make codegen`
    # in a bare KeyError.
    unions = {
        name: normalize.Union_(name, "$type", tuple(sorted(mapping.items())))
        for name, mapping in {
            "WorkflowStep": {"a": "AStep", "b": "BStep"},
            "WorkflowStepTemplate": {"a": "AStepTemplate"},
        }.items()
    }
    schemas = {"AStep": {"properties": {"input": {"type": "string"}}}, "BStep": {}}
    with pytest.raises(
        normalize.UnsupportedSpecError, match=r"without a WorkflowStepTemplate.*\['b'\]"
    ):
        catalogs.step_entries(schemas, unions)


def test_a_schema_named_like_the_package_own_definition_is_one_clear_error() -> None:
    # A schema called `OpenUnion` (or `ApiModel`) ended `make codegen` in a ValueError.
    modules = {
        "_base": "class OpenUnion:\n    pass\n",
        "_models.open_union": "class OpenUnion:\n    pass\n",
    }
    with pytest.raises(normalize.UnsupportedSpecError, match="OpenUnion is defined in both"):
        catalogs.name_homes(modules)


def test_generate_reports_an_unsupported_spec_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def unsupported(entries: Any) -> Any:
        return normalize.flatten_subtypes({"A": {"allOf": [{"$ref": REF + "A"}, {}]}})

    monkeypatch.setattr(pipeline, "generate", unsupported)
    assert cli.main(["generate"]) == 2
    assert capsys.readouterr().err == "error: schemas that are their own allOf base: A -> A\n"


@pytest.mark.parametrize(
    ("content", "state"), [(None, "is missing"), (b'{"openapi": "3.1', "is not the pinned version")]
)
def test_check_without_the_pinned_spec_says_why(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    content: bytes | None,
    state: str,
) -> None:
    # A half-written specs/v2-consumers.json was reported as "missing".
    monkeypatch.setattr(inputs, "SPECS_DIR", tmp_path)
    if content is not None:
        (tmp_path / "v2-consumers.json").write_bytes(content)
    monkeypatch.delenv("CI", raising=False)
    assert cli.main(["check"]) == 0
    assert f"skipped, specs/v2-consumers.json {state}: run `make specs`" in capsys.readouterr().err
    monkeypatch.setenv("CI", "true")
    assert cli.main(["check"]) == 1


def test_properties_that_meet_as_one_field_name_are_refused() -> None:
    # A new `Prompt` beside `prompt` (an additive change to the wire) made the generator
    # name the new property `prompt` and the old one `prompt_1`: code that set `prompt`
    # silently set the new property.
    schemas = {
        "Input": {"properties": {"prompt": {}, "Prompt": {}, "negativePrompt": {}}},
        "Other": {
            "properties": {"x-y": {}, "nested": {"properties": {"fooBar": {}, "foo_bar": {}}}}
        },
        "Fine": {"properties": {"x_y": {}, "class": {}, "model_config": {}, "$type": {}}},
    }
    with pytest.raises(normalize.UnsupportedSpecError) as caught:
        normalize.check_field_names(schemas)
    assert str(caught.value).endswith(
        "codegen/patches.toml): Input: Prompt, prompt -> prompt; Other: fooBar, foo_bar -> foo_bar"
    )
    normalize.check_field_names({"Fine": schemas["Fine"]})
    spec = {"openapi": "3.1.1", "components": {"schemas": {"Input": schemas["Input"]}}}
    with pytest.raises(normalize.UnsupportedSpecError, match="Prompt, prompt -> prompt"):
        normalize.normalize(spec, [])


def enum_spec(values: list[str]) -> Any:
    """A spec with a named enum and an inline one, both of `values`."""
    level = {"type": "string", "enum": values}
    thing = {"type": "object", "properties": {"level": {"$ref": REF + "Level"}, "mode": level}}
    return {
        "openapi": "3.1.1",
        "info": {"title": "t", "version": "1"},
        "components": {"schemas": {"Level": dict(level), "Thing": thing}},
    }


def enum_members(source: str, enum: str) -> dict[str, str]:
    """Member name -> value of the enum class `enum` in a generated module."""
    body = re.search(rf"^class {enum}\(OpenStrEnum\):\n((?:    .*\n)+)", source, re.M)
    assert body is not None, source
    return dict(re.findall(r'^    (\w+) = "(.*)"$', body.group(1), re.M))


@pytest.mark.parametrize("values", [["Low", "low", "high"], ["high", "low", "Low"]])
def test_enum_values_that_meet_as_one_member_name_are_refused(values: list[str]) -> None:
    # The generator named `Low` and `low` `low` and `low_1` in the spec's order: a release
    # listing them the other way round swapped the members' values, silently.
    with pytest.raises(normalize.UnsupportedSpecError) as caught:
        normalize.normalize(enum_spec(values), [])
    assert str(caught.value) == (
        "enum values that would share one member name (name the members with "
        "`x-enum-varnames` in a patch in codegen/patches.toml): "
        "Level: 'Low', 'low' -> low; Thing: 'Low', 'low' -> low"
    )


def test_enum_member_names_are_stable_and_can_be_named_by_a_patch() -> None:
    # Values that differ by case but not in their member name keep one name each,
    # whatever their order; values that would meet are named with x-enum-varnames.
    names = []
    for values in (["dpm++2m", "DPM++2M"], ["DPM++2M", "dpm++2m"]):
        normalised, unions, _ = normalize.normalize(enum_spec(values), [])
        names.append(enum_members(models.run_generator(normalised, unions), "Level"))
    assert names[0] == names[1] == {"dpm__2m": "dpm++2m", "dpm__2_m": "DPM++2M"}
    patch = {
        "op": "set",
        "path": "/components/schemas/Level/x-enum-varnames",
        "value": ["low_title", "low"],
        "reason": "test",
    }
    spec = enum_spec(["Low", "low"])
    spec["components"]["schemas"]["Thing"]["properties"]["mode"]["enum"] = ["x"]
    normalised, unions, _ = normalize.normalize(spec, [patch])
    source = models.run_generator(normalised, unions)
    assert enum_members(source, "Level") == {"low_title": "Low", "low": "low"}


def test_enum_member_name_is_the_generators_own() -> None:
    # The refusal above is only as good as its copy of the generator's naming rules.
    members = 0
    for module in sorted(pipeline.OUTPUT_DIR.rglob("*.py")):
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and "OpenStrEnum" in map(ast.unparse, node.bases):
                for item in node.body:
                    if isinstance(item, ast.Assign) and isinstance(item.value, ast.Constant):
                        members += 1
                        assert ast.unparse(item.targets[0]) == normalize.enum_member_name(
                            item.value.value
                        ), (module.name, node.name)
    assert members > 100


class _Trickle:
    """An answer that sends one byte per read, each read 10 s later by the clock below."""

    def __init__(self, clock: list[float]) -> None:
        self.clock = clock

    def __enter__(self) -> _Trickle:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def read1(self, limit: int = -1) -> bytes:
        self.clock[0] += 10.0
        return b" "


def test_a_download_that_never_finishes_stops_at_its_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The timeout bounded each socket read only: a server (or proxy) sending a byte now and
    # then kept `make specs` and the daily drift job waiting for hours.
    clock = [0.0]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(inputs, "_open", lambda request, timeout=0: _Trickle(clock))
    with pytest.raises(TimeoutError, match="still sending after 30 s"):
        inputs.download("https://x.example/spec.json", timeout=30.0)
    assert clock[0] <= 40.0
    entry = inputs.LockEntry(
        "o", "o.json", "https://x.example/o", "0" * 64, "2026-01-01", True, "https://x.example/o"
    )
    monkeypatch.setattr(inputs, "SPECS_DIR", tmp_path)
    report = inputs.fill_pinned({"o": entry}, tmp_path / "no-shared")
    assert "still sending" in report.unreachable["o.json"]


def test_a_real_trickling_answer_stops_at_the_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    # `response.read(65536)` waits until 64 KiB have come, each socket read within the
    # timeout: one byte every 0.1 s passed every check between reads, and the download
    # outlived the server's whole trickle. A real socket here.
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    hung_up = threading.Event()  # the client left while the server was still sending

    def trickle() -> None:
        connection, _ = server.accept()
        with connection:
            connection.recv(65536)
            connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
            try:
                for _ in range(100):  # 10 s of it, then the connection closes
                    connection.sendall(b" ")
                    time.sleep(0.1)
            except OSError:
                hung_up.set()

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    real = urllib.request.urlopen

    def loopback(request: Any, timeout: float = 0) -> Any:
        return real(f"http://127.0.0.1:{port}/", timeout=timeout)

    monkeypatch.setattr(inputs, "_open", loopback)
    try:
        with pytest.raises(TimeoutError, match=r"still sending after 0\.5 s"):
            inputs.download("https://x.example/spec.json", timeout=0.5)
        thread.join(15)
        assert hung_up.is_set()
    finally:
        server.close()


def nested_spec() -> Any:
    """A schema with a nullable union and inline objects (own, in items)."""
    props = {
        "a": {"anyOf": [{"type": "string", "enum": ["u", "v"]}, {"type": "null"}]},
        "o": {
            "type": "object",
            "required": ["x"],
            "properties": {"x": {"type": "string"}, "e": {"type": "string", "enum": ["p", "q"]}},
        },
        "l": {
            "type": "array",
            "items": {"type": "object", "properties": {"z": {"type": "integer"}}},
        },
    }
    return {
        "openapi": "3.1.1",
        "paths": {},
        "components": {"schemas": {"W": {"properties": props}}},
    }


def test_reordered_union_members_are_not_a_breaking_change() -> None:
    # `anyOf: [string, null]` -> `[null, string]` was "W.a type changed" (breaking), and
    # the enum of each member was compared with the member at the same index.
    old, new = nested_spec(), nested_spec()
    members = new["components"]["schemas"]["W"]["properties"]["a"]["anyOf"]
    members.reverse()
    assert drift.diff(old, new).exit_code == drift.EXIT_COMPATIBLE  # "other changes"
    members[1]["enum"].append("w")
    report = drift.diff(old, new)
    assert report.as_json() == {
        "breaking": [],
        "additive": [
            {
                "pointer": "/components/schemas/W/properties/a/anyOf/1",
                "message": "enum value 'w' added",
            }
        ],
        "cosmetic": [],
    }


def test_changes_inside_inline_objects_are_classified() -> None:
    # A property removed from an inline object, an enum value removed there, a type changed
    # in an array item's object: all passed as "other changes that do not affect clients".
    old, new = nested_spec(), nested_spec()
    props = new["components"]["schemas"]["W"]["properties"]
    del props["o"]["properties"]["x"]
    props["o"]["properties"]["e"]["enum"] = ["p"]
    props["o"]["properties"]["n"] = {"type": "string"}
    props["l"]["items"]["properties"]["z"]["type"] = "string"
    props["l"]["items"]["required"] = ["z"]
    report = drift.diff(old, new)
    at = "/components/schemas/W/properties/"
    assert {(c.pointer, c.message) for c in report.breaking} == {
        (at + "o/properties/x", "W.o.x removed"),
        (at + "o/properties/e", "enum value 'q' removed"),
        (
            at + "l/items/properties/z",
            'W.l[].z type changed: {"type": "integer"} -> {"type": "string"}',
        ),
        (at + "l/items/properties/z", "W.l[].z became required"),
    }
    assert [(c.pointer, c.message) for c in report.additive] == [
        (at + "o/properties/n", "W.o.n added")
    ]


def additive_release(spec: Any) -> Any:
    """The pinned spec plus an API release of surprising but additive changes."""
    new = copy.deepcopy(spec)
    schemas = new["components"]["schemas"]
    schemas["FooBarInput"] = {
        "type": "object",
        "required": ["prompt"],
        "properties": {
            "prompt": {"type": "string"},
            **{name: {"type": ["null", "string"]} for name in KEYWORDS},
            "node": {"$ref": REF + "GraphNode"},
        },
    }
    for union, suffix in (("WorkflowStep", "Step"), ("WorkflowStepTemplate", "StepTemplate")):
        own = {
            "type": "object",
            "required": ["$type", "input"],
            "properties": {
                "$type": {"type": "string", "enum": ["foo-bar.v2"]},
                "input": {"$ref": REF + "FooBarInput"},
            },
        }
        schemas["FooBar" + suffix] = {"allOf": [{"$ref": REF + union}, own]}
        schemas[union]["discriminator"]["mapping"]["foo-bar.v2"] = REF + "FooBar" + suffix
    schemas["GraphNode"] = {
        "type": "object",
        "properties": {
            "edges": {"type": "array", "items": {"$ref": REF + "GraphEdge"}},
            "parent": {"anyOf": [{"$ref": REF + "GraphNode"}, {"type": "null"}]},
        },
    }
    schemas["GraphEdge"] = {"type": "object", "properties": {"to": {"$ref": REF + "GraphNode"}}}
    schemas["Priority"]["enum"].append("très-urgent")
    new["paths"]["/v2/consumer/graphs/{graphId}"] = {
        "get": {
            "operationId": "GetGraph",
            "parameters": [
                {"name": "graphId", "in": "path", "required": True, "schema": {"type": "string"}},
                {"name": "from", "in": "query", "schema": {"type": "string"}},
            ],
            "responses": {
                "200": {"content": {"application/json": {"schema": {"$ref": REF + "GraphNode"}}}}
            },
        }
    }
    return new


KEYWORDS = ("class", "from", "model_config", "schema", "json", "copy", "dict", "validate")


@pytest.mark.slow
def test_an_additive_release_generates_a_package_that_imports_and_type_checks(
    spec: Any, lock: dict[str, inputs.LockEntry], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    new = additive_release(spec)
    old_file, new_file = tmp_path / "old.json", tmp_path / "new.json"
    old_file.write_text(json.dumps(spec))
    new_file.write_text(json.dumps(new))
    report = drift.diff(spec, new)
    assert not report.breaking, report.breaking
    assert cli.main(["drift", str(old_file), str(new_file)]) == drift.EXIT_COMPATIBLE

    specs = tmp_path / "specs"
    specs.mkdir()
    for entry in lock.values():
        shutil.copy(entry.path, specs / entry.file)
    data = json.dumps(new).encode()
    (specs / lock["orchestrator"].file).write_bytes(data)
    entries = {**lock, "orchestrator": replace(lock["orchestrator"], sha256=inputs.sha256_of(data))}
    monkeypatch.setattr(inputs, "SPECS_DIR", specs)
    generation = pipeline.generate(entries)
    package = tmp_path / "gen" / models.PACKAGE
    pipeline.write(generation, package)

    probe = textwrap.dedent(
        """
        from civitai_app_sdk_generated import steps
        from civitai_app_sdk_generated.models import FooBarInput, GraphNode, RepeatInput, Workflow

        node = GraphNode.model_validate({"edges": [{"to": {"parent": {"edges": []}}}]})
        assert node.edges[0].to.parent.edges == []
        body = {"prompt": "p", "class": "c", "model_config": "m", "from": "f", "json": "j"}
        made = FooBarInput.model_validate(body)
        assert made.model_dump(by_alias=True, exclude_none=True) == body
        assert steps.WORKFLOW_STEP_TYPES["foo-bar.v2"].input_model is FooBarInput
        step = {"$type": "foo-bar.v2", "name": "s", "priority": "très-urgent",
                "status": "succeeded", "metadata": {}, "input": {"prompt": "p"}}
        read = Workflow.model_validate({"id": "w", "status": "succeeded", "steps": [step]})
        assert type(read.steps[0]).__name__ == "FooBarStep"
        RepeatInput.model_validate({"for": {"$ref": "$a", "as": "x", "path": "p"},
                                    "template": {"$type": "foo-bar.v2", "input": {"prompt": "p"}}})
        print("ok")
        """
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "gen")}
    ran = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert ran.stdout == "ok\n", ran.stderr
    config = tmp_path / "mypy.ini"
    config.write_text("[mypy]\nstrict = True\nplugins = pydantic.mypy\npython_version = 3.11\n")
    checked = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(config), "--cache-dir",
         str(tmp_path / "cache"), "-p", models.PACKAGE],
        capture_output=True, text=True, cwd=tmp_path / "gen",
    )  # fmt: skip
    assert checked.returncode == 0, checked.stdout[-3000:]
    assert f"in {len(generation.files)} source files" in checked.stdout


CONFIG = operations.Config({}, frozenset(), frozenset(), frozenset())


def delete_op(*query: str) -> dict[str, Any]:
    """`DELETE /things/{thingId}` with these query parameters (strings)."""
    params = [{"name": "thingId", "in": "path", "required": True, "schema": {"type": "string"}}]
    params += [{"name": name, "in": "query", "schema": {"type": "string"}} for name in query]
    return {"operationId": "DeleteThing", "parameters": params, "responses": {"204": {}}}


@pytest.mark.parametrize(
    ("query", "wrong"), [(("self",), "self"), (("Force", "force"), "force"), (("1st",), "1st")]
)
def test_parameters_that_are_no_python_arguments_are_refused(
    query: tuple[str, ...], wrong: str
) -> None:
    # A query parameter `self`, `1st`, or `Force` beside `force` generated a method that
    # does not compile ("duplicate argument"), so importing the clients failed; the drift
    # check called the change additive.
    with pytest.raises(normalize.UnsupportedSpecError, match=f"DeleteThing .*: {wrong} would not"):
        operations.operation("/things/{thingId}", "delete", delete_op(*query), CONFIG)
    fine = operations.operation("/things/{thingId}", "delete", delete_op("from", "x-y"), CONFIG)
    assert [p.attr for p in fine.query_params] == ["from_", "x_y"]


def test_path_item_parameters_apply_to_its_operations() -> None:
    # OpenAPI lets a path item declare parameters for all its operations: codegen ended in
    # a KeyError, and drift called moving them there "parameter removed" (breaking).
    op = delete_op("q")
    shared = [op["parameters"].pop(0)]
    item = {"parameters": shared, "delete": op}
    made = operations.operation("/things/{thingId}", "delete", op, CONFIG, item)
    assert [p.wire for p in made.path_params] == ["thingId"]
    assert [p.wire for p in made.query_params] == ["q"]
    with pytest.raises(
        normalize.UnsupportedSpecError, match=r"no path parameter named \['thingId'\]"
    ):
        operations.operation("/things/{thingId}", "delete", op, CONFIG)
    old = {"openapi": "3.1.1", "paths": {"/things/{thingId}": {"delete": delete_op("q")}}}
    new = {"openapi": "3.1.1", "paths": {"/things/{thingId}": item}}
    assert drift.diff(old, new).exit_code == drift.EXIT_COMPATIBLE  # cosmetic at most
    assert not drift.diff(old, new).breaking


SEPARATORS = ("\u2028", "\u2029", "\x85", "\x1c", "\x0c")


def test_descriptions_with_unicode_line_separators_generate() -> None:
    # str.splitlines() splits at U+2028, U+0085 and a few more that Python's tokenizer
    # does not: a spec description holding one shifted every line after it, and codegen
    # ended in a SyntaxError traceback.
    schemas: dict[str, Any] = {
        f"Thing{i}": {
            "type": "object",
            "description": f"First{separator}second",
            "properties": {"p": {"type": "string", "description": f"p{separator}p"}},
        }
        for i, separator in enumerate(SEPARATORS)
    }
    schemas["After"] = {"type": "object", "properties": {"q": {"type": "integer"}}}
    spec = {
        "openapi": "3.1.1",
        "info": {"title": "t", "version": "1"},
        "components": {"schemas": schemas},
    }
    normalised, unions, _ = normalize.normalize(spec, [])
    source = postprocess.postprocess(models.run_generator(normalised, unions), unions, frozenset())
    modules, _ = split.split(source, "# header")
    for name, text in modules.items():
        compile(text, name, "exec")
    for i, separator in enumerate(SEPARATORS):
        assert f"First{separator}second" in modules[f"_models.thing{i}"]
    assert "class After(ApiModel):\n    q: int | None = None" in modules["_models.after"]


def test_adopting_a_live_spec_drops_the_pinned_url_of_the_old_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # `make specs LIVE=1` updated the sha256 but kept `pinned_url`, a commit-pinned copy
    # of the previous version: every clone without ../shared then downloaded it and refused
    # it (sha256 mismatch), and `make test` stopped there (a mismatch is never optional).
    lock_file = tmp_path / "lock.json"
    lock_file.write_text(inputs.LOCK_PATH.read_text())
    monkeypatch.setattr(inputs, "SPECS_DIR", tmp_path)
    entries = inputs.read_lock(lock_file)
    monkeypatch.setattr(inputs, "download", lambda url, timeout=0: b'{"openapi": "3.2"}')
    changed = inputs.fill_from_live(entries, lock_file)
    assert "v2-consumers.json" in changed
    updated = inputs.read_lock(lock_file)
    assert updated["orchestrator"].pinned_url is None
    kept = updated["orchestrator_previous"]  # not live: keeps its pin
    assert kept.pinned_url == entries["orchestrator_previous"].pinned_url
    report = inputs.fill_pinned({"o": updated["orchestrator"]}, tmp_path / "no-shared")
    assert report.unreachable == {}  # "no published file", not a sha256 mismatch

    monkeypatch.setattr(inputs, "read_lock", lambda: entries)
    monkeypatch.setattr(inputs, "fill_from_live", lambda given: ["v2-consumers.json"])
    assert cli.main(["specs", "--live"]) == 0
    err = capsys.readouterr().err
    assert "v2-consumers.json: its pinned_url named the previous version and was removed" in err


@pytest.mark.parametrize(
    ("status", "code"), [(404, drift.EXIT_ERROR), (401, drift.EXIT_ERROR), (503, 0), (429, 0)]
)
def test_drift_live_treats_a_refusing_url_as_an_error_and_a_busy_one_as_a_skip(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    lock: dict[str, inputs.LockEntry],
    status: int,
    code: int,
) -> None:
    # A 404 (the spec moved) was "skipped, unreachable", exit 0: the daily drift job stayed
    # green while checking nothing.
    def answer(url: str, timeout: float = 0) -> bytes:
        raise urllib.error.HTTPError(url, status, "Nope", email.message.Message(), None)

    monkeypatch.setattr(inputs, "download", answer)
    assert cli.main(["drift-live"]) == code
    err = capsys.readouterr().err
    assert f"answered {status}" in err
    assert ("skipped" in err) == (code == 0)


def bounded_spec() -> Any:
    """A schema and a query parameter with bounds and a pattern."""
    quantity = {"type": "integer", "minimum": 1, "maximum": 100, "multipleOf": 2}
    tags = {"type": "array", "items": {"type": "string", "maxLength": 20}}
    props = {"quantity": quantity, "name": {"type": "string", "pattern": "^[a-z]+$"}, "tags": tags}
    param = {"in": "query", "name": "take", "schema": {"type": "integer", "maximum": 50}}
    return {
        "openapi": "3.1.1",
        "paths": {"/w": {"get": {"operationId": "GetW", "parameters": [param], "responses": {}}}},
        "components": {
            "schemas": {
                "W": {"type": "object", "properties": props},
                "Seed": {"type": "integer", "maximum": 99},  # a bounded named schema
            }
        },
    }


W_PROPS = ("components", "schemas", "W", "properties")


@pytest.mark.parametrize(
    ("path", "value", "kind", "text"),
    [
        (
            (*W_PROPS, "quantity", "maximum"),
            20,
            "breaking",
            "W.quantity: maximum tightened: 100 -> 20",
        ),
        (
            (*W_PROPS, "quantity", "maximum"),
            200,
            "additive",
            "W.quantity: maximum loosened: 100 -> 200",
        ),
        (
            (*W_PROPS, "quantity", "maximum"),
            None,
            "additive",
            "W.quantity: maximum loosened: 100 -> None",
        ),
        ((*W_PROPS, "quantity", "minimum"), 5, "breaking", "W.quantity: minimum tightened: 1 -> 5"),
        (
            (*W_PROPS, "quantity", "multipleOf"),
            4,
            "breaking",
            "W.quantity: multipleOf tightened: 2 -> 4",
        ),
        (
            (*W_PROPS, "quantity", "multipleOf"),
            1,
            "additive",
            "W.quantity: multipleOf loosened: 2 -> 1",
        ),
        ((*W_PROPS, "name", "minLength"), 3, "breaking", "W.name: minLength tightened: None -> 3"),
        # A changed pattern may refuse what passed: breaking, but not called tightened
        # (this one is looser).
        ((*W_PROPS, "name", "pattern"), "^[a-z0-9]+$", "breaking", "W.name: pattern changed"),
        ((*W_PROPS, "name", "pattern"), None, "additive", "W.name: pattern loosened"),
        (
            (*W_PROPS, "tags", "items", "maxLength"),
            8,
            "breaking",
            "W.tags[]: maxLength tightened: 20 -> 8",
        ),
        (
            ("components", "schemas", "Seed", "maximum"),
            9,
            "breaking",
            "Seed: maximum tightened: 99 -> 9",
        ),
        (
            ("components", "schemas", "Seed", "maximum"),
            999,
            "additive",
            "Seed: maximum loosened: 99 -> 999",
        ),
        (
            ("paths", "/w", "get", "parameters", 0, "schema", "maximum"),
            10,
            "breaking",
            "GET /w: parameter take: maximum tightened: 50 -> 10",
        ),
    ],
)
def test_tighter_bounds_break_and_looser_ones_are_additive(
    path: tuple[Any, ...], value: Any, kind: str, text: str
) -> None:
    # A maximum cut from 100 to 20 passed as "other changes that do not affect clients",
    # though the regenerated request models refuse 50 before sending: code that worked
    # breaks on the upgrade.
    old, new = bounded_spec(), bounded_spec()
    node = new
    for part in path[:-1]:
        node = node[part]
    if value is None:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    report = drift.diff(old, new)
    changes = [c.message for c in getattr(report, kind)]
    assert any(m.startswith(text) for m in changes), report.as_json()
    if kind == "additive":
        assert not report.breaking


@pytest.mark.parametrize(
    "name", ["../../escape.json", "/tmp/abs.json", "sub/x.json", ".hidden.json", "lock.json"]
)
def test_a_lock_entry_may_only_name_a_file_inside_specs(tmp_path: Path, name: str) -> None:
    # `make specs` stores each input at specs/<file>: "../../escape.json" wrote outside
    # specs/, and "lock.json" would have replaced the lock with a spec.
    raw = json.loads(inputs.LOCK_PATH.read_text())
    raw["inputs"]["orchestrator"]["file"] = name
    lock_file = tmp_path / "lock.json"
    lock_file.write_text(json.dumps(raw))
    with pytest.raises(
        inputs.SpecInputError, match=r"orchestrator\.file must be a plain file name"
    ):
        inputs.read_lock(lock_file)


def _nested_union(enum: list[str], depth: int) -> Any:
    schema: Any = {"type": "string", "enum": enum}
    for _ in range(depth):
        schema = {"anyOf": [{"type": "null"}, schema]}
    properties = {"p": schema}
    return {
        "openapi": "3.1.1",
        "paths": {},
        "components": {"schemas": {"W": {"type": "object", "properties": properties}}},
    }


def test_a_deeply_nested_union_is_compared_not_hung() -> None:
    # Each union level computed its members' signatures twice (once to sort them), so a
    # spec with unions 40 deep (a hostile or broken live URL) held the drift job for days.
    report = drift.diff(_nested_union(["a", "b"], 40), _nested_union(["a"], 40))
    assert [c.message for c in report.breaking] == ["enum value 'b' removed"]
    assert report.breaking[0].pointer.endswith("/anyOf/1" * 40)


def test_an_operation_without_an_operation_id_is_one_clear_error() -> None:
    # An operation the spec left without operationId ended `make codegen` in a KeyError
    # traceback (exit 1); drift reports it as breaking (`operationId changed: X -> None`).
    op = delete_op()
    del op["operationId"]
    with pytest.raises(normalize.UnsupportedSpecError, match=r"DELETE /things/\{thingId\} has no"):
        operations.operation("/things/{thingId}", "delete", op, CONFIG)


def test_two_operations_with_one_operation_id_are_refused() -> None:
    # Both became the same client method and the same OPERATIONS entry: the second silently
    # replaced the first.
    spec = {
        "paths": {
            "/things/{thingId}": {"delete": delete_op()},
            "/other/{thingId}": {"delete": delete_op()},
        }
    }
    free = operations.Config({}, frozenset(), frozenset(), frozenset({"DeleteThing"}))
    with pytest.raises(
        normalize.UnsupportedSpecError,
        match=r"DeleteThing is the operationId of DELETE /other/\{thingId\} and DELETE /things/",
    ):
        operations.build_operations(spec, free)
