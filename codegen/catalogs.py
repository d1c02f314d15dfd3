"""Build the step-type and engine catalogs from the normalised spec (pure data)."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any

from codegen.normalize import REF_PREFIX, Union_, UnsupportedSpecError

STEP_UNION = "WorkflowStep"
TEMPLATE_UNION = "WorkflowStepTemplate"
GEN_ROOTS = {"image": "ImageGenInput", "video": "VideoGenInput"}


@dataclass(frozen=True)
class StepEntry:
    """One workflow step `$type` and the models that describe it."""

    type: str
    description: str
    step: str
    template: str
    input: str
    output: str | None


@dataclass(frozen=True)
class Variant:
    """One leaf input of a generation tree, with the discriminator values that select it."""

    selectors: tuple[tuple[str, str], ...]
    model: str
    description: str


@dataclass(frozen=True)
class Engine:
    """One engine of imageGen or videoGen and its leaf variants."""

    name: str
    model: str
    description: str
    variants: tuple[Variant, ...]


@dataclass(frozen=True)
class Catalog:
    """Everything the catalog templates render."""

    steps: tuple[StepEntry, ...]
    engines: dict[str, tuple[Engine, ...]]


def _target(prop: Any) -> str | None:
    """The schema a property refers to, through a nullable `anyOf` if needed."""
    if not isinstance(prop, dict):
        return None
    if "$ref" in prop:
        return str(prop["$ref"]).removeprefix(REF_PREFIX)
    for option in prop.get("anyOf", []) + prop.get("oneOf", []):
        if "$ref" in option:
            return str(option["$ref"]).removeprefix(REF_PREFIX)
    return None


def _scalar(prop: Any, step: str, tag: str) -> str:
    """The Python type name of a step input that is not a model (e.g. a URL string)."""
    kinds = {"string": "str", "integer": "int", "number": "float", "boolean": "bool"}
    if isinstance(prop, dict) and prop.get("type") in kinds:
        return kinds[prop["type"]]
    raise UnsupportedSpecError(f"step {tag!r} ({step}) has no usable input schema")


def _description(schema: dict[str, Any], fallback: str) -> str:
    text = str(schema.get("description") or fallback).strip()
    return " ".join(text.split())


def step_entries(schemas: dict[str, Any], unions: dict[str, Union_]) -> tuple[StepEntry, ...]:
    """Every step type with its step, template, input and output model names."""
    templates = dict(unions[TEMPLATE_UNION].mapping)
    untemplated = sorted(tag for tag, _ in unions[STEP_UNION].mapping if tag not in templates)
    if untemplated:
        raise UnsupportedSpecError(
            f"step types without a {TEMPLATE_UNION} (how they are submitted): {untemplated}; "
            "map each in its discriminator (codegen/patches.toml) or leave it out of "
            f"{STEP_UNION}'s"
        )
    entries = []
    for tag, step in unions[STEP_UNION].mapping:
        props = schemas[step].get("properties", {})
        input_name = _target(props.get("input")) or _scalar(props.get("input"), step, tag)
        description = _description(schemas[step], "")
        if not description or description == tag:
            description = _description(schemas.get(input_name, {}), tag)
        entries.append(
            StepEntry(
                tag, description, step, templates[tag], input_name, _target(props.get("output"))
            )
        )
    return tuple(entries)


def _leaves(
    name: str, schemas: dict[str, Any], unions: dict[str, Union_], path: tuple[tuple[str, str], ...]
) -> list[Variant]:
    union = unions.get(name)
    if union is None:
        return [Variant(path, name, _description(schemas[name], name))]
    found: list[Variant] = []
    for tag, target in union.mapping:
        found.extend(_leaves(target, schemas, unions, (*path, (union.prop, tag))))
    return found


def engines(root: str, schemas: dict[str, Any], unions: dict[str, Union_]) -> tuple[Engine, ...]:
    """The engines under a generation root, each with its leaf inputs."""
    top = unions[root]
    return tuple(
        Engine(
            name=tag,
            model=target,
            description=_description(schemas[target], tag)
            if target not in unions
            else f"{root} engine {tag!r}",
            variants=tuple(_leaves(target, schemas, unions, ((top.prop, tag),))),
        )
        for tag, target in top.mapping
    )


def build_catalogs(spec: dict[str, Any], unions: dict[str, Union_]) -> Catalog:
    """Step types and engine trees from the normalised spec."""
    schemas = spec["components"]["schemas"]
    return Catalog(
        steps=step_entries(schemas, unions),
        engines={kind: engines(root, schemas, unions) for kind, root in GEN_ROOTS.items()},
    )


def _top_level(body: list[ast.stmt]) -> list[ast.stmt]:
    """Statements at top level, looking into the run-time branch of `if TYPE_CHECKING:`."""
    found: list[ast.stmt] = []
    for node in body:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name):
            found.extend(node.orelse if node.test.id == "TYPE_CHECKING" else [])
        else:
            found.append(node)
    return found


def exported_names(source: str) -> list[str]:
    """Public names a generated module defines at top level, in source order."""
    names: list[str] = []
    for node in _top_level(ast.parse(source).body):
        if isinstance(node, ast.ClassDef | ast.FunctionDef):
            names.append(node.name)
        elif isinstance(node, ast.Assign):
            names.extend(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.append(node.target.id)
    return [n for n in names if not n.startswith("_")]


def name_homes(modules: dict[str, str]) -> dict[str, str]:
    """Public name -> the module (of `modules`, name -> source) that defines it."""
    homes: dict[str, str] = {}
    for module, source in sorted(modules.items()):
        for name in exported_names(source):
            if homes.setdefault(name, module) != module:
                raise UnsupportedSpecError(
                    f"{name} is defined in both {homes[name]} and {module}: a schema may not "
                    "take the name of one of the package's own definitions (rename it with a "
                    "patch in codegen/patches.toml)"
                )
    return homes
