"""The TokenScope table: joining advertised bits with names."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from civitai_app_sdk_generated.scopes import (
    ALL_SCOPES,
    SCOPE_INFO,
    TOKEN_SCOPE_LABELS,
    TokenScope,
    TokenScopePresets,
)

from codegen import inputs, scopes


@pytest.fixture(scope="module")
def docs(lock: dict[str, inputs.LockEntry]) -> tuple[Any, Any]:
    return inputs.load_json(lock["discovery"]), inputs.load_json(lock["scopes"])


def test_generated_enum_matches_the_documents(docs: tuple[Any, Any]) -> None:
    discovery, _ = docs
    single = [s for s in TokenScope if s.value & (s.value - 1) == 0]
    assert len(single) == 27
    assert sorted(int(v) for v in discovery["scopes_supported"]) == sorted(s.value for s in single)
    assert TokenScope.Full.value == 33554431
    assert not TokenScope.Full & TokenScope.AppBlocksSubmit
    assert ALL_SCOPES.value == 134217727
    assert TokenScopePresets.AIServices.value == 114689
    assert TOKEN_SCOPE_LABELS[TokenScope.UserRead] == "Read profile, settings & email"
    assert SCOPE_INFO[TokenScope.AppBlocksDevTunnel].opt_in


def test_unnamed_bit_gets_a_stable_member_and_a_warning(docs: tuple[Any, Any]) -> None:
    discovery, names = copy.deepcopy(docs)
    discovery["scopes_supported"].append(str(1 << 27))
    table = scopes.build_scope_table(discovery, names)
    assert table.rows[-1].name == "Bit27"
    assert table.all_scopes == 2**28 - 1
    assert table.warnings == ("bit 27 (134217728) is advertised but has no name; using Bit27",)


def test_name_without_an_advertised_bit_is_an_error(docs: tuple[Any, Any]) -> None:
    discovery, names = copy.deepcopy(docs)
    discovery["scopes_supported"].remove("1")
    with pytest.raises(scopes.ScopeTableError, match="UserRead"):
        scopes.build_scope_table(discovery, names)


def test_non_single_bit_is_rejected(docs: tuple[Any, Any]) -> None:
    discovery, names = copy.deepcopy(docs)
    discovery["scopes_supported"].append("3")
    with pytest.raises(scopes.ScopeTableError, match="single bit"):
        scopes.build_scope_table(discovery, names)
