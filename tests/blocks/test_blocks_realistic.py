"""Manifests written the way app authors write them, judged by the platform and by 0.14."""

from __future__ import annotations

import json
from typing import Any

import pytest

from civitai_app_sdk.blocks import BlockManifestError, define_block, validate_manifest

# A page app as the CLI's page-vite template produces it, after the 2026-07-29 rule.
PAGE_APP = json.loads(
    """
{
  "$schema": "https://civitai.com/schemas/app-block/v1.json",
  "blockId": "lora-mixer",
  "version": "0.3.2",
  "name": "LoRA Mixer",
  "tagline": "Blend up to four LoRAs and compare the results side by side.",
  "description": "Pick LoRAs, set weights, generate a grid.\\n\\nEach cell spends Buzz.",
  "type": "block",
  "category": "generation",
  "repository": "https://github.com/example/lora-mixer",
  "scopes": ["ai:write:budgeted", "apps:storage:read", "apps:storage:write"],
  "scopeJustifications": {
    "ai:write:budgeted": "Each grid cell is one generation billed to the viewer's Buzz.",
    "apps:storage:read": "Loads the viewer's saved mixes."
  },
  "page": {"path": "/", "title": "LoRA Mixer", "icon": "adjustments", "buzzBudgetPerGen": 40},
  "iframe": {"minHeight": 640, "maxHeight": 4000, "resizable": true,
             "sandbox": "allow-scripts allow-forms"},
  "contentRating": "pg13",
  "minApiVersion": "1.0",
  "buildCommand": "npm run build",
  "outputDir": "dist"
}
"""
)

# A model-page widget written for 0.14's defineBlock (appId, src, priority, minApiVersion...).
SIDEBAR_014 = json.loads(
    """
{
  "$schema": "https://civitai.com/schemas/app-block/v1.json",
  "appId": "trigger-words",
  "blockId": "trigger-words",
  "version": "1.0.0",
  "name": "Trigger Words",
  "type": "block",
  "targets": [{"slotId": "model.sidebar_top", "priority": 100}],
  "scopes": ["models:read:self"],
  "iframe": {"src": "http://localhost:5173/", "minHeight": 120, "resizable": true,
             "sandbox": "allow-scripts"},
  "contentRating": "g",
  "minApiVersion": "1.0"
}
"""
)

# Written before the justification rule, with a removed scope and an app.page target added
# "to be safe" before calling defineBlock.
LEGACY = json.loads(
    """
{
  "$schema": "https://civitai.com/schemas/app-block/v1.json",
  "appId": "buzz-tracker",
  "blockId": "buzz-tracker",
  "version": "0.9.0",
  "name": "Buzz Tracker",
  "type": "block",
  "targets": [{"slotId": "app.page", "priority": 100}],
  "scopes": ["buzz:read:self", "block:settings:read"],
  "iframe": {"src": "https://buzz-tracker.civit.ai/", "minHeight": 300, "maxHeight": null,
             "resizable": false, "sandbox": "allow-scripts allow-popups"},
  "contentRating": "g",
  "minApiVersion": "1.0"
}
"""
)


def test_page_app_is_accepted_by_the_platform() -> None:
    accepted = define_block({"manifest": PAGE_APP})
    assert accepted.iframe.src == "https://lora-mixer.civit.ai/"
    assert accepted.page is not None
    assert accepted.page.buzz_budget_per_gen == 40
    assert accepted.model_extra is not None
    assert accepted.model_extra["repository"].endswith("lora-mixer")


def test_page_app_is_refused_by_0_14() -> None:
    """No appId, no targets, a scope and a field 0.14 does not know: 0.14 refuses it."""
    with pytest.raises(BlockManifestError) as caught:
        define_block({"manifest": PAGE_APP}, strict_sdk_0_14=True)
    assert caught.value.field == "appId"


def test_page_app_before_the_justification_rule() -> None:
    earlier = {k: v for k, v in PAGE_APP.items() if k != "scopeJustifications"}
    with pytest.raises(BlockManifestError) as caught:
        define_block({"manifest": earlier})
    assert caught.value.field == "scopeJustifications"
    assert caught.value.message.endswith("entry for: ai:write:budgeted")


def test_0_14_widget_is_accepted_by_0_14_only() -> None:
    assert define_block({"manifest": SIDEBAR_014}, strict_sdk_0_14=True) is SIDEBAR_014
    result = validate_manifest(SIDEBAR_014, schema={})
    assert [(p.path, p.message) for p in result.problems] == [
        ("iframe.maxHeight", "iframe.maxHeight must be null or a number in [40, 4000]")
    ]
    assert [w.path for w in result.warnings] == ["iframe.src"]


def test_0_14_widget_fixed_for_the_platform() -> None:
    fixed: dict[str, Any] = {**SIDEBAR_014, "iframe": {**SIDEBAR_014["iframe"], "maxHeight": 480}}
    del fixed["iframe"]["src"]
    accepted = define_block({"manifest": fixed})
    assert accepted.targets[0].slot_id == "model.sidebar_top"
    assert accepted.model_extra is not None
    assert accepted.model_extra["appId"] == "trigger-words"


def test_legacy_manifest_gets_every_reason_at_once() -> None:
    result = validate_manifest(LEGACY, schema={})
    assert [(p.stage, p.path) for p in result.problems] == [
        ("submit", "scopeJustifications"),
        ("approve", "scopes[1]"),
        ("approve", "scopes"),
        ("approve", "iframe.sandbox"),
        ("approve", "targets[0].slotId"),
    ]
    # 0.14 sees none of this: its scope list, sandbox bans and target rule are older.
    assert define_block({"manifest": LEGACY}, strict_sdk_0_14=True) is LEGACY
