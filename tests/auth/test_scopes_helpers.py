"""Scope helpers: 0.14 values and labels, strict names, big bits, parse_scope forms."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from civitai_app_sdk.scopes import (
    ALL_SCOPES,
    TOKEN_SCOPE_LABELS,
    TokenScope,
    TokenScopePresets,
    bitmask_from_scopes,
    get_scope_label,
    has_scope,
    parse_scope,
    scopes_from_bitmask,
)
from tests.pinned import pinned_json

SPEC = pinned_json("scopes")
NAMES = [entry["name"] for entry in SPEC["scopes"]]


def test_names_and_labels_follow_the_spec() -> None:
    assert scopes_from_bitmask(int(ALL_SCOPES)) == NAMES
    for entry in SPEC["scopes"]:
        assert TOKEN_SCOPE_LABELS[TokenScope[entry["name"]]] == entry["label"]


def test_presets_and_readme_example() -> None:
    assert TokenScopePresets.ReadOnly == 10701093
    assert TokenScopePresets.Creator == 11492205
    assert TokenScopePresets.AIServices == 114689
    assert TokenScopePresets.Full == 33554431
    assert int(TokenScope.Full) == 33554431
    assert bitmask_from_scopes(["AIServicesWrite", "BuzzRead", "UserRead"]) == 98305
    for preset in SPEC["presets"].values():
        assert bitmask_from_scopes(preset["scopes"]) == preset["value"]
        assert get_scope_label(preset["value"]) == preset["label"]


def test_full_leaves_out_app_block_bits() -> None:
    assert not has_scope(TokenScope.Full, TokenScope.AppBlocksSubmit)
    assert "AppBlocksDevTunnel" not in scopes_from_bitmask(TokenScope.Full)
    assert bitmask_from_scopes(["Full", "AppBlocksSubmit", "AppBlocksDevTunnel"]) == ALL_SCOPES


@given(st.sets(st.sampled_from(NAMES)))
def test_names_to_mask_and_back(names: set[str]) -> None:
    mask = bitmask_from_scopes(sorted(names))
    assert set(scopes_from_bitmask(mask)) == names
    assert bitmask_from_scopes(scopes_from_bitmask(mask)) == mask


@given(st.integers(min_value=0, max_value=int(ALL_SCOPES)))
def test_mask_to_names_and_back(mask: int) -> None:
    names = scopes_from_bitmask(mask)
    assert names == sorted(names, key=lambda n: int(TokenScope[n]))
    assert bitmask_from_scopes(names) == mask


@given(st.integers(min_value=0, max_value=2**80))
def test_parse_scope_keeps_unknown_bits(mask: int) -> None:
    assert int(parse_scope(str(mask))) == mask
    assert int(parse_scope(mask)) == mask
    assert int(parse_scope([str(mask)])) == mask


def test_bitmask_from_scopes_special_names_and_members() -> None:
    assert bitmask_from_scopes([]) == 0
    assert bitmask_from_scopes(["None"]) == 0
    assert bitmask_from_scopes(["Full"]) == 33554431
    assert bitmask_from_scopes([TokenScope.BuzzRead, "UserRead"]) == 65537


@pytest.mark.parametrize("name", ["userread", "Typo", "toString", "__proto__", "", "1"])
def test_unknown_scope_names_raise_unlike_node(name: str) -> None:
    with pytest.raises(ValueError, match="unknown"):
        bitmask_from_scopes(["UserRead", name])


def test_single_string_is_not_a_list_of_names() -> None:
    with pytest.raises(TypeError):
        bitmask_from_scopes("UserRead")


def test_scopes_from_bitmask_skips_unknown_bits_and_composites() -> None:
    assert scopes_from_bitmask(0) == []
    assert scopes_from_bitmask(2**40 | 1) == ["UserRead"]
    assert scopes_from_bitmask(2**25) == ["AppBlocksSubmit"]
    assert "Full" not in scopes_from_bitmask(TokenScope.Full)


def test_has_scope_uses_arbitrary_precision() -> None:
    assert has_scope(2**31, 2**31)
    assert has_scope(2**32, 2**32)
    assert has_scope(98305, TokenScope.BuzzRead)
    assert not has_scope(98304, TokenScope.UserRead)
    assert has_scope(0, 0)
    assert has_scope(TokenScope.Full, TokenScopePresets.Creator)


@pytest.mark.parametrize("bad", [-1, True, "1", 1.0])
def test_masks_must_be_non_negative_ints(bad: object) -> None:
    with pytest.raises((TypeError, ValueError)):
        has_scope(bad, 1)  # type: ignore[arg-type]
    with pytest.raises((TypeError, ValueError)):
        scopes_from_bitmask(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("mask", "label"),
    [
        (None, "Legacy"),
        (33554431, "Full Access"),
        (10701093, "Read Only"),
        (11492205, "Creator"),
        (114689, "AI Services"),
        (0, "Custom"),
        (1, "Custom"),
        (114688, "Custom"),
        (int(ALL_SCOPES), "Custom"),
        ("114689", "Custom"),
        (True, "Custom"),
    ],
)
def test_get_scope_label(mask: object, label: str) -> None:
    assert get_scope_label(mask) == label  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("114689", 114689),
        (114689, 114689),
        (114689.0, 114689),
        (["114689"], 114689),
        ([114689], 114689),
        (("1", "2"), 3),
        ("", 0),
        ([], 0),
        (" 42 ", 42),
        ("1 2 4", 7),
        ("1\t2\n4", 7),
        (["1", "2"], 3),
        (["1 2", "4"], 7),
        ("UserRead BuzzRead", 65537),
        ("Full AppBlocksSubmit", 67108863),
        ("None", 0),
        ("0", 0),
    ],
)
def test_parse_scope_forms(value: object, expected: int) -> None:
    result = parse_scope(value)
    assert isinstance(result, TokenScope)
    assert result == expected


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        -1,
        1.5,
        float("nan"),
        "0x10",
        "1e3",
        "-1",
        "1,2",
        "UserRead,BuzzRead",
        "١٢",
        [["1"]],
        {"scope": 1},
        "typo",
        [None],
    ],
)
def test_parse_scope_rejects_garbage(value: object) -> None:
    with pytest.raises(ValueError, match="scope"):
        parse_scope(value)


def test_a_decimal_past_the_int_digit_limit_is_a_scope_error_not_pythons() -> None:
    """A token response (or ``civitai-orch scopes``) with a 5,000-digit scope got
    Python's 'Exceeds the limit (4300 digits)… sys.set_int_max_str_digits()'."""
    with pytest.raises(ValueError, match="too large for a scope bitmask") as info:
        parse_scope("9" * 5000)
    assert "set_int_max_str_digits" not in str(info.value)
    assert len(str(info.value)) < 200


def test_a_huge_unknown_scope_word_is_named_briefly() -> None:
    """A token response with a megabyte-long scope word made a megabyte-long error
    message (and a log line of it)."""
    with pytest.raises(ValueError, match="neither a decimal bitmask nor a name") as info:
        parse_scope("UserRead " + "x" * 1_000_000)
    assert len(str(info.value)) < 200
