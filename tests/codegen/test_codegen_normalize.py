"""Normaliser stages on small schemas, and on the pinned spec."""

from __future__ import annotations

import re
from typing import Any

import pytest

from codegen import normalize

REF = normalize.REF_PREFIX


def small_spec() -> dict[str, Any]:
    return {
        "openapi": "3.1.1",
        "components": {
            "schemas": {
                "Shape": {
                    "type": "object",
                    "required": ["kind"],
                    "properties": {"kind": {"type": "string"}, "id": {"type": "string"}},
                    "additionalProperties": False,
                    "discriminator": {
                        "propertyName": "kind",
                        "mapping": {"circle": REF + "Circle", "poly": REF + "Poly"},
                    },
                },
                "Circle": {
                    "allOf": [
                        {"$ref": REF + "Shape"},
                        {
                            "type": "object",
                            "properties": {"r": {"type": "number"}},
                            "required": ["r"],
                            "additionalProperties": False,
                        },
                    ]
                },
                "Poly": {
                    "allOf": [
                        {"$ref": REF + "Shape"},
                        {
                            "type": "object",
                            "properties": {"sides": {"type": "string"}},
                            "discriminator": {
                                "propertyName": "sides",
                                "mapping": {"3": REF + "Tri_1"},
                            },
                        },
                    ]
                },
                "Tri_1": {"allOf": [{"$ref": REF + "Poly"}, {"properties": {"a": {}}}]},
                "Holder": {
                    "type": "object",
                    "properties": {
                        "shapes": {"type": "array", "items": {"$ref": REF + "Shape"}},
                        "wait": {"type": ["null", "string"], "format": "date-span"},
                    },
                },
            }
        },
    }


def test_subtypes_merge_base_and_own_properties() -> None:
    flat = normalize.flatten_subtypes(small_spec()["components"]["schemas"])
    assert set(flat["Circle"]["properties"]) == {"kind", "id", "r"}
    assert flat["Circle"]["required"] == ["kind", "r"]
    assert set(flat["Tri_1"]["properties"]) == {"kind", "id", "sides", "a"}
    assert "discriminator" not in flat["Circle"]


def test_unions_nest_pin_tags_and_keep_a_fallback() -> None:
    out, unions, _ = normalize.normalize(small_spec(), [])
    schemas = out["components"]["schemas"]
    assert set(unions) == {"Shape", "Poly"}
    assert schemas["Shape"]["oneOf"] == [{"$ref": REF + "Circle"}, {"$ref": REF + "Poly"}]
    assert schemas["Poly"]["discriminator"]["mapping"] == {"3": REF + "Tri1"}
    assert schemas["Tri1"]["properties"]["kind"] == {"type": "string", "enum": ["poly"]}
    assert schemas["Tri1"]["properties"]["sides"] == {"type": "string", "enum": ["3"]}
    assert schemas["UnknownShape"]["properties"]["kind"] == {"type": "string"}
    assert "additionalProperties" not in schemas["Circle"]
    assert schemas["Holder"]["properties"]["shapes"]["items"] == {"$ref": REF + "Shape"}
    assert schemas["Holder"]["properties"]["wait"]["anyOf"][0] == {"$ref": REF + "TimeSpan"}


def test_pinned_spec_has_every_discriminator_as_a_union(normalised: Any, spec: Any) -> None:
    out, unions, _ = normalised
    assert len(unions) == 107
    assert len(unions["WorkflowStep"].mapping) == 40
    steps = out["components"]["schemas"]["Workflow"]["properties"]["steps"]
    assert steps["items"] == {"$ref": REF + "WorkflowStep"}
    assert "oneOf" in out["components"]["schemas"]["WorkflowStep"]


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("^(?<id>[a-z]+)$", "^(?P<id>[a-z]+)$"),
        ("^[A-Za-z0-9_-]+$", "^[A-Za-z0-9_-]+$"),
        ("^(?!huggingface/).*$", None),
        ("(?<=a)b", None),
    ],
)
def test_patterns_are_translated_or_dropped(pattern: str, expected: str | None) -> None:
    translated, note = normalize.translate_pattern(pattern)
    assert translated == expected
    if expected is None:
        assert note is not None
        assert "look-around" in note
    else:
        re.compile(translated or "")


def test_dropped_pattern_is_explained_in_the_description() -> None:
    spec = {"x": {"type": "string", "pattern": "^(?!a)", "description": "An id."}}
    out, notes = normalize.translate_patterns(spec)
    assert "pattern" not in out["x"]
    assert out["x"]["description"].startswith("An id.")
    assert "look-around" in out["x"]["description"]
    assert notes


def test_default_outside_enum_is_dropped_with_a_note() -> None:
    out, notes = normalize.enum_defaults({"d": {"enum": [3, 20], "default": 5}})
    assert "default" not in out["d"]
    assert "not one of" in out["d"]["description"]
    assert len(notes) == 1


def test_renames_that_would_clash_are_refused() -> None:
    spec = {"components": {"schemas": {"A_1": {}, "A1": {}}}}
    with pytest.raises(ValueError, match="clash"):
        normalize.python_names(spec)


def test_property_with_default_is_not_required() -> None:
    schemas = {
        "In": {
            "type": "object",
            "required": ["cfg", "prompt"],
            "properties": {"cfg": {"type": "number", "default": 0.5}, "prompt": {"type": "string"}},
        }
    }
    assert normalize.defaults_optional(schemas)["In"]["required"] == ["prompt"]
