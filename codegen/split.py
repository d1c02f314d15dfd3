"""Split the generated models into small modules, so a process builds only what it reads.

Pure functions from the post-processed model source to module texts:
- `definitions`: the module's top-level definitions, each with the names it needs at run
  time and those only a type checker reads (the members of a `LazyUnion`);
- `owners`: for each definition, the entry points (definitions nothing needs at run time)
  that reach it;
- `split`: one module per set of owners, under `_models/`, importing what it needs from
  the others. Names reached from the same entry points live together, and a module
  imports only modules whose owners include its own, so there are no import cycles.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from codegen.normalize import UnsupportedSpecError
from codegen.operations import snake
from codegen.render import source_lines

PACKAGE_NAME = "civitai_app_sdk_generated"
CHUNK_PACKAGE = "_models"
"""Sub-package of the generated package that holds the split model modules."""


@dataclass(frozen=True)
class Definition:
    """A top-level definition: its name, source lines and the names it uses, and its
    `model_rebuild()` call (which must follow every model its forward references name)."""

    name: str
    text: str
    needs: frozenset[str]
    static: frozenset[str]
    rebuild: str = ""


def _names(nodes: Iterable[ast.AST]) -> set[str]:
    """Names used in `nodes`, forward references (`Optional["B"]`) included."""
    found: set[str] = set()
    for node in nodes:
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name):
                found.add(sub.id)
            elif isinstance(sub, ast.Subscript) and not _is_literal(sub):
                found.update(_forward_references(sub.slice))
            elif isinstance(sub, ast.AnnAssign):  # `template: "WorkflowStepTemplate"`
                found.update(_forward_references(sub.annotation))
    return found


def _is_literal(node: ast.Subscript) -> bool:
    """`Literal[...]`: its strings are values, not names."""
    return isinstance(node.value, ast.Name) and node.value.id == "Literal"


def _forward_references(node: ast.expr) -> set[str]:
    """Names in a quoted annotation, or in those directly in a subscript (`list["B"]`)."""
    parts = node.elts if isinstance(node, ast.Tuple) else [node]
    found: set[str] = set()
    for part in parts:
        if isinstance(part, ast.Constant) and isinstance(part.value, str):
            try:
                quoted = ast.parse(part.value, mode="eval")
            except SyntaxError:
                continue
            found |= _names([quoted])
    return found


def _defined_name(node: ast.stmt) -> str | None:
    if isinstance(node, ast.ClassDef):
        return node.name
    if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
        return node.targets[0].id
    typing_guard = isinstance(node, ast.If) and isinstance(node.test, ast.Name)
    if typing_guard and node.test.id == "TYPE_CHECKING" and node.orelse:  # type: ignore[attr-defined]
        return _defined_name(node.orelse[0])  # type: ignore[attr-defined]
    return None


def _rebuilt_model(node: ast.stmt) -> str | None:
    """`Name` for a `Name.model_rebuild()` statement."""
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        func = node.value.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            return func.value.id
    return None


def _segment(lines: list[str], node: ast.stmt) -> str:
    return "\n".join(lines[node.lineno - 1 : node.end_lineno])


def definitions(source: str) -> tuple[str, list[Definition]]:
    """The import block and the definitions of a generated model module, in order."""
    tree = ast.parse(source)
    lines = source_lines(source)
    imports: list[str] = []
    parts: dict[str, list[ast.stmt]] = {}
    order: list[str] = []
    last: str | None = None
    for node in tree.body:
        segment = "\n".join(lines[node.lineno - 1 : node.end_lineno])
        if isinstance(node, ast.Import | ast.ImportFrom):
            imports.append(segment)
            continue
        name = _defined_name(node) or _rebuilt_model(node)
        if name is None:
            docstring = isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
            if last is None or not docstring:
                raise ValueError(f"unexpected top-level statement at line {node.lineno}")
            name = last  # an attribute docstring belongs to the definition above
        if name not in parts:
            parts[name] = []
            order.append(name)
        parts[name].append(node)
        last = name
    known = set(order)
    result = []
    for name in order:
        rebuilds = [n for n in parts[name] if _rebuilt_model(n) == name]
        nodes = [n for n in parts[name] if n not in rebuilds]
        runtime: list[ast.AST] = []
        typing_only: list[ast.AST] = []
        for node in nodes:
            if isinstance(node, ast.If):
                typing_only.extend(node.body)
                runtime.extend(node.orelse)
            else:
                runtime.append(node)
        needs = (_names(runtime) & known) - {name}
        static = (_names(typing_only) & known) - needs - {name}
        text, rebuild = (
            "\n".join(_segment(lines, n) for n in found) for found in (nodes, rebuilds)
        )
        result.append(Definition(name, text, frozenset(needs), frozenset(static), rebuild))
    return "\n".join(imports), result


def owners(defs: list[Definition]) -> dict[str, frozenset[str]]:
    """Each definition's owners: the entry points whose run-time closure holds it."""
    needed = {n for d in defs for n in d.needs}
    by_name = {d.name: d for d in defs}
    found: dict[str, set[str]] = defaultdict(set)
    for root in (d.name for d in defs if d.name not in needed):
        stack = [root]
        while stack:
            name = stack.pop()
            if root in found[name]:
                continue
            found[name].add(root)
            stack.extend(by_name[name].needs)
    return {name: frozenset(found[name]) for name in by_name}


def lazy_holders(defs: list[Definition]) -> tuple[str, ...]:
    """Models whose validators hold a lazy union, each after the models it reaches.

    Rebuilt in this order once a lazy union has built new members, their validators read
    those members natively (see `OpenUnion`). A lazy union is the only kind of definition
    with names only a type checker reads.
    """
    by_name = {d.name: d for d in defs}
    holding = {d.name for d in defs if d.static}
    grew = True
    while grew:
        more = {d.name for d in defs if d.needs & holding} - holding
        holding |= more
        grew = bool(more)
    order: list[str] = []
    seen: set[str] = set()
    for root in by_name:
        stack = [(root, False)]
        while stack:
            name, done = stack.pop()
            if done:
                if name in holding and by_name[name].text.startswith("class "):
                    order.append(name)
                continue
            if name in seen:
                continue
            seen.add(name)
            stack.append((name, True))
            reached = by_name[name].needs | by_name[name].static
            stack.extend((n, False) for n in sorted(reached, reverse=True) if n not in seen)
    return tuple(order)


def chunks(defs: list[Definition]) -> dict[str, list[Definition]]:
    """Module name -> its definitions (source order), one module per owner set.

    A module owned by one entry point is named after it (`text_to_image_step`); a shared
    one after its first definition.
    """
    owned = owners(defs)
    groups: dict[frozenset[str], list[Definition]] = defaultdict(list)
    for definition in defs:
        groups[owned[definition.name]].append(definition)
    named: dict[str, list[Definition]] = {}
    for key, group in groups.items():
        module = snake(next(iter(key)) if len(key) == 1 else group[0].name)
        if module in named:
            both = sorted(d.name for d in (named[module][0], group[0]))
            raise UnsupportedSpecError(f"{both[0]} and {both[1]} would share the module {module}")
        named[module] = group
    return named


def _import_lines(names: set[str], home: dict[str, str], here: str) -> list[str]:
    by_module: dict[str, list[str]] = defaultdict(list)
    for name in names:
        if home[name] != here:
            by_module[home[name]].append(name)
    return [
        f"from {PACKAGE_NAME}.{CHUNK_PACKAGE}.{module} import {', '.join(sorted(found))}"
        for module, found in sorted(by_module.items())
    ]


def render_chunk(
    header: str, imports: str, module: str, group: list[Definition], home: dict[str, str]
) -> str:
    """The source of one split module."""
    runtime = set().union(*(d.needs for d in group))
    static = set().union(*(d.static for d in group)) - runtime
    lines = [header, "", imports]
    lines += _import_lines(runtime, home, module)
    typing_only = _import_lines(static, home, module)
    if typing_only:
        lines += ["", "if TYPE_CHECKING:", *(f"    {line}" for line in typing_only)]
    # Rebuilds last: a model's forward references may name any model of its module.
    body = "\n\n\n".join([d.text for d in group] + [d.rebuild for d in group if d.rebuild])
    return "\n".join(lines) + "\n\n\n" + body + "\n"


def render_facade(header: str, home: dict[str, str]) -> str:
    """`models`: every split name for type checkers; the package loads them at run time."""
    lines = [
        header,
        '"""Every generated model (split into `_models/`), loaded on first use."""',
        "",
        "from __future__ import annotations",
        "",
        "from typing import TYPE_CHECKING, Any",
        "",
        f"import {PACKAGE_NAME} as _package",
        "",
        "if TYPE_CHECKING:",
    ]
    by_module: dict[str, list[str]] = defaultdict(list)
    for name, module in home.items():
        by_module[module].append(name)
    for module, names in sorted(by_module.items()):
        aliases = ", ".join(f"{n} as {n}" for n in sorted(names))
        lines.append(f"    from {PACKAGE_NAME}.{CHUNK_PACKAGE}.{module} import {aliases}")
    lines += [
        "",
        "",
        "def __getattr__(name: str) -> Any:",
        "    return getattr(_package, name)",
    ]
    return "\n".join(lines) + "\n"


def split(source: str, header: str) -> tuple[dict[str, str], tuple[str, ...]]:
    """Module path (relative, dotted) -> source, for the facade and every split module;
    and the `lazy_holders`."""
    imports, defs = definitions(source)
    groups = chunks(defs)
    home = {d.name: module for module, group in groups.items() for d in group}
    modules = {
        f"{CHUNK_PACKAGE}.{module}": render_chunk(header, imports, module, group, home)
        for module, group in groups.items()
    }
    modules[f"{CHUNK_PACKAGE}.__init__"] = header + '\n"""Split model modules (see `models`)."""\n'
    modules["models"] = render_facade(header, home)
    return modules, lazy_holders(defs)
