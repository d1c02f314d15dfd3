"""Drift: the June 17 -> June 26 specs, and each rule on a small spec."""

from __future__ import annotations

import copy
import http.client
import http.server
import json
import subprocess
import threading
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from codegen import __main__ as cli
from codegen import drift, inputs


@pytest.fixture(scope="module")
def report(previous_spec: Any, spec: Any) -> drift.DriftReport:
    return drift.diff(previous_spec, spec)


def messages(changes: list[drift.Change]) -> set[str]:
    return {c.message for c in changes}


def test_published_versions_classify_known_changes(report: drift.DriftReport) -> None:
    breaking = messages(report.breaking)
    assert "schema CustomComfyHooks removed" in breaking
    assert "CustomComfyInput.hooks removed" in breaking
    assert "CustomComfyInput.trace added as a required property" in breaking
    assert "CustomComfyOutput.workflow removed" in breaking
    assert "HappyHorseV1VideoGenInput.enableSafetyChecker removed" in breaking
    additive = messages(report.additive)
    assert "WorkflowStep: discriminator value 'comfyNodepackSnapshot' added" in additive
    assert "WorkflowStep: discriminator value 'qwenImageBench' added" in additive
    assert "ComfyImageGenInput: discriminator value 'krea2' added" in additive
    assert "enum value 'v2-mini' added" in additive
    assert any("InvalidateUserTokens" in m for m in additive)
    assert report.exit_code == drift.EXIT_BREAKING


def test_nothing_additive_is_called_breaking(report: drift.DriftReport) -> None:
    assert not any("added" in m and "required" not in m for m in messages(report.breaking))


def test_identical_specs_exit_zero(spec: Any) -> None:
    result = drift.diff(spec, copy.deepcopy(spec))
    assert result.as_json() == {"breaking": [], "additive": [], "cosmetic": []}
    assert result.exit_code == drift.EXIT_SAME


def base_spec() -> dict[str, Any]:
    return {
        "openapi": "3.1.1",
        "paths": {
            "/w": {
                "get": {
                    "operationId": "GetW",
                    "parameters": [{"in": "query", "name": "wait", "schema": {"type": "boolean"}}],
                    "responses": {"200": {"description": "OK"}},
                }
            }
        },
        "components": {
            "schemas": {
                "W": {
                    "type": "object",
                    "required": ["a"],
                    "properties": {
                        "a": {"type": "string", "description": "A."},
                        "s": {"type": "string", "enum": ["x", "y"]},
                    },
                }
            }
        },
    }


def mutate(change: Any) -> drift.DriftReport:
    old = base_spec()
    new = copy.deepcopy(old)
    change(new)
    return drift.diff(old, new)


@pytest.mark.parametrize(
    ("change", "kind", "text"),
    [
        (lambda s: s["paths"].pop("/w"), "breaking", "GET /w removed"),
        (
            lambda s: s["paths"]["/w"]["get"].update(operationId="GetW2"),
            "breaking",
            "GET /w: operationId changed: GetW -> GetW2",
        ),
        (
            lambda s: s["paths"]["/w"]["get"]["parameters"][0].update(
                schema={"type": "integer", "format": "int32"}
            ),
            "breaking",
            "parameter wait type changed",
        ),
        (
            lambda s: s["components"]["schemas"]["W"]["properties"].pop("a"),
            "breaking",
            "W.a removed",
        ),
        (
            lambda s: s["components"]["schemas"]["W"]["properties"]["a"].update(type="integer"),
            "breaking",
            "W.a type changed",
        ),
        (
            lambda s: s["components"]["schemas"]["W"]["required"].append("s"),
            "breaking",
            "W.s became required",
        ),
        (
            lambda s: s["components"]["schemas"]["W"]["properties"]["s"].update(enum=["x"]),
            "breaking",
            "enum value 'y' removed",
        ),
        (
            lambda s: s["components"]["schemas"]["W"]["properties"]["s"]["enum"].append("z"),
            "additive",
            "enum value 'z' added",
        ),
        (
            lambda s: s["components"]["schemas"]["W"]["properties"].update(b={"type": "string"}),
            "additive",
            "W.b added",
        ),
        (
            lambda s: s["components"]["schemas"].update(V={"type": "object"}),
            "additive",
            "schema V added",
        ),
        (
            lambda s: s["components"]["schemas"]["W"]["required"].clear(),
            "additive",
            "W.a is no longer required",
        ),
        (
            lambda s: s["components"]["schemas"]["W"]["properties"]["a"].update(description="B."),
            "cosmetic",
            "description changed",
        ),
    ],
)
def test_each_rule(change: Any, kind: str, text: str) -> None:
    result = mutate(change)
    found = getattr(result, kind)
    assert any(text in c.message for c in found), result.as_json()
    if kind != "breaking":
        assert not result.breaking


@pytest.mark.parametrize(
    ("path", "method", "asks"),
    [
        ("/w", "post", True),
        ("/w/{id}", "delete", True),
        ("/v", "get", False),
        ("/v", "options", False),  # never generated: nothing to decide
        ("/v2/consumer/recipes/boost", "post", False),
    ],
)
def test_a_new_operation_that_changes_something_asks_whether_it_charges(
    path: str, method: str, asks: bool
) -> None:
    # `make codegen` refuses it until operations.toml says; the report says so first.
    def add(spec: Any) -> None:
        spec["paths"].setdefault(path, {})[method] = {"operationId": "NewOp", "responses": {}}

    result = mutate(add)
    (change,) = [c for c in result.additive if "NewOp" in c.message]
    assert ("whether it may spend Buzz" in change.message) is asks
    assert not result.breaking


def test_cli_json_and_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    spec = base_spec()
    old.write_text(json.dumps(spec))
    new.write_text(json.dumps(spec))
    assert cli.main(["drift", str(old), str(new)]) == 0
    spec["components"]["schemas"]["W"]["properties"]["b"] = {"type": "string"}
    new.write_text(json.dumps(spec))
    capsys.readouterr()
    assert cli.main(["drift", str(old), str(new), "--format", "json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["additive"] == [
        {"pointer": "/components/schemas/W/properties/b", "message": "W.b added"}
    ]
    del spec["components"]["schemas"]["W"]["properties"]["a"]
    new.write_text(json.dumps(spec))
    assert cli.main(["drift", str(old), str(new)]) == 2
    assert "BREAKING (1)" in capsys.readouterr().out


def test_drift_live_skips_cleanly_when_offline(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], lock: Any
) -> None:
    def offline(url: str, timeout: float = 0) -> bytes:
        raise OSError("network unreachable")

    monkeypatch.setattr(drift.inputs, "download", offline)
    assert cli.main(["drift-live"]) == 0
    assert "skipped" in capsys.readouterr().err


def polymorphic_spec() -> dict[str, Any]:
    spec = base_spec()
    spec["components"]["schemas"].update(
        Step={
            "type": "object",
            "properties": {"$type": {"type": "string"}},
            "discriminator": {
                "propertyName": "$type",
                "mapping": {"a": "#/components/schemas/AStep", "b": "#/components/schemas/BStep"},
            },
        },
        AStep={"type": "object", "properties": {"$type": {"type": "string"}}},
        BStep={"type": "object", "properties": {"$type": {"type": "string"}}},
    )
    return spec


@pytest.mark.parametrize(
    ("change", "text"),
    [
        (
            lambda d: d.update(propertyName="type"),
            "Step: discriminator property changed: $type -> type",
        ),
        (
            lambda d: d.pop("propertyName"),
            "Step: discriminator property changed: $type -> (no discriminator)",
        ),
        (
            lambda d: d["mapping"].update(a="#/components/schemas/BStep"),
            "Step: discriminator value 'a' now means BStep (was AStep)",
        ),
    ],
)
def test_discriminator_changes_break(change: Any, text: str) -> None:
    # A renamed tag property or a tag that now selects another schema sends every payload
    # to the wrong class; both used to pass as "other changes that do not affect clients".
    old = polymorphic_spec()
    new = copy.deepcopy(old)
    change(new["components"]["schemas"]["Step"]["discriminator"])
    result = drift.diff(old, new)
    assert text in messages(result.breaking), result.as_json()
    assert result.exit_code == drift.EXIT_BREAKING


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "cannot read"),
        ('{"openapi": "3.1.1", "paths": {', "is not JSON"),
        ("<html>502 Bad Gateway</html>", "is not JSON"),
        ("[1, 2]", "is not an OpenAPI document"),
        ('{"message": "rate limited"}', "is not an OpenAPI document"),
        ('{"openapi": "3.1.1", "paths": []}', "paths is not an object of objects"),
        ('{"openapi": "3.1.1", "components": {"schemas": {"W": 1}}}', "components.schemas"),
    ],
)
def test_drift_unreadable_spec_is_an_error_not_a_verdict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, reason: str
) -> None:
    # These used to end in a traceback, exit 1: what CI reads as "additive changes only".
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    old.write_text(json.dumps(base_spec()))
    if content is not None:
        new.write_text(content)
    assert cli.main(["drift", str(old), str(new)]) == drift.EXIT_ERROR
    err = capsys.readouterr().err
    assert err.startswith("drift: ")
    assert reason in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "answer",
    [b"<html>maintenance</html>", b'{"openapi": "3.1.1", "paths": {"/w": ', b'{"error": "x"}'],
)
def test_drift_live_refuses_a_live_answer_that_is_not_a_spec(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], lock: Any, answer: bytes
) -> None:
    monkeypatch.setattr(drift.inputs, "download", lambda url, timeout=0: answer)
    assert cli.main(["drift-live"]) == drift.EXIT_ERROR
    assert "is not" in capsys.readouterr().err


def test_drift_live_truncated_body_is_a_skip(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], lock: Any
) -> None:
    class CutOff:
        def __enter__(self) -> CutOff:
            return self

        def __exit__(self, *exc: object) -> None:
            return None

        def read1(self, limit: int = -1) -> bytes:
            raise http.client.IncompleteRead(b"{", 1000)

    monkeypatch.setattr(inputs, "_open", lambda request, timeout=0: CutOff())
    assert cli.main(["drift-live"]) == drift.EXIT_SAME
    assert "skipped" in capsys.readouterr().err


def test_drift_live_without_the_pinned_spec_is_an_error_not_breaking(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], lock: Any
) -> None:
    # SpecInputError used to reach main's exit 2, which the drift workflow reads as
    # "breaking" and files an API-drift issue about a missing local file.
    def missing(entry: Any) -> Any:
        raise inputs.SpecInputError("specs/v2-consumers.json is missing")

    monkeypatch.setattr(drift.inputs, "load_json", missing)
    monkeypatch.setattr(drift.inputs, "download", lambda url, timeout=0: b"{}")
    assert cli.main(["drift-live"]) == drift.EXIT_ERROR
    assert "is missing" in capsys.readouterr().err


def test_enum_of_array_items_is_compared(spec: Any) -> None:
    # WorkflowCallback.type is an array of event names with its enum under `items`: a
    # removed event type used to pass as "other changes that do not affect clients".
    removed, added = copy.deepcopy(spec), copy.deepcopy(spec)
    events = ("components", "schemas", "WorkflowCallback", "properties", "type", "items", "enum")

    def values(document: Any) -> list[str]:
        node = document
        for part in events:
            node = node[part]
        return node  # type: ignore[no-any-return]

    first = values(spec)[0]
    values(removed).remove(first)
    values(added).append("workflow:new")
    where = "/components/schemas/WorkflowCallback/properties/type/items"
    report = drift.diff(spec, removed)
    assert [(c.pointer, c.message) for c in report.breaking] == [
        (where, f"enum value {first!r} removed")
    ]
    report = drift.diff(spec, added)
    assert [(c.pointer, c.message) for c in report.additive] == [
        (where, "enum value 'workflow:new' added")
    ]
    assert report.exit_code == drift.EXIT_COMPATIBLE


def _with_bodies() -> dict[str, Any]:
    spec = base_spec()
    spec["components"]["schemas"]["V"] = {"type": "object"}
    spec["paths"]["/w"]["get"]["responses"] = {
        "200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/W"}}}},
        "404": {"description": "missing"},
    }
    return spec


@pytest.mark.parametrize(
    ("change", "kind", "text"),
    [
        (
            lambda op: op["responses"]["200"]["content"]["application/json"].update(
                schema={"$ref": "#/components/schemas/V"}
            ),
            "breaking",
            "GET /w: response 200 changed: application/json W -> application/json V",
        ),
        (
            lambda op: op.update(
                requestBody={"content": {"application/json": {"schema": {"type": "string"}}}}
            ),
            "breaking",
            'GET /w: request body changed: (no body) -> application/json {"type": "string"}',
        ),
        (
            lambda op: op["responses"].update(
                {"429": {"content": {"application/json": {"schema": {"type": "object"}}}}}
            ),
            "additive",
            'GET /w: response 429 added (application/json {"type": "object"})',
        ),
    ],
)
def test_body_changes_say_which_body_and_how(change: Any, kind: str, text: str) -> None:
    # These were all one "request or response body changed", and a newly documented error
    # response counted as breaking (an issue filed for a change no client notices).
    old = _with_bodies()
    new = copy.deepcopy(old)
    change(new["paths"]["/w"]["get"])
    result = drift.diff(old, new)
    assert text in messages(getattr(result, kind)), result.as_json()
    if kind != "breaking":
        assert not result.breaking


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ('{"inputs": <<<<<<< HEAD', "cannot read"),
        ('{"inputs": {}}', "has no orchestrator input"),
    ],
)
def test_drift_live_with_an_unreadable_lock_is_an_error_not_breaking(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    text: str,
    error: str,
) -> None:
    # A lock with merge-conflict markers reached main's exit 2, which the drift workflow
    # reads as "breaking"; a lock without the orchestrator input was a KeyError traceback
    # and exit 1, "additive".
    lock_file = tmp_path / "lock.json"
    lock_file.write_text(text, encoding="utf-8")
    monkeypatch.setattr(inputs.read_lock, "__defaults__", (lock_file,))
    assert cli.main(["drift-live"]) == drift.EXIT_ERROR
    err = capsys.readouterr().err
    assert err.startswith("drift: ")
    assert error in err
    assert "Traceback" not in err


def test_drift_live_offline_without_a_pinned_copy_skips(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], lock: Any
) -> None:
    # Offline, a clone without ../shared cannot fetch the pinned copy either: `make drift`
    # ended with "is missing", exit 3 (and `make specs` before it with Error 3) instead of
    # skipping like every other offline run.
    def missing(entry: Any) -> Any:
        raise inputs.SpecInputError("specs/v2-consumers.json is missing")

    def offline(url: str, timeout: float = 0) -> bytes:
        raise OSError("network unreachable")

    monkeypatch.setattr(drift.inputs, "load_json", missing)
    monkeypatch.setattr(drift.inputs, "download", offline)
    assert cli.main(["drift-live"]) == drift.EXIT_SAME
    assert "skipped" in capsys.readouterr().err


@pytest.mark.parametrize("target", ["drift", "codegen-check"])
def test_make_targets_that_skip_offline_fill_the_specs_optionally(target: str) -> None:
    # Their commands skip without the specs (exit 0, or 1 under CI for codegen-check), but
    # the `specs` prerequisite failed first: offline without ../shared, `make drift` ended
    # in "Error 3" instead of the skip.
    result = subprocess.run(
        ["make", "-n", target, "VENV=.venv", "STAMP="],
        capture_output=True,
        text=True,
        check=True,
        cwd=inputs.ROOT,
    )
    fill = [line for line in result.stdout.splitlines() if "-m codegen specs" in line]
    assert fill, result.stdout
    assert all(line.endswith("specs --optional") for line in fill), result.stdout


def test_drift_live_refuses_a_redirect_away_from_https(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], lock: Any
) -> None:
    # The https-only check saw only the first URL: a redirect to plain http was followed,
    # and `make specs LIVE=1` would have pinned (and codegen generated from) a spec sent in
    # the clear. A real loopback server; it stands in for the live URL's host.
    served: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            served.append(self.path)
            if self.path == "/spec":
                body = json.dumps({"openapi": "3.1.1", "paths": {}}).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            self.send_response(302)
            self.send_header("Location", f"http://127.0.0.1:{self.server.server_port}/spec")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return None

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    real_open = inputs._open
    start = f"http://127.0.0.1:{server.server_port}/openapi"

    def loopback(request: Any, timeout: float = 0) -> Any:
        return real_open(urllib.request.Request(start), timeout=timeout)

    monkeypatch.setattr(inputs, "_open", loopback)
    try:
        assert cli.main(["drift-live"]) == drift.EXIT_ERROR
    finally:
        server.shutdown()
        server.server_close()
    err = capsys.readouterr().err
    assert f"redirected (302) to http://127.0.0.1:{server.server_port}/spec" in err
    assert "not https" in err
    assert served == ["/openapi"]  # the plain-http copy was never asked for


@pytest.mark.parametrize(
    "argv",
    [
        ["drift", "only-one.json"],
        ["drift", "a.json", "b.json", "--format", "yaml"],
        ["drift-live", "--timeout", "soon"],
    ],
)
def test_a_drift_usage_error_is_exit_3_not_breaking(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    # argparse ends a usage error with exit 2, which the drift commands use for "breaking":
    # a CI job with a mistyped argument reported breaking changes (and opened an issue).
    assert cli.main(argv) == drift.EXIT_ERROR
    assert "usage:" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stop:
        cli.main(["generate", "--no-such-flag"])
    assert stop.value.code == 2  # the other commands keep argparse's code


W = ("components", "schemas", "W")


@pytest.mark.parametrize(
    ("path", "value", "where"),
    [
        ((*W, "required"), None, "/components/schemas/W/required is not a list or a boolean"),
        ((*W, "properties", "s", "enum"), "x", "/components/schemas/W/properties/s/enum is not"),
        (("paths", "/w", "get", "parameters"), "wait", "/paths/~1w/get/parameters is not a list"),
        ((*W, "discriminator"), "kind", "/components/schemas/W/discriminator is not an object"),
    ],
)
def test_a_misshapen_spec_is_exit_3_naming_the_spot(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    path: tuple[str, ...],
    value: Any,
    where: str,
) -> None:
    # `required: null` ended in a TypeError traceback; `enum: "x"` and `parameters: "wait"`
    # passed as "other changes that do not affect clients" (exit 1): the schema lost its
    # enum and the operation its parameters without a word.
    new = base_spec()
    node: Any = new
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    (tmp_path / "old.json").write_text(json.dumps(base_spec()))
    (tmp_path / "new.json").write_text(json.dumps(new))
    assert cli.main(["drift", str(tmp_path / "old.json"), str(tmp_path / "new.json")]) == 3
    err = capsys.readouterr().err
    assert where in err
    assert "Traceback" not in err


def test_keywords_as_property_names_and_data_are_no_misshapen_spec() -> None:
    spec = base_spec()
    props = spec["components"]["schemas"]["W"]["properties"]
    props.update(required={"type": "boolean"}, enum={"type": "string"}, oneOf={"type": "integer"})
    props["a"]["example"] = {"required": "yes", "parameters": 1}
    spec["paths"]["/w"]["get"]["parameters"][0]["required"] = True
    spec["paths"]["/w"]["get"]["x-extra"] = {"enum": 1}
    assert drift.parse_document(json.dumps(spec), "spec") == spec
