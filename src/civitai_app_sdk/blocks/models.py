"""Typed App Block manifest, as ``define_block`` returns it after the platform accepts it.

Field names are snake_case with the manifest's camelCase as aliases (``model_dump(by_alias=
True)`` gives manifest JSON back). The platform's defaults are filled in: ``renderMode``
``iframe``, ``trustTier`` the app's tier, ``iframe.src`` the stamped canonical URL, empty
``targets``, ``scopeJustifications`` and ``publicSettingsKeys``. Keys the platform does not
read (``$schema``, ``type``, ``minApiVersion``, ``appId``, ``settings``, ``description``, ...)
are kept as extra fields. ``outputDir`` stays ``None`` when omitted; the build then assumes
``dist``.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.alias_generators import to_camel

from civitai_app_sdk.blocks.vocab import BlockScope, Category, ContentRating, RenderMode, TrustTier


class ManifestModel(BaseModel):
    """Base for manifest parts: camelCase aliases, unknown keys kept, immutable."""

    # Read by alias only: a stray snake_case key in a manifest stays an extra field.
    model_config = ConfigDict(alias_generator=to_camel, extra="allow", frozen=True)


class IframeConfig(ManifestModel):
    """The ``iframe`` envelope. Heights are numbers in [40, 4000] (fractions allowed)."""

    src: str
    min_height: int | float
    max_height: int | float | None
    resizable: bool
    sandbox: str


def _exact_int(value: object) -> object:
    """An integral float as the int it equals: JSON's ``1e300`` is an integer to the platform
    (``Number.isInteger``), and pydantic refuses floats past 2**64 as ints."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class PageConfig(ManifestModel):
    """The full-page surface at ``/apps/run/<blockId><path>``."""

    path: str
    title: str
    icon: str | None = None
    buzz_budget_per_gen: Annotated[int, BeforeValidator(_exact_int)] | None = None


class BlockTarget(ManifestModel):
    """A model-page slot the block installs into (``priority`` etc. are kept as extras)."""

    slot_id: str


class BlockManifest(ManifestModel):
    """A manifest the platform accepts, with its defaults applied."""

    block_id: str
    version: str
    name: str
    content_rating: ContentRating
    scopes: list[BlockScope]
    scope_justifications: dict[str, str] = Field(default_factory=dict)
    render_mode: RenderMode = "iframe"
    trust_tier: TrustTier = "unverified"
    category: Category | None = None
    tagline: str | None = None
    iframe: IframeConfig
    page: PageConfig | None = None
    targets: list[BlockTarget] = Field(default_factory=list)
    build_command: str | None = None
    output_dir: str | None = None
    public_settings_keys: list[str] = Field(default_factory=list)
    asset_bundle_url: str | None = None
