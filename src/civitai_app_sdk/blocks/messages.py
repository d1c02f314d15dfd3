"""The postMessage protocol between the host page and a block: ``{type, payload}``.

Every message type the 0.14 SDK knows (19 parent->block, 22 block->parent) has its own model
with a typed payload. The further request/reply pairs and pushes in the platform's host
handler inventory at ``ebed661`` (``hostHandlerParity.ts``) are typed by ``type`` with a
lenient payload carrying ``requestId``, since their payloads change between SDK releases.
All payloads keep unknown keys: a newer peer must not break an older one.

``is_message`` is the 0.14 guard: it looks at ``type`` only, never at the payload.
``parse_host_message``/``parse_block_message`` validate the whole message.
"""

from __future__ import annotations

import builtins
import functools
from collections.abc import Mapping
from types import MappingProxyType
from typing import Annotated, Any, Final, Literal, TypeGuard

from pydantic import Field, TypeAdapter, ValidationError

from civitai_app_sdk.blocks.context import BlockInitPayload, Theme, WireModel, WrappedToken
from civitai_app_sdk.blocks.errors import BlockMessageError


class RequestPayload(WireModel):
    """A block request; the reply echoes ``request_id``."""

    request_id: str


class ReplyPayload(RequestPayload):
    """A host reply; a non-empty ``error`` means the request failed."""

    error: str | None = None


class WorkflowSnapshot(WireModel):
    """An orchestrator workflow as the host relays it (other keys kept)."""

    id: str | None = None
    status: str | None = None


class WorkflowReply(ReplyPayload):
    """Reply carrying a workflow snapshot."""

    snapshot: WorkflowSnapshot


class TokenPayload(WireModel):
    """A fresh block token (``request_id`` only on replies to ``REQUEST_TOKEN``)."""

    request_id: str | None = None
    token: WrappedToken


class WorkflowRequest(RequestPayload):
    """A workflow body to submit or estimate."""

    body: dict[str, Any]


class WorkflowIdRequest(RequestPayload):
    """A request about one workflow."""

    workflow_id: str


class StorageKeyRequest(RequestPayload):
    """A per-user app-storage request for one key."""

    key: str


class Message(WireModel):
    """Base of every message: a ``type`` tag and a ``payload``."""

    type: str


# ---- parent -> block --------------------------------------------------------------------


class BlockInitMessage(Message):
    """First message a block receives."""

    type: Literal["BLOCK_INIT"]
    payload: BlockInitPayload


class TokenRefreshMessage(Message):
    """Host-pushed token rotation, or the reply to ``REQUEST_TOKEN``."""

    type: Literal["TOKEN_REFRESH", "TOKEN_REFRESH_RESPONSE"]
    payload: TokenPayload


class WorkflowResultMessage(Message):
    """Replies about workflows."""

    type: Literal["ESTIMATE_RESULT", "WORKFLOW_SUBMITTED", "WORKFLOW_STATUS", "WORKFLOW_CANCELED"]
    payload: WorkflowReply


class BuzzPurchasePayload(ReplyPayload):
    """Outcome of the Buzz purchase dialog."""

    purchased: bool
    new_balance: int | float | None = None


class BuzzPurchaseResultMessage(Message):
    """Reply to ``OPEN_BUZZ_PURCHASE``."""

    type: Literal["BUZZ_PURCHASE_RESULT"]
    payload: BuzzPurchasePayload


class PickerPayload(ReplyPayload):
    """Picker outcome; ``selected`` is absent when the viewer dismissed the picker."""

    selected: dict[str, Any] | list[dict[str, Any]] | None = None


class PickerResultMessage(Message):
    """Replies to the checkpoint and resource pickers."""

    type: Literal["CHECKPOINT_PICKER_RESULT", "RESOURCE_PICKER_RESULT"]
    payload: PickerPayload


class OkPayload(ReplyPayload):
    """A reply that succeeds or not."""

    ok: bool


class UserCheckpointSetMessage(Message):
    """Reply to ``SET_USER_CHECKPOINT``."""

    type: Literal["USER_CHECKPOINT_SET"]
    payload: OkPayload


class StorageGetPayload(ReplyPayload):
    """A stored value (``None`` when unset or the viewer is anonymous)."""

    value: Any = None


class StorageSetPayload(OkPayload):
    """Outcome of a write, with the stored size."""

    size_bytes: int | None = None


class StorageDeletePayload(OkPayload):
    """Outcome of a delete; ``deleted`` is false when the key was absent."""

    deleted: bool


class StorageKeyInfo(WireModel):
    """One listed key with its last write time (ISO 8601)."""

    key: str
    updated_at: str


class StorageListPayload(ReplyPayload):
    """A page of keys."""

    keys: list[StorageKeyInfo] = Field(default_factory=list)
    next_cursor: str | None = None


class StorageQuotaPayload(ReplyPayload):
    """Storage use against the app's limits."""

    used_bytes: int
    row_count: int
    limit_bytes: int
    limit_rows: int


class StorageGetResultMessage(Message):
    """Reply to ``APP_STORAGE_GET``."""

    type: Literal["APP_STORAGE_GET_RESULT"]
    payload: StorageGetPayload


class StorageSetResultMessage(Message):
    """Reply to ``APP_STORAGE_SET``."""

    type: Literal["APP_STORAGE_SET_RESULT"]
    payload: StorageSetPayload


class StorageDeleteResultMessage(Message):
    """Reply to ``APP_STORAGE_DELETE``."""

    type: Literal["APP_STORAGE_DELETE_RESULT"]
    payload: StorageDeletePayload


class StorageListResultMessage(Message):
    """Reply to ``APP_STORAGE_LIST``."""

    type: Literal["APP_STORAGE_LIST_RESULT"]
    payload: StorageListPayload


class StorageQuotaResultMessage(Message):
    """Reply to ``APP_STORAGE_QUOTA``."""

    type: Literal["APP_STORAGE_QUOTA_RESULT"]
    payload: StorageQuotaPayload


class ThemePayload(WireModel):
    """The new page theme."""

    theme: Theme


class ThemeChangeMessage(Message):
    """Host push: the page switched theme."""

    type: Literal["THEME_CHANGE"]
    payload: ThemePayload


class LifecycleMessage(Message):
    """Host pushes without data: pause and resume the block."""

    type: Literal["SUSPEND", "RESUME"]
    payload: None = None


class HostNoticeMessage(Message):
    """Newer host pushes with a payload that varies by release."""

    type: Literal["CONSENT_UNAVAILABLE"]
    payload: dict[str, Any] | None = None


class HostReplyMessage(Message):
    """Replies from the platform inventory beyond 0.14 (payload read leniently)."""

    type: Literal[
        "BUZZ_BALANCE_RESULT",
        "VIEWER_RESULT",
        "BUZZ_TRANSACTIONS_RESULT",
        "BUZZ_ACCOUNTS_RESULT",
        "DAILY_COMPENSATION_RESULT",
        "APP_WORKFLOWS_RESULT",
        "CANCEL_APP_WORKFLOW_RESULT",
        "PUBLISH_RESULT",
        "IMAGES_RESULT",
        "IMAGE_UPLOAD_RESULT",
        "SAVE_IMAGE_RESULT",
        "WILDCARD_PACK_RESULT",
        "SHARED_LIST_RESULT",
        "SHARED_GET_COUNT_RESULT",
        "SHARED_GET_COUNTS_RESULT",
        "SHARED_APPEND_RESULT",
        "SHARED_UPDATE_RESULT",
        "SHARED_VOTE_RESULT",
        "SHARED_UNVOTE_RESULT",
        "SHARED_WITHDRAW_RESULT",
        "SHARED_GET_RESULT",
        "SHARED_REPORT_RESULT",
    ]
    payload: ReplyPayload


ParentToBlockMessage = Annotated[
    BlockInitMessage
    | TokenRefreshMessage
    | WorkflowResultMessage
    | BuzzPurchaseResultMessage
    | PickerResultMessage
    | UserCheckpointSetMessage
    | StorageGetResultMessage
    | StorageSetResultMessage
    | StorageDeleteResultMessage
    | StorageListResultMessage
    | StorageQuotaResultMessage
    | ThemeChangeMessage
    | LifecycleMessage
    | HostNoticeMessage
    | HostReplyMessage,
    Field(discriminator="type"),
]
"""Any message the host sends to a block."""

# ---- block -> parent --------------------------------------------------------------------


class HeightPayload(WireModel):
    """A content height in CSS pixels."""

    height: int | float


class BlockReadyMessage(Message):
    """The block rendered; the host stops its init retries."""

    type: Literal["BLOCK_READY", "RESIZE_IFRAME"]
    payload: HeightPayload


class BlockErrorPayload(WireModel):
    """An error the block reports; ``fatal`` ones make the host show its fallback."""

    message: str
    fatal: bool = False


class BlockErrorMessage(Message):
    """The block failed."""

    type: Literal["BLOCK_ERROR"]
    payload: BlockErrorPayload


class TokenRequestPayload(RequestPayload):
    """Which block instance wants a fresh token."""

    block_instance_id: str


class RequestTokenMessage(Message):
    """Ask for a fresh token (reply: ``TOKEN_REFRESH_RESPONSE``)."""

    type: Literal["REQUEST_TOKEN"]
    payload: TokenRequestPayload


class WorkflowRequestMessage(Message):
    """Submit or estimate a workflow."""

    type: Literal["SUBMIT_WORKFLOW", "ESTIMATE_WORKFLOW"]
    payload: WorkflowRequest


class WorkflowIdMessage(Message):
    """Poll or cancel a workflow."""

    type: Literal["POLL_WORKFLOW", "CANCEL_WORKFLOW"]
    payload: WorkflowIdRequest


class BuzzPurchaseRequest(RequestPayload):
    """Open the purchase dialog, optionally with a suggested amount."""

    suggested_amount: int | float | None = None


class OpenBuzzPurchaseMessage(Message):
    """Ask the host to open the Buzz purchase dialog."""

    type: Literal["OPEN_BUZZ_PURCHASE"]
    payload: BuzzPurchaseRequest


class CheckpointPickerRequest(RequestPayload):
    """Open the checkpoint picker for one base-model group."""

    base_model_group: str
    current_version_id: int | None = None


class OpenCheckpointPickerMessage(Message):
    """Ask the host to open the checkpoint picker."""

    type: Literal["OPEN_CHECKPOINT_PICKER"]
    payload: CheckpointPickerRequest


class SetCheckpointRequest(RequestPayload):
    """Persist the viewer's checkpoint (``None`` clears the override)."""

    version_id: int | None


class SetUserCheckpointMessage(Message):
    """Ask the host to store the viewer's checkpoint choice."""

    type: Literal["SET_USER_CHECKPOINT"]
    payload: SetCheckpointRequest


class NavigatePayload(WireModel):
    """Where to navigate the host page."""

    path: str
    target: Literal["current", "new_tab"] = "current"


class NavigateMessage(Message):
    """Ask the host to navigate (blocks may not navigate the top frame themselves)."""

    type: Literal["NAVIGATE"]
    payload: NavigatePayload


class TrackEventPayload(WireModel):
    """An analytics event."""

    event_name: str
    properties: dict[str, Any] | None = None


class TrackEventMessage(Message):
    """Record an analytics event."""

    type: Literal["TRACK_EVENT"]
    payload: TrackEventPayload


class StorageKeyMessage(Message):
    """Read or delete one per-user storage key."""

    type: Literal["APP_STORAGE_GET", "APP_STORAGE_DELETE"]
    payload: StorageKeyRequest


class StorageSetRequest(StorageKeyRequest):
    """Write one key (any JSON value)."""

    value: Any


class StorageSetMessage(Message):
    """Write one per-user storage key."""

    type: Literal["APP_STORAGE_SET"]
    payload: StorageSetRequest


class StorageListRequest(RequestPayload):
    """List keys, optionally by prefix, one page at a time."""

    prefix: str | None = None
    limit: int | None = None
    cursor: str | None = None


class StorageListMessage(Message):
    """List per-user storage keys."""

    type: Literal["APP_STORAGE_LIST"]
    payload: StorageListRequest


class BlockRequestMessage(Message):
    """Requests that carry only a ``requestId`` in 0.14, and the newer platform requests."""

    type: Literal[
        "APP_STORAGE_QUOTA",
        "GET_BUZZ_BALANCE",
        "OPEN_RESOURCE_PICKER",
        "GET_VIEWER",
        "GET_BUZZ_TRANSACTIONS",
        "GET_BUZZ_ACCOUNTS",
        "GET_DAILY_COMPENSATION",
        "QUERY_APP_WORKFLOWS",
        "CANCEL_APP_WORKFLOW",
        "PUBLISH_GENERATION_OUTPUTS",
        "GET_IMAGES_BY_IDS",
        "OPEN_IMAGE_UPLOAD",
        "SAVE_IMAGE",
        "GET_WILDCARD_PACK",
        "SHARED_LIST",
        "SHARED_GET_COUNT",
        "SHARED_GET_COUNTS",
        "SHARED_APPEND",
        "SHARED_UPDATE",
        "SHARED_VOTE",
        "SHARED_UNVOTE",
        "SHARED_WITHDRAW",
        "SHARED_GET",
        "SHARED_REPORT",
    ]
    payload: RequestPayload


class BlockNoticeMessage(Message):
    """Fire-and-forget notices whose payload is optional or varies by release."""

    type: Literal["BLOCK_HELLO", "REQUEST_SIGN_IN", "REQUEST_CONSENT"]
    payload: dict[str, Any] | None = None


BlockToParentMessage = Annotated[
    BlockReadyMessage
    | BlockErrorMessage
    | RequestTokenMessage
    | WorkflowRequestMessage
    | WorkflowIdMessage
    | OpenBuzzPurchaseMessage
    | OpenCheckpointPickerMessage
    | SetUserCheckpointMessage
    | NavigateMessage
    | TrackEventMessage
    | StorageKeyMessage
    | StorageSetMessage
    | StorageListMessage
    | BlockRequestMessage
    | BlockNoticeMessage,
    Field(discriminator="type"),
]
"""Any message a block sends to the host."""

REPLY_TYPES: Final = MappingProxyType(
    {
        "REQUEST_TOKEN": "TOKEN_REFRESH_RESPONSE",
        "SUBMIT_WORKFLOW": "WORKFLOW_SUBMITTED",
        "ESTIMATE_WORKFLOW": "ESTIMATE_RESULT",
        "POLL_WORKFLOW": "WORKFLOW_STATUS",
        "CANCEL_WORKFLOW": "WORKFLOW_CANCELED",
        "OPEN_BUZZ_PURCHASE": "BUZZ_PURCHASE_RESULT",
        "GET_BUZZ_BALANCE": "BUZZ_BALANCE_RESULT",
        "OPEN_CHECKPOINT_PICKER": "CHECKPOINT_PICKER_RESULT",
        "OPEN_RESOURCE_PICKER": "RESOURCE_PICKER_RESULT",
        "SET_USER_CHECKPOINT": "USER_CHECKPOINT_SET",
        "APP_STORAGE_GET": "APP_STORAGE_GET_RESULT",
        "APP_STORAGE_SET": "APP_STORAGE_SET_RESULT",
        "APP_STORAGE_DELETE": "APP_STORAGE_DELETE_RESULT",
        "APP_STORAGE_LIST": "APP_STORAGE_LIST_RESULT",
        "APP_STORAGE_QUOTA": "APP_STORAGE_QUOTA_RESULT",
        "GET_VIEWER": "VIEWER_RESULT",
        "GET_BUZZ_TRANSACTIONS": "BUZZ_TRANSACTIONS_RESULT",
        "GET_BUZZ_ACCOUNTS": "BUZZ_ACCOUNTS_RESULT",
        "GET_DAILY_COMPENSATION": "DAILY_COMPENSATION_RESULT",
        "QUERY_APP_WORKFLOWS": "APP_WORKFLOWS_RESULT",
        "CANCEL_APP_WORKFLOW": "CANCEL_APP_WORKFLOW_RESULT",
        "PUBLISH_GENERATION_OUTPUTS": "PUBLISH_RESULT",
        "GET_IMAGES_BY_IDS": "IMAGES_RESULT",
        "OPEN_IMAGE_UPLOAD": "IMAGE_UPLOAD_RESULT",
        "SAVE_IMAGE": "SAVE_IMAGE_RESULT",
        "GET_WILDCARD_PACK": "WILDCARD_PACK_RESULT",
        **{
            f"SHARED_{verb}": f"SHARED_{verb}_RESULT"
            for verb in (
                "LIST",
                "GET_COUNT",
                "GET_COUNTS",
                "APPEND",
                "UPDATE",
                "VOTE",
                "UNVOTE",
                "WITHDRAW",
                "GET",
                "REPORT",
            )
        },
    }
)
"""Block request type -> the host reply type that answers it (echoing ``requestId``)."""


@functools.cache
def _host_adapter() -> TypeAdapter[ParentToBlockMessage]:
    return TypeAdapter[ParentToBlockMessage](ParentToBlockMessage)


@functools.cache
def _block_adapter() -> TypeAdapter[BlockToParentMessage]:
    return TypeAdapter[BlockToParentMessage](BlockToParentMessage)


def parse_host_message(data: object) -> ParentToBlockMessage:
    """Validate a host -> block message; raises :class:`BlockMessageError` (a
    ``pydantic.ValidationError``) when malformed."""
    try:
        return _host_adapter().validate_python(data)
    except ValidationError as exc:
        raise BlockMessageError.of(exc) from None


def parse_block_message(data: object) -> BlockToParentMessage:
    """Validate a block -> host message; raises :class:`BlockMessageError` (a
    ``pydantic.ValidationError``) when malformed."""
    try:
        return _block_adapter().validate_python(data)
    except ValidationError as exc:
        raise BlockMessageError.of(exc) from None


def is_message(data: object, type: str) -> TypeGuard[Mapping[str, Any] | Message]:
    """0.14's ``isMessage``: ``data`` is an object whose ``type`` is exactly ``type``.

    Only the tag is compared (the payload is not looked at), and strictly: ``True`` is not
    ``1`` and ``1`` is not ``"1"``, as with JavaScript's ``===``.
    """
    if isinstance(data, Mapping):
        tag = data.get("type")
    elif isinstance(data, Message):
        tag = data.type
    else:
        return False
    return builtins.type(tag) is builtins.type(type) and tag == type
