"""``strict_sdk_0_14=True``: 0.14's verdict check by check, and where it parts from the platform."""

from __future__ import annotations

from typing import Any

import pytest
from blocks_support import SDK014_BASE, manifest, sdk014

from civitai_app_sdk.blocks import BlockManifestError, define_block

SCOPES_014 = (
    "models:read:self, media:read:owned, user:read:self, ai:write:budgeted, buzz:read:self, "
    "block:settings:read, block:settings:write, social:tip:self, apps:storage:read, "
    "apps:storage:write"
)
SRC = (
    "manifest.iframe.src must use https:// (http:// only accepted for "
    "localhost/127.0.0.1/[::1]/*.localhost). Got: "
)
NAV = "Blocks must route navigation through the NAVIGATE postMessage so the host can mediate."


def strict(case: object) -> Any:
    return define_block({"manifest": case}, strict_sdk_0_14=True)


def verdict(case: object) -> tuple[str | None, str]:
    with pytest.raises(BlockManifestError) as caught:
        strict(case)
    error = caught.value
    assert [(p.path, p.message, p.stage) for p in error.problems] == [
        (error.field or "", error.message, "sdk-0.14")
    ]
    return error.field, error.message


def iframe(**changes: Any) -> dict[str, Any]:
    frame = {**SDK014_BASE["iframe"], **changes}
    return sdk014(iframe={k: v for k, v in frame.items() if v is not ...})


def settings(entry: Any, key: str = "style") -> dict[str, Any]:
    return sdk014(settings={key: entry})


GOOD_SETTING = {"scope": "viewer", "type": "string", "label": "Style", "description": "Look"}

CHECKS: dict[str, tuple[object, str | None, str]] = {
    "1 not an object": ("block", None, "manifest must be an object"),
    "1 null": (None, None, "manifest must be an object"),
    "2 array passes 1, fails 2": ([], "$schema", "manifest.$schema is required"),
    "2 first missing key wins": (
        sdk014(appId=..., minApiVersion=None),
        "appId",
        "manifest.appId is required",
    ),
    "2 minApiVersion null": (
        sdk014(minApiVersion=None),
        "minApiVersion",
        "manifest.minApiVersion is required",
    ),
    "3 $schema": (
        sdk014(**{"$schema": "https://civitai.com/schemas/app-block/v2.json"}),
        "$schema",
        'manifest.$schema must be "https://civitai.com/schemas/app-block/v1.json"',
    ),
    "4 appId empty": (sdk014(appId=""), "appId", "manifest.appId must be a non-empty string"),
    "5 blockId number": (
        sdk014(blockId=5),
        "blockId",
        "manifest.blockId must be a non-empty string",
    ),
    "6 blockId": (
        sdk014(blockId="My-Block"),
        "blockId",
        "manifest.blockId must match /^[a-z][a-z0-9-]*[a-z0-9]$/ and be 3-40 chars (lowercase, "
        "starts with a letter, ends alphanumeric, hyphen-separated — DNS-subdomain-safe since it "
        'becomes <blockId>.civit.ai). Got: "My-Block"',
    ),
    "7 version empty": (
        sdk014(version=""),
        "version",
        "manifest.version must be a non-empty string",
    ),
    "8 version": (
        sdk014(version="1.0.0\n"),
        "version",
        'manifest.version must be semver (e.g. "0.1.0" or "1.2.3-beta.1"). Got: "1.0.0\\n"',
    ),
    "9 name": (sdk014(name=""), "name", "manifest.name must be a non-empty string"),
    "10 name of 41 emoji": (
        sdk014(name="\U0001f600" * 41),
        "name",
        "manifest.name must be 80 characters or fewer (got 82)",
    ),
    "11 type": (
        sdk014(type="widget"),
        "type",
        'manifest.type must be "block" or "embed". Got: "widget"',
    ),
    "12 scopes empty": (sdk014(scopes=[]), "scopes", "manifest.scopes must be a non-empty array"),
    "13 PascalCase": (
        sdk014(scopes=["ModelsReadSelf"]),
        "scopes",
        'Block scope strings must use colon-separated lowercase format (e.g. "models:read:self"), '
        'not PascalCase (e.g. "ModelsReadSelf"). Got: "ModelsReadSelf"',
    ),
    "13 four segments": (
        sdk014(scopes=["apps:storage:shared:read"]),
        "scopes",
        "Block scope strings must match /^[a-z]+:[a-z]+:[a-z]+$/ (three colon-separated lowercase "
        'segments, e.g. "models:read:self"). Got: "apps:storage:shared:read"',
    ),
    "13 unknown": (
        sdk014(scopes=["models:read:self", "collections:read:self"]),
        "scopes",
        f'manifest.scopes contains an unknown block scope "collections:read:self". Must be one of: '
        f"{SCOPES_014}.",
    ),
    "13 not a string": (
        sdk014(scopes=[1]),
        "scopes",
        f"manifest.scopes contains an unknown block scope 1. Must be one of: {SCOPES_014}.",
    ),
    "14 targets empty": (
        sdk014(targets=[]),
        "targets",
        "manifest.targets must be a non-empty array",
    ),
    "15 target": (
        sdk014(targets=["model.sidebar_top"]),
        "targets[0]",
        "manifest.targets[0] must be an object",
    ),
    "16 slotId": (
        sdk014(targets=[{"priority": 1}]),
        "targets[0].slotId",
        "manifest.targets[0].slotId must be a non-empty string",
    ),
    "16 array target has no slotId": (
        sdk014(targets=[[]]),
        "targets[0].slotId",
        "manifest.targets[0].slotId must be a non-empty string",
    ),
    "17 priority boolean": (
        sdk014(targets=[{"slotId": "a", "priority": 1}, {"slotId": "b", "priority": True}]),
        "targets[1].priority",
        "manifest.targets[1].priority must be an integer",
    ),
    "17 priority fraction": (
        sdk014(targets=[{"slotId": "a", "priority": 1.5}]),
        "targets[0].priority",
        "manifest.targets[0].priority must be an integer",
    ),
    "18 contentRating": (
        sdk014(contentRating="R"),
        "contentRating",
        'manifest.contentRating must be one of g, pg, pg13, r, x. Got: "R"',
    ),
    "19 minApiVersion number (its own doc example)": (
        sdk014(minApiVersion=1),
        "minApiVersion",
        "manifest.minApiVersion must be a non-empty string",
    ),
    "20 iframe": (sdk014(iframe=5), "iframe", "manifest.iframe must be an object"),
    "21 src missing": (
        iframe(src=...),
        "iframe.src",
        "manifest.iframe.src must be a non-empty string",
    ),
    "22 src http": (iframe(src="http://example.com/"), "iframe.src", SRC + '"http://example.com/"'),
    "22 src localhost with a dot": (
        iframe(src="http://localhost./"),
        "iframe.src",
        SRC + '"http://localhost./"',
    ),
    "23 sandbox missing": (
        iframe(sandbox=...),
        "iframe.sandbox",
        "manifest.iframe.sandbox must be a string",
    ),
    "24 same-origin": (
        iframe(sandbox="allow-scripts allow-same-origin"),
        "iframe.sandbox",
        'manifest.iframe.sandbox must not contain "allow-same-origin". Combined with '
        '"allow-scripts" it defeats the sandbox entirely.',
    ),
    "24 navigation after FEFF split": (
        iframe(sandbox="allow-scripts\ufeffallow-top-navigation-by-user-activation"),
        "iframe.sandbox",
        'manifest.iframe.sandbox must not contain "allow-top-navigation-by-user-activation". '
        + NAV,
    ),
    "24 order: same-origin first": (
        iframe(sandbox="allow-top-navigation allow-same-origin"),
        "iframe.sandbox",
        'manifest.iframe.sandbox must not contain "allow-same-origin". Combined with '
        '"allow-scripts" it defeats the sandbox entirely.',
    ),
    "25 minHeight zero": (
        iframe(minHeight=0),
        "iframe.minHeight",
        "manifest.iframe.minHeight must be a positive integer",
    ),
    "25 minHeight fraction": (
        iframe(minHeight=200.5),
        "iframe.minHeight",
        "manifest.iframe.minHeight must be a positive integer",
    ),
    "26 maxHeight": (
        iframe(maxHeight=-1),
        "iframe.maxHeight",
        "manifest.iframe.maxHeight must be a positive integer, null, or omitted",
    ),
    "27 resizable": (
        iframe(resizable=...),
        "iframe.resizable",
        "manifest.iframe.resizable must be a boolean",
    ),
    "28 assets null": (sdk014(assets=None), "assets", "manifest.assets must be an array"),
    "29 asset": (sdk014(assets=[None]), "assets[0]", "manifest.assets[0] must be an object"),
    "30 asset url": (
        sdk014(assets=[{"url": ""}]),
        "assets[0].url",
        "manifest.assets[0].url must be a non-empty string",
    ),
    "31 integrity missing": (
        sdk014(assets=[{"url": "https://x.com/a.js"}]),
        "assets[0].integrity",
        "manifest.assets[0].integrity must be a SubresourceIntegrity hash "
        "(sha256/384/512-<base64>). "
        "Got: undefined",
    ),
    "31 integrity with newline": (
        sdk014(assets=[{"url": "a.js", "integrity": "sha256-abc=\n"}]),
        "assets[0].integrity",
        "manifest.assets[0].integrity must be a SubresourceIntegrity hash "
        "(sha256/384/512-<base64>). "
        'Got: "sha256-abc=\\n"',
    ),
    "32 settings array": (
        sdk014(settings=[]),
        "settings",
        "manifest.settings must be an object (record keyed by snake_case field name)",
    ),
    "33 settings count": (
        sdk014(settings={f"k{i}": GOOD_SETTING for i in range(33)}),
        "settings",
        "manifest.settings has 33 entries (max 32)",
    ),
    "34 key (integer-like keys come first)": (
        sdk014(settings={"Bad": GOOD_SETTING, "7": GOOD_SETTING}),
        "settings.7",
        "manifest.settings.7: key must match /^[a-z][a-z0-9_]{0,40}$/ (snake_case, must start "
        "with a "
        "letter)",
    ),
    "35 entry": (settings("text"), "settings.style", "manifest.settings.style must be an object"),
    "36 scope": (
        settings({**GOOD_SETTING, "scope": "everyone"}),
        "settings.style.scope",
        'manifest.settings.style.scope must be one of publisher, viewer. Got: "everyone"',
    ),
    "37 type missing": (
        settings({k: v for k, v in GOOD_SETTING.items() if k != "type"}),
        "settings.style.type",
        "manifest.settings.style.type must be one of number, string, boolean. Got: undefined",
    ),
    "38 label": (
        settings({**GOOD_SETTING, "label": ""}),
        "settings.style.label",
        "manifest.settings.style.label must be a non-empty string",
    ),
    "39 description": (
        settings({**GOOD_SETTING, "description": None}),
        "settings.style.description",
        "manifest.settings.style.description must be a non-empty string",
    ),
}


@pytest.mark.parametrize(("case", "field", "message"), CHECKS.values(), ids=CHECKS.keys())
def test_sdk_0_14_check(case: object, field: str | None, message: str) -> None:
    assert verdict(case) == (field, message)


@pytest.mark.parametrize(
    "src",
    [
        "HTTPS://EXAMPLE.COM/",
        "https:example.com",
        " https://example.com/ ",
        "http://LOCALHOST:3000/",
        "http://127.1/",
        "http://0x7f.0.0.1/",
        "http://2130706433/",
        "http://127.0.0.1./",
        "http://[0:0:0:0:0:0:0:1]/",
        "http://user:pw@localhost/",
        "http://app.localhost:5173/",
        "https://例え.jp/",
    ],
)
def test_sdk_0_14_accepts_src(src: str) -> None:
    case = iframe(src=src)
    assert strict(case) is case


def test_sdk_0_14_returns_the_same_object_with_unknown_keys() -> None:
    case = sdk014(renderMode="anything", category=5, assets=[], settings={"style": GOOD_SETTING})
    assert strict(case) is case


def both_ok(**changes: Any) -> dict[str, Any]:
    """A manifest both 0.14 and the platform accept, with top-level keys replaced."""
    base = sdk014(scopes=["models:read:self"], iframe={**SDK014_BASE["iframe"], "maxHeight": None})
    base.update(changes)
    return {key: value for key, value in base.items() if value is not ...}


def both_ok_iframe(**changes: Any) -> dict[str, Any]:
    """``both_ok`` with iframe keys replaced."""
    return both_ok(iframe={**both_ok()["iframe"], **changes})


DOC_EXAMPLE = sdk014(
    minApiVersion=1,
    iframe={"src": "https://my-block.civit.ai/", "minHeight": 200},
)

# Each row: a manifest, 0.14's verdict (its field, or None when it accepts) and the platform's
# (first problem's path, or None when it accepts). Every row is one documented difference.
DIFFERENCES: dict[str, tuple[dict[str, Any], str | None, str | None]] = {
    "0.14 requires $schema, appId, type, targets, minApiVersion, iframe.src": (
        manifest(),
        "$schema",
        None,
    ),
    "0.14's own documentation example": (DOC_EXAMPLE, "minApiVersion", "scopeJustifications"),
    "maxHeight optional in 0.14, required by the platform": (
        sdk014(scopes=["models:read:self"]),
        None,
        "iframe.maxHeight",
    ),
    "name over 80": (both_ok(name="N" * 81), "name", None),
    "type not block/embed": (both_ok(type="widget"), "type", None),
    "minApiVersion not a string": (both_ok(minApiVersion=1), "minApiVersion", None),
    "appId empty": (both_ok(appId=""), "appId", None),
    "removed scope known to 0.14": (both_ok(scopes=["media:read:owned"]), None, "scopes[0]"),
    "scope added after 0.14": (both_ok(scopes=["apps:storage:shared:read"]), "scopes", None),
    "empty scopes": (both_ok(scopes=[]), "scopes", None),
    "sensitive scope without justification": (
        both_ok(scopes=["ai:write:budgeted"]),
        None,
        "scopeJustifications",
    ),
    "no targets (page app)": (both_ok(targets=...), "targets", None),
    "app.page target": (
        both_ok(targets=[{"slotId": "app.page", "priority": 1}]),
        None,
        "targets[0].slotId",
    ),
    "target without priority": (
        both_ok(targets=[{"slotId": "model.sidebar_top"}]),
        "targets[0].priority",
        None,
    ),
    "minHeight below 40": (both_ok_iframe(minHeight=20), None, "iframe.minHeight"),
    "fractional minHeight": (both_ok_iframe(minHeight=100.5), "iframe.minHeight", None),
    "empty sandbox": (both_ok_iframe(sandbox=""), None, "iframe.sandbox"),
    "popups for a new app": (both_ok_iframe(sandbox="allow-popups"), None, "iframe.sandbox"),
    "inline render mode": (both_ok(renderMode="inline"), None, "renderMode"),
    "http iframe.src (the platform replaces it)": (
        both_ok_iframe(src="http://cdn.example.com/"),
        "iframe.src",
        None,
    ),
    "assets without SRI": (both_ok(assets=[{"url": "a.js"}]), "assets[0].integrity", None),
    "settings shape": (both_ok(settings={"Style": {}}), "settings.Style", None),
    "buildCommand outside the allowlist": (
        both_ok(buildCommand="make build"),
        None,
        "buildCommand",
    ),
    "category outside the enum": (both_ok(category="art"), None, "category"),
}


@pytest.mark.filterwarnings("ignore::civitai_app_sdk.blocks.PlatformOwnedFieldWarning")
@pytest.mark.parametrize(
    ("case", "sdk_field", "platform_field"), DIFFERENCES.values(), ids=DIFFERENCES.keys()
)
def test_documented_difference(
    case: dict[str, Any], sdk_field: str | None, platform_field: str | None
) -> None:
    assert sdk_field != platform_field
    if sdk_field is None:
        assert strict(case) is case
    else:
        assert verdict(case)[0] == sdk_field
    if platform_field is None:
        define_block({"manifest": case})
    else:
        with pytest.raises(BlockManifestError) as caught:
            define_block({"manifest": case})
        assert caught.value.field == platform_field
