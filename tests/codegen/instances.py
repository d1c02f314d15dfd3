"""Build realistic JSON instances of spec schemas, for parsing every step type."""

from __future__ import annotations

from typing import Any

from codegen.normalize import REF_PREFIX

AIR = "urn:air:sdxl:checkpoint:civitai:101055@128078"
FORMATS = {
    "date-time": "2026-11-23T10:11:12.1234567Z",
    "uri": "https://orchestration.civitai.com/v2/consumer/blobs/ABC.png",
    "date-span": "00:10:00",
    "uuid": "6f1c2e0a-8a53-4c0e-9d5c-3c7a1f9b2d11",
}


class InstanceBuilder:
    """Fill every required (and, with `full`, every) property with a plausible value."""

    def __init__(self, schemas: dict[str, Any], *, full: bool = False) -> None:
        self.schemas = schemas
        self.full = full

    def build(self, schema: Any, depth: int = 0) -> Any:
        """A JSON value valid for `schema`."""
        if schema.get("$ref") == REF_PREFIX + "TimeSpan":
            return FORMATS["date-span"]
        if "$ref" in schema:
            return self.build(self.schemas[schema["$ref"].removeprefix(REF_PREFIX)], depth)
        if "oneOf" in schema:
            return self.build(schema["oneOf"][0], depth)
        if "anyOf" in schema:
            options = [o for o in schema["anyOf"] if o.get("type") != "null"]
            return self.build(options[0], depth)
        if "default" in schema and schema["default"] is not None:
            return schema["default"]
        if "enum" in schema:
            return schema["enum"][0]
        kinds = schema.get("type", "object")
        kind = next((k for k in kinds if k != "null"), "null") if isinstance(kinds, list) else kinds
        return getattr(self, f"_{kind}")(schema, depth)

    def _object(self, schema: Any, depth: int) -> Any:
        required = set(schema.get("required", []))
        out = {}
        for name, prop in sorted(schema.get("properties", {}).items()):
            if name in required or (self.full and depth < 3):
                out[name] = self.build(prop, depth + 1)
        return out

    def _array(self, schema: Any, depth: int) -> Any:
        count = max(1, schema.get("minItems", 0)) if depth < 4 else schema.get("minItems", 0)
        return [self.build(schema.get("items", {}), depth + 1) for _ in range(count)]

    def _string(self, schema: Any, depth: int) -> Any:
        if schema.get("format") in FORMATS:
            return FORMATS[schema["format"]]
        if "pattern" in schema:
            return AIR if "air" in schema["pattern"] else "abc"
        return "x" * max(1, schema.get("minLength", 1))

    def _integer(self, schema: Any, depth: int) -> Any:
        return int(schema.get("minimum", 1))

    def _number(self, schema: Any, depth: int) -> Any:
        return float(schema.get("minimum", 1.0))

    def _boolean(self, schema: Any, depth: int) -> Any:
        return False

    def _null(self, schema: Any, depth: int) -> Any:
        return None
