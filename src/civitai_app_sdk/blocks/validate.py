"""``define_block`` and ``validate_manifest``: the platform's verdict, locally.

``define_block`` answers "will ``civitai app submit`` plus moderator approval accept this?":
it raises ``BlockManifestError`` exactly when the platform would refuse, and otherwise returns
the typed manifest with the platform's defaults. ``validate_manifest`` lists everything: the
platform's problems (which decide validity), the JSON Schema's findings (advisory), and
warnings about platform-owned fields.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, overload

from civitai_app_sdk.blocks.errors import (
    BlockManifestError,
    ManifestProblem,
    PlatformOwnedFieldWarning,
)
from civitai_app_sdk.blocks.models import BlockManifest
from civitai_app_sdk.blocks.rules import (
    approve_problems,
    platform_owned_warnings,
    stamp,
    submit_problems,
)
from civitai_app_sdk.blocks.schema import SchemaInput, load_schema, schema_problems
from civitai_app_sdk.blocks.sdk014 import define_block_sdk_0_14
from civitai_app_sdk.blocks.vocab import TRUST_TIERS, TrustTier
from civitai_app_sdk.errors import ConfigurationError

# The approve validator re-checks these with the same conditions as the submit gate (V0-V3 vs
# S1-S5); once the gate has reported one, the validator's wording of it adds nothing.
_SUBMIT_RESTATED_ON_APPROVE = frozenset({"", "blockId", "version", "name"})


@dataclass(frozen=True)
class ValidationResult:
    """Everything found in one manifest.

    ``problems``: why the platform would refuse it (submit gate first, then the approve
    validator, without its restatement of a submit-gate finding).
    ``schema_findings``: violations of the published JSON Schema, advisory only.
    ``warnings``: platform-owned fields the author set. ``schema_checked`` is always true
    now that the schema ships in the package (kept so callers and ``--json`` output stay
    stable).
    """

    problems: tuple[ManifestProblem, ...]
    schema_findings: tuple[ManifestProblem, ...]
    warnings: tuple[ManifestProblem, ...]
    schema_checked: bool

    @property
    def valid(self) -> bool:
        """Whether the platform would accept the manifest."""
        return not self.problems


def platform_problems(
    manifest: object, trust_tier: TrustTier = "unverified"
) -> list[ManifestProblem]:
    """The platform's refusals of ``manifest`` for an app of ``trust_tier``, in report order."""
    if trust_tier not in TRUST_TIERS:
        raise ConfigurationError(
            f"trust_tier must be one of {', '.join(TRUST_TIERS)}, not {trust_tier!r}"
        )
    submitted = submit_problems(manifest)
    repeated = {p.path for p in submitted} & _SUBMIT_RESTATED_ON_APPROVE
    approved = [p for p in approve_problems(manifest, trust_tier) if p.path not in repeated]
    return [*submitted, *approved]


def validate_manifest(
    manifest: object,
    *,
    schema: SchemaInput | None = None,
    trust_tier: TrustTier = "unverified",
) -> ValidationResult:
    """Check ``manifest`` (decoded JSON) against the platform rules and the JSON Schema.

    ``schema`` is a path or a parsed schema; by default ``$CIVITAI_APP_BLOCK_SCHEMA``, else
    the schema shipped in the package (see ``blocks.schema``).
    ``trust_tier`` is the tier the platform will give the app: ``unverified`` for a new one.
    """
    problems = platform_problems(manifest, trust_tier)
    findings = schema_problems(manifest, load_schema(schema))
    refused = {problem.path for problem in problems}
    return ValidationResult(
        problems=tuple(problems),
        schema_findings=tuple(f for f in findings if f.path not in refused),
        warnings=tuple(platform_owned_warnings(manifest)),
        schema_checked=True,
    )


@overload
def define_block(
    config: object,
    *,
    strict_sdk_0_14: Literal[False] = False,
    trust_tier: TrustTier = "unverified",
) -> BlockManifest: ...


@overload
def define_block(
    config: object,
    *,
    strict_sdk_0_14: Literal[True],
    trust_tier: TrustTier = "unverified",
) -> Any: ...


def define_block(
    config: object,
    *,
    strict_sdk_0_14: bool = False,
    trust_tier: TrustTier = "unverified",
) -> BlockManifest | Any:
    """Validate ``config["manifest"]`` as the platform will (0.14's ``defineBlock({manifest})``).

    Raises ``BlockManifestError`` when the platform would refuse it: ``field`` and the message
    come from the first problem, ``problems`` lists them all. Otherwise returns the typed
    manifest with the platform's defaults and warns (``PlatformOwnedFieldWarning``) about
    ``iframe.src`` or ``trustTier`` set by the author, which the platform overwrites.

    ``strict_sdk_0_14=True`` instead reproduces 0.14's verdict exactly and returns the manifest
    object unchanged, as 0.14 does. ``trust_tier`` is ignored in that mode.
    """
    manifest = config.get("manifest") if isinstance(config, Mapping) else None
    if strict_sdk_0_14:
        return define_block_sdk_0_14(manifest)
    if isinstance(config, Mapping) and "manifest" not in config and "blockId" in config:
        # The manifest itself, not `{"manifest": ...}`: say so rather than call it no object.
        raise BlockManifestError.from_problems(
            [
                ManifestProblem(
                    "",
                    'define_block takes {"manifest": <the manifest>}, as defineBlock does; '
                    "this looks like the manifest itself",
                    "submit",
                )
            ]
        )
    problems = platform_problems(manifest, trust_tier)
    if problems:
        raise BlockManifestError.from_problems(problems)
    assert isinstance(manifest, dict)  # the submit gate refuses anything else
    for warning in platform_owned_warnings(manifest):
        warnings.warn(PlatformOwnedFieldWarning(str(warning)), stacklevel=2)
    accepted = stamp(manifest, trust_tier)
    if accepted.get("renderMode") is None:
        accepted["renderMode"] = "iframe"
    return BlockManifest.model_validate(accepted)
