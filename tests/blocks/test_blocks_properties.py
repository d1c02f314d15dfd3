"""Property tests: on any JSON input, ``define_block`` either returns a manifest or raises
``BlockManifestError`` — never anything else — and agrees with ``validate_manifest``."""

from __future__ import annotations

import contextlib
import copy
from typing import Any

import pytest
from blocks_support import BASE, SDK014_BASE, schema_path
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from civitai_app_sdk.blocks import (
    BlockManifest,
    BlockManifestError,
    define_block,
    validate_manifest,
)
from civitai_app_sdk.blocks.schema import load_schema
from civitai_app_sdk.blocks.validate import platform_problems

PINNED = load_schema(schema_path())

KEYS = [
    *BASE,
    *SDK014_BASE,
    "scopeJustifications",
    "renderMode",
    "trustTier",
    "category",
    "tagline",
    "page",
    "targets",
    "buildCommand",
    "outputDir",
    "publicSettingsKeys",
    "assetBundleUrl",
    "settings",
    "assets",
    "src",
    "minHeight",
    "maxHeight",
    "resizable",
    "sandbox",
    "slotId",
    "path",
    "title",
    "pattern",
    "max_length",
]
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(
        [
            "",
            " ",
            "\ufeff",
            "model.sidebar_top",
            "app.page",
            "toString",
            "ai:write:budgeted",
            "allow-scripts allow-same-origin",
            "https://prompt-lab.civit.ai/x.js",
            "http://[::1]/",
            "(a+)+",
            "npm run build",
            "../x",
            "1.0.0",
        ]
    ),
)
JSON = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.one_of(st.sampled_from(KEYS), st.text(max_size=6)), children, max_size=6
        ),
    ),
    max_leaves=25,
)


pytestmark = pytest.mark.filterwarnings("ignore::civitai_app_sdk.blocks.PlatformOwnedFieldWarning")


def outcome(config: object, **kwargs: Any) -> BlockManifest | BlockManifestError:
    """The manifest, or the error (which always carries its problems)."""
    error: BlockManifestError
    try:
        return define_block(config, **kwargs)
    except BlockManifestError as caught:
        error = caught
    assert error.problems
    return error


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(JSON)
def test_arbitrary_json_raises_only_manifest_errors(data: object) -> None:
    outcome({"manifest": data})
    outcome(data)
    with contextlib.suppress(BlockManifestError):
        define_block({"manifest": data}, strict_sdk_0_14=True)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(st.sampled_from(KEYS), JSON, max_size=5),
    st.dictionaries(st.sampled_from(KEYS), JSON, max_size=3),
    st.sampled_from(["unverified", "verified", "internal"]),
)
def test_mutated_manifests_agree_with_validate_manifest(
    top: dict[str, Any], iframe: dict[str, Any], tier: Any
) -> None:
    """Near-valid manifests reach the typed model; the two entry points never disagree."""
    case = copy.deepcopy(BASE)
    case.update(top)
    if isinstance(case.get("iframe"), dict):
        case["iframe"].update(iframe)
    result = validate_manifest(case, schema={}, trust_tier=tier)
    got = outcome({"manifest": case}, trust_tier=tier)
    if isinstance(got, BlockManifestError):
        assert not result.valid
        assert got.problems == result.problems
    else:
        assert result.valid
        assert got.block_id == case["blockId"]
        assert got.iframe.src == f"https://{case['blockId']}.civit.ai/"


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(JSON)
def test_validate_manifest_with_the_schema_never_raises(data: object) -> None:
    result = validate_manifest(data, schema=PINNED)
    assert result.schema_checked
    # Schema findings are advisory: the verdict and its problems are the platform's alone.
    assert result.problems == tuple(platform_problems(data))
    assert result.valid == (not result.problems)
    refused = {problem.path for problem in result.problems}
    assert not refused & {finding.path for finding in result.schema_findings}


@settings(max_examples=200)
@given(st.dictionaries(st.sampled_from(KEYS), JSON, max_size=4))
def test_strict_mode_returns_its_input(changes: dict[str, Any]) -> None:
    case = {**copy.deepcopy(SDK014_BASE), **changes}
    got = outcome({"manifest": case}, strict_sdk_0_14=True)
    if isinstance(got, BlockManifestError):
        assert len(got.problems) == 1
    else:
        assert got is case
