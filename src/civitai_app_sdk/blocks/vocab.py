"""Pinned platform vocabulary for App Blocks: scopes, slots, enums and sandbox tokens.

Everything here is the platform's view at civitai/civitai ``ebed661630d3`` (2026-08-08):
``block-scope.constants.ts``, ``slot-registry.ts`` and ``block-manifest-validator.service.ts``.
These lists move (three scopes were removed on 2026-07-17, the justification rule arrived on
2026-07-29), so they are kept as data with their source, not spread through the rules.
The ``SDK_0_14_*`` names hold what ``@civitai/app-sdk`` 0.14.0 knows, for the strict mode only.
"""

from __future__ import annotations

import re
from enum import StrEnum
from types import MappingProxyType
from typing import Final, Literal, get_args

PLATFORM_SOURCE: Final = "civitai/civitai@ebed661630d3407a6d853981d89c97c31a2a4be0"
APPS_DOMAIN: Final = "civit.ai"


class BlockScope(StrEnum):
    """A scope a block may request, as the platform's vocabulary lists it today."""

    MODELS_READ_SELF = "models:read:self"
    USER_READ_SELF = "user:read:self"
    AI_WRITE_BUDGETED = "ai:write:budgeted"
    BUZZ_READ_SELF = "buzz:read:self"
    SOCIAL_TIP_SELF = "social:tip:self"
    APPS_STORAGE_READ = "apps:storage:read"
    APPS_STORAGE_WRITE = "apps:storage:write"
    APPS_STORAGE_SHARED_READ = "apps:storage:shared:read"
    APPS_STORAGE_SHARED_WRITE = "apps:storage:shared:write"
    COLLECTIONS_READ_SELF = "collections:read:self"
    COLLECTIONS_WRITE_SELF = "collections:write:self"
    COLLECTIONS_READ_PRIVATE = "collections:read:private"


BLOCK_SCOPES: Final = MappingProxyType({scope.name: scope.value for scope in BlockScope})
"""Constant name -> scope string, the shape of 0.14's ``BLOCK_SCOPES`` with today's members."""

BLOCK_SCOPE_PATTERN: Final = re.compile(r"\A[a-z0-9_]+(?::[a-z0-9_]+){1,3}\Z")
"""Shape the platform requires of a scope: two to four ``[a-z0-9_]`` segments, nothing after."""

SENSITIVE_BLOCK_SCOPES: Final = frozenset(
    {
        BlockScope.AI_WRITE_BUDGETED,
        BlockScope.BUZZ_READ_SELF,
        BlockScope.SOCIAL_TIP_SELF,
        BlockScope.APPS_STORAGE_SHARED_WRITE,
        BlockScope.COLLECTIONS_READ_PRIVATE,
    }
)
"""Scopes that need a non-blank ``scopeJustifications`` entry before the platform accepts them."""

REMOVED_BLOCK_SCOPES: Final = frozenset(
    {"media:read:owned", "block:settings:read", "block:settings:write"}
)
"""Scopes the platform dropped on 2026-07-17 (#3212); the pinned JSON Schema still lists them."""

MODEL_SLOTS: Final = frozenset({"model.sidebar_top", "model.below_images", "model.actions_extra"})
PAGE_SLOT: Final = "app.page"

ContentRating = Literal["g", "pg", "pg13", "r", "x"]
RenderMode = Literal["iframe", "inline", "hybrid"]
TrustTier = Literal["unverified", "verified", "internal"]
Category = Literal[
    "generation", "games", "utility", "discovery", "moderation", "analytics", "other"
]

CONTENT_RATINGS: Final[tuple[ContentRating, ...]] = get_args(ContentRating)
RENDER_MODES: Final[tuple[RenderMode, ...]] = get_args(RenderMode)
TRUST_TIERS: Final[tuple[TrustTier, ...]] = get_args(TrustTier)
CATEGORIES: Final[tuple[Category, ...]] = get_args(Category)

_UNVERIFIED_SANDBOX = ("allow-scripts", "allow-forms")
_VERIFIED_SANDBOX = (
    *_UNVERIFIED_SANDBOX,
    "allow-popups",
    "allow-modals",
    "allow-pointer-lock",
    "allow-downloads",
)
SANDBOX_ALLOWLIST: Final[MappingProxyType[str, frozenset[str]]] = MappingProxyType(
    {
        "unverified": frozenset(_UNVERIFIED_SANDBOX),
        "verified": frozenset(_VERIFIED_SANDBOX),
        "internal": frozenset((*_VERIFIED_SANDBOX, "allow-same-origin")),
    }
)
"""Sandbox tokens each trust tier may use; a new app is always ``unverified``."""

SDK_0_14_BLOCK_SCOPES: Final = (
    "models:read:self",
    "media:read:owned",
    "user:read:self",
    "ai:write:budgeted",
    "buzz:read:self",
    "block:settings:read",
    "block:settings:write",
    "social:tip:self",
    "apps:storage:read",
    "apps:storage:write",
)
"""The ten scopes 0.14 accepts, in its declaration order (used in its error text)."""

SDK_0_14_BLOCK_SCOPE_PATTERN: Final = re.compile(r"\A[a-z]+:[a-z]+:[a-z]+\Z")
"""0.14's ``BLOCK_SCOPE_PATTERN``; it only chooses an error message there."""
