"""What the host tells a block about itself: the ``BLOCK_INIT`` payload and its parts.

Shapes follow the platform's ``src/components/AppBlocks/types.ts`` at ``ebed661`` and the
0.14 SDK. Models read leniently (unknown keys are kept, so a newer host does not break an
older block) and use camelCase aliases, as on the wire.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

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


class BlockInitPayload(WireModel):
    """Payload of ``BLOCK_INIT``, the first message a block receives.

    ``block_id`` and ``app_id`` are deprecated upstream but still sent and still required by
    deployed SDK guards; ``app_id`` is the OAuth client id ``appblk-<blockId>``.
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
    max_browsing_level: int | None = None
    effective_browsing_level: int | None = None
