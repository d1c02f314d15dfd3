"""The split of the generated models into modules loaded on first use."""

from __future__ import annotations

import importlib
import textwrap
from pathlib import Path

import pytest

from codegen import split

SOURCE = textwrap.dedent(
    '''
    from typing import TYPE_CHECKING, Annotated, Any

    from civitai_app_sdk_generated._base import ApiModel, OpenUnion


    class Shared(ApiModel):
        x: int


    class StepA(ApiModel):
        shared: Shared
        own: int


    class StepB(ApiModel):
        shared: Shared


    class Unknown(ApiModel):
        pass


    if TYPE_CHECKING:
        Step = StepA | StepB | Unknown
    else:
        Step = Annotated[
            Any, OpenUnion("Step", "$type", "field_type", {"a": "StepA"}, Unknown, lazy=True)
        ]
    """The union."""


    class Root(ApiModel):
        steps: list[Step]


    Root.model_rebuild()
    '''
)


def test_definitions_keep_docstrings_rebuilds_and_typing_only_names() -> None:
    imports, defs = split.definitions(SOURCE)
    assert "from civitai_app_sdk_generated._base import" in imports
    by_name = {d.name: d for d in defs}
    assert list(by_name) == ["Shared", "StepA", "StepB", "Unknown", "Step", "Root"]
    assert '"""The union."""' in by_name["Step"].text
    assert by_name["Root"].rebuild == "Root.model_rebuild()"
    assert "model_rebuild" not in by_name["Root"].text
    assert by_name["Step"].needs == {"Unknown"}
    assert by_name["Step"].static == {"StepA", "StepB"}
    assert by_name["StepA"].needs == {"Shared"}


def test_members_of_a_lazy_union_own_their_closure() -> None:
    _, defs = split.definitions(SOURCE)
    owned = split.owners(defs)
    assert owned["StepA"] == {"StepA"}
    assert owned["Shared"] == {"StepA", "StepB"}
    assert owned["Unknown"] == {"Root"}
    assert owned["Step"] == {"Root"}


def test_chunks_group_by_owners_and_import_without_cycles() -> None:
    modules, _ = split.split(SOURCE, "# header")
    names = sorted(m for m in modules if m.startswith("_models.") and not m.endswith("__init__"))
    assert names == ["_models.root", "_models.shared", "_models.step_a", "_models.step_b"]
    root = modules["_models.root"]
    assert "class Root" in root
    assert "class Unknown" in root
    assert "from civitai_app_sdk_generated._models.step_a" not in root.split("if TYPE_CHECKING:")[0]
    assert "from civitai_app_sdk_generated._models.step_a import StepA" in root
    assert (
        "from civitai_app_sdk_generated._models.shared import Shared" in modules["_models.step_a"]
    )
    facade = modules["models"]
    assert "from civitai_app_sdk_generated._models.step_a import StepA as StepA" in facade


def test_an_unknown_top_level_statement_is_refused() -> None:
    with pytest.raises(ValueError, match="unexpected top-level statement"):
        split.definitions("x = 1\nprint(x)\n")


@pytest.mark.parametrize(
    ("name", "expected"),
    [("TextToImageStep", "text_to_image_step"), ("AIRecognitionResult", "ai_recognition_result")],
)
def test_snake(name: str, expected: str) -> None:
    assert split.snake(name) == expected  # the naming the operation layer uses too


NESTED = textwrap.dedent(
    """
    from typing import TYPE_CHECKING, Annotated, Any

    from civitai_app_sdk_generated._base import ApiModel, OpenUnion


    class Unknown(ApiModel):
        pass


    class Leaf(ApiModel):
        y: int


    if TYPE_CHECKING:
        Inner = Leaf | Unknown
    else:
        Inner = Annotated[Any, OpenUnion("Inner", "t", "t", {"l": "Leaf"}, Unknown, lazy=True)]


    class Shared(ApiModel):
        x: int


    class StepA(ApiModel):
        shared: Shared
        inner: Inner


    class StepB(ApiModel):
        shared: Shared


    if TYPE_CHECKING:
        Step = StepA | StepB | Unknown
    else:
        Step = Annotated[
            Any, OpenUnion("Step", "$type", "field_type", {"a": "StepA"}, Unknown, lazy=True)
        ]


    class Root(ApiModel):
        steps: list[Step]
    """
)


def test_lazy_holders_are_the_models_holding_a_lazy_union_inner_first() -> None:
    _, defs = split.definitions(SOURCE)
    assert split.lazy_holders(defs) == ("Root",)
    _, nested = split.definitions(NESTED)
    holders = split.lazy_holders(nested)
    assert set(holders) == {"StepA", "Root"}  # not Shared, Leaf or StepB: they hold none
    assert holders.index("StepA") < holders.index("Root")  # reached through Step's members


CYCLE = textwrap.dedent(
    """
    from typing import Literal, Optional

    from civitai_app_sdk_generated._base import ApiModel


    class Node(ApiModel):
        edge: Optional["Edge"] = None
        kind: Literal["Leaf"] = "Leaf"


    class Edge(ApiModel):
        to: Optional[Node] = None
        more: Optional[list["Leaf"]] = None


    class Leaf(ApiModel):
        edge: Edge | None = None


    class Root(ApiModel):
        node: Node | None = None


    Node.model_rebuild()
    Edge.model_rebuild()
    """
)


def test_models_that_refer_to_each_other_share_a_module_and_rebuild_last(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A forward reference (`Optional["Edge"]`) was not counted as a use: Node went to a
    # module of its own without Edge, and `Node.model_rebuild()` ran before Edge existed,
    # so importing the generated package failed (PydanticUndefinedAnnotation).
    _, defs = split.definitions(CYCLE)
    by_name = {d.name: d for d in defs}
    assert by_name["Node"].needs == {"Edge"}  # not "Leaf": a Literal holds values
    assert by_name["Edge"].needs == {"Node", "Leaf"}
    modules, _ = split.split(CYCLE, "# header")
    chunks = [m for m in modules if m.startswith("_models.") and not m.endswith("__init__")]
    assert chunks == ["_models.root"]
    source = modules["_models.root"]
    assert [line for line in source.splitlines() if line][-2:] == [
        "Node.model_rebuild()",
        "Edge.model_rebuild()",
    ]
    (tmp_path / "split_cycle_chunk.py").write_text(source)
    monkeypatch.syspath_prepend(tmp_path)
    chunk = importlib.import_module("split_cycle_chunk")
    root = chunk.Root.model_validate(
        {"node": {"edge": {"to": {"kind": "Leaf"}, "more": [{"edge": {}}]}}}
    )
    assert root.node.edge.more[0].edge.to is None


def test_a_quoted_annotation_of_its_own_is_a_use() -> None:
    # `template: "WorkflowStepTemplate"` (the generator quotes a name defined further down)
    # was not counted: its module neither defined nor imported WorkflowStepTemplate, and
    # `mypy --strict` failed on the generated package after an additive release.
    source = CYCLE.replace('edge: Optional["Edge"] = None', 'edge: "Edge"')
    by_name = {d.name: d for d in split.definitions(source)[1]}
    assert by_name["Node"].needs == {"Edge"}
