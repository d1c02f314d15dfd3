"""Semantic diff of two orchestrator specs: breaking, additive and cosmetic changes.

Rules (what breaks a generated client):
- breaking: a removed path, operation, parameter, schema, property, enum value or
  discriminator value; a discriminator property renamed, or a value mapped to another
  schema; a renamed operationId; a changed type (including `$ref` targets and formats such as
  boolean -> int32); a property or parameter that became required; a tighter bound, a
  new or changed pattern (`maximum` 100 -> 20: the request models refuse 50 before sending);
- additive: a new path, operation, optional parameter, schema, optional property, enum
  value or discriminator value (a new step type or engine); a requirement dropped; a
  looser bound or a pattern dropped;
- cosmetic: descriptions, summaries, examples and anything else that does not change
  what a client sends or reads.
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback
import urllib.error
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codegen import inputs
from codegen.normalize import REF_PREFIX, GenerationError, flatten_subtypes
from codegen.operations import needs_charge_decision, parameters

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
EXIT_SAME, EXIT_COMPATIBLE, EXIT_BREAKING, EXIT_ERROR = 0, 1, 2, 3
COMMANDS = ("drift", "drift-live")
"""The commands whose exit code is a verdict (a usage error of theirs is `EXIT_ERROR`)."""


class DriftInputError(ValueError):
    """A spec to compare cannot be read or is not an OpenAPI document."""


@dataclass(frozen=True)
class Change:
    """One difference, located by a JSON pointer into the newer spec (or the older one)."""

    pointer: str
    message: str


@dataclass
class DriftReport:
    """Changes grouped by class."""

    breaking: list[Change] = field(default_factory=list)
    additive: list[Change] = field(default_factory=list)
    cosmetic: list[Change] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """0 identical in meaning, 1 additive or cosmetic only, 2 something breaks."""
        if self.breaking:
            return EXIT_BREAKING
        return EXIT_COMPATIBLE if self.additive or self.cosmetic else EXIT_SAME

    def as_json(self) -> dict[str, list[dict[str, str]]]:
        """`{"breaking": [...], "additive": [...], "cosmetic": [...]}`."""
        return {
            kind: [{"pointer": c.pointer, "message": c.message} for c in getattr(self, kind)]
            for kind in ("breaking", "additive", "cosmetic")
        }


def escape(part: str) -> str:
    """Escape one JSON-pointer segment (RFC 6901)."""
    return part.replace("~", "~0").replace("/", "~1")


def pointer(*parts: str) -> str:
    """Build a JSON pointer from unescaped segments."""
    return "".join("/" + escape(p) for p in parts)


def signature(schema: Any) -> Any:
    """What a client's type depends on: types, formats, refs, items; not prose."""
    if not isinstance(schema, dict):
        return schema
    keep = ("type", "format", "$ref", "items", "anyOf", "oneOf", "allOf", "additionalProperties")
    result: dict[str, Any] = {}
    for key in keep:
        if key not in schema:
            continue
        value = schema[key]
        if key == "type" and isinstance(value, list):
            value = sorted(value)
        elif key in ("items", "additionalProperties"):
            value = signature(value)
        elif key in ("anyOf", "oneOf", "allOf"):
            members = [signature(v) for v in value]
            value = sorted(members, key=_canonical) if isinstance(value, list) else members
        result[key] = value
    return result


def _canonical(sig: Any) -> str:
    """A signature as text, to order union members by."""
    return json.dumps(sig, sort_keys=True)


def _ordered(members: Any) -> Any:
    """`anyOf`/`oneOf`/`allOf` members in a fixed order: reordering them changes nothing
    a client sends or reads."""
    if not isinstance(members, list):
        return members

    def key(member: Any) -> str:
        if isinstance(member, tuple):  # (index, member)
            member = member[1]
        return _canonical(signature(member))

    return sorted(members, key=key)


def _enum_changes(report: DriftReport, where: str, old: Any, new: Any) -> None:
    """Enum values removed or added, here and in the item, value and member schemas below
    (an array of enum strings keeps its enum under `items`)."""
    if not (isinstance(old, dict) and isinstance(new, dict)):
        return
    old_values, new_values = old.get("enum"), new.get("enum")
    if isinstance(old_values, list) and isinstance(new_values, list):
        for value in old_values:
            if value not in new_values:
                report.breaking.append(Change(where, f"enum value {value!r} removed"))
        for value in new_values:
            if value not in old_values:
                report.additive.append(Change(where, f"enum value {value!r} added"))
    for key in ("items", "additionalProperties"):
        _enum_changes(report, where + pointer(key), old.get(key), new.get(key))
    for key in ("anyOf", "oneOf", "allOf"):
        before, after = old.get(key), new.get(key)
        if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
            # Paired in `signature` order; located by the member's index in the newer spec.
            indexed = _ordered(list(enumerate(after)))
            for a, (index, b) in zip(_ordered(before), indexed, strict=True):
                _enum_changes(report, where + pointer(key, str(index)), a, b)


_LOWER_BOUNDS = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
_UPPER_BOUNDS = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")


def _constraint_changes(report: DriftReport, where: str, label: str, old: Any, new: Any) -> None:
    """Bounds and patterns, here and on array items: the generated request models refuse
    what they forbid before sending, so a tighter one breaks a call that worked."""
    if not (isinstance(old, dict) and isinstance(new, dict)):
        return
    for key in (*_LOWER_BOUNDS, *_UPPER_BOUNDS, "pattern", "multipleOf"):
        before, after = old.get(key), new.get(key)
        if before == after:
            continue
        numbers = all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in (before, after)
        )
        verb = "tightened"
        if after is None:
            verb = "loosened"
        elif before is None:
            pass
        elif not numbers:  # a new pattern: which texts it refuses cannot be told here
            verb = "changed"
        elif key == "multipleOf":
            if before % after == 0:  # every multiple of `before` is one of `after`
                verb = "loosened"
        elif (after < before) if key in _LOWER_BOUNDS else (after > before):
            verb = "loosened"
        kind = report.additive if verb == "loosened" else report.breaking
        kind.append(Change(where, f"{label}: {key} {verb}: {before!r} -> {after!r}"))
    _constraint_changes(
        report, where + pointer("items"), label + "[]", old.get("items"), new.get("items")
    )


def _prose_changes(report: DriftReport, where: str, old: Any, new: Any) -> None:
    for key in ("description", "summary", "example", "examples", "title"):
        if isinstance(old, dict) and isinstance(new, dict) and old.get(key) != new.get(key):
            report.cosmetic.append(Change(where, f"{key} changed"))


def _compare_properties(
    report: DriftReport, name: str, old: Any, new: Any, at: tuple[str, ...] = ()
) -> None:
    """The properties of schema `name` (or of the inline object at `at` inside a schema,
    which `name` then spells as `Schema.prop`)."""
    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    old_req, new_req = set(old.get("required", [])), set(new.get("required", []))
    base = (*(at or ("components", "schemas", name)), "properties")
    for prop in sorted(set(old_props) - set(new_props)):
        report.breaking.append(Change(pointer(*base, prop), f"{name}.{prop} removed"))
    for prop in sorted(set(new_props) - set(old_props)):
        if prop in new_req:
            report.breaking.append(
                Change(pointer(*base, prop), f"{name}.{prop} added as a required property")
            )
        else:
            report.additive.append(Change(pointer(*base, prop), f"{name}.{prop} added"))
    for prop in sorted(set(old_props) & set(new_props)):
        where = pointer(*base, prop)
        before, after = old_props[prop], new_props[prop]
        if signature(before) != signature(after):
            report.breaking.append(
                Change(where, f"{name}.{prop} type changed: {_brief(before)} -> {_brief(after)}")
            )
        _enum_changes(report, where, before, after)
        _constraint_changes(report, where, f"{name}.{prop}", before, after)
        _prose_changes(report, where, before, after)
        if prop in new_req and prop not in old_req:
            report.breaking.append(Change(where, f"{name}.{prop} became required"))
        elif prop in old_req and prop not in new_req:
            report.additive.append(Change(where, f"{name}.{prop} is no longer required"))
        _compare_inline(report, f"{name}.{prop}", before, after, (*base, prop))


def _compare_inline(
    report: DriftReport, label: str, old: Any, new: Any, at: tuple[str, ...]
) -> None:
    """Inline objects below a property (its own, its items', its values'): `signature`
    leaves their properties out, so they are compared here."""
    if not (isinstance(old, dict) and isinstance(new, dict)):
        return
    if "properties" in old or "properties" in new:
        _compare_properties(report, label, old, new, at)
    for key, suffix in (("items", "[]"), ("additionalProperties", "{}")):
        _compare_inline(report, label + suffix, old.get(key), new.get(key), (*at, key))


def _brief(schema: Any) -> str:
    sig = signature(schema)
    if isinstance(sig, dict) and "$ref" in sig:
        return str(sig["$ref"]).removeprefix(REF_PREFIX)
    return json.dumps(sig, sort_keys=True)


def _compare_schema(report: DriftReport, name: str, old: Any, new: Any) -> None:
    where = pointer("components", "schemas", name)
    if signature({**old, "properties": None}) != signature({**new, "properties": None}):
        report.breaking.append(
            Change(where, f"{name} changed shape: {_brief(old)} -> {_brief(new)}")
        )
    _enum_changes(report, where, old, new)
    _constraint_changes(report, where, name, old, new)
    _prose_changes(report, where, old, new)
    _compare_properties(report, name, old, new)
    _compare_discriminator(report, where, name, old.get("discriminator"), new.get("discriminator"))


def _compare_discriminator(report: DriftReport, where: str, name: str, old: Any, new: Any) -> None:
    """The tag property and each tag's target decide which class a payload parses into."""
    old_prop = old.get("propertyName") if isinstance(old, dict) else None
    new_prop = new.get("propertyName") if isinstance(new, dict) else None
    if old_prop != new_prop:
        before, after = old_prop or "(no discriminator)", new_prop or "(no discriminator)"
        report.breaking.append(
            Change(where, f"{name}: discriminator property changed: {before} -> {after}")
        )
    old_map = (old or {}).get("mapping", {})
    new_map = (new or {}).get("mapping", {})
    for tag in sorted(set(old_map) - set(new_map)):
        report.breaking.append(Change(where, f"{name}: discriminator value {tag!r} removed"))
    for tag in sorted(set(new_map) - set(old_map)):
        report.additive.append(Change(where, f"{name}: discriminator value {tag!r} added"))
    for tag in sorted(set(old_map) & set(new_map)):
        if old_map[tag] != new_map[tag]:
            before = str(old_map[tag]).removeprefix(REF_PREFIX)
            after = str(new_map[tag]).removeprefix(REF_PREFIX)
            report.breaking.append(
                Change(
                    where, f"{name}: discriminator value {tag!r} now means {after} (was {before})"
                )
            )


def _schemas(spec: Any) -> dict[str, Any]:
    return flatten_subtypes(spec.get("components", {}).get("schemas", {}))


def _compare_schemas(report: DriftReport, old: Any, new: Any) -> None:
    old_s, new_s = _schemas(old), _schemas(new)
    for name in sorted(set(old_s) - set(new_s)):
        report.breaking.append(
            Change(pointer("components", "schemas", name), f"schema {name} removed")
        )
    for name in sorted(set(new_s) - set(old_s)):
        report.additive.append(
            Change(pointer("components", "schemas", name), f"schema {name} added")
        )
    for name in sorted(set(old_s) & set(new_s)):
        _compare_schema(report, name, old_s[name], new_s[name])


def _operations(spec: Any) -> dict[tuple[str, str], Any]:
    """Each operation, with the parameters its path item declares for all of them."""
    return {
        (path, method): {**op, "parameters": parameters(item, op)}
        for path, item in spec.get("paths", {}).items()
        for method, op in item.items()
        if method in HTTP_METHODS
    }


def _compare_parameters(report: DriftReport, where: str, label: str, old: Any, new: Any) -> None:
    def by_key(op: Any) -> dict[tuple[str, str], Any]:
        return {(p.get("in", ""), p.get("name", "")): p for p in op.get("parameters", [])}

    old_p, new_p = by_key(old), by_key(new)
    for key in sorted(set(old_p) - set(new_p)):
        report.breaking.append(Change(where, f"{label}: parameter {key[1]} ({key[0]}) removed"))
    for key in sorted(set(new_p) - set(old_p)):
        kind = report.breaking if new_p[key].get("required") else report.additive
        required = "required " if new_p[key].get("required") else ""
        kind.append(Change(where, f"{label}: {required}parameter {key[1]} ({key[0]}) added"))
    for key in sorted(set(old_p) & set(new_p)):
        before, after = old_p[key].get("schema"), new_p[key].get("schema")
        if signature(before) != signature(after):
            change = f"{_brief(before)} -> {_brief(after)}"
            report.breaking.append(
                Change(where, f"{label}: parameter {key[1]} type changed: {change}")
            )
        _enum_changes(report, where, before, after)
        _constraint_changes(report, where, f"{label}: parameter {key[1]}", before, after)
        if new_p[key].get("required") and not old_p[key].get("required"):
            report.breaking.append(Change(where, f"{label}: parameter {key[1]} became required"))


def _body_refs(op: Any) -> Any:
    request = op.get("requestBody", {}).get("content", {})
    responses = {
        code: {ctype: signature(c.get("schema")) for ctype, c in r.get("content", {}).items()}
        for code, r in op.get("responses", {}).items()
    }
    return {ctype: signature(c.get("schema")) for ctype, c in request.items()}, responses


def _content_brief(content: dict[str, Any] | None) -> str:
    if not content:
        return "(no body)"
    return ", ".join(f"{ctype} {_brief(sig)}" for ctype, sig in sorted(content.items()))


def _compare_bodies(report: DriftReport, where: str, label: str, old: Any, new: Any) -> None:
    """The request body and each response, by status: what changed, before -> after.

    A success (2xx) response or the request body changing breaks a client; a documented
    error response added, removed or changed does not (error bodies are read leniently).
    """
    old_request, old_responses = _body_refs(old)
    new_request, new_responses = _body_refs(new)
    if old_request != new_request:
        change = f"{_content_brief(old_request)} -> {_content_brief(new_request)}"
        report.breaking.append(Change(where, f"{label}: request body changed: {change}"))
    for status in sorted(set(old_responses) | set(new_responses)):
        before, after = old_responses.get(status), new_responses.get(status)
        if before == after:
            continue
        if before is None:
            text = f"response {status} added ({_content_brief(after)})"
        elif after is None:
            text = f"response {status} removed"
        else:
            text = f"response {status} changed: {_content_brief(before)} -> {_content_brief(after)}"
        kind = report.breaking if status.startswith("2") else report.additive
        kind.append(Change(where, f"{label}: {text}"))


def _compare_paths(report: DriftReport, old: Any, new: Any) -> None:
    old_ops, new_ops = _operations(old), _operations(new)
    for path, method in sorted(set(old_ops) - set(new_ops)):
        report.breaking.append(
            Change(pointer("paths", path, method), f"{method.upper()} {path} removed")
        )
    for path, method in sorted(set(new_ops) - set(old_ops)):
        op_id = new_ops[(path, method)].get("operationId", "")
        text = f"{method.upper()} {path} added ({op_id})"
        if needs_charge_decision(method, path):
            text += "; say in codegen/operations.toml whether it may spend Buzz"
        report.additive.append(Change(pointer("paths", path, method), text))
    for path, method in sorted(set(old_ops) & set(new_ops)):
        where = pointer("paths", path, method)
        label = f"{method.upper()} {path}"
        before, after = old_ops[(path, method)], new_ops[(path, method)]
        if before.get("operationId") != after.get("operationId"):
            # Client method names and operations.toml (charges, retries) key on it.
            report.breaking.append(
                Change(
                    where,
                    f"{label}: operationId changed: {before.get('operationId')} -> "
                    f"{after.get('operationId')}",
                )
            )
        _compare_parameters(report, where, label, before, after)
        _compare_bodies(report, where, label, before, after)
        _prose_changes(report, where, before, after)


def diff(old: Any, new: Any) -> DriftReport:
    """Classify every difference between two OpenAPI documents."""
    report = DriftReport()
    _compare_paths(report, old, new)
    _compare_schemas(report, old, new)
    if old != new and not (report.breaking or report.additive or report.cosmetic):
        report.cosmetic.append(Change("", "other changes that do not affect clients"))
    return report


def render_text(report: DriftReport, old_label: str, new_label: str) -> str:
    """A readable report, most severe first."""
    lines = [f"Spec drift: {old_label} -> {new_label}"]
    counts = ", ".join(
        f"{len(getattr(report, k))} {k}" for k in ("breaking", "additive", "cosmetic")
    )
    lines.append(counts)
    for kind in ("breaking", "additive", "cosmetic"):
        changes = getattr(report, kind)
        if changes:
            lines.append(f"\n{kind.upper()} ({len(changes)})")
            lines.extend(f"  {c.pointer or '/'}: {c.message}" for c in changes)
    if report.exit_code == EXIT_SAME:
        lines.append("No differences in meaning.")
    return "\n".join(lines)


_SHAPES: dict[str, type | tuple[type, ...]] = {
    "required": (list, bool),  # a schema's names; a parameter's or request body's flag
    "enum": list,
    "allOf": list,
    "anyOf": list,
    "oneOf": list,
    "parameters": list,
    "properties": dict,
    "discriminator": dict,
    "mapping": dict,
}
_NAMED = ("properties", "schemas", "paths", "mapping", "responses", "content", "components")
"""Keys whose value maps names (a property may be called `required`) to entries."""
_DATA = ("example", "examples", "default", "const", "enum")
"""Keys whose value is data, not schema."""


def _misshapen(node: Any, at: tuple[str, ...] = ()) -> str | None:
    """A JSON pointer to the first keyword of `_SHAPES` holding a value of another type."""
    if isinstance(node, list):
        for index, item in enumerate(node):
            found = _misshapen(item, (*at, str(index)))
            if found:
                return found
        return None
    if not isinstance(node, dict):
        return None
    for key, value in node.items():
        if key in _SHAPES and not isinstance(value, _SHAPES[key]):
            return pointer(*at, key)
        if key in _DATA or key.startswith("x-"):
            continue
        children = value.items() if key in _NAMED and isinstance(value, dict) else [("", value)]
        for name, child in children:
            found = _misshapen(child, (*at, key, name) if name else (*at, key))
            if found:
                return found
    return None


def parse_document(data: bytes | str, origin: str) -> dict[str, Any]:
    """The OpenAPI document in ``data``; ``DriftInputError`` when it is not one.

    Only the parts ``diff`` walks are checked: a truncated download, an HTML error page or
    a JSON value of another shape is refused here instead of failing half-way through.
    """
    try:
        document = json.loads(data)
    except (ValueError, RecursionError) as error:
        raise DriftInputError(f"{origin} is not JSON ({error})") from None
    if not isinstance(document, dict) or not isinstance(document.get("openapi"), str):
        raise DriftInputError(f'{origin} is not an OpenAPI document (no "openapi" version)')
    paths = document.get("paths", {})
    schemas = document.get("components", {})
    schemas = schemas.get("schemas", {}) if isinstance(schemas, dict) else None
    for label, section in (("paths", paths), ("components.schemas", schemas)):
        if not (isinstance(section, dict) and all(isinstance(v, dict) for v in section.values())):
            raise DriftInputError(f"{origin}: {label} is not an object of objects")
    wrong = _misshapen(document)
    if wrong:
        shape = {dict: "an object", list: "a list", (list, bool): "a list or a boolean"}
        expected = shape[_SHAPES[wrong.rsplit("/", 1)[-1]]]
        raise DriftInputError(f"{origin}: {wrong} is not {expected}")
    return document


def _load(path: str) -> dict[str, Any]:
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise DriftInputError(f"cannot read {path}: {error.strerror or error}") from None
    return parse_document(data, path)


def _fail(message: str) -> int:
    print(f"drift: {message}", file=sys.stderr)
    return EXIT_ERROR


def _compare(old: Any, new: Any, fmt: str, old_label: str, new_label: str) -> int:
    """Print the report of `diff(old, new)`; its exit code, or 3 when they cannot be compared.

    Python ends on an uncaught exception with 1, which means "additive" here: the drift
    workflow would pass a spec it could not even read. So every failure is exit 3.
    """
    try:
        report = diff(old, new)
    except GenerationError as error:
        return _fail(f"cannot compare {old_label} with {new_label}: {error}")
    except Exception as error:
        traceback.print_exc()
        return _fail(f"cannot compare {old_label} with {new_label} ({error!r}): a bug in drift.py")
    return _emit(report, fmt, old_label, new_label)


def _emit(report: DriftReport, fmt: str, old_label: str, new_label: str) -> int:
    if fmt == "json":
        print(json.dumps(report.as_json(), indent=2))
    else:
        print(render_text(report, old_label, new_label))
    return report.exit_code


def cmd_drift(args: argparse.Namespace) -> int:
    """`drift OLD NEW`: diff two spec files (exit 3 when one cannot be read)."""
    try:
        old, new = _load(args.old), _load(args.new)
    except DriftInputError as error:
        return _fail(str(error))
    return _compare(old, new, args.format, args.old, args.new)


def cmd_drift_live(args: argparse.Namespace) -> int:
    """`drift-live`: diff the pinned spec against the live URL; skip when offline.

    Exit 3 when the lock cannot be read, the pinned copy is missing or the live URL answers
    with something that is not an OpenAPI document (a 4xx included: the spec moved): none
    may pass for "no change" (0), "additive" (1) or "breaking" (2). No answer, a 5xx, 408
    or 429 is a skip, checked first: offline, a clone without ../shared has no pinned copy
    either, and nothing can be compared.
    """
    try:
        entry = inputs.read_lock()["orchestrator"]
    except inputs.SpecInputError as error:
        return _fail(str(error))
    except KeyError:
        return _fail(f"{inputs.LOCK_PATH} has no orchestrator input")
    try:
        body = inputs.download(entry.url, timeout=args.timeout)
    except urllib.error.HTTPError as error:
        if error.code < 500 and error.code not in (408, 429):
            # The URL answered, and not with the spec (moved, gone, now behind a login):
            # skipping every day would hide that the check no longer checks anything.
            return _fail(
                f"{entry.url} answered {error.code} {error.reason}; update url in specs/lock.json"
            )
        print(
            f"drift: skipped, {entry.url} answered {error.code} ({error.reason})", file=sys.stderr
        )
        return EXIT_SAME
    except OSError as error:
        print(f"drift: skipped, {entry.url} is unreachable ({error!r})", file=sys.stderr)
        return EXIT_SAME
    except inputs.SpecInputError as error:
        return _fail(str(error))
    try:
        pinned = inputs.load_json(entry)
    except inputs.SpecInputError as error:
        return _fail(str(error))
    try:
        live = parse_document(body, entry.url)
    except DriftInputError as error:
        return _fail(str(error))
    return _compare(pinned, live, args.format, f"pinned {entry.sha256[:12]}", entry.url)


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `drift` and `drift-live`."""
    drift = sub.add_parser("drift", help="semantic diff of two spec files")
    drift.add_argument("old")
    drift.add_argument("new")
    drift.add_argument("--format", choices=("text", "json"), default="text")
    drift.set_defaults(func=cmd_drift)
    live = sub.add_parser("drift-live", help="diff the pinned spec with the live one")
    live.add_argument("--format", choices=("text", "json"), default="text")
    live.add_argument("--timeout", type=float, default=15.0)
    live.set_defaults(func=cmd_drift_live)
