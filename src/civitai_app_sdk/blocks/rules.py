"""The platform's deploy verdict on a manifest: the submit gate, then the approve validator.

Mirrors civitai/civitai at ``ebed661`` (see ``vocab.PLATFORM_SOURCE``):

- ``submit_problems``: the gate of ``submitVersion`` (S1-S6 in the reference). The server stops
  at the first; every one is listed here so an author can fix them in one go.
- ``approve_problems``: ``BlockManifestValidator.validateSubmission`` as a moderator's approval
  runs it, on the manifest *as the platform stamps it*: ``iframe.src`` becomes
  ``https://<blockId>.civit.ai/`` (an absent ``iframe`` becomes ``{src}``) and ``trustTier``
  becomes the app's tier (``unverified`` for a new app). Consequences: the ``iframe.src`` URL and
  origin checks always pass, "iframe block is required" and "a manifest declaring page must
  also declare an iframe block" can never fire, the trustTier enum check never fails, and the
  sensitive-scope rule (skipped on approve) is reported once, by the submit gate.
- ``platform_owned_warnings``: author-set ``iframe.src`` / ``trustTier``, which the platform
  silently replaces (the Go CLI and the newest SDK refuse them; the server does not).

Lengths are UTF-16 code units, whitespace is JavaScript's, ``true`` is not a number, and arrays
count as objects wherever the platform uses ``typeof x === 'object'``. Known quirks are kept:
heights may be fractional (and NaN passes), duplicate scopes are fine, and a ``slotId`` equal to
an ``Object.prototype`` key counts as a registered slot because the registry lookup uses ``in``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, Final

from civitai_app_sdk.blocks import patterns, redos
from civitai_app_sdk.blocks.errors import ManifestProblem
from civitai_app_sdk.blocks.jscompat import (
    is_integer,
    is_number,
    is_object,
    js_key_order,
    js_split_whitespace,
    js_string,
    js_trim,
    utf16_len,
)
from civitai_app_sdk.blocks.urls import parse_url, public_https_problem
from civitai_app_sdk.blocks.vocab import (
    APPS_DOMAIN,
    BLOCK_SCOPE_PATTERN,
    CATEGORIES,
    CONTENT_RATINGS,
    MODEL_SLOTS,
    PAGE_SLOT,
    RENDER_MODES,
    SANDBOX_ALLOWLIST,
    SENSITIVE_BLOCK_SCOPES,
    BlockScope,
    TrustTier,
)

BLOCK_ID_PATTERN: Final = re.compile(r"\A[a-z][a-z0-9-]*[a-z0-9]\Z")
VERSION_PATTERN: Final = re.compile(r"\A[0-9]+\.[0-9]+\.[0-9]+(?:-[0-9A-Za-z.-]+)?\Z")
_BUILD_COMMAND: Final = re.compile(
    r"\A(?:(?:npm|pnpm|yarn) run [a-zA-Z0-9:_-]+|(?:npx )?vite build)\Z"
)
_SHELL_METACHARS: Final = frozenset(";|&$`<>(){}\\!*?[]'\"\n\r")
_TRAVERSAL: Final = re.compile(r"(?:\A|/)\.\.(?:/|\Z)")
_DRIVE: Final = re.compile(r"\A[a-zA-Z]:")
# Inherited keys of a JS object literal: the slot registry answers `key in registry` for them.
_OBJECT_PROTOTYPE_KEYS: Final = frozenset(
    {
        "constructor",
        "hasOwnProperty",
        "isPrototypeOf",
        "propertyIsEnumerable",
        "toLocaleString",
        "toString",
        "valueOf",
        "__proto__",
        "__defineGetter__",
        "__defineSetter__",
        "__lookupGetter__",
        "__lookupSetter__",
    }
)
_KNOWN_SCOPES: Final = frozenset(scope.value for scope in BlockScope)
_MISSING: Final = object()

HEIGHT_MIN: Final = 40
HEIGHT_MAX: Final = 4000
BLOCK_ID_MIN: Final = 3
BLOCK_ID_MAX: Final = 40
TAGLINE_MAX: Final = 140
JUSTIFICATION_MAX: Final = 500
TARGETS_MAX: Final = 16
PUBLIC_SETTINGS_KEYS_MAX: Final = 32
PUBLIC_SETTINGS_KEY_MAX: Final = 64
PAGE_PATH_MAX: Final = 256
PAGE_TEXT_MAX: Final = 128
BUILD_COMMAND_MAX: Final = 128
OUTPUT_DIR_MAX: Final = 256
SETTING_PATTERN_MAX_LENGTH: Final = 1000


def canonical_src(block_id: object) -> str:
    """The ``iframe.src`` the platform stamps: ``https://<blockId>.civit.ai/``."""
    return f"https://{js_string(block_id)}.{APPS_DOMAIN}/"


def stamp(manifest: Mapping[str, Any], trust_tier: TrustTier) -> dict[str, Any]:
    """A copy of ``manifest`` with the fields the platform owns set the way it sets them."""
    iframe = manifest.get("iframe")
    stamped = dict(manifest)
    stamped["iframe"] = {
        **(iframe if isinstance(iframe, dict) else {}),
        "src": canonical_src(manifest.get("blockId")),
    }
    stamped["trustTier"] = trust_tier
    return stamped


def _submit(path: str, message: str) -> ManifestProblem:
    return ManifestProblem(path, message, "submit")


def _approve(path: str, message: str) -> ManifestProblem:
    return ManifestProblem(path, message, "approve")


def _is_valid_block_id(value: object) -> bool:
    return (
        isinstance(value, str)
        and BLOCK_ID_MIN <= utf16_len(value) <= BLOCK_ID_MAX
        and BLOCK_ID_PATTERN.match(value) is not None
    )


def _is_semver(value: object) -> bool:
    return isinstance(value, str) and VERSION_PATTERN.match(value) is not None


def unjustified_sensitive_scopes(manifest: Mapping[str, Any]) -> list[str]:
    """Declared sensitive scopes without a non-blank justification (declaration order, once)."""
    scopes = manifest.get("scopes")
    if not isinstance(scopes, list):
        return []
    raw = manifest.get("scopeJustifications")
    justifications = raw if isinstance(raw, dict) else {}
    missing: list[str] = []
    for scope in scopes:
        if not isinstance(scope, str) or scope not in SENSITIVE_BLOCK_SCOPES or scope in missing:
            continue
        text = justifications.get(scope)
        if not (isinstance(text, str) and js_trim(text)):
            missing.append(scope)
    return missing


def submit_problems(manifest: object) -> list[ManifestProblem]:
    """Every check of the submit gate that fails, in the gate's order (S1-S6)."""
    if not isinstance(manifest, dict):
        return [_submit("", "block.manifest.json must contain a JSON object")]
    found: list[ManifestProblem] = []
    block_id = manifest.get("blockId")
    if not isinstance(block_id, str):
        found.append(_submit("blockId", "manifest.blockId must be a string"))
    elif not _is_valid_block_id(block_id):
        found.append(
            _submit(
                "blockId",
                f'manifest.blockId "{block_id}" must be 3-40 chars, lowercase a-z/0-9/hyphens, '
                "start with a letter, end with a letter or digit",
            )
        )
    version = manifest.get("version")
    if not _is_semver(version):
        shown = "" if version is None else js_string(version)
        found.append(_submit("version", f'manifest.version "{shown}" must be semver (e.g. 0.1.0)'))
    name = manifest.get("name")
    if not (isinstance(name, str) and name):
        found.append(_submit("name", "manifest.name must be a non-empty string"))
    unjustified = unjustified_sensitive_scopes(manifest)
    if unjustified:
        found.append(
            _submit(
                "scopeJustifications",
                "sensitive scopes require a justification — add a non-empty "
                f"scopeJustifications entry for: {', '.join(unjustified)}",
            )
        )
    return found


def approve_problems(
    manifest: object, trust_tier: TrustTier = "unverified"
) -> list[ManifestProblem]:
    """Every error the approve-time validator reports for the stamped ``manifest``."""
    if not isinstance(manifest, dict):
        return [_approve("", "manifest must be a JSON object")]
    m = stamp(manifest, trust_tier)
    return [
        *_identity(m),
        *_render_mode(m, trust_tier),
        *_listing(m),
        *_scopes(m),
        *_justifications(m),
        *_asset_bundle_url(m),
        *_public_settings_keys(m),
        *_iframe(m["iframe"], trust_tier),
        *_targets(m),
        *_page(m),
        *_build_command(m),
        *_output_dir(m),
        *_setting_patterns(m),
    ]


def platform_owned_warnings(manifest: object) -> list[ManifestProblem]:
    """Fields the author set although the platform overwrites them."""
    if not isinstance(manifest, dict):
        return []
    found: list[ManifestProblem] = []
    iframe = manifest.get("iframe")
    if isinstance(iframe, dict) and "src" in iframe:
        found.append(
            _submit(
                "iframe.src",
                "iframe.src is platform-owned and ignored: the platform serves the block from "
                f"{canonical_src(manifest.get('blockId'))} — remove it",
            )
        )
    if "trustTier" in manifest:
        found.append(
            _submit(
                "trustTier",
                "trustTier is platform-owned and ignored: approval sets the app's tier "
                "(unverified for a new app) — remove it",
            )
        )
    return found


def _identity(m: dict[str, Any]) -> Iterator[ManifestProblem]:
    block_id, version, name = m.get("blockId"), m.get("version"), m.get("name")
    if not isinstance(block_id, str):
        yield _approve("blockId", "blockId must be a string")
    elif not _is_valid_block_id(block_id):
        yield _approve(
            "blockId",
            "blockId must be 3–40 chars, lowercase, start with a letter, and contain only "
            "a–z, 0–9, hyphen (it becomes <blockId>.civit.ai)",
        )
    if not isinstance(version, str):
        yield _approve("version", "version must be a string")
    elif not _is_semver(version):
        yield _approve("version", "version must be semver (e.g. 1.0.0)")
    if not (isinstance(name, str) and name):
        yield _approve("name", "name must be a non-empty string")
    rating = m.get("contentRating")
    if not (isinstance(rating, str) and rating in CONTENT_RATINGS):
        yield _approve(
            "contentRating", f"contentRating must be one of {', '.join(CONTENT_RATINGS)}"
        )


def _render_mode(m: dict[str, Any], tier: TrustTier) -> Iterator[ManifestProblem]:
    mode = m.get("renderMode")
    mode = "iframe" if mode is None else mode
    if not (isinstance(mode, str) and mode in RENDER_MODES):
        yield _approve("renderMode", f"renderMode must be one of {', '.join(RENDER_MODES)}")
    if mode in ("inline", "hybrid") and tier == "unverified":
        yield _approve("renderMode", "INLINE_REQUIRES_VERIFIED_TIER")


def _listing(m: dict[str, Any]) -> Iterator[ManifestProblem]:
    category = m.get("category", _MISSING)
    if category is not _MISSING and not (isinstance(category, str) and category in CATEGORIES):
        yield _approve("category", f"category must be one of {', '.join(CATEGORIES)}")
    tagline = m.get("tagline", _MISSING)
    if tagline is _MISSING:
        return
    if not isinstance(tagline, str):
        yield _approve("tagline", "tagline must be a string")
    elif not js_trim(tagline):
        yield _approve("tagline", "tagline must not be blank (omit it instead)")
    elif utf16_len(js_trim(tagline)) > TAGLINE_MAX:
        yield _approve("tagline", f"tagline must be ≤{TAGLINE_MAX} chars")


def _scopes(m: dict[str, Any]) -> Iterator[ManifestProblem]:
    scopes = m.get("scopes")
    if not isinstance(scopes, list):
        yield _approve("scopes", "scopes must be an array of strings")
        return
    for index, scope in enumerate(scopes):
        path = f"scopes[{index}]"
        if not isinstance(scope, str):
            yield _approve(path, "scopes entries must be strings")
        elif not BLOCK_SCOPE_PATTERN.match(scope):
            yield _approve(
                path, f'scope "{scope}" must be lowercase colon-separated (e.g. models:read:self)'
            )
        elif scope not in _KNOWN_SCOPES:
            yield _approve(path, f'scope "{scope}" is not a known block scope')
    rejected = [s for s in scopes if isinstance(s, str) and s not in _KNOWN_SCOPES]
    if rejected:
        yield _approve(
            "scopes", f"requested scopes exceed OAuth client allowedScopes: {', '.join(rejected)}"
        )


def _justifications(m: dict[str, Any]) -> Iterator[ManifestProblem]:
    raw = m.get("scopeJustifications", _MISSING)
    if raw is _MISSING:
        return
    if not isinstance(raw, dict):
        yield _approve(
            "scopeJustifications",
            "scopeJustifications must be an object mapping scope-id to a justification string",
        )
        return
    scopes = m.get("scopes")
    declared = {s for s in scopes if isinstance(s, str)} if isinstance(scopes, list) else set()
    for key in js_key_order(raw):
        text, path = raw[key], f"scopeJustifications.{key}"
        if key not in declared:
            yield _approve(
                path,
                f'scopeJustifications references scope "{key}" which is not in the '
                "manifest's scopes",
            )
        elif not (isinstance(text, str) and text):
            yield _approve(path, f'scopeJustifications["{key}"] must be a non-empty string')
        elif utf16_len(text) > JUSTIFICATION_MAX:
            yield _approve(path, f'scopeJustifications["{key}"] must be ≤{JUSTIFICATION_MAX} chars')


def _asset_bundle_url(m: dict[str, Any]) -> Iterator[ManifestProblem]:
    url = m.get("assetBundleUrl", _MISSING)
    if url is _MISSING:
        return
    if not isinstance(url, str):
        yield _approve("assetBundleUrl", "assetBundleUrl must be a string")
        return
    reason = public_https_problem(url)
    if reason is not None:
        yield _approve("assetBundleUrl", f"assetBundleUrl rejected: {reason}")
        return
    parsed = parse_url(url)
    allowed = (
        parse_url(f"https://{m['blockId']}.{APPS_DOMAIN}")
        if isinstance(m.get("blockId"), str)
        else None
    )
    if allowed is None:
        yield _approve(
            "assetBundleUrl", "assetBundleUrl rejected: app has no allowedOrigins registered"
        )
    elif parsed is not None and parsed.origin != allowed.origin:
        yield _approve(
            "assetBundleUrl",
            f"assetBundleUrl rejected: origin {parsed.origin} not in OauthClient.allowedOrigins",
        )


def _public_settings_keys(m: dict[str, Any]) -> Iterator[ManifestProblem]:
    keys = m.get("publicSettingsKeys", _MISSING)
    if keys is _MISSING:
        return
    if not isinstance(keys, list):
        yield _approve("publicSettingsKeys", "publicSettingsKeys must be an array of strings")
    elif len(keys) > PUBLIC_SETTINGS_KEYS_MAX:
        yield _approve(
            "publicSettingsKeys",
            f"publicSettingsKeys must contain at most {PUBLIC_SETTINGS_KEYS_MAX} entries",
        )
    else:
        for index, key in enumerate(keys):
            if not (isinstance(key, str) and 0 < utf16_len(key) <= PUBLIC_SETTINGS_KEY_MAX):
                yield _approve(
                    f"publicSettingsKeys[{index}]",
                    "publicSettingsKeys entries must be non-empty strings "
                    f"≤{PUBLIC_SETTINGS_KEY_MAX} chars",
                )
                return


def _in_height_range(value: object) -> bool:
    # Written as the negation of the platform's test so that NaN passes, as it does there.
    return is_number(value) and not (value < HEIGHT_MIN or value > HEIGHT_MAX)


def _iframe(iframe: dict[str, Any], tier: TrustTier) -> Iterator[ManifestProblem]:
    min_height, max_height = iframe.get("minHeight"), iframe.get("maxHeight", _MISSING)
    if not _in_height_range(min_height):
        yield _approve(
            "iframe.minHeight", f"iframe.minHeight must be a number in [{HEIGHT_MIN}, {HEIGHT_MAX}]"
        )
    if max_height is not None and not _in_height_range(max_height):
        yield _approve(
            "iframe.maxHeight",
            f"iframe.maxHeight must be null or a number in [{HEIGHT_MIN}, {HEIGHT_MAX}]",
        )
    if is_number(min_height) and is_number(max_height) and max_height < min_height:
        yield _approve("iframe.maxHeight", "iframe.maxHeight must be ≥ iframe.minHeight")
    if not isinstance(iframe.get("resizable"), bool):
        yield _approve("iframe.resizable", "iframe.resizable must be a boolean")
    sandbox = iframe.get("sandbox")
    if not (isinstance(sandbox, str) and sandbox):
        yield _approve("iframe.sandbox", "iframe.sandbox must be a non-empty string")
        return
    tokens = list(dict.fromkeys(js_split_whitespace(sandbox)))
    if not tokens:
        yield _approve("iframe.sandbox", "iframe.sandbox must contain at least one token")
        return
    for token in tokens:
        if token not in SANDBOX_ALLOWLIST[tier]:
            yield _approve(
                "iframe.sandbox", f'sandbox token "{token}" is not allowed for trustTier={tier}'
            )
    if "allow-same-origin" in tokens and "allow-scripts" in tokens and tier != "internal":
        yield _approve(
            "iframe.sandbox",
            "sandbox MUST NOT combine allow-same-origin with allow-scripts outside internal "
            "trust tier",
        )


def _targets(m: dict[str, Any]) -> Iterator[ManifestProblem]:
    targets = m.get("targets", _MISSING)
    if targets is _MISSING:
        return
    if not isinstance(targets, list):
        yield _approve("targets", "targets must be an array")
        return
    if len(targets) > TARGETS_MAX:
        yield _approve("targets", f"targets must contain at most {TARGETS_MAX} entries")
    for index, target in enumerate(targets):
        path = f"targets[{index}]"
        if not is_object(target):
            yield _approve(path, "each target must be an object")
            continue
        slot = target.get("slotId") if isinstance(target, dict) else None
        if not (isinstance(slot, str) and slot):
            yield _approve(f"{path}.slotId", "each target must carry a non-empty slotId string")
        elif slot == PAGE_SLOT:
            yield _approve(
                f"{path}.slotId",
                f'target slotId "{slot}" is the page slot — declare a full page via the "page" '
                "field, not targets",
            )
        elif slot not in MODEL_SLOTS and slot not in _OBJECT_PROTOTYPE_KEYS:
            yield _approve(f"{path}.slotId", f'target slotId "{slot}" is not a known slot')


def _page(m: dict[str, Any]) -> Iterator[ManifestProblem]:
    page = m.get("page", _MISSING)
    if page is _MISSING:
        return
    if not isinstance(page, dict):
        yield _approve("page", "page must be an object")
        return
    path = page.get("path")
    if not (isinstance(path, str) and path):
        yield _approve("page.path", "page.path must be a non-empty string")
    elif not path.startswith("/"):
        yield _approve("page.path", 'page.path must start with "/"')
    elif utf16_len(path) > PAGE_PATH_MAX:
        yield _approve("page.path", f"page.path must be ≤{PAGE_PATH_MAX} chars")
    title = page.get("title")
    if not (isinstance(title, str) and title):
        yield _approve("page.title", "page.title must be a non-empty string")
    elif utf16_len(title) > PAGE_TEXT_MAX:
        yield _approve("page.title", f"page.title must be ≤{PAGE_TEXT_MAX} chars")
    icon = page.get("icon", _MISSING)
    if icon is not _MISSING and not (isinstance(icon, str) and utf16_len(icon) <= PAGE_TEXT_MAX):
        yield _approve("page.icon", f"page.icon must be a string ≤{PAGE_TEXT_MAX} chars")
    budget = page.get("buzzBudgetPerGen", _MISSING)
    if budget is not _MISSING and not (is_integer(budget) and budget > 0):
        yield _approve("page.buzzBudgetPerGen", "page.buzzBudgetPerGen must be a positive integer")


def _bounded_text_problem(key: str, value: object, maximum: int) -> str | None:
    """The platform's text for a value that is not a string of 1 to ``maximum`` units."""
    if not isinstance(value, str):
        return f"{key} must be a string"
    if not value:
        return f"{key} must be a non-empty string"
    if utf16_len(value) > maximum:
        return f"{key} must be ≤{maximum} chars"
    return None


def _build_command(m: dict[str, Any]) -> Iterator[ManifestProblem]:
    command = m.get("buildCommand", _MISSING)
    if command is _MISSING:
        return
    reason = _bounded_text_problem("buildCommand", command, BUILD_COMMAND_MAX)
    if reason is not None:
        yield _approve("buildCommand", reason)
    elif any(ch in _SHELL_METACHARS for ch in command):
        yield _approve("buildCommand", "buildCommand must not contain shell metacharacters")
    elif not _BUILD_COMMAND.match(command):
        yield _approve(
            "buildCommand",
            'buildCommand must match an allowed build invocation (e.g. "npm run build", '
            '"pnpm run <script>", "vite build", "npx vite build")',
        )


def _output_dir(m: dict[str, Any]) -> Iterator[ManifestProblem]:
    out = m.get("outputDir", _MISSING)
    if out is _MISSING:
        return
    reason = _bounded_text_problem("outputDir", out, OUTPUT_DIR_MAX)
    if reason is not None:
        yield _approve("outputDir", reason)
    elif out.startswith("/"):
        yield _approve("outputDir", 'outputDir must be a relative path (no leading "/")')
    elif "\0" in out or "\\" in out or _TRAVERSAL.search(out) or _DRIVE.match(out):
        yield _approve(
            "outputDir",
            'outputDir must not contain path traversal ("..") or absolute/Windows paths',
        )


def _setting_patterns(m: dict[str, Any]) -> Iterator[ManifestProblem]:
    settings = m.get("settings")
    if not isinstance(settings, dict):
        return
    for key in js_key_order(settings):
        entry = settings[key]
        pattern = entry.get("pattern") if isinstance(entry, dict) else None
        if not isinstance(pattern, str):
            continue
        path = f"settings.{key}"
        max_length = entry.get("max_length")
        if not is_number(max_length):
            yield _approve(
                f"{path}.max_length",
                f'settings.{key}: a field declaring "pattern" must also declare "max_length" '
                f"(<= {SETTING_PATTERN_MAX_LENGTH})",
            )
        elif max_length > SETTING_PATTERN_MAX_LENGTH:
            yield _approve(
                f"{path}.max_length",
                f"settings.{key}: max_length must be <= {SETTING_PATTERN_MAX_LENGTH} "
                "when a pattern is declared",
            )
        if (long := patterns.too_long(pattern, f"settings.{key}: pattern")) is not None:
            yield _approve(f"{path}.pattern", long)
        elif not patterns.compiles(pattern):
            yield _approve(
                f"{path}.pattern", f"settings.{key}: pattern is not a valid RegExp source"
            )
        elif redos.is_redos_prone(pattern):
            yield _approve(
                f"{path}.pattern",
                f"settings.{key}: pattern is vulnerable to ReDoS (catastrophic backtracking) — "
                'remove nested or overlapping unbounded quantifiers (e.g. "(a+)+") or simplify '
                "the expression",
            )
