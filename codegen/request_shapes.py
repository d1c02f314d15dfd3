"""What requests and responses need beyond the shared models (pure functions over the spec).

- `request_schemas`: every schema a request body can contain (the closure of the
  operations' request bodies); their models refuse unknown keys (`request_bases`).
- `tag_defaults`: a subtype's own discriminator value becomes its default, so
  `TextToImageStepTemplate(input=...)` needs no `field_type="textToImage"`.
- `open_member_refs`: a response field typed as one member of a tagged union (an
  output's `images: [ImageBlob]`) becomes that member or the union's `Unknown<D>`
  fallback, so a value with a new tag is kept instead of failing the whole workflow.
- `typed_dicts`: a `TypedDict` for every request schema (`<Name>Param`, wire keys,
  `Literal` tags), so a dict literal body is checked by mypy.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from dataclasses import dataclass

from codegen.normalize import REF_PREFIX, TIMESPAN, UNKNOWN_PREFIX, Json, Union_, ref_name
from codegen.render import render

PARAM_SUFFIX = "Param"
OPEN_SUFFIX = "OrUnknown"
_REQUEST_BASE = "RequestModel"


@dataclass(frozen=True)
class OpenMember(Union_):
    """A union of one member of `base` and `base`'s fallback (for fields typed as a member)."""

    base: str = ""

    @property
    def fallback(self) -> str:
        """The fallback of the union the member belongs to."""
        return UNKNOWN_PREFIX + self.base


def _refs(node: Json) -> Iterator[str]:
    """Names of the schemas `node` refers to (at any depth)."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(REF_PREFIX):
            yield ref_name(ref)
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def request_roots(spec: Json) -> list[str]:
    """The schemas named as a JSON request body by some operation."""
    roots: set[str] = set()
    for operations in spec.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            content = (operation.get("requestBody") or {}).get("content", {})
            for media in content.values():
                roots.update(_refs(media.get("schema", {})))
    return sorted(roots)


def request_schemas(spec: Json) -> set[str]:
    """Every schema reachable from a request body (union fallbacks and `TimeSpan` excluded)."""
    schemas = spec["components"]["schemas"]
    found: set[str] = set()
    todo = request_roots(spec)
    while todo:
        name = todo.pop()
        if name in found or name == TIMESPAN:
            continue
        found.add(name)
        todo.extend(_refs(schemas[name]))
    return found


def tag_defaults(spec: Json, unions: dict[str, Union_]) -> Json:
    """Give each subtype whose tag has one value that value as its default."""
    out = copy.deepcopy(spec)
    schemas = out["components"]["schemas"]
    props = {union.prop for union in unions.values()}
    members = {target for union in unions.values() for _, target in union.mapping}
    for name in sorted(members):
        schema = schemas[name]
        for prop in sorted(props & set(schema.get("properties", {}))):
            tag = schema["properties"][prop]
            if isinstance(tag.get("enum"), list) and len(tag["enum"]) == 1:
                tag["default"] = tag["enum"][0]
                schema["required"] = [r for r in schema.get("required", []) if r != prop]
    return out


def _open_name(member: str) -> str:
    return member + OPEN_SUFFIX


def open_member_refs(
    spec: Json, unions: dict[str, Union_], requests: set[str]
) -> tuple[Json, dict[str, Union_]]:
    """Outside requests, a `$ref` to a union member becomes `<Member>OrUnknown`."""
    out = copy.deepcopy(spec)
    schemas = out["components"]["schemas"]
    owner = {
        target: union
        for union in sorted(unions.values(), key=lambda u: u.name)
        for _, target in union.mapping
        if target not in unions
    }
    used: set[str] = set()

    def rewrite(node: Json) -> None:
        if isinstance(node, dict):
            if "discriminator" in node and "oneOf" in node:
                return
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith(REF_PREFIX) and ref_name(ref) in owner:
                used.add(ref_name(ref))
                node["$ref"] = REF_PREFIX + _open_name(ref_name(ref))
            for value in node.values():
                rewrite(value)
        elif isinstance(node, list):
            for value in node:
                rewrite(value)

    for name in sorted(schemas):
        if name not in requests and name not in unions:
            rewrite(schemas[name])
    opened: dict[str, Union_] = {}
    for member in sorted(used):
        base = owner[member]
        mapping = tuple((tag, target) for tag, target in base.mapping if target == member)
        name = _open_name(member)
        text = (
            f"`{member}`, or `{base.fallback}` for a `{base.name}` whose `{base.prop}` "
            "this SDK does not know yet."
        )
        opened[name] = OpenMember(name, base.prop, mapping, text, base=base.name)
        schemas[name] = {
            "description": text,
            "oneOf": [{"$ref": REF_PREFIX + member}],
            "discriminator": {
                "propertyName": base.prop,
                "mapping": {tag: REF_PREFIX + member for tag, _ in mapping},
            },
        }
    return out, opened


def request_bases(source: str, requests: set[str]) -> str:
    """Base every request model on `RequestModel` (unknown keys refused)."""

    def rebase(match: re.Match[str]) -> str:
        if match[1] in requests and not match[1].startswith(UNKNOWN_PREFIX):
            return f"class {match[1]}({_REQUEST_BASE}):"
        return match[0]

    rebased = re.sub(r"^class (\w+)\(ApiModel\):$", rebase, source, flags=re.MULTILINE)
    line = f"from civitai_app_sdk_generated._base import {_REQUEST_BASE}\n"
    result, count = re.subn(r"^(?=from |import )", line, rebased, count=1, flags=re.MULTILINE)
    if count != 1:
        raise ValueError("generated module has no import to put ours before")
    return result


# --- TypedDicts -------------------------------------------------------------------------

_PRIMITIVES = {
    "string": "str",
    "integer": "int",
    "number": "float",
    "boolean": "bool",
    "null": "None",
}


@dataclass(frozen=True)
class ParamKey:
    """One key of a request TypedDict."""

    key: str
    type: str
    required: bool


@dataclass(frozen=True)
class Param:
    """A request TypedDict (`keys`) or, for a tagged union, an alias (`members`)."""

    name: str
    description: str
    keys: tuple[ParamKey, ...] = ()
    members: tuple[str, ...] = ()


def _leaves(name: str, unions: dict[str, Union_]) -> set[str]:
    """Every schema under union `name`, nested unions included."""
    found: set[str] = set()
    for _, target in unions[name].mapping:
        found |= _leaves(target, unions) | {target} if target in unions else {target}
    return found


def param_name(schema: str) -> str:
    """`TextToImageInput` -> `TextToImageInputParam`."""
    return schema + PARAM_SUFFIX


def _is_object(schema: Json) -> bool:
    return "properties" in schema or (
        schema.get("type") == "object" and "additionalProperties" not in schema
    )


def _union_of(parts: list[str]) -> str:
    unique = list(dict.fromkeys(parts))
    if "Any" in unique:
        return "Any"
    return unique[0] if len(unique) == 1 else " | ".join(unique)


class _Typer:
    """Python type expressions (as text) for the request side of the normalised schemas."""

    def __init__(self, schemas: dict[str, Json], unions: dict[str, Union_]) -> None:
        self.schemas = schemas
        self.unions = unions

    def of(self, node: Json) -> str:
        if not isinstance(node, dict) or not node:
            return "Any"
        if "$ref" in node:
            return self.named(ref_name(node["$ref"]))
        if "const" in node:
            return f"Literal[{node['const']!r}]"
        for key in ("oneOf", "anyOf"):
            if key in node:
                return _union_of([self.of(part) for part in node[key]])
        if "allOf" in node and len(node["allOf"]) == 1:
            return self.of(node["allOf"][0])
        kinds = node.get("type")
        kinds = kinds if isinstance(kinds, list) else [kinds] if kinds else []
        if "enum" in node:
            values = [v for v in node["enum"] if v is not None]
            nullable = None in node["enum"] or "null" in kinds
            literal = f"Literal[{', '.join(repr(v) for v in values)}]" if values else "None"
            return _union_of([literal, "None"] if nullable else [literal])
        if not kinds:
            return "Any"
        return _union_of([self.kind(kind, node) for kind in kinds])

    def kind(self, kind: str, node: Json) -> str:
        if kind == "array":
            return f"Sequence[{self.of(node.get('items', {}))}]"
        if kind == "object":
            extra = node.get("additionalProperties")
            value = self.of(extra) if isinstance(extra, dict) and extra else "Any"
            return f"Mapping[str, {value}]"
        return _PRIMITIVES.get(kind, "Any")

    def named(self, name: str) -> str:
        if name == TIMESPAN:
            return "str"
        if name in self.unions or _is_object(self.schemas[name]):
            return param_name(name)
        return self.of(self.schemas[name])


def _doc(schema: Json, name: str) -> str:
    text = " ".join(str(schema.get("description") or name).split())
    return f"The JSON form of `{name}`: {text}"


def params(spec: Json, unions: dict[str, Union_], requests: set[str]) -> list[Param]:
    """One `Param` per request schema that is an object or a tagged union."""
    schemas = spec["components"]["schemas"]
    typer = _Typer(schemas, unions)
    tags: dict[str, set[str]] = {}
    for union in unions.values():
        for leaf in _leaves(union.name, unions):
            tags.setdefault(leaf, set()).add(union.prop)
    found: list[Param] = []
    for name in sorted(requests):
        schema = schemas[name]
        if name in unions:
            members = sorted({target for _, target in unions[name].mapping})
            found.append(
                Param(param_name(name), _doc(schema, name), members=tuple(map(param_name, members)))
            )
        elif _is_object(schema):
            required = set(schema.get("required", [])) | tags.get(name, set())
            keys = tuple(
                ParamKey(key, typer.of(prop), key in required)
                for key, prop in sorted(schema.get("properties", {}).items())
            )
            found.append(Param(param_name(name), _doc(schema, name), keys=keys))
    return found


def typed_dicts(spec: Json, unions: dict[str, Union_], requests: set[str], header: str) -> str:
    """The generated `params` module: request TypedDicts and tagged-union aliases.

    Every annotation is a string, so definitions may come in any order; a forward
    reference also imports faster than a built `Literal` (measured about 2x).
    """
    rendered = [
        Param(
            param.name,
            param.description,
            tuple(ParamKey(key.key, repr(key.type), key.required) for key in param.keys),
            tuple(map(repr, param.members)),
        )
        for param in params(spec, unions, requests)
    ]
    return render("params.py.j2", header=header, params=rendered)
