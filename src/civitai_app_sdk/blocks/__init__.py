"""App Blocks: validate manifests as the Civitai platform does, and the block protocol types.

- ``define_block(config)``: 0.14's ``defineBlock`` calling convention with the platform's
  deploy verdict; ``strict_sdk_0_14=True`` gives 0.14's verdict instead.
- ``validate_manifest(obj)``: every problem, plus the JSON Schema's advisory findings.
- ``BLOCK_SCOPES``, ``BLOCK_SCOPE_PATTERN``, ``SENSITIVE_BLOCK_SCOPES``: today's vocabulary.
- ``BlockManifest`` and parts, ``BlockInitPayload`` and context, every message model,
  ``is_message``, ``parse_host_message``, ``parse_block_message``.
- ``BrowsingLevel``, ``SFW_LEVELS``, ``NSFW_LEVELS``, ``is_sfw_ceiling``,
  ``is_level_allowed``: 0.14's browsing-level helpers, with its values.

Where 0.14 and the platform (civitai/civitai ``ebed661``) differ, ``define_block`` follows the
platform and ``strict_sdk_0_14=True`` follows 0.14:

=========================  =========================================  ==============================
rule                       0.14                                       platform (default)
=========================  =========================================  ==============================
required keys              11, incl. ``$schema`` ``appId`` ``type``   blockId, version, name,
                           ``targets`` ``minApiVersion`` ``iframe``    contentRating, scopes + the
                                                                      four iframe fields
``$schema`` / ``type``     exact URL / ``block`` or ``embed``          ignored
``appId``                  non-empty string                           ignored (it is the OAuth id)
``minApiVersion``          non-empty string (``1`` fails)             ignored
``name``                   1-80 UTF-16 units                          non-empty, no cap
scopes                     non-empty; 10 incl. 3 removed ones          may be empty; 12; unknown
                                                                      ones get two errors
sensitive scopes           no justification needed                    non-blank justification
``scopeJustifications``    unchecked                                  keys in scopes, 1-500 units
``targets``                required, non-empty, integer priority      optional, <= 16, registered
                                                                      model slots only
``iframe.src``             required, https or loopback http           platform-owned: warning,
                                                                      replaced by the stamp
``trustTier``              unchecked                                  platform-owned: warning
``iframe.minHeight``       positive integer                           number in [40, 4000]
``iframe.maxHeight``       optional positive integer or null          required: null or [40, 4000],
                                                                      >= minHeight
``iframe.sandbox``         string, ``""`` ok; bans same-origin and    non-empty; tier allowlist
                           top-navigation tokens                      (unverified: scripts, forms)
``renderMode``             unchecked                                  enum; inline/hybrid need a
                                                                      verified tier
category/tagline/page      unchecked                                  enum / trimmed 1-140 / bounds
build/output/assetBundle   unchecked                                  allowlist / safe path / own
                                                                      origin, public https
``assets`` / ``settings``  SRI hashes / W3 settings shape             ignored / pattern fields only
reporting                  first failure, ``field``                   first problem + all problems
=========================  =========================================  ==============================
"""

from civitai_app_sdk.blocks.browsing import (
    NSFW_LEVELS,
    SFW_LEVELS,
    BrowsingLevel,
    is_level_allowed,
    is_sfw_ceiling,
)
from civitai_app_sdk.blocks.context import (
    BlockInitPayload,
    BlockSettings,
    CheckpointInfo,
    ModelSlotContext,
    PageContext,
    Theme,
    ViewerInfo,
    WrappedToken,
)
from civitai_app_sdk.blocks.errors import (
    BlockManifestError,
    BlockMessageError,
    ManifestProblem,
    PlatformOwnedFieldWarning,
)
from civitai_app_sdk.blocks.messages import (
    REPLY_TYPES,
    BlockToParentMessage,
    ParentToBlockMessage,
    is_message,
    parse_block_message,
    parse_host_message,
)
from civitai_app_sdk.blocks.models import BlockManifest, BlockTarget, IframeConfig, PageConfig
from civitai_app_sdk.blocks.schema import SchemaUnavailableError
from civitai_app_sdk.blocks.validate import ValidationResult, define_block, validate_manifest
from civitai_app_sdk.blocks.vocab import (
    BLOCK_SCOPE_PATTERN,
    BLOCK_SCOPES,
    SENSITIVE_BLOCK_SCOPES,
    BlockScope,
    TrustTier,
)

__all__ = [
    "BLOCK_SCOPES",
    "BLOCK_SCOPE_PATTERN",
    "NSFW_LEVELS",
    "REPLY_TYPES",
    "SENSITIVE_BLOCK_SCOPES",
    "SFW_LEVELS",
    "BlockInitPayload",
    "BlockManifest",
    "BlockManifestError",
    "BlockMessageError",
    "BlockScope",
    "BlockSettings",
    "BlockTarget",
    "BlockToParentMessage",
    "BrowsingLevel",
    "CheckpointInfo",
    "IframeConfig",
    "ManifestProblem",
    "ModelSlotContext",
    "PageConfig",
    "PageContext",
    "ParentToBlockMessage",
    "PlatformOwnedFieldWarning",
    "SchemaUnavailableError",
    "Theme",
    "TrustTier",
    "ValidationResult",
    "ViewerInfo",
    "WrappedToken",
    "define_block",
    "is_level_allowed",
    "is_message",
    "is_sfw_ceiling",
    "parse_block_message",
    "parse_host_message",
    "validate_manifest",
]
