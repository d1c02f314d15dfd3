"""The platform's verdict, rule by rule: a table of accepted and refused manifests.

Each refused case lists *every* problem ``define_block`` reports (path, message), so a rule
that fires too often, too rarely, or with another text fails the test.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import pytest
from blocks_support import BASE, manifest, with_iframe

from civitai_app_sdk.blocks import (
    BlockManifest,
    BlockManifestError,
    BlockScope,
    PlatformOwnedFieldWarning,
    define_block,
    validate_manifest,
)
from civitai_app_sdk.errors import ConfigurationError

EMOJI = "\U0001f600"  # one code point, two UTF-16 units
SLOT = "model.sidebar_top"
ALL_SCOPES = [scope.value for scope in BlockScope]
SENSITIVE_TEXT = "Spends the viewer's Buzz on generations they start."


def justified(*scopes: str) -> dict[str, Any]:
    return manifest(scopes=list(scopes), scopeJustifications={s: SENSITIVE_TEXT for s in scopes})


def page(**fields: Any) -> dict[str, Any]:
    return manifest(page={"path": "/", "title": "Prompt Lab", **fields})


def setting(**fields: Any) -> dict[str, Any]:
    return manifest(settings={"style": {"scope": "viewer", "type": "string", **fields}})


VALID: dict[str, dict[str, Any]] = {
    "base": manifest(),
    "no scopes at all": manifest(scopes=[]),
    "blockId of 3": manifest(blockId="abc"),
    "blockId of 40": manifest(blockId="a" * 39 + "1"),
    "prerelease version": manifest(version="1.0.0-rc.1"),
    "leading zeros in version": manifest(version="01.02.03"),
    "long name (no cap)": manifest(name="N" * 500),
    "renderMode null means iframe": manifest(renderMode=None),
    "renderMode iframe": manifest(renderMode="iframe"),
    "category": manifest(category="analytics"),
    "tagline of 140 after JS trim": manifest(tagline="\ufeff " + "t" * 140 + "\u3000"),
    "tagline of 70 emoji (140 units)": manifest(tagline=EMOJI * 70),
    "sensitive scopes justified": justified("ai:write:budgeted", "buzz:read:self"),
    "every known scope": manifest(
        scopes=ALL_SCOPES,
        scopeJustifications={s: SENSITIVE_TEXT for s in ALL_SCOPES},
    ),
    "duplicate scopes": manifest(scopes=["models:read:self", "models:read:self"]),
    "justification of 500": manifest(
        scopes=["ai:write:budgeted"], scopeJustifications={"ai:write:budgeted": "j" * 500}
    ),
    "justification of 250 emoji": manifest(
        scopes=["ai:write:budgeted"], scopeJustifications={"ai:write:budgeted": EMOJI * 250}
    ),
    "heights at the bounds": with_iframe(minHeight=40, maxHeight=4000),
    "heights equal": with_iframe(minHeight=500, maxHeight=500),
    "fractional heights": with_iframe(minHeight=200.5, maxHeight=300.25),
    "NaN height passes the range test": with_iframe(minHeight=math.nan),
    "integral float height": with_iframe(minHeight=200.0),
    "sandbox forms only": with_iframe(sandbox="allow-forms"),
    "sandbox repeated token and JS whitespace": with_iframe(
        sandbox="allow-scripts\u00a0allow-scripts\tallow-forms"
    ),
    "iframe extra keys ignored": with_iframe(title="x"),
    "16 model targets": manifest(targets=[{"slotId": SLOT, "priority": 1}] * 16),
    "each model slot": manifest(
        targets=[
            {"slotId": "model.sidebar_top"},
            {"slotId": "model.below_images"},
            {"slotId": "model.actions_extra", "requiredContext": ["checkpoint"]},
        ]
    ),
    "slotId toString counts as known (platform quirk)": manifest(targets=[{"slotId": "toString"}]),
    "page minimal": page(),
    "page bounds": page(path="/" + "p" * 255, title="t" * 128, icon="i" * 128),
    "page title of 64 emoji": page(title=EMOJI * 64),
    "page budget 1": page(buzzBudgetPerGen=1),
    "page budget as integral float": page(buzzBudgetPerGen=50.0),
    "page budget as a huge integral float": page(buzzBudgetPerGen=1e300),
    "page extra keys ignored": page(subtitle="x"),
    "npm run build": manifest(buildCommand="npm run build", outputDir="dist"),
    "pnpm run with colon": manifest(buildCommand="pnpm run build:prod"),
    "yarn run": manifest(buildCommand="yarn run bundle"),
    "vite build": manifest(buildCommand="vite build"),
    "npx vite build without outputDir": manifest(buildCommand="npx vite build"),
    "outputDir nested": manifest(outputDir="build/client"),
    "outputDir with dots in names": manifest(outputDir="..dist/a..b"),
    "publicSettingsKeys at the caps": manifest(publicSettingsKeys=["k" * 64] * 32),
    "publicSettingsKeys of 32 emoji": manifest(publicSettingsKeys=[EMOJI * 32]),
    "assetBundleUrl on the app origin": manifest(
        assetBundleUrl="https://Prompt-Lab.civit.ai:443/bundle.js"
    ),
    "settings pattern bounded and linear": setting(pattern="^[a-z]+(-[a-z]+)*$", max_length=1000),
    "settings without pattern are not checked": manifest(settings={"x": 1, "y": [1]}),
    "fields the platform ignores": manifest(
        appId=None,
        type="widget",
        minApiVersion=1,
        assets=None,
        description=5,
        **{"$schema": "https://example.com/other.json"},
    ),
}


@pytest.mark.parametrize("case", VALID.values(), ids=VALID.keys())
def test_platform_accepts(case: dict[str, Any]) -> None:
    result = define_block({"manifest": case})
    assert isinstance(result, BlockManifest)
    assert validate_manifest(case, schema={}).problems == ()


@pytest.mark.parametrize("budget", [50.0, 2.0**64, 1e300])
def test_integral_float_budget_is_returned_as_the_int_it_equals(budget: float) -> None:
    # Past 2**64 pydantic refused the float as an int: a manifest the platform accepts
    # ended in a pydantic ValidationError instead of a BlockManifest.
    accepted = define_block({"manifest": page(buzzBudgetPerGen=budget)})
    assert accepted.page is not None
    assert accepted.page.buzz_budget_per_gen == int(budget)
    assert type(accepted.page.buzz_budget_per_gen) is int


def problems_of(case: object, **kwargs: Any) -> list[tuple[str, str]]:
    with pytest.raises(BlockManifestError) as caught:
        define_block({"manifest": case}, **kwargs)
    error = caught.value
    assert (error.field or "", error.message) == (error.problems[0].path, error.problems[0].message)
    return [(p.path, p.message) for p in error.problems]


NOT_OBJECT = [("", "block.manifest.json must contain a JSON object")]
BLOCK_ID = (
    '"{}" must be 3-40 chars, lowercase a-z/0-9/hyphens, start with a letter, end with a '
    "letter or digit"
)
RANGE = "must be a number in [40, 4000]"
MAX_RANGE = [("iframe.maxHeight", "iframe.maxHeight must be null or a number in [40, 4000]")]
INCOMPLETE_IFRAME = [
    ("iframe.minHeight", f"iframe.minHeight {RANGE}"),
    *MAX_RANGE,
    ("iframe.resizable", "iframe.resizable must be a boolean"),
    ("iframe.sandbox", "iframe.sandbox must be a non-empty string"),
]


def sensitive(*scopes: str) -> tuple[str, str]:
    return (
        "scopeJustifications",
        "sensitive scopes require a justification — add a non-empty scopeJustifications entry "
        f"for: {', '.join(scopes)}",
    )


def exceed(*scopes: str) -> tuple[str, str]:
    return ("scopes", f"requested scopes exceed OAuth client allowedScopes: {', '.join(scopes)}")


def shape(index: int, scope: str) -> tuple[str, str]:
    return (
        f"scopes[{index}]",
        f'scope "{scope}" must be lowercase colon-separated (e.g. models:read:self)',
    )


def unknown(index: int, scope: str) -> tuple[str, str]:
    return (f"scopes[{index}]", f'scope "{scope}" is not a known block scope')


def asset(reason: str) -> list[tuple[str, str]]:
    return [("assetBundleUrl", f"assetBundleUrl rejected: {reason}")]


TRAVERSAL = 'outputDir must not contain path traversal ("..") or absolute/Windows paths'
ALLOWLIST = (
    'buildCommand must match an allowed build invocation (e.g. "npm run build", '
    '"pnpm run <script>", "vite build", "npx vite build")'
)
REDOS = (
    "settings.style: pattern is vulnerable to ReDoS (catastrophic backtracking) — remove nested "
    'or overlapping unbounded quantifiers (e.g. "(a+)+") or simplify the expression'
)
ONE_BAD_KEY = [
    ("publicSettingsKeys[0]", "publicSettingsKeys entries must be non-empty strings ≤64 chars")
]

INVALID: dict[str, tuple[object, list[tuple[str, str]]]] = {
    # S1 / V0
    "array": ([BASE], NOT_OBJECT),
    "string": ("{}", NOT_OBJECT),
    "null": (None, NOT_OBJECT),
    # S2 / S3 (V1 is the same finding and is not repeated)
    "blockId missing": (manifest(blockId=...), [("blockId", "manifest.blockId must be a string")]),
    "blockId number": (manifest(blockId=7), [("blockId", "manifest.blockId must be a string")]),
    "blockId of 2": (
        manifest(blockId="ab"),
        [("blockId", "manifest.blockId " + BLOCK_ID.format("ab"))],
    ),
    "blockId of 41": (
        manifest(blockId="a" * 41),
        [("blockId", "manifest.blockId " + BLOCK_ID.format("a" * 41))],
    ),
    "blockId uppercase": (
        manifest(blockId="Abc"),
        [("blockId", "manifest.blockId " + BLOCK_ID.format("Abc"))],
    ),
    "blockId trailing hyphen": (
        manifest(blockId="abc-"),
        [("blockId", "manifest.blockId " + BLOCK_ID.format("abc-"))],
    ),
    "blockId trailing newline ($ trap)": (
        manifest(blockId="abc\n"),
        [("blockId", "manifest.blockId " + BLOCK_ID.format("abc\n"))],
    ),
    # S4
    "version missing": (
        manifest(version=...),
        [("version", 'manifest.version "" must be semver (e.g. 0.1.0)')],
    ),
    "version two parts": (
        manifest(version="1.0"),
        [("version", 'manifest.version "1.0" must be semver (e.g. 0.1.0)')],
    ),
    "version number": (
        manifest(version=1),
        [("version", 'manifest.version "1" must be semver (e.g. 0.1.0)')],
    ),
    "version build metadata": (
        manifest(version="1.0.0+build.5"),
        [("version", 'manifest.version "1.0.0+build.5" must be semver (e.g. 0.1.0)')],
    ),
    "version Arabic digits (\\d trap)": (
        manifest(version="١.٠.٠"),
        [("version", 'manifest.version "١.٠.٠" must be semver (e.g. 0.1.0)')],
    ),
    "version trailing newline": (
        manifest(version="1.0.0\n"),
        [("version", 'manifest.version "1.0.0\n" must be semver (e.g. 0.1.0)')],
    ),
    # S5
    "name empty": (manifest(name=""), [("name", "manifest.name must be a non-empty string")]),
    "name not a string": (
        manifest(name=["x"]),
        [("name", "manifest.name must be a non-empty string")],
    ),
    # S6
    "sensitive scope without justification": (
        manifest(scopes=["ai:write:budgeted", "social:tip:self", "ai:write:budgeted"]),
        [sensitive("ai:write:budgeted", "social:tip:self")],
    ),
    "blank justification (JS whitespace)": (
        manifest(
            scopes=["collections:read:private"],
            scopeJustifications={"collections:read:private": "\ufeff\u3000 "},
        ),
        [sensitive("collections:read:private")],
    ),
    "justification not a string": (
        manifest(scopes=["buzz:read:self"], scopeJustifications={"buzz:read:self": 1}),
        [
            sensitive("buzz:read:self"),
            (
                "scopeJustifications.buzz:read:self",
                'scopeJustifications["buzz:read:self"] must be a non-empty string',
            ),
        ],
    ),
    "justifications in an array and a sensitive scope": (
        manifest(scopes=["social:tip:self"], scopeJustifications=[{"social:tip:self": "tips"}]),
        [
            sensitive("social:tip:self"),
            (
                "scopeJustifications",
                "scopeJustifications must be an object mapping scope-id to a justification string",
            ),
        ],
    ),
    # V4, V5, V7
    "contentRating upper case": (
        manifest(contentRating="PG"),
        [("contentRating", "contentRating must be one of g, pg, pg13, r, x")],
    ),
    "contentRating missing": (
        manifest(contentRating=...),
        [("contentRating", "contentRating must be one of g, pg, pg13, r, x")],
    ),
    "renderMode unknown": (
        manifest(renderMode="page"),
        [("renderMode", "renderMode must be one of iframe, inline, hybrid")],
    ),
    "inline for a new app": (
        manifest(renderMode="inline"),
        [("renderMode", "INLINE_REQUIRES_VERIFIED_TIER")],
    ),
    "hybrid for a new app": (
        manifest(renderMode="hybrid"),
        [("renderMode", "INLINE_REQUIRES_VERIFIED_TIER")],
    ),
    # V8, V9
    "category null": (
        manifest(category=None),
        [
            (
                "category",
                "category must be one of generation, games, utility, discovery, moderation, "
                "analytics, other",
            )
        ],
    ),
    "tagline not a string": (manifest(tagline=5), [("tagline", "tagline must be a string")]),
    "tagline blank": (
        manifest(tagline="\ufeff"),
        [("tagline", "tagline must not be blank (omit it instead)")],
    ),
    "tagline of 141": (manifest(tagline="t" * 141), [("tagline", "tagline must be ≤140 chars")]),
    "tagline of 71 emoji (142 units)": (
        manifest(tagline=EMOJI * 71),
        [("tagline", "tagline must be ≤140 chars")],
    ),
    # V10-V12
    "scopes not an array": (
        manifest(scopes="models:read:self"),
        [("scopes", "scopes must be an array of strings")],
    ),
    "scopes missing": (manifest(scopes=...), [("scopes", "scopes must be an array of strings")]),
    "scope not a string": (
        manifest(scopes=[True]),
        [("scopes[0]", "scopes entries must be strings")],
    ),
    "PascalCase scope": (
        manifest(scopes=["ModelsRead"]),
        [shape(0, "ModelsRead"), exceed("ModelsRead")],
    ),
    "five segments": (manifest(scopes=["a:b:c:d:e"]), [shape(0, "a:b:c:d:e"), exceed("a:b:c:d:e")]),
    "scope with trailing newline": (
        manifest(scopes=["models:read:self\n"]),
        [shape(0, "models:read:self\n"), exceed("models:read:self\n")],
    ),
    "well-formed unknown scope": (
        manifest(scopes=["models:read:self", "models:read:all"]),
        [unknown(1, "models:read:all"), exceed("models:read:all")],
    ),
    "scope removed on 2026-07-17": (
        manifest(scopes=["media:read:owned"]),
        [unknown(0, "media:read:owned"), exceed("media:read:owned")],
    ),
    # V13
    "justifications not an object": (
        manifest(scopeJustifications=["x"]),
        [
            (
                "scopeJustifications",
                "scopeJustifications must be an object mapping scope-id to a justification string",
            )
        ],
    ),
    "justification for an undeclared scope": (
        manifest(scopeJustifications={"user:read:self": "why"}),
        [
            (
                "scopeJustifications.user:read:self",
                'scopeJustifications references scope "user:read:self" which is not in the '
                "manifest's scopes",
            )
        ],
    ),
    "empty justification for a plain scope": (
        manifest(scopeJustifications={"models:read:self": ""}),
        [
            (
                "scopeJustifications.models:read:self",
                'scopeJustifications["models:read:self"] must be a non-empty string',
            )
        ],
    ),
    "justification of 251 emoji (502 units)": (
        manifest(scopes=["user:read:self"], scopeJustifications={"user:read:self": EMOJI * 251}),
        [
            (
                "scopeJustifications.user:read:self",
                'scopeJustifications["user:read:self"] must be ≤500 chars',
            )
        ],
    ),
    # V15
    "assetBundleUrl not a string": (
        manifest(assetBundleUrl=5),
        [("assetBundleUrl", "assetBundleUrl must be a string")],
    ),
    "assetBundleUrl http": (
        manifest(assetBundleUrl="http://prompt-lab.civit.ai/b.js"),
        asset("must be https"),
    ),
    "assetBundleUrl malformed": (manifest(assetBundleUrl="bundle.js"), asset("malformed URL")),
    "assetBundleUrl private": (
        manifest(assetBundleUrl="https://10.1.2.3/b.js"),
        asset("private/internal hostname"),
    ),
    "assetBundleUrl hex loopback": (
        manifest(assetBundleUrl="https://0x7f000001/"),
        asset("private/internal hostname"),
    ),
    "assetBundleUrl literal IPv4": (
        manifest(assetBundleUrl="https://8.8.8.8/b.js"),
        asset("literal IPv4 addresses are not permitted"),
    ),
    "assetBundleUrl undotted": (
        manifest(assetBundleUrl="https://cdn/b.js"),
        asset("hostname must be a public dotted name"),
    ),
    "assetBundleUrl mapped IPv6": (
        manifest(assetBundleUrl="https://[::ffff:127.0.0.1]/"),
        asset("IPv4-mapped IPv6 not permitted"),
    ),
    "assetBundleUrl .local": (
        manifest(assetBundleUrl="https://nas.local/b.js"),
        asset("private/internal hostname"),
    ),
    "assetBundleUrl on another origin": (
        manifest(assetBundleUrl="https://cdn.example.com/b.js"),
        asset("origin https://cdn.example.com not in OauthClient.allowedOrigins"),
    ),
    "assetBundleUrl on another port": (
        manifest(assetBundleUrl="https://prompt-lab.civit.ai:8443/b.js"),
        asset("origin https://prompt-lab.civit.ai:8443 not in OauthClient.allowedOrigins"),
    ),
    # V16
    "publicSettingsKeys not an array": (
        manifest(publicSettingsKeys="a"),
        [("publicSettingsKeys", "publicSettingsKeys must be an array of strings")],
    ),
    "publicSettingsKeys 33": (
        manifest(publicSettingsKeys=["k"] * 33),
        [("publicSettingsKeys", "publicSettingsKeys must contain at most 32 entries")],
    ),
    "publicSettingsKeys empty key": (
        manifest(publicSettingsKeys=["", "also-bad" * 20]),
        ONE_BAD_KEY,
    ),
    "publicSettingsKeys 65": (manifest(publicSettingsKeys=["k" * 65]), ONE_BAD_KEY),
    "publicSettingsKeys 33 emoji (66 units)": (
        manifest(publicSettingsKeys=[EMOJI * 33]),
        ONE_BAD_KEY,
    ),
    # V18 (the stamp turns a missing iframe into {src}, so its four fields are reported)
    "iframe missing": (manifest(iframe=...), INCOMPLETE_IFRAME),
    "iframe not an object": (manifest(iframe="yes"), INCOMPLETE_IFRAME),
    "minHeight 39": (
        with_iframe(minHeight=39),
        [("iframe.minHeight", f"iframe.minHeight {RANGE}")],
    ),
    "minHeight 4001": (
        with_iframe(minHeight=4001),
        [("iframe.minHeight", f"iframe.minHeight {RANGE}")],
    ),
    "minHeight boolean": (
        with_iframe(minHeight=True),
        [("iframe.minHeight", f"iframe.minHeight {RANGE}")],
    ),
    "minHeight string": (
        with_iframe(minHeight="200"),
        [("iframe.minHeight", f"iframe.minHeight {RANGE}")],
    ),
    "maxHeight absent": (with_iframe(maxHeight=...), MAX_RANGE),
    "maxHeight 4001": (with_iframe(maxHeight=4001), MAX_RANGE),
    "maxHeight below minHeight": (
        with_iframe(minHeight=300, maxHeight=299),
        [("iframe.maxHeight", "iframe.maxHeight must be ≥ iframe.minHeight")],
    ),
    "resizable as 1": (
        with_iframe(resizable=1),
        [("iframe.resizable", "iframe.resizable must be a boolean")],
    ),
    "sandbox empty": (
        with_iframe(sandbox=""),
        [("iframe.sandbox", "iframe.sandbox must be a non-empty string")],
    ),
    "sandbox whitespace only": (
        with_iframe(sandbox=" \ufeff\t"),
        [("iframe.sandbox", "iframe.sandbox must contain at least one token")],
    ),
    "sandbox popups for a new app": (
        with_iframe(sandbox="allow-scripts allow-popups allow-popups"),
        [
            (
                "iframe.sandbox",
                'sandbox token "allow-popups" is not allowed for trustTier=unverified',
            )
        ],
    ),
    "sandbox same-origin with scripts": (
        with_iframe(sandbox="allow-same-origin allow-scripts"),
        [
            (
                "iframe.sandbox",
                'sandbox token "allow-same-origin" is not allowed for trustTier=unverified',
            ),
            (
                "iframe.sandbox",
                "sandbox MUST NOT combine allow-same-origin with allow-scripts outside internal "
                "trust tier",
            ),
        ],
    ),
    "sandbox U+001C is not whitespace in JS": (
        with_iframe(sandbox="allow-scripts\u001callow-forms"),
        [
            (
                "iframe.sandbox",
                'sandbox token "allow-scripts\u001callow-forms" is not allowed for '
                "trustTier=unverified",
            )
        ],
    ),
    # V19
    "targets not an array": (
        manifest(targets={"slotId": SLOT}),
        [("targets", "targets must be an array")],
    ),
    "17 targets": (
        manifest(targets=[{"slotId": SLOT}] * 17),
        [("targets", "targets must contain at most 16 entries")],
    ),
    "target not an object": (
        manifest(targets=[SLOT]),
        [("targets[0]", "each target must be an object")],
    ),
    "target is an array": (
        manifest(targets=[[SLOT]]),
        [("targets[0].slotId", "each target must carry a non-empty slotId string")],
    ),
    "target without slotId": (
        manifest(targets=[{"slotId": SLOT}, {"priority": 1}]),
        [("targets[1].slotId", "each target must carry a non-empty slotId string")],
    ),
    "unknown slot": (
        manifest(targets=[{"slotId": "model.header"}]),
        [("targets[0].slotId", 'target slotId "model.header" is not a known slot')],
    ),
    "page slot in targets": (
        manifest(targets=[{"slotId": "app.page", "priority": 100}]),
        [
            (
                "targets[0].slotId",
                'target slotId "app.page" is the page slot — declare a full page via the "page" '
                "field, not targets",
            )
        ],
    ),
    # V20
    "page null": (manifest(page=None), [("page", "page must be an object")]),
    "page array": (manifest(page=[]), [("page", "page must be an object")]),
    "page path missing": (
        manifest(page={"title": "t"}),
        [("page.path", "page.path must be a non-empty string")],
    ),
    "page path relative": (page(path="run"), [("page.path", 'page.path must start with "/"')]),
    "page path of 257": (
        page(path="/" + "p" * 256),
        [("page.path", "page.path must be ≤256 chars")],
    ),
    "page title empty": (page(title=""), [("page.title", "page.title must be a non-empty string")]),
    "page title of 65 emoji": (
        page(title=EMOJI * 65),
        [("page.title", "page.title must be ≤128 chars")],
    ),
    "page icon null": (page(icon=None), [("page.icon", "page.icon must be a string ≤128 chars")]),
    "page icon of 129": (
        page(icon="i" * 129),
        [("page.icon", "page.icon must be a string ≤128 chars")],
    ),
    **{
        f"page budget {value!r}": (
            page(buzzBudgetPerGen=value),
            [("page.buzzBudgetPerGen", "page.buzzBudgetPerGen must be a positive integer")],
        )
        for value in (0, -5, 1.5, True, "10", math.inf)
    },
    # V21
    "buildCommand not a string": (
        manifest(buildCommand=["npm"]),
        [("buildCommand", "buildCommand must be a string")],
    ),
    "buildCommand empty": (
        manifest(buildCommand=""),
        [("buildCommand", "buildCommand must be a non-empty string")],
    ),
    "buildCommand of 129": (
        manifest(buildCommand="npm run " + "b" * 121),
        [("buildCommand", "buildCommand must be ≤128 chars")],
    ),
    "buildCommand chained": (
        manifest(buildCommand="npm run build && rm -rf /"),
        [("buildCommand", "buildCommand must not contain shell metacharacters")],
    ),
    "buildCommand trailing newline": (
        manifest(buildCommand="vite build\n"),
        [("buildCommand", "buildCommand must not contain shell metacharacters")],
    ),
    "buildCommand with flags": (
        manifest(buildCommand="npm run build --prod"),
        [("buildCommand", ALLOWLIST)],
    ),
    "buildCommand other tool": (manifest(buildCommand="make"), [("buildCommand", ALLOWLIST)]),
    # V22
    "outputDir not a string": (
        manifest(outputDir=1),
        [("outputDir", "outputDir must be a string")],
    ),
    "outputDir empty": (
        manifest(outputDir=""),
        [("outputDir", "outputDir must be a non-empty string")],
    ),
    "outputDir of 257": (
        manifest(outputDir="d" * 257),
        [("outputDir", "outputDir must be ≤256 chars")],
    ),
    "outputDir absolute": (
        manifest(outputDir="/dist"),
        [("outputDir", 'outputDir must be a relative path (no leading "/")')],
    ),
    **{
        f"outputDir {value!r}": (manifest(outputDir=value), [("outputDir", TRAVERSAL)])
        for value in ("..", "../dist", "a/../b", "dist/..", "C:dist", "dist\\web", "a\0b")
    },
    # V23
    "pattern without max_length": (
        setting(pattern="^[a-z]+$"),
        [
            (
                "settings.style.max_length",
                'settings.style: a field declaring "pattern" must also declare "max_length" '
                "(<= 1000)",
            )
        ],
    ),
    "pattern with max_length 1001": (
        setting(pattern="^[a-z]+$", max_length=1001),
        [
            (
                "settings.style.max_length",
                "settings.style: max_length must be <= 1000 when a pattern is declared",
            )
        ],
    ),
    "pattern that does not compile": (
        setting(pattern="([a-z]", max_length=10),
        [("settings.style.pattern", "settings.style: pattern is not a valid RegExp source")],
    ),
    "pattern prone to ReDoS": (
        setting(pattern="^(\\w+\\s?)+$", max_length=10),
        [("settings.style.pattern", REDOS)],
    ),
}


@pytest.mark.parametrize(("case", "expected"), INVALID.values(), ids=INVALID.keys())
def test_platform_refuses(case: object, expected: list[tuple[str, str]]) -> None:
    assert problems_of(case) == expected
    if isinstance(case, dict):
        result = validate_manifest(case, schema={})
        assert not result.valid
        assert [(p.path, p.message) for p in result.problems] == expected


def test_submit_gate_comes_before_the_validator() -> None:
    case = manifest(blockId="Bad", scopes=["buzz:read:self", "nope:nope"], minHeight=1)
    stages = [p.stage for p in validate_manifest(case, schema={}).problems]
    assert stages == ["submit", "submit", "approve", "approve"]


def test_missing_config_or_manifest_key_is_a_manifest_error() -> None:
    for config in (None, {}, {"manifest": None}, [BASE], "x"):
        assert problems_of_config(config) == NOT_OBJECT


def problems_of_config(config: object) -> list[tuple[str, str]]:
    with pytest.raises(BlockManifestError) as caught:
        define_block(config)
    return [(p.path, p.message) for p in caught.value.problems]


class TestTiers:
    """The tier is the platform's to assign; a new app is unverified."""

    def test_verified_app_may_render_inline_and_use_popups(self) -> None:
        case = manifest(
            renderMode="inline", iframe={**BASE["iframe"], "sandbox": "allow-popups allow-modals"}
        )
        problems_of(case)
        accepted = define_block({"manifest": case}, trust_tier="verified")
        assert (accepted.render_mode, accepted.trust_tier) == ("inline", "verified")

    def test_verified_app_still_may_not_use_same_origin(self) -> None:
        case = with_iframe(sandbox="allow-same-origin")
        expected = [
            (
                "iframe.sandbox",
                'sandbox token "allow-same-origin" is not allowed for trustTier=verified',
            )
        ]
        assert problems_of(case, trust_tier="verified") == expected

    def test_internal_app_may_combine_same_origin_and_scripts(self) -> None:
        case = with_iframe(sandbox="allow-same-origin allow-scripts allow-downloads")
        assert define_block({"manifest": case}, trust_tier="internal").trust_tier == "internal"

    def test_unknown_tier_argument_is_a_value_error(self) -> None:
        with pytest.raises(ValueError, match="trust_tier must be one of"):
            define_block({"manifest": BASE}, trust_tier="gold")  # type: ignore[call-overload]

    def test_unknown_tier_argument_is_a_configuration_error(self) -> None:
        # A setup mistake the SDK refuses on purpose: a CivitaiError, not a bare ValueError.
        with pytest.raises(ConfigurationError, match="trust_tier must be one of"):
            validate_manifest(BASE, trust_tier="gold")  # type: ignore[arg-type]


class TestPlatformOwnedFields:
    """``iframe.src`` and ``trustTier`` are overwritten by the platform: warn, never refuse."""

    def test_author_src_is_replaced_and_warned_about(self) -> None:
        case = with_iframe(src="http://localhost:5173/")
        with pytest.warns(PlatformOwnedFieldWarning, match=r"iframe\.src is platform-owned"):
            accepted = define_block({"manifest": case})
        assert accepted.iframe.src == "https://prompt-lab.civit.ai/"
        assert [w.path for w in validate_manifest(case, schema={}).warnings] == ["iframe.src"]

    def test_author_tier_is_ignored_and_warned_about(self) -> None:
        case = manifest(trustTier="internal", iframe={**BASE["iframe"], "sandbox": "allow-popups"})
        result = validate_manifest(case, schema={})
        assert [w.path for w in result.warnings] == ["trustTier"]
        # Judged as the unverified app it will be, whatever it claims.
        assert problems_of(case) == [
            (
                "iframe.sandbox",
                'sandbox token "allow-popups" is not allowed for trustTier=unverified',
            )
        ]
        case["iframe"]["sandbox"] = "allow-scripts"
        with pytest.warns(PlatformOwnedFieldWarning, match="trustTier is platform-owned"):
            assert define_block({"manifest": case}).trust_tier == "unverified"

    def test_no_warning_without_platform_owned_fields(self) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            define_block({"manifest": BASE})


class TestDefaults:
    """The returned manifest carries what the platform fills in, and keeps the rest."""

    def test_defaults(self) -> None:
        accepted = define_block({"manifest": manifest(renderMode=None)})
        assert accepted.render_mode == "iframe"
        assert accepted.trust_tier == "unverified"
        assert accepted.iframe.src == "https://prompt-lab.civit.ai/"
        assert (accepted.targets, accepted.scope_justifications, accepted.public_settings_keys) == (
            [],
            {},
            [],
        )
        assert accepted.page is None
        assert accepted.output_dir is None

    def test_typed_values_and_round_trip(self) -> None:
        case = page(buzzBudgetPerGen=25.0)
        case.update(type="block", minApiVersion="1.0", targets=[{"slotId": SLOT, "priority": 3}])
        accepted = define_block({"manifest": case})
        assert accepted.scopes == [BlockScope.MODELS_READ_SELF, BlockScope.APPS_STORAGE_READ]
        assert accepted.page is not None
        assert accepted.page.buzz_budget_per_gen == 25
        dumped = accepted.model_dump(by_alias=True, exclude_none=True, mode="json")
        assert dumped["minApiVersion"] == "1.0"
        assert dumped["type"] == "block"
        assert dumped["targets"] == [{"slotId": SLOT, "priority": 3}]
        assert dumped["iframe"]["src"] == "https://prompt-lab.civit.ai/"

    def test_input_is_not_modified(self) -> None:
        case = manifest()
        define_block({"manifest": case})
        assert case == BASE


def test_passing_the_manifest_itself_says_so() -> None:
    # It used to answer "block.manifest.json must contain a JSON object" about a manifest
    # that is one; strict 0.14 mode keeps 0.14's text.
    with pytest.raises(BlockManifestError) as caught:
        define_block(BASE)
    assert caught.value.field is None
    assert caught.value.message.startswith('define_block takes {"manifest": <the manifest>}')
    with pytest.raises(BlockManifestError, match="manifest must be an object"):
        define_block(BASE, strict_sdk_0_14=True)
    assert define_block({"manifest": BASE}).block_id == BASE["blockId"]
