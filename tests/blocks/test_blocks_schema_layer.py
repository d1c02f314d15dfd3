"""The JSON Schema layer of ``validate_manifest``: where the schema comes from, what it adds,
and where the platform overrules it."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from blocks_support import BASE, ROOT, manifest, schema_path

from civitai_app_sdk.blocks import (
    BLOCK_SCOPES,
    SchemaUnavailableError,
    define_block,
    validate_manifest,
)
from civitai_app_sdk.blocks import schema as schema_module
from civitai_app_sdk.blocks.vocab import REMOVED_BLOCK_SCOPES

GENERATED = "civitai_app_sdk_generated"


@pytest.fixture
def pinned_schema() -> dict[str, object]:
    loaded: dict[str, object] = json.loads(schema_path().read_text(encoding="utf-8"))
    return loaded


def findings(case: object, schema: object) -> list[tuple[str, str]]:
    result = validate_manifest(case, schema=schema)  # type: ignore[arg-type]
    assert result.schema_checked
    return [(f.path, f.message) for f in result.schema_findings]


def test_valid_manifest_has_no_schema_findings(pinned_schema: dict[str, object]) -> None:
    assert findings(BASE, pinned_schema) == []


def test_schema_findings_are_advisory(pinned_schema: dict[str, object]) -> None:
    """The schema is stricter than the platform here; the platform's verdict stands."""
    case = manifest(
        buildCommand="npm run build",
        page={"path": "/", "title": "Lab", "theme": "dark"},
        iframe={**BASE["iframe"], "minHeight": 200.5},
    )
    result = validate_manifest(case, schema=pinned_schema)
    assert result.valid
    assert {path for path, _ in findings(case, pinned_schema)} == {"", "page", "iframe.minHeight"}
    define_block({"manifest": case})


def test_platform_wins_on_removed_scopes(pinned_schema: dict[str, object]) -> None:
    """The pinned schema predates the removal of three scopes on 2026-07-17: it accepts
    ``media:read:owned``, the platform refuses it. The platform decides."""
    case = manifest(scopes=["media:read:owned"])
    result = validate_manifest(case, schema=pinned_schema)
    assert not result.valid
    assert result.problems[0].message == 'scope "media:read:owned" is not a known block scope'
    assert findings(case, pinned_schema) == []


def test_platform_wins_on_scopes_newer_than_the_schema(pinned_schema: dict[str, object]) -> None:
    """A schema whose enum lacks a scope the platform knows must not refuse it: scope-enum
    findings are dropped, because the platform's vocabulary is the authority."""
    narrowed = json.loads(json.dumps(pinned_schema))
    narrowed["properties"]["scopes"]["items"]["enum"] = ["models:read:self"]
    case = manifest(scopes=["apps:storage:shared:read"])
    assert validate_manifest(case, schema=narrowed).valid
    assert findings(case, narrowed) == []


def test_pinned_schema_scope_list_against_the_platform(pinned_schema: dict[str, object]) -> None:
    """Why the platform wins: the schema's enum is today's 12 plus the 3 removed scopes."""
    properties = pinned_schema["properties"]
    assert isinstance(properties, dict)
    enum = set(properties["scopes"]["items"]["enum"])
    assert enum == set(BLOCK_SCOPES.values()) | REMOVED_BLOCK_SCOPES


def test_findings_on_a_path_the_platform_refuses_are_not_repeated(
    pinned_schema: dict[str, object],
) -> None:
    case = manifest(blockId="No", contentRating="nc17")
    result = validate_manifest(case, schema=pinned_schema)
    assert [p.path for p in result.problems] == ["blockId", "contentRating"]
    assert result.schema_findings == ()


def test_schema_patterns_use_javascript_anchors(pinned_schema: dict[str, object]) -> None:
    """``re.search('^a$', 'a\\n')`` matches in Python; JS (and so the schema) does not."""
    case = manifest(minApiVersion="1.0\n")
    assert findings(case, pinned_schema) == [
        ("minApiVersion", "'1.0\\n' does not match '^\\\\d+(\\\\.\\\\d+)*$'")
    ]


def test_schema_from_a_path_and_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert validate_manifest(BASE, schema=schema_path()).schema_checked
    assert validate_manifest(BASE, schema=str(schema_path())).schema_checked
    monkeypatch.setenv(schema_module.SCHEMA_ENV, str(schema_path()))
    assert validate_manifest(manifest(type="embed")).schema_findings[0].path == "type"
    monkeypatch.setenv(schema_module.SCHEMA_ENV, str(tmp_path / "missing.json"))
    with pytest.raises(SchemaUnavailableError, match=r"missing\.json"):
        validate_manifest(BASE)


def test_unreadable_or_non_object_schema(tmp_path: Path) -> None:
    broken = tmp_path / "schema.json"
    broken.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(SchemaUnavailableError, match="does not hold a JSON Schema object"):
        validate_manifest(BASE, schema=broken)
    broken.write_text("{", encoding="utf-8")
    with pytest.raises(SchemaUnavailableError):
        validate_manifest(BASE, schema=broken)


def test_without_any_schema_file_the_packaged_schema_is_checked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(schema_module.SCHEMA_ENV, raising=False)
    result = validate_manifest(manifest(type="embed"))
    assert result.schema_checked
    assert [f.path for f in result.schema_findings] == ["type"]  # the schema alone says so
    assert result.valid  # the platform does not look at `type`


def test_packaged_schema_is_the_pinned_file() -> None:
    assert schema_module.packaged_schema() == json.loads(schema_path().read_text("utf-8"))


def test_installed_copy_without_spec_files_reports_schema_only_violation(
    tmp_path: Path,
) -> None:
    """The two packages copied to a bare folder (no checkout, no specs/) still check it."""
    site = tmp_path / "site"
    for package in (ROOT / "src" / "civitai_app_sdk", ROOT / "generated" / GENERATED):
        shutil.copytree(package, site / package.name, ignore=shutil.ignore_patterns("*.pyc"))
    script = (
        "import json, sys\n"
        f"sys.path.insert(0, {str(site)!r})\n"
        "from civitai_app_sdk.blocks import validate_manifest\n"
        "import civitai_app_sdk\n"
        f"assert civitai_app_sdk.__file__.startswith({str(site)!r})\n"
        "result = validate_manifest(json.loads(sys.stdin.read()))\n"
        "print(json.dumps([f.path for f in result.schema_findings]))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != schema_module.SCHEMA_ENV}
    done = subprocess.run(
        [sys.executable, "-c", script],
        input=json.dumps(manifest(type="embed")),
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        check=True,
        timeout=120,
    )
    assert not list(tmp_path.rglob("app-block*.json"))
    assert json.loads(done.stdout) == ["type"]


def test_a_schema_file_is_parsed_once_until_it_changes(tmp_path: Path) -> None:
    copy = tmp_path / "schema.json"
    copy.write_text(schema_path().read_text(encoding="utf-8"), encoding="utf-8")
    first = schema_module.load_schema(copy)
    assert schema_module.load_schema(str(copy)) is first
    copy.write_text(json.dumps({"type": "object", "required": ["extra"]}), encoding="utf-8")
    changed = validate_manifest(BASE, schema=copy)
    assert [(f.path, f.message) for f in changed.schema_findings] == [
        ("", "'extra' is a required property")
    ]


def test_an_unreadable_named_schema_is_a_civitai_error(tmp_path: Path) -> None:
    from civitai_app_sdk.blocks.schema import load_schema
    from civitai_app_sdk.errors import CivitaiError

    with pytest.raises(CivitaiError) as caught:
        load_schema(tmp_path / "missing.json")
    assert isinstance(caught.value, OSError)  # still an OSError, as before


@pytest.mark.parametrize(
    ("schema", "reason"),
    [
        ({"properties": {"name": {"type": "nonsense"}}}, "is not a valid JSON Schema"),
        ({"$ref": "https://example.com/other.json"}, "cannot be used: Unresolvable"),
        ({"properties": {"name": {"pattern": "(?i)lab"}}}, "pattern JavaScript refuses"),
        (
            {"properties": {"name": {"pattern": "(?<=a+)b"}}},
            r"pattern Python cannot evaluate \(a variable-width lookbehind\): '\(\?<=a\+\)b'",
        ),
    ],
)
def test_a_schema_that_cannot_be_used_is_a_typed_error(
    tmp_path: Path, schema: dict[str, object], reason: str
) -> None:
    # Each of these ended validate_manifest (and `block validate --schema`) in a traceback.
    path = tmp_path / "schema.json"
    path.write_text(json.dumps(schema), encoding="utf-8")
    with pytest.raises(SchemaUnavailableError, match=reason):
        validate_manifest(BASE, schema=path)
    with pytest.raises(SchemaUnavailableError, match=reason):
        validate_manifest(BASE, schema=schema)


def test_a_finding_quotes_a_long_value_cut_short(pinned_schema: dict[str, object]) -> None:
    # The full value used to be repeated: a 200 kB `type` made a 200 kB line.
    found = findings(manifest(type="x" * 200_000), pinned_schema)
    assert found == [
        ("type", f"'{'x' * 198}… (200002 chars) is not one of ['block']"),
    ]
    assert findings(manifest(type="widget"), pinned_schema) == [
        ("type", "'widget' is not one of ['block']")
    ]


@pytest.mark.parametrize("field", ["name", "version", "scopes", "iframe"])
@pytest.mark.parametrize("kind", [list, dict])
def test_a_value_nested_past_the_recursion_limit_is_a_finding_not_a_recursion_error(
    field: str, kind: type
) -> None:
    """jsonschema's message repr of such a value raised a bare RecursionError."""
    value: object = None
    for _ in range(sys.getrecursionlimit() + 100):
        value = [value] if kind is list else {"a": value}
    manifest = {**copy.deepcopy(BASE), field: value}
    result = validate_manifest(manifest)
    assert result.problems or result.schema_findings


@pytest.mark.parametrize(
    ("schema", "builtin"),
    [(5, TypeError), (b"schema.json", TypeError), ("schema\0.json", ValueError)],
)
def test_a_schema_argument_that_is_no_path_is_a_civitai_error(
    schema: object, builtin: type[Exception]
) -> None:
    """An int raised Path's bare TypeError, a NUL in the path a bare ValueError."""
    from civitai_app_sdk.errors import CivitaiError

    with pytest.raises(builtin) as caught:
        validate_manifest(BASE, schema=schema)  # type: ignore[arg-type]
    assert isinstance(caught.value, CivitaiError)
