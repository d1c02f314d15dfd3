"""Turn datamodel-code-generator's module into the lenient one we ship.

Open enums and `str`-safe member names come from the generator itself (our
`templates/datamodel/Enum.jinja2` and `--additional-imports`, see `codegen.models`).
What is left here works on the parsed module: `tagged_unions` makes each discriminated
union an `OpenUnion` with an `Unknown<D>` fallback, so an unknown tag parses into the
fallback instead of failing, and orders definitions so each name exists before use;
unions with many members load a member only when a value of it is first met (`lazy`).
`default_factories` gives each field whose default is an empty `{}` or `[]` a factory.
"""

from __future__ import annotations

import ast
import heapq
from dataclasses import dataclass

from codegen.normalize import Union_, UnsupportedSpecError
from codegen.render import render, source_lines

LAZY_UNION_MEMBERS = 8
"""Unions with at least this many members resolve them on first use (see `OpenUnion`)."""


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
    raise UnsupportedSpecError(f"no member of {union.name} has a field for {union.prop!r}")


@dataclass
class _Chunk:
    """A top-level statement (with its docstring and leading comments) of the module."""

    index: int
    name: str | None
    lines: list[str]
    references: set[str]


def _names_in(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _chunks(source: str, tree: ast.Module | None = None) -> list[_Chunk]:
    """Split a module into top-level statements; a docstring joins the statement before."""
    tree = tree or ast.parse(source)
    lines = source_lines(source)
    starts = [node.lineno - 1 for node in tree.body] + [len(lines)]
    starts[0] = 0
    chunks: list[_Chunk] = []
    for i, node in enumerate(tree.body):
        text = lines[starts[i] : starts[i + 1]]
        is_doc = isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        if is_doc and chunks and chunks[-1].name is not None:
            chunks[-1].lines.extend(text)
            continue
        name = node.name if isinstance(node, ast.ClassDef) else _assigned_name(node)
        chunks.append(_Chunk(len(chunks), name, text, _names_in(node)))
    return chunks


def _assigned_name(node: ast.stmt) -> str | None:
    if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
        return node.targets[0].id
    return None


def definition_order(chunks: list[_Chunk]) -> list[_Chunk]:
    """Reorder so that every statement follows the names it uses (stable otherwise).

    The module is evaluated top to bottom, without postponed annotations (they cost a
    `compile` per field at import time), so each name must exist before it is used.
    """
    defined = {c.name: c for c in chunks if c.name is not None}
    waiting_on = {
        c.index: {defined[n].index for n in c.references if n in defined} - {c.index}
        for c in chunks
    }
    users: dict[int, list[int]] = {}
    for index, needs in waiting_on.items():
        for need in needs:
            users.setdefault(need, []).append(index)
    ready = [c.index for c in chunks if not waiting_on[c.index]]
    heapq.heapify(ready)
    ordered: list[_Chunk] = []
    while ready:
        index = heapq.heappop(ready)
        ordered.append(chunks[index])
        for user in users.get(index, []):
            waiting_on[user].discard(index)
            if not waiting_on[user]:
                heapq.heappush(ready, user)
    if len(ordered) != len(chunks):
        stuck = sorted(str(c.name) for c in chunks if waiting_on[c.index])[:10]
        raise ValueError(f"circular definitions in the generated module: {stuck}")
    return ordered


def tagged_unions(
    source: str, unions: dict[str, Union_], requests: frozenset[str] = frozenset()
) -> str:
    """Replace each union alias with a tagged union that has an unknown-tag fallback.

    A lazy union outside ``requests`` reads leniently (unknown fields kept) even when the
    caller passes no ``extra=``, as a plain ``TypeAdapter(Workflow)`` does.
    """
    tree = ast.parse(source)
    fields = field_attributes(tree)
    chunks = _chunks(source, tree)
    found = {c.name for c in chunks} & set(unions)
    if found != set(unions):
        raise ValueError(f"generator emitted no alias for unions: {sorted(set(unions) - found)}")
    for chunk in chunks:
        if chunk.name in unions:
            union = unions[chunk.name]
            members = sorted({target for _, target in union.mapping})
            rendered = render(
                "union.py.j2",
                union=union,
                attr=_attribute_for(union, unions, fields),
                members=members,
                lazy=len(members) >= LAZY_UNION_MEMBERS,
                lenient=union.name not in requests,
                description=union.description,
            )
            chunk.lines = ["", "", *source_lines(rendered.rstrip("\n"))]
            chunk.references = _names_in(ast.parse(rendered))
    return "\n".join(line for c in definition_order(chunks) for line in c.lines) + "\n"


_FACTORY_CONFLICTS = frozenset({"default", "default_factory", "json_schema_extra"})
"""`Field` arguments in an annotation that the assigned factory's `Field` would contradict."""


LIST_FACTORY = "_new_list"
"""The generated `_base`'s factory of an empty list (see `default_factories`)."""
_LIST_FACTORY_IMPORT = f"from civitai_app_sdk_generated._base import {LIST_FACTORY}"


def _empty_container(node: ast.expr) -> str | None:
    """The factory of `node`'s value when it is the literal `{}` or `[]`."""
    if isinstance(node, ast.Dict) and not node.keys:
        return "dict"
    if isinstance(node, ast.List) and not node.elts:
        return LIST_FACTORY
    return None


def _factory_field(item: ast.AnnAssign, factory: str) -> str:
    """The `Field(...)` that replaces the empty default of `item`.

    A `Field` in the annotation (`validate_default=True`) stays: pydantic merges it with
    the assigned one, which may then bring only what the annotation's does not say.
    """
    for call in ast.walk(item.annotation):
        if (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Name)
            and call.func.id == "Field"
        ):
            clash = sorted(_FACTORY_CONFLICTS & {kw.arg for kw in call.keywords if kw.arg})
            if clash:
                target = ast.unparse(item.target)
                raise UnsupportedSpecError(f"field {target!r} already has {clash} in its Field")
    empty = "{}" if factory == "dict" else "[]"
    return f'Field(default_factory={factory}, json_schema_extra={{"default": {empty}}})'


def default_factories(source: str) -> str:
    """Give each model field whose default is `{}` or `[]` a `Field(default_factory=...)`.

    pydantic deep-copies an unhashable default (a Python `copy.deepcopy` call) each time
    a read misses the field: a workflow answer without the six such fields it and its
    step have read 1.4x slower than with them. A factory builds the empty value directly;
    the JSON schema keeps its `"default": {}` (or `[]`) through `json_schema_extra`, and
    each instance still gets its own container.

    A list comes from `_base._new_list`, not from `list`: pydantic reads each factory's
    signature when it builds a schema, and `list`'s is parsed from its text form
    (`inspect` compiles tokenize's regular expressions for it, about 5 ms the first
    time in a process, so in the first read of a workflow). `dict` has no text
    signature to parse.
    """
    tree = ast.parse(source)
    lines = source_lines(source)
    edits = [
        (item.value, _factory_field(item, factory))
        for node in tree.body
        if isinstance(node, ast.ClassDef)
        for item in node.body
        if isinstance(item, ast.AnnAssign)
        and item.value is not None
        and (factory := _empty_container(item.value))
    ]
    for value, text in reversed(edits):  # from the end: earlier offsets stay valid
        first, last = value.lineno - 1, (value.end_lineno or value.lineno) - 1
        head = lines[first].encode("utf-8")[: value.col_offset]  # ast counts UTF-8 bytes
        tail = lines[last].encode("utf-8")[value.end_col_offset or 0 :]
        lines[first : last + 1] = [head.decode("utf-8") + text + tail.decode("utf-8")]
    imports = [node for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)]
    added = [] if any(_imports_field(node) for node in imports) else ["from pydantic import Field"]
    if any(LIST_FACTORY in text for _, text in edits):
        added.append(_LIST_FACTORY_IMPORT)
    if edits and added:
        futures = [node for node in imports if getattr(node, "module", None) == "__future__"]
        at = futures[-1].lineno if futures else imports[0].lineno - 1 if imports else 0
        lines[at:at] = added  # after `from __future__` ones
    return "\n".join(lines) + "\n"


def _imports_field(node: ast.Import | ast.ImportFrom) -> bool:
    return (
        isinstance(node, ast.ImportFrom)
        and node.module == "pydantic"
        and any(alias.name == "Field" and alias.asname is None for alias in node.names)
    )


def postprocess(source: str, unions: dict[str, Union_], requests: frozenset[str]) -> str:
    """All source transformations of the generator's module."""
    return default_factories(tagged_unions(source, unions, requests))
