"""``civitai-orch block validate`` through click's test runner."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from blocks_support import BASE, manifest, schema_path, with_iframe
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from civitai_app_sdk.blocks import schema as schema_module
from civitai_app_sdk.cli import main
from civitai_app_sdk.cli.block import MAX_MANIFEST_BYTES


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def write(tmp_path: Path, content: Any, raw: str | None = None) -> Path:
    path = tmp_path / "block.manifest.json"
    path.write_text(raw if raw is not None else json.dumps(content), encoding="utf-8")
    return path


def run(runner: CliRunner, *args: str) -> Any:
    return runner.invoke(main, ["block", "validate", *args])


def test_valid_manifest_exits_0(runner: CliRunner, tmp_path: Path) -> None:
    path = write(tmp_path, BASE)
    result = run(runner, str(path), "--schema", str(schema_path()))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == f"{path}: valid"


def test_invalid_manifest_lists_each_problem_with_its_path(
    runner: CliRunner, tmp_path: Path
) -> None:
    case = manifest(
        version="1.0",
        scopes=["ai:write:budgeted"],
        iframe={**BASE["iframe"], "src": "https://elsewhere.example/", "minHeight": 10},
        page={"path": "/", "title": "Lab", "theme": "dark"},
    )
    result = run(runner, str(write(tmp_path, case)), "--schema", str(schema_path()))
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0].endswith(": invalid (3 problems)")
    assert lines[1] == '  error   version: manifest.version "1.0" must be semver (e.g. 0.1.0)'
    assert lines[2].startswith("  error   scopeJustifications: sensitive scopes require")
    assert lines[3] == "  error   iframe.minHeight: iframe.minHeight must be a number in [40, 4000]"
    assert lines[4].startswith("  schema  page: Additional properties are not allowed")
    assert lines[5].startswith("  warning iframe.src: iframe.src is platform-owned")


def test_json_output_is_one_document(runner: CliRunner, tmp_path: Path) -> None:
    case = manifest(blockId="x", trustTier="verified")
    result = run(runner, str(write(tmp_path, case)), "--json", "--schema", str(schema_path()))
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["valid"] is False
    assert document["schemaChecked"] is True
    assert document["problems"] == [
        {
            "path": "blockId",
            "message": 'manifest.blockId "x" must be 3-40 chars, lowercase a-z/0-9/hyphens, start '
            "with a letter, end with a letter or digit",
            "stage": "submit",
        }
    ]
    assert [w["path"] for w in document["warnings"]] == ["trustTier"]


def test_without_schema_files_the_packaged_schema_is_used(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(schema_module.SCHEMA_ENV, raising=False)
    path = write(tmp_path, {**BASE, "type": "embed"})
    assert "schema not checked" not in run(runner, str(path)).output
    document = json.loads(run(runner, str(path), "--json").stdout)
    assert (document["valid"], document["schemaChecked"]) == (True, True)
    assert [f["path"] for f in document["schemaFindings"]] == ["type"]


@pytest.mark.parametrize("raw", [b"{", b'{"blockId": NaN}', b"\xff\xfe{}"])
def test_unreadable_manifest_exits_2(runner: CliRunner, tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "m.json"
    path.write_bytes(raw)
    result = run(runner, str(path), "--json")
    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"]["message"].startswith("cannot read")
    assert json.loads(result.stdout)["error"]["exitCode"] == 2


def test_missing_file_and_bad_schema_exit_2(runner: CliRunner, tmp_path: Path) -> None:
    result = run(runner, str(tmp_path / "absent.json"))
    assert result.exit_code == 2
    assert "cannot read" in result.stderr
    result = run(
        runner, str(write(tmp_path, BASE)), "--schema", str(tmp_path / "nope.json"), "--json"
    )
    assert result.exit_code == 2
    assert "manifest schema" in json.loads(result.stdout)["error"]["message"]


def test_non_object_manifest_is_invalid_not_unreadable(runner: CliRunner, tmp_path: Path) -> None:
    result = run(runner, str(write(tmp_path, [BASE])), "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["problems"][0]["message"] == (
        "block.manifest.json must contain a JSON object"
    )


def test_lone_surrogates_do_not_break_output(runner: CliRunner, tmp_path: Path) -> None:
    path = write(tmp_path, None, raw=json.dumps(manifest(blockId="\ud800bad")))
    result = run(runner, str(path))
    assert result.exit_code == 1
    assert "\\ud800bad" in result.output
    assert json.loads(run(runner, str(path), "--json").stdout)["valid"] is False


def test_block_command_module_imports_nothing_heavy() -> None:
    probe = (
        "import sys, civitai_app_sdk.cli.block; "
        "print(sorted({'pydantic', 'jsonschema'} & set(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


DEEP = 100_000
NESTED = "the JSON is nested too deeply (over about 1,000 levels)"


@pytest.mark.parametrize(
    "raw",
    [
        "[" * DEEP + "]" * DEEP,
        '{"a":' * DEEP + "1" + "}" * DEEP,
        '{"blockId": "lab", "settings": ' + '{"a":' * DEEP + "1" + "}" * (DEEP + 1),
    ],
    ids=["array", "object", "inside-a-manifest"],
)
def test_deeply_nested_json_is_one_line_not_a_traceback(
    runner: CliRunner, tmp_path: Path, raw: str
) -> None:
    path = write(tmp_path, None, raw=raw)
    result = run(runner, str(path))
    assert result.exit_code == 2
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.stderr.splitlines() == [f"{path}: cannot read: {NESTED}"]
    assert result.stdout == ""
    as_json = run(runner, str(path), "--json")
    assert as_json.exit_code == 2
    assert json.loads(as_json.stdout) == {
        "file": str(path),
        "error": {
            "message": f"cannot read: {NESTED}",
            "exitCode": 2,
            "status": None,
            "requestId": None,
            "fields": None,
        },
    }


def test_nesting_the_parser_can_read_is_still_checked(runner: CliRunner, tmp_path: Path) -> None:
    deep: Any = 1
    for _ in range(500):
        deep = {"a": deep}
    path = write(tmp_path, {**BASE, "extra": deep})
    result = run(runner, str(path), "--json", "--schema", str(schema_path()))
    assert result.exit_code in (0, 1)
    assert "valid" in json.loads(result.stdout)


def test_deeply_nested_schema_is_one_line(runner: CliRunner, tmp_path: Path) -> None:
    schema = tmp_path / "schema.json"
    schema.write_text('{"a":' * DEEP + "1" + "}" * DEEP, encoding="utf-8")
    path = write(tmp_path, BASE)
    result = run(runner, str(path), "--schema", str(schema))
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [f"{path}: {schema} is nested too deeply to read"]
    as_json = run(runner, str(path), "--schema", str(schema), "--json")
    assert json.loads(as_json.stdout)["error"]["message"] == (
        f"{schema} is nested too deeply to read"
    )


def test_a_schema_that_cannot_be_used_exits_2_in_one_line(
    runner: CliRunner, tmp_path: Path
) -> None:
    schema = tmp_path / "schema.json"
    schema.write_text('{"properties": {"name": {"pattern": "a++"}}}', encoding="utf-8")
    path = write(tmp_path, BASE)
    result = run(runner, str(path), "--schema", str(schema))
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"{path}: the manifest schema has a pattern JavaScript refuses: 'a++' (Nothing to repeat)"
    ]


def test_a_manifest_over_the_size_cap_is_refused_unread(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    path.write_text(json.dumps(BASE) + " " * MAX_MANIFEST_BYTES, encoding="utf-8")
    result = run(runner, str(path), "--json")
    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"]["message"] == (
        "cannot read: the file is larger than 1 MiB; a manifest is a small JSON file"
    )
    path.write_text(json.dumps(BASE).ljust(MAX_MANIFEST_BYTES), encoding="utf-8")
    assert run(runner, str(path), "--json").exit_code == 0  # exactly at the cap is read


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["/dev/zero"], "larger than 1 MiB"),
        (["{manifest}", "--schema", "/dev/zero"], "manifest schema at /dev/zero: larger than"),
    ],
)
def test_an_endless_file_ends_in_a_usage_error(tmp_path: Path, args: list[str], said: str) -> None:
    manifest_path = write(tmp_path, BASE)
    argv = [a.format(manifest=manifest_path) for a in args]
    code = "from civitai_app_sdk.cli import main; main()"
    done = subprocess.run(
        [sys.executable, "-c", code, "block", "validate", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert said in done.stderr


def test_a_bom_or_non_utf8_bytes_are_said_plainly(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(BASE).encode())
    result = run(runner, str(path))
    assert result.exit_code == 2
    assert "byte order mark (BOM)" in result.stderr
    assert "utf-8-sig" not in result.stderr
    path.write_bytes(b'{"blockId": "caf\xe9"}')
    result = run(runner, str(path))
    assert result.exit_code == 2
    assert "not UTF-8 text (byte 0xe9 at offset 16)" in result.stderr


_PAST_DIGIT_LIMIT = st.integers(4_301, 20_000)  # int(str) refuses more than 4,300 digits


@settings(max_examples=20, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_PAST_DIGIT_LIMIT, st.sampled_from(["", "-"]), st.sampled_from(["minHeight", "budget"]))
def test_an_integer_past_the_digit_limit_is_read_as_javascript_reads_it(
    runner: CliRunner, tmp_path: Path, digits: int, sign: str, field: str
) -> None:
    # JSON.parse makes it +-Infinity, which the platform refuses with its usual message; it
    # was "cannot read: Exceeds the limit (4300 digits) ... sys.set_int_max_str_digits()".
    number = sign + "9" * digits
    if field == "minHeight":
        case = with_iframe(minHeight="NUMBER")
        expected = "  error   iframe.minHeight: iframe.minHeight must be a number in [40, 4000]"
    else:
        case = manifest(page={"path": "/", "title": "Lab", "buzzBudgetPerGen": "NUMBER"})
        expected = (
            "  error   page.buzzBudgetPerGen: page.buzzBudgetPerGen must be a positive integer"
        )
    raw = json.dumps(case).replace('"NUMBER"', number)
    result = run(runner, str(write(tmp_path, None, raw=raw)))
    assert result.exit_code == 1, result.output
    assert result.output.splitlines()[1] == expected
