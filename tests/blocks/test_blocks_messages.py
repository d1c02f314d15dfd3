"""Typed block context and parent<->block messages, and the ``is_message`` guard."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from civitai_app_sdk.blocks import (
    REPLY_TYPES,
    BlockInitPayload,
    BlockMessageError,
    BrowsingLevel,
    ModelSlotContext,
    PageContext,
    is_level_allowed,
    is_message,
    is_sfw_ceiling,
    parse_block_message,
    parse_host_message,
)
from civitai_app_sdk.blocks.messages import (
    BlockRequestMessage,
    HostReplyMessage,
    StorageQuotaResultMessage,
    _host_adapter,
)
from civitai_app_sdk.errors import CivitaiError

TOKEN = {"raw": "eyJ.x.y", "scopes": ["ai:write:budgeted"], "expiresAt": "2026-08-08T10:00:00Z"}
PAGE_INIT: dict[str, Any] = {
    "blockInstanceId": "bi_1",
    "blockId": "prompt-lab",
    "appId": "appblk-prompt-lab",
    "token": {**TOKEN, "buzzBudget": 50},
    "context": {
        "slotId": "app.page",
        "entityType": "none",
        "slug": "prompt-lab",
        "subPath": "history/3",
        "viewerUserId": None,
    },
    "settings": {"publisherSettings": {}, "userSettings": {"style": "ink"}},
    "viewer": None,
    "theme": "dark",
    "renderMode": "iframe",
    "domain": "green",
    "maxBrowsingLevel": 3,
    "hostBuild": "2026.08.08",  # unknown keys survive
}
MODEL_CONTEXT: dict[str, Any] = {
    "slotId": "model.sidebar_top",
    "entityType": "model",
    "modelId": 1,
    "modelVersionId": 2,
    "modelName": "Dream",
    "modelType": "Checkpoint",
    "modelNsfwLevel": 1,
    "creatorUserId": 9,
    "viewerUserId": 7,
    "viewerNsfwEnabled": False,
    "viewerStatus": "active",
    "checkpoint": {
        "versionId": 2,
        "modelId": 1,
        "modelName": "Dream",
        "versionName": "v1",
        "baseModel": "SDXL 1.0",
    },
    "showcaseImages": [{"id": 5}],
}


def test_block_init_on_a_page() -> None:
    message = parse_host_message({"type": "BLOCK_INIT", "payload": PAGE_INIT})
    assert message.type == "BLOCK_INIT"
    payload = message.payload
    assert isinstance(payload, BlockInitPayload)
    assert isinstance(payload.context, PageContext)
    assert payload.context.sub_path == "history/3"
    assert payload.token.buzz_budget == 50
    assert payload.settings.user_settings == {"style": "ink"}
    assert payload.model_extra == {"hostBuild": "2026.08.08"}


def test_block_init_on_a_model_slot() -> None:
    payload = BlockInitPayload.model_validate(
        {
            **PAGE_INIT,
            "context": MODEL_CONTEXT,
            "viewer": {"id": 7, "username": "ann", "signedIn": True},
        }
    )
    assert isinstance(payload.context, ModelSlotContext)
    assert payload.context.checkpoint is not None
    assert payload.context.checkpoint.base_model == "SDXL 1.0"
    assert payload.viewer is not None
    assert payload.viewer.signed_in is True


def test_block_init_requires_the_deprecated_ids() -> None:
    broken = {k: v for k, v in PAGE_INIT.items() if k != "appId"}
    with pytest.raises(ValidationError):
        parse_host_message({"type": "BLOCK_INIT", "payload": broken})


@pytest.mark.parametrize(
    "data",
    [
        {"type": "TOKEN_REFRESH", "payload": {"token": TOKEN}},
        {"type": "TOKEN_REFRESH_RESPONSE", "payload": {"requestId": "r1", "token": TOKEN}},
        {
            "type": "WORKFLOW_STATUS",
            "payload": {"requestId": "r", "snapshot": {"id": "w", "status": "processing"}},
        },
        {"type": "BUZZ_PURCHASE_RESULT", "payload": {"requestId": "r", "purchased": False}},
        {"type": "CHECKPOINT_PICKER_RESULT", "payload": {"requestId": "r"}},
        {
            "type": "USER_CHECKPOINT_SET",
            "payload": {"requestId": "r", "ok": False, "error": "wrong-ecosystem"},
        },
        {"type": "APP_STORAGE_GET_RESULT", "payload": {"requestId": "r", "value": None}},
        {
            "type": "APP_STORAGE_SET_RESULT",
            "payload": {"requestId": "r", "ok": True, "sizeBytes": 12},
        },
        {
            "type": "APP_STORAGE_DELETE_RESULT",
            "payload": {"requestId": "r", "ok": True, "deleted": False},
        },
        {
            "type": "APP_STORAGE_LIST_RESULT",
            "payload": {
                "requestId": "r",
                "keys": [{"key": "a", "updatedAt": "2026-01-01T00:00:00Z"}],
            },
        },
        {"type": "THEME_CHANGE", "payload": {"theme": "light"}},
        {"type": "SUSPEND"},
        {"type": "RESUME"},
        {"type": "SHARED_VOTE_RESULT", "payload": {"requestId": "r", "ok": True}},
    ],
)
def test_host_messages_parse(data: dict[str, Any]) -> None:
    assert parse_host_message(data).type == data["type"]


def test_storage_quota_is_typed() -> None:
    data = {
        "type": "APP_STORAGE_QUOTA_RESULT",
        "payload": {
            "requestId": "r",
            "usedBytes": 10,
            "rowCount": 1,
            "limitBytes": 100,
            "limitRows": 5,
        },
    }
    message = parse_host_message(data)
    assert isinstance(message, StorageQuotaResultMessage)
    assert message.payload.limit_rows == 5


@pytest.mark.parametrize(
    "data",
    [
        {"type": "BLOCK_HELLO"},
        {"type": "BLOCK_READY", "payload": {"height": 480}},
        {"type": "BLOCK_ERROR", "payload": {"message": "boom", "fatal": True}},
        {"type": "REQUEST_TOKEN", "payload": {"requestId": "r", "blockInstanceId": "bi"}},
        {"type": "SUBMIT_WORKFLOW", "payload": {"requestId": "r", "body": {"steps": []}}},
        {"type": "CANCEL_WORKFLOW", "payload": {"requestId": "r", "workflowId": "w"}},
        {"type": "OPEN_CHECKPOINT_PICKER", "payload": {"requestId": "r", "baseModelGroup": "SDXL"}},
        {"type": "SET_USER_CHECKPOINT", "payload": {"requestId": "r", "versionId": None}},
        {"type": "NAVIGATE", "payload": {"path": "/models/1", "target": "new_tab"}},
        {"type": "TRACK_EVENT", "payload": {"eventName": "generate", "properties": {"n": 1}}},
        {"type": "APP_STORAGE_SET", "payload": {"requestId": "r", "key": "k", "value": [1, 2]}},
        {"type": "APP_STORAGE_LIST", "payload": {"requestId": "r", "prefix": "h/"}},
        {"type": "REQUEST_CONSENT", "payload": {"scopes": ["ai:write:budgeted"]}},
        {"type": "GET_VIEWER", "payload": {"requestId": "r"}},
        {"type": "SHARED_APPEND", "payload": {"requestId": "r", "value": {"title": "t"}}},
    ],
)
def test_block_messages_parse(data: dict[str, Any]) -> None:
    assert parse_block_message(data).type == data["type"]


@pytest.mark.parametrize(
    "data",
    [
        {"type": "RESIZE_IFRAME", "payload": {}},
        {"type": "NAVIGATE", "payload": {"path": "/x", "target": "_top"}},
        {"type": "SUBMIT_WORKFLOW", "payload": {"body": {}}},
        {"type": "BLOCK_INIT", "payload": PAGE_INIT},
        {"type": "NOT_A_MESSAGE"},
        {"payload": {}},
    ],
)
def test_malformed_block_messages_are_refused(data: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        parse_block_message(data)


def test_every_request_has_a_parseable_reply() -> None:
    for request, reply in REPLY_TYPES.items():
        parse_block_message(
            {
                "type": request,
                "payload": {
                    "requestId": "r",
                    "key": "k",
                    "value": 1,
                    "body": {},
                    "workflowId": "w",
                    "baseModelGroup": "g",
                    "versionId": 1,
                    "blockInstanceId": "b",
                },
            }
        )
        assert reply.endswith(
            ("_RESULT", "_RESPONSE", "_SUBMITTED", "_STATUS", "_CANCELED", "_SET")
        )
    request_types = set(BlockRequestMessage.model_fields["type"].annotation.__args__)  # type: ignore[union-attr]
    reply_types = set(HostReplyMessage.model_fields["type"].annotation.__args__)  # type: ignore[union-attr]
    assert request_types - {"APP_STORAGE_QUOTA", "GET_BUZZ_BALANCE", "OPEN_RESOURCE_PICKER"} <= set(
        REPLY_TYPES
    )
    assert reply_types <= set(REPLY_TYPES.values())


class TestIsMessage:
    """0.14's guard: the tag only, compared strictly."""

    def test_matches_on_type_only(self) -> None:
        assert is_message({"type": "BLOCK_INIT"}, "BLOCK_INIT")
        assert is_message({"type": "BLOCK_INIT", "payload": "garbage"}, "BLOCK_INIT")
        assert is_message(parse_block_message({"type": "BLOCK_HELLO"}), "BLOCK_HELLO")

    @pytest.mark.parametrize(
        ("data", "kind"),
        [
            ({"type": "BLOCK_INIT"}, "BLOCK_READY"),
            ({"type": "block_init"}, "BLOCK_INIT"),
            ({"type": True}, 1),
            ({"type": 1}, True),
            ({"type": 1}, "1"),
            ({}, "BLOCK_INIT"),
            (None, "BLOCK_INIT"),
            ("BLOCK_INIT", "BLOCK_INIT"),
            (["BLOCK_INIT"], "BLOCK_INIT"),
        ],
    )
    def test_strict_comparison(self, data: object, kind: Any) -> None:
        assert not is_message(data, kind)


_ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: (
        st.lists(inner)
        | st.dictionaries(st.sampled_from(["type", "payload", "requestId", "appId", "x"]), inner)
    ),
    max_leaves=12,
)


@given(_ANY_JSON)
def test_any_malformed_message_is_a_typed_error_that_is_still_pydantics(data: Any) -> None:
    for parse in (parse_host_message, parse_block_message):
        failure: Exception | None = None
        try:
            parse(data)
        except Exception as exc:  # which exception it is, is what is tested
            failure = exc
        if failure is not None:
            assert isinstance(failure, BlockMessageError)
            assert isinstance(failure, CivitaiError)
            assert isinstance(failure, ValidationError)
            assert failure.errors()  # the findings are kept


def test_a_message_error_keeps_pydantics_findings() -> None:
    data = {"type": "BLOCK_INIT", "payload": {"appId": []}}
    with pytest.raises(ValidationError) as raw:
        _host_adapter().validate_python(data)
    with pytest.raises(BlockMessageError) as caught:
        parse_host_message(data)
    assert caught.value.errors() == raw.value.errors()
    assert str(caught.value) == str(raw.value)


_MASK_VALUES = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(2**53, 10**400)
    | st.floats()
    | st.integers(0, 63).map(str)
    | st.text(max_size=4)
    | st.lists(st.integers(0, 63), max_size=2)
)


@given(_MASK_VALUES, _MASK_VALUES)
def test_browsing_levels_in_block_init_decide_as_0_14_does_on_the_raw_value(
    ceiling: Any, effective: Any
) -> None:
    # 0.14 passes BLOCK_INIT's maxBrowsingLevel to isSfwCeiling as sent: the string "31" is
    # not a number, so it fails closed to SFW. Coerced to 31 it let mature levels through.
    payload = {**PAGE_INIT, "maxBrowsingLevel": ceiling, "effectiveBrowsingLevel": effective}
    init = parse_host_message({"type": "BLOCK_INIT", "payload": payload}).payload
    assert isinstance(init, BlockInitPayload)
    for raw, read in (
        (ceiling, init.max_browsing_level),
        (effective, init.effective_browsing_level),
    ):
        assert read is None or type(read) is int
        assert is_sfw_ceiling(read) is is_sfw_ceiling(raw)
        for level in BrowsingLevel:
            assert is_level_allowed(level.value, read) is is_level_allowed(level.value, raw)


def test_a_browsing_level_sent_as_a_string_is_the_unknown_ceiling() -> None:
    payload = {**PAGE_INIT, "maxBrowsingLevel": "31"}
    init = parse_host_message({"type": "BLOCK_INIT", "payload": payload}).payload
    assert isinstance(init, BlockInitPayload)
    assert init.max_browsing_level is None
    assert is_sfw_ceiling(init.max_browsing_level)
