"""Normalise the orchestrator spec into a shape datamodel-code-generator handles.

Each function takes and returns plain JSON data; nothing here touches the disk. In the
order `normalize` runs them:

1. `apply_patches`: JSON-pointer corrections from `patches.toml`, each with a reason.
2. `python_names`: schema names become the class names the generator will keep.
3. `flatten_subtypes`: `allOf: [{$ref: Base}, {ext}]` becomes one object with the base's
   and the extension's properties merged (both parts are closed in the spec, so reading
   them literally rejects every real subtype).
4. `explicit_unions`: every discriminated schema `D` becomes a `oneOf` of its mapped
   subtypes, so every place that references `D` (fields, array items, nested levels) is a
   tagged union; the base's own fields survive as `Unknown<D>`, the lenient fallback for
   tags this spec does not know yet.
5. `open_objects`: drop `additionalProperties: false`; models keep unknown fields on read,
   and requests are checked strictly by `request_problems` in the generated `_base`.
6. `timespans`: `format: date-span` (.NET TimeSpan text) becomes a `TimeSpan` reference.
7. `defaults_optional`: a property with a default is not required (the default applies).
8. `enum_defaults`: a default that is not one of its enum's values is dropped (with a note).
9. `translate_patterns`: .NET regex syntax becomes Python syntax, or the pattern is
   dropped with a note in the description when no engine here can run it.

Before step 9, `check_field_names` and `check_enum_member_names` refuse names that would
meet in Python (the generator would tell them apart by order).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from datamodel_code_generator.format import PythonVersion
from datamodel_code_generator.reference import EnumFieldNameResolver
from datamodel_code_generator.util import camel_to_snake

Json = Any
REF_PREFIX = "#/components/schemas/"
UNKNOWN_PREFIX = "Unknown"
TIMESPAN = "TimeSpan"
# Look-around assertions: pydantic-core's default regex engine cannot run them.
_LOOKAROUND = re.compile(r"\(\?<?[=!]")
_NET_NAMED_GROUP = re.compile(r"\(\?<(?![=!])([A-Za-z_][A-Za-z0-9_]*)>")


class GenerationError(Exception):
    """The spec cannot be generated from as it is: the message says what to change."""


class UnsupportedSpecError(GenerationError, ValueError):
    """The spec uses a shape the pipeline cannot read (an `allOf` of two bases, a cycle of
    `allOf` bases, a `$ref` outside `#/components/schemas/`, names that collide)."""


@dataclass(frozen=True)
class Union_:
    """A discriminated schema: its property and tag -> subtype schema name."""

    name: str
    prop: str
    mapping: tuple[tuple[str, str], ...]
    description: str = ""

    @property
    def fallback(self) -> str:
        """Name of the schema that holds unknown tags."""
        return UNKNOWN_PREFIX + self.name


def ref_name(ref: str) -> str:
    """`#/components/schemas/Foo` -> `Foo`."""
    if not ref.startswith(REF_PREFIX):
        raise UnsupportedSpecError(
            f"unsupported $ref {ref!r}: only {REF_PREFIX}<name> references are supported"
        )
    return ref[len(REF_PREFIX) :]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": REF_PREFIX + name}


def _own_parts(schema: Json, name: str = "") -> tuple[str | None, Json]:
    """Split schema `name` into (base name or None, its own object part)."""
    parts = schema.get("allOf")
    if not parts:
        return None, schema
    refs = [p for p in parts if "$ref" in p]
    own = [p for p in parts if "$ref" not in p]
    if len(refs) != 1 or len(own) > 1:
        raise UnsupportedSpecError(
            f"schema {name or '?'}: unsupported allOf shape {[sorted(p) for p in parts]}; "
            "only allOf: [{$ref: Base}, {own properties}] is supported (a patch in "
            "codegen/patches.toml can rewrite it)"
        )
    merged = dict(own[0]) if own else {}
    for key in ("description", "title"):
        if key in schema:
            merged[key] = schema[key]
    return ref_name(refs[0]["$ref"]), merged


def discriminated_unions(schemas: dict[str, Json]) -> dict[str, Union_]:
    """Every schema declaring a discriminator (at top level or in its own allOf part)."""
    found: dict[str, Union_] = {}
    for name in sorted(schemas):
        _, own = _own_parts(schemas[name], name)
        disc = own.get("discriminator")
        if disc and disc.get("mapping"):
            mapping = tuple(sorted((tag, ref_name(ref)) for tag, ref in disc["mapping"].items()))
            text = " ".join(str(own.get("description") or name).split())
            description = f"{text} (tagged by `{disc['propertyName']}`)."
            found[name] = Union_(name, disc["propertyName"], mapping, description)
    return found


def flatten_subtypes(schemas: dict[str, Json]) -> dict[str, Json]:
    """Merge every `allOf` subtype with its (recursively flattened) base."""
    done: dict[str, Json] = {}
    chain: list[str] = []

    def flat(name: str) -> Json:
        if name in done:
            return done[name]
        if name in chain:
            cycle = " -> ".join([*chain[chain.index(name) :], name])
            raise UnsupportedSpecError(f"schemas that are their own allOf base: {cycle}")
        if name not in schemas:
            raise DanglingReferenceError(f"the spec refers to schemas it does not define: {name}")
        base_name, own = _own_parts(schemas[name], name)
        if base_name is None:
            result = copy.deepcopy(own)
        else:
            chain.append(name)
            base = copy.deepcopy(flat(base_name))
            chain.pop()
            base.pop("discriminator", None)
            base.pop("description", None)
            result = base
            result["properties"] = {**base.get("properties", {}), **own.get("properties", {})}
            required = set(base.get("required", [])) | set(own.get("required", []))
            result["required"] = sorted(required)
            for key, value in own.items():
                if key not in ("properties", "required", "allOf"):
                    result[key] = copy.deepcopy(value)
        done[name] = result
        return result

    return {name: flat(name) for name in schemas}


def _members(name: str, unions: dict[str, Union_]) -> set[str]:
    """`name` itself, or every schema under it when it is a union (nested ones included)."""
    if name not in unions:
        return {name}
    return {leaf for _, target in unions[name].mapping for leaf in _members(target, unions)}


def _pin_tags(schemas: dict[str, Json], unions: dict[str, Union_]) -> None:
    """Give every subtype (down to nested leaves) a fixed value for each discriminator."""
    tags: dict[tuple[str, str], set[str]] = {}
    for union in unions.values():
        for tag, target in union.mapping:
            for member in _members(target, unions) | {target}:
                tags.setdefault((member, union.prop), set()).add(tag)
    for (target, prop), values in sorted(tags.items()):
        props = schemas[target].setdefault("properties", {})
        props[prop] = {"type": "string", "enum": sorted(values)}
        required = set(schemas[target].get("required", [])) | {prop}
        schemas[target]["required"] = sorted(required)


def explicit_unions(schemas: dict[str, Json], unions: dict[str, Union_]) -> dict[str, Json]:
    """Turn each discriminated schema into a tagged union plus an `Unknown<D>` fallback."""
    out = copy.deepcopy(schemas)
    _pin_tags(out, unions)
    for union in unions.values():
        base = out[union.name]
        fallback = {k: v for k, v in base.items() if k != "discriminator"}
        fallback["description"] = (
            f"A `{union.name}` whose `{union.prop}` this SDK does not know yet; "
            "its fields are kept as extra data."
        )
        props = dict(fallback.get("properties", {}))
        props[union.prop] = {"type": "string"}
        fallback["properties"] = props
        out[union.fallback] = fallback
        out[union.name] = {
            "description": base.get("description", union.name),
            "oneOf": [_ref(target) for target in sorted({t for _, t in union.mapping})],
            "discriminator": {
                "propertyName": union.prop,
                "mapping": {tag: REF_PREFIX + target for tag, target in union.mapping},
            },
        }
    return out


def _walk(node: Json) -> Iterator[dict[str, Json]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def translate_pattern(pattern: str) -> tuple[str | None, str | None]:
    """Return (python pattern or None, note) for a .NET `pattern`."""
    if _LOOKAROUND.search(pattern):
        return None, f"The spec's pattern {pattern!r} uses look-around; not checked here."
    translated = _NET_NAMED_GROUP.sub(r"(?P<\1>", pattern)
    re.compile(translated)
    note = None if translated == pattern else "Pattern translated from .NET syntax."
    return translated, note


def translate_patterns(spec: Json) -> tuple[Json, list[str]]:
    """Translate or drop every `pattern`; returns the new spec and notes."""
    out = copy.deepcopy(spec)
    notes: list[str] = []
    for node in _walk(out):
        pattern = node.get("pattern")
        if not isinstance(pattern, str):
            continue
        translated, note = translate_pattern(pattern)
        if translated is None:
            del node["pattern"]
            node["description"] = (node.get("description", "") + f"\n\n{note}").strip()
        else:
            node["pattern"] = translated
        if note:
            notes.append(note)
    return out, sorted(set(notes))


def open_objects(schemas: dict[str, Json]) -> dict[str, Json]:
    """Remove every `additionalProperties: false` (map schemas are left alone)."""
    out = copy.deepcopy(schemas)
    for node in _walk(out):
        if node.get("additionalProperties") is False:
            del node["additionalProperties"]
    return out


def _span_ref(node: Json) -> Json:
    rest = {k: v for k, v in node.items() if k not in ("type", "format")}
    kinds = node.get("type")
    if isinstance(kinds, list) and "null" in kinds:
        return {**rest, "anyOf": [_ref(TIMESPAN), {"type": "null"}]}
    return {**rest, "$ref": REF_PREFIX + TIMESPAN}


def timespans(schemas: dict[str, Json]) -> dict[str, Json]:
    """Point every `format: date-span` string at one `TimeSpan` schema."""
    out = copy.deepcopy(schemas)
    for node in list(_walk(out)):
        for key, value in list(node.items()):
            if isinstance(value, dict) and value.get("format") == "date-span":
                node[key] = _span_ref(value)
    out[TIMESPAN] = {"type": "string", "description": ".NET TimeSpan text, e.g. 00:10:00"}
    return out


def class_name(name: str) -> str:
    """The Python class name for schema `name` (`HappyHorseV1_1` -> `HappyHorseV11`)."""
    return re.sub(r"[^A-Za-z0-9]", "", name)


def python_names(spec: Json) -> Json:
    """Rename schemas whose names are not plain identifiers, rewriting every `$ref`."""
    schemas = spec["components"]["schemas"]
    renames = {n: class_name(n) for n in schemas if class_name(n) != n}
    # Two renamed schemas may meet too (`My-Thing`, `My.Thing`): one would silently replace
    # the other.
    sources: dict[str, list[str]] = {}
    for name in schemas:
        sources.setdefault(renames.get(name, name), []).append(name)
    if "" in sources:
        raise UnsupportedSpecError(f"schema names without a letter or digit: {sources['']}")
    clashes = [f"{new} ({', '.join(sorted(old))})" for new, old in sources.items() if len(old) > 1]
    if clashes:
        listing = "; ".join(sorted(clashes))
        raise UnsupportedSpecError(f"renamed schemas would clash with existing ones: {listing}")
    out = copy.deepcopy(spec)
    out["components"]["schemas"] = {
        renames.get(n, n): s for n, s in out["components"]["schemas"].items()
    }
    for node in _walk(out):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(REF_PREFIX) and ref_name(ref) in renames:
            node["$ref"] = REF_PREFIX + renames[ref_name(ref)]
        disc = node.get("discriminator")
        mapping = disc.get("mapping") if isinstance(disc, dict) else None
        if mapping:
            for tag, ref in mapping.items():
                if ref_name(ref) in renames:
                    mapping[tag] = REF_PREFIX + renames[ref_name(ref)]
    return out


def defaults_optional(schemas: dict[str, Json]) -> dict[str, Json]:
    """Drop from `required` every property that declares a default."""
    out = copy.deepcopy(schemas)
    for node in _walk(out):
        props, required = node.get("properties"), node.get("required")
        if isinstance(props, dict) and isinstance(required, list):
            kept = [
                n
                for n in required
                if not (isinstance(props.get(n), dict) and "default" in props[n])
            ]
            if len(kept) != len(required):
                node["required"] = kept
    return out


def enum_defaults(schemas: dict[str, Json]) -> tuple[dict[str, Json], list[str]]:
    """Drop defaults outside their own enum; the server then applies its default."""
    out = copy.deepcopy(schemas)
    notes: list[str] = []
    for node in _walk(out):
        values = node.get("enum")
        if isinstance(values, list) and "default" in node and node["default"] not in values:
            note = (
                f"The spec's default {node['default']!r} is not one of {values}; not applied here."
            )
            node["description"] = (node.get("description", "") + f"\n\n{note}").strip()
            del node["default"]
            notes.append(note)
    return out, sorted(set(notes))


def field_name(prop: str) -> str:
    """The Python field name the generator derives from property `prop` (before it adds
    `_1`, `_2`... to tell apart names that meet)."""
    return camel_to_snake(re.sub(r"\W", "_", prop))


def check_field_names(schemas: dict[str, Json]) -> None:
    """No two properties of one schema may meet as one Python field name.

    The generator would suffix one of them (`prompt`, `prompt_1`) in sorted order: a new
    `Prompt` beside `prompt` would take over the name `prompt`, and code that set or read
    `prompt` would silently use the new property.
    """
    clashes: set[str] = set()
    for name, schema in schemas.items():
        for node in _walk(schema):
            props = node.get("properties")
            if not isinstance(props, dict):
                continue
            fields: dict[str, list[str]] = {}
            for prop in props:
                fields.setdefault(field_name(prop), []).append(prop)
            clashes.update(
                f"{name}: {', '.join(sorted(found))} -> {field}"
                for field, found in fields.items()
                if len(found) > 1
            )
    if clashes:
        raise UnsupportedSpecError(
            "properties that would share one Python field name (rename one with a patch in "
            f"codegen/patches.toml): {'; '.join(sorted(clashes))}"
        )


_ENUM_NAMES = EnumFieldNameResolver(
    snake_case_field=True, target_python_version=PythonVersion.PY_311
)
_STR_ATTRIBUTES = frozenset(name for name in dir(str) if not name.startswith("_"))


def enum_member_name(value: str, string_enum: bool = True) -> str:
    """The member name the generator and `templates/datamodel/Enum.jinja2` give an enum
    value (or its `x-enum-varnames` entry), before `_1`, `_2`... tell apart names that meet."""
    name = _ENUM_NAMES.get_valid_name(value)
    return name + "_" if string_enum and name in _STR_ATTRIBUTES else name


def check_enum_member_names(schemas: dict[str, Json]) -> None:
    """No two values of one enum may meet as one member name (`Low`, `low` -> `low`).

    The generator would suffix the later one (`low`, `low_1`) in the spec's order, so a
    reordered or new value would move a name to another value. Such values are refused;
    `x-enum-varnames` (set by a patch in codegen/patches.toml) names the members instead.
    """
    clashes: list[str] = []
    for name, schema in sorted(schemas.items()):
        for node in _walk(schema):
            values, names = node.get("enum"), node.get("x-enum-varnames") or []
            if not isinstance(values, list) or not isinstance(names, list):
                continue
            texts = [v for v in values if v is not None]
            string_enum = all(isinstance(v, str) for v in texts)
            members: dict[str, list[str]] = {}
            for i, value in enumerate(texts):
                given = names[i] if i < len(names) and isinstance(names[i], str) else None
                if isinstance(value, str):
                    member = enum_member_name(given or value, string_enum)
                    members.setdefault(member, []).append(value)
            clashes.extend(
                f"{name}: {', '.join(repr(v) for v in sorted(found))} -> {member}"
                for member, found in sorted(members.items())
                if len(found) > 1
            )
    if clashes:
        raise UnsupportedSpecError(
            "enum values that would share one member name (name the members with "
            f"`x-enum-varnames` in a patch in codegen/patches.toml): {'; '.join(clashes)}"
        )


def pointer_parts(pointer: str) -> list[str]:
    """Split an RFC 6901 JSON pointer into unescaped parts."""
    if not pointer.startswith("/"):
        raise ValueError(f"JSON pointer must start with '/': {pointer!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in pointer[1:].split("/")]


class PatchMismatchError(GenerationError, KeyError):
    """A patch in codegen/patches.toml no longer matches the spec."""

    def __str__(self) -> str:
        return str(self.args[0])


class DanglingReferenceError(GenerationError, ValueError):
    """The spec refers to a schema it does not define."""


def apply_patches(spec: Json, patches: list[dict[str, Any]]) -> Json:
    """Apply `{op: set|remove, path, value?, reason}` patches; each must match."""
    out = copy.deepcopy(spec)
    for patch in patches:
        if not patch.get("reason"):
            raise ValueError(f"patch {patch.get('path')!r} has no reason")
        *parents, last = pointer_parts(patch["path"])
        node = out
        try:
            for part in parents:
                node = node[int(part)] if isinstance(node, list) else node[part]
            if patch["op"] == "remove":
                del node[last]
        except (KeyError, IndexError, ValueError, TypeError):
            raise PatchMismatchError(
                f"codegen/patches.toml: {patch['path']} is not in the spec, so the patch "
                f"({patch['reason']}) no longer applies: the spec may have fixed it; update or "
                "remove the patch"
            ) from None
        if patch["op"] == "set":
            node[last] = copy.deepcopy(patch["value"])
        elif patch["op"] != "remove":
            raise ValueError(f"unknown patch op {patch['op']!r}")
    return out


def check_references(schemas: dict[str, Json], unions: dict[str, Union_]) -> None:
    """Every `$ref` and discriminator target names a schema of the spec."""
    missing: set[str] = set()
    for node in _walk(schemas):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(REF_PREFIX) and ref_name(ref) not in schemas:
            missing.add(ref_name(ref))
    for union in unions.values():
        missing.update(target for _, target in union.mapping if target not in schemas)
    if missing:
        raise DanglingReferenceError(
            f"the spec refers to schemas it does not define: {', '.join(sorted(missing))}"
        )


def normalize(
    spec: Json, patches: list[dict[str, Any]]
) -> tuple[Json, dict[str, Union_], list[str]]:
    """The whole normalisation (see the module docstring); returns spec, unions, notes."""
    components = spec.get("components") if isinstance(spec, dict) else None
    schemas = components.get("schemas") if isinstance(components, dict) else None
    if not (isinstance(schemas, dict) and schemas):
        raise UnsupportedSpecError("the spec has no schemas (components.schemas is empty)")
    patched = python_names(apply_patches(spec, patches))
    schemas = patched["components"]["schemas"]
    unions = discriminated_unions(schemas)
    check_references(schemas, unions)
    flat = flatten_subtypes(schemas)
    unioned = timespans(open_objects(explicit_unions(flat, unions)))
    patched["components"]["schemas"], default_notes = enum_defaults(defaults_optional(unioned))
    check_field_names(patched["components"]["schemas"])
    check_enum_member_names(patched["components"]["schemas"])
    translated, notes = translate_patterns(patched)
    return translated, unions, notes + default_notes
