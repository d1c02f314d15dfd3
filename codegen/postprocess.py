"""Turn datamodel-code-generator's module into the lenient one we ship.

Pure functions from source text to source text:
- `open_enums`: generated enums accept values the spec does not list yet;
- `safe_enum_members`: no enum member shadows a `str` method;
- `tagged_unions`: each discriminated union gets an `Unknown<D>` member and a
  discriminator function, so an unknown tag parses into the fallback instead of failing;
- `add_imports`: what the two steps above need.
"""

from __future__ import annotations

import ast
import re

from codegen.normalize import Union_
from codegen.render import render

_ENUM_BASES = {"StrEnum": "OpenStrEnum", "IntEnum": "OpenIntEnum", "Enum": "OpenEnum"}
_ENUM_CLASS = re.compile(r"^class (\w+)\((StrEnum|IntEnum|Enum)\):$", re.MULTILINE)
_STR_ATTRIBUTES = frozenset(dir(str))
_FIRST_IMPORT = re.compile(r"^from __future__ import annotations\n", re.MULTILINE)


def open_enums(source: str) -> str:
    """Rebase every generated enum on the open variant of its kind."""
    return _ENUM_CLASS.sub(lambda m: f"class {m[1]}({_ENUM_BASES[m[2]]}):", source)


def safe_enum_members(source: str) -> str:
    """Rename string-enum members that would shadow a `str` method (`replace` -> `replace_`)."""
    lines = source.splitlines()
    for node in ast.parse(source).body:
        if not isinstance(node, ast.ClassDef):
            continue
        if not any(isinstance(b, ast.Name) and b.id == "OpenStrEnum" for b in node.bases):
            continue
        for item in node.body:
            if isinstance(item, ast.Assign) and isinstance(item.targets[0], ast.Name):
                name = item.targets[0].id
                if name in _STR_ATTRIBUTES:
                    row = item.lineno - 1
                    lines[row] = lines[row].replace(f"{name} =", f"{name}_ =", 1)
    return "\n".join(lines) + "\n"


def field_attributes(tree: ast.Module) -> dict[str, dict[str, str]]:
    """Per class: JSON name (alias, or the field name itself) -> Python attribute."""
    found: dict[str, dict[str, str]] = {}
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        names: dict[str, str] = {}
        for item in node.body:
            if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                attr = item.target.id
                names[attr] = attr
                for call in ast.walk(item.annotation):
                    if isinstance(call, ast.Call):
                        for kw in call.keywords:
                            if kw.arg == "alias" and isinstance(kw.value, ast.Constant):
                                names[str(kw.value.value)] = attr
        found[node.name] = names
    return found


def _attribute_for(
    union: Union_, unions: dict[str, Union_], fields: dict[str, dict[str, str]]
) -> str:
    for _, target in union.mapping:
        while target in unions:
            target = unions[target].mapping[0][1]
        if union.prop in fields.get(target, {}):
            return fields[target][union.prop]
    raise ValueError(f"no member of {union.name} has a field for {union.prop!r}")


def _alias_spans(tree: ast.Module, names: set[str]) -> dict[str, tuple[int, int]]:
    """Line span of each union alias, including the docstring that follows it."""
    spans: dict[str, tuple[int, int]] = {}
    body = tree.body
    for index, node in enumerate(body):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name) and target.id in names:
                end = node.end_lineno or node.lineno
                after = body[index + 1] if index + 1 < len(body) else None
                if isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant):
                    end = after.end_lineno or end
                spans[target.id] = (node.lineno, end)
    return spans


def dependency_order(unions: dict[str, Union_]) -> list[str]:
    """Union names with every nested union before the unions that contain it."""
    ordered: list[str] = []

    def visit(name: str) -> None:
        if name in ordered:
            return
        for _, target in unions[name].mapping:
            if target in unions:
                visit(target)
        ordered.append(name)

    for name in sorted(unions):
        visit(name)
    return ordered


def tagged_unions(source: str, unions: dict[str, Union_]) -> str:
    """Replace each union alias with a tagged union that has an unknown-tag fallback.

    The unions move to the end of the module, nested ones first: their members (the
    `Unknown<D>` fallbacks included) must exist when each alias is evaluated.
    """
    tree = ast.parse(source)
    fields = field_attributes(tree)
    spans = _alias_spans(tree, set(unions))
    missing = set(unions) - set(spans)
    if missing:
        raise ValueError(f"generator emitted no alias for unions: {sorted(missing)}")
    lines = source.splitlines()
    for start, end in sorted(spans.values(), reverse=True):
        del lines[start - 1 : end]
    for name in dependency_order(unions):
        union = unions[name]
        text = render(
            "union.py.j2",
            union=union,
            attr=_attribute_for(union, unions, fields),
            members=sorted({target for _, target in union.mapping}),
            description=union.description,
        )
        lines.extend(["", "", *text.rstrip("\n").splitlines()])
    return "\n".join(lines) + "\n"


def add_imports(source: str) -> str:
    """Import the open enums, the tagger and pydantic's union helpers."""
    extra = (
        "from __future__ import annotations\n\n"
        "from pydantic import Discriminator, Tag\n\n"
        "from civitai_app_sdk_generated._base import (\n"
        "    UNKNOWN_TAG, OpenEnum, OpenIntEnum, OpenStrEnum, tagger,\n"
        ")\n"
    )
    result, count = _FIRST_IMPORT.subn(extra, source, count=1)
    if count != 1:
        raise ValueError("generated module has no `from __future__ import annotations`")
    return result


def postprocess(source: str, unions: dict[str, Union_]) -> str:
    """All source transformations, in order."""
    return add_imports(tagged_unions(safe_enum_members(open_enums(source)), unions))
