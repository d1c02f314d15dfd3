"""Source transformations applied to the generator's output."""

from __future__ import annotations

import re
from typing import Any

import pytest

from codegen import models, postprocess
from codegen.normalize import Union_, UnsupportedSpecError

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


def test_the_enum_template_knows_every_str_method() -> None:
    """Enums are opened by our generator template; its list of `str` methods must be whole."""
    template = (models.CUSTOM_TEMPLATES / "Enum.jinja2").read_text(encoding="utf-8")
    listed = re.search(r"set str_attributes = \[(.*?)\]", template, re.DOTALL)
    assert listed is not None
    names = set(re.findall(r'"(\w+)"', listed.group(1)))
    assert names == {a for a in dir(str) if not a.startswith("_")}


def test_generated_enums_are_open_and_never_shadow_str_methods() -> None:
    from civitai_app_sdk_generated import models as generated

    assert issubclass(generated.JsonPatchOperationOp, generated.OpenStrEnum)
    assert generated.JsonPatchOperationOp.replace_.value == "replace"
    assert generated.JsonPatchOperationOp("future-op").value == "future-op"


def test_unions_get_a_fallback_and_definitions_follow_their_uses() -> None:
    union = Union_("Shape", "$kind", (("circle", "Circle"),), "Shapes.")
    out = postprocess.tagged_unions(SOURCE, {"Shape": union})
    order = [out.index(f"class {n}(") for n in ("Circle", "UnknownShape")]
    alias, holder = out.index("Shape = TypeAliasType("), out.index("class Holder(")
    assert max(order) < alias < holder
    assert "Annotated[Circle | UnknownShape, OpenUnion(\n        'Shape',\n" in out
    assert "        '$kind',\n        'kind',\n" in out
    assert "'circle': 'Circle'," in out
    assert 'read_extra="allow"' in out  # no request holds Shape: reads keep unknown fields
    assert '"""Shape."""' not in out
    compile(out, "models.py", "exec")


def test_missing_alias_and_cycles_are_errors() -> None:
    with pytest.raises(ValueError, match="no alias"):
        postprocess.tagged_unions("x = 1\n", {"Shape": Union_("Shape", "k", ())})
    chunks = postprocess._chunks("class A(B):\n    pass\n\n\nclass B(A):\n    pass\n")
    with pytest.raises(ValueError, match="circular"):
        postprocess.definition_order(chunks)


DEFAULTS = '''\
from typing import Annotated, Any

from pydantic import BaseModel, Field


class Job(BaseModel):
    metadata: dict[str, Any] = {}
    """Kept."""
    steps: Annotated[list[int], Field(validate_default=True, alias="étapes")] = []
    tags: list[str] = ["a"]
    name: str | None = None
'''


def test_empty_defaults_get_a_factory_and_keep_their_schema() -> None:
    out = postprocess.default_factories(DEFAULTS)
    empty_dict = 'Field(default_factory=dict, json_schema_extra={"default": {}})'
    empty_list = 'Field(default_factory=_new_list, json_schema_extra={"default": []})'
    assert f'metadata: dict[str, Any] = {empty_dict}\n    """Kept."""' in out
    assert f'alias="étapes")] = {empty_list}\n' in out
    assert 'tags: list[str] = ["a"]\n    name: str | None = None\n' in out  # only empty ones
    assert out.startswith("from civitai_app_sdk_generated._base import _new_list\n")
    namespace: dict[str, Any] = {}
    exec(compile(out, "models.py", "exec", dont_inherit=True), namespace)
    job, other = namespace["Job"](), namespace["Job"].model_validate({"étapes": ["1"]})
    job.metadata["k"] = 1
    assert (other.metadata, other.steps, job.steps) == ({}, [1], [])
    assert namespace["Job"].model_fields["steps"].validate_default
    schema = namespace["Job"].model_json_schema()["properties"]
    assert (schema["metadata"]["default"], schema["étapes"]["default"]) == ({}, [])


def test_a_factory_brings_its_field_import_and_refuses_a_second_default() -> None:
    out = postprocess.default_factories("import enum\n\n\nclass A(B):\n    x: list[int] = []\n")
    factory = "from civitai_app_sdk_generated._base import _new_list\n"
    assert out.startswith(f"from pydantic import Field\n{factory}import enum\n")
    assert postprocess.default_factories("class A(B):\n    x: int = 0\n").startswith("class")
    future = postprocess.default_factories(
        "from __future__ import annotations\nimport enum\n\n\nclass A(B):\n    x: dict = {}\n"
    )
    assert future.startswith("from __future__ import annotations\nfrom pydantic import Field\n")
    compile(future, "<generated>", "exec")
    clash = 'class A(B):\n    x: Annotated[list[int], Field(json_schema_extra={"a": 1})] = []\n'
    with pytest.raises(UnsupportedSpecError, match=r"'x' already has \['json_schema_extra'\]"):
        postprocess.default_factories(clash)
