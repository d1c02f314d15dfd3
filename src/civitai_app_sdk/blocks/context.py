"""What the host tells a block about itself: the ``BLOCK_INIT`` payload and its parts.

Shapes follow the platform's ``src/components/AppBlocks/types.ts`` at ``ebed661`` and the
0.14 SDK. Models read leniently (unknown keys are kept, so a newer host does not break an
older block) and use camelCase aliases, as on the wire.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.alias_generators import to_camel

from civitai_app_sdk.blocks.jscompat import as_js_number, is_number

Theme = Literal["light", "dark"]


class WireModel(BaseModel):
    """Base for wire payloads: camelCase aliases, unknown keys kept."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow")


class WrappedToken(WireModel):
    """The block token: ``raw`` JWT plus claims the host extracted for convenience."""

    raw: str
    scopes: list[str]
    expires_at: str
    buzz_budget: int | float | None = None


class BlockSettings(WireModel):
    """Settings values chosen by the publisher and by the viewer."""

    publisher_settings: dict[str, object] = Field(default_factory=dict)
    user_settings: dict[str, object] = Field(default_factory=dict)


class ViewerInfo(WireModel):
    """The signed-in viewer (``BLOCK_INIT.viewer`` is ``None`` for anonymous viewers)."""

    id: int | None = None
    username: str | None = None
    signed_in: bool | None = None


class CheckpointInfo(WireModel):
    """The checkpoint a model-slot block should generate with."""

    version_id: int
    model_id: int
    model_name: str
    version_name: str
    base_model: str


class ModelSlotContext(WireModel):
    """Context of a block installed in a model-page slot."""

    slot_id: str
    entity_type: Literal["model"] | None = None
    model_id: int
    model_version_id: int
    model_name: str
    model_type: str
    model_nsfw_level: int
    creator_user_id: int
    viewer_user_id: int | None
    viewer_nsfw_enabled: bool
    viewer_username: str | None = None
    viewer_status: Literal["active", "banned", "muted"] | None = None
    theme: Theme | None = None
    checkpoint: CheckpointInfo | None = None
    showcase_images: list[dict[str, object]] = Field(default_factory=list)


class PageContext(WireModel):
    """Context of a full-page block (slot ``app.page``)."""

    slot_id: Literal["app.page"]
    entity_type: Literal["none"]
    slug: str
    sub_path: str
    viewer_user_id: int | None
    viewer_username: str | None = None
    theme: Theme | None = None


def _browsing_mask(value: object) -> int | None:
    """A browsing-level mask read as 0.14's helpers read it: a finite number is kept (a
    fraction truncated, as their 32-bit ``&`` does), anything else (a string such as
    ``"31"``, a boolean, NaN) is ``None``, the unknown ceiling that fails closed to SFW.
    Coercing ``"31"`` to 31 would let mature levels through where 0.14 shows SFW only."""
    if not is_number(value) or not math.isfinite(as_js_number(value)):
        return None
    return value if isinstance(value, int) else int(value)


BrowsingMask = Annotated[int | None, BeforeValidator(_browsing_mask)]
"""A ``maxBrowsingLevel``-style field: a finite number, else ``None`` (see ``_browsing_mask``)."""


class BlockInitPayload(WireModel):
    """Payload of ``BLOCK_INIT``, the first message a block receives.

    ``block_id`` and ``app_id`` are deprecated upstream but still sent and still required by
    deployed SDK guards; ``app_id`` is the OAuth client id ``appblk-<blockId>``.
    ``max_browsing_level`` and ``effective_browsing_level`` are ``None`` unless the host sent
    a finite number (a string is not read as one), so ``is_sfw_ceiling`` fails closed on them
    as it does in 0.14.
    """

    block_instance_id: str
    block_id: str
    app_id: str
    token: WrappedToken
    context: PageContext | ModelSlotContext
    settings: BlockSettings
    viewer: ViewerInfo | None
    theme: Theme
    render_mode: Literal["iframe", "inline"]
    domain: Literal["green", "blue", "red"] | None = None
    max_browsing_level: BrowsingMask = None
    effective_browsing_level: BrowsingMask = None
