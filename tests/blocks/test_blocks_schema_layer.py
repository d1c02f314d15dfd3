"""The JSON Schema layer of ``validate_manifest``: where the schema comes from, what it adds,
and where the platform overrules it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from blocks_support import BASE, manifest, schema_path

from civitai_app_sdk.blocks import (
    BLOCK_SCOPES,
    SchemaUnavailableError,
    define_block,
    validate_manifest,
)
from civitai_app_sdk.blocks import schema as schema_module
from civitai_app_sdk.blocks.vocab import REMOVED_BLOCK_SCOPES


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


def test_without_a_schema_only_the_platform_rules_run(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(schema_module.SCHEMA_ENV, raising=False)
    monkeypatch.setattr(schema_module, "_CHECKOUT_SPECS", tmp_path / "absent.json")
    result = validate_manifest(manifest(type="embed", scopes=["nope:nope"]))
    assert not result.schema_checked
    assert result.schema_findings == ()
    assert not result.valid


def test_checkout_copy_is_found_relative_to_the_package() -> None:
    expected = Path(schema_module.__file__).resolve().parents[3] / "specs" / "app-block-v1.json"
    assert expected == schema_module._CHECKOUT_SPECS


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
