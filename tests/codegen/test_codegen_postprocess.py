"""Source transformations applied to the generator's output."""

from __future__ import annotations

import pytest

from codegen import postprocess
from codegen.normalize import Union_

SOURCE = '''\
from pydantic import Field


class Op(StrEnum):
    add = "add"
    replace = "replace"


class Holder(ApiModel):
    shape: Shape


class Circle(ApiModel):
    kind: Annotated[Literal["circle"], Field(alias="$kind")]


Shape = TypeAliasType("Shape", Annotated[Circle, Field(discriminator="kind")])
"""Shape."""


class UnknownShape(UnknownVariant):
    kind: Annotated[str, Field(alias="$kind")]
'''


def test_enums_become_open_and_never_shadow_str_methods() -> None:
    out = postprocess.safe_enum_members(postprocess.open_enums(SOURCE))
    assert "class Op(OpenStrEnum):" in out
    assert '    replace_ = "replace"' in out
    assert '    add = "add"' in out


def test_unions_get_a_fallback_and_definitions_follow_their_uses() -> None:
    union = Union_("Shape", "$kind", (("circle", "Circle"),), "Shapes.")
    out = postprocess.tagged_unions(SOURCE, {"Shape": union})
    order = [out.index(f"class {n}(") for n in ("Circle", "UnknownShape")]
    alias, holder = out.index("Shape = TypeAliasType("), out.index("class Holder(")
    assert max(order) < alias < holder
    assert "Annotated[UnknownShape, Tag(UNKNOWN_TAG)]" in out
    assert "tagger(\n                '$kind',\n                'kind'," in out
    assert '"""Shape."""' not in out
    compile(out, "models.py", "exec")


def test_missing_alias_and_cycles_are_errors() -> None:
    with pytest.raises(ValueError, match="no alias"):
        postprocess.tagged_unions("x = 1\n", {"Shape": Union_("Shape", "k", ())})
    chunks = postprocess._chunks("class A(B):\n    pass\n\n\nclass B(A):\n    pass\n")
    with pytest.raises(ValueError, match="circular"):
        postprocess.definition_order(chunks)
