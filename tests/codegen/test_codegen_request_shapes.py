"""The request/response split of the codegen: which schemas are requests, tag defaults,
open member references and the request TypedDicts."""

from __future__ import annotations

from typing import Any

from codegen import normalize, request_shapes

REF = normalize.REF_PREFIX


def test_request_schemas_are_the_closure_of_request_bodies(normalised: Any) -> None:
    spec, _, _ = normalised
    requests = request_shapes.request_schemas(spec)
    assert {"WorkflowTemplate", "TextToImageInput", "ImageGenInput"} <= requests
    assert {"UpdateWorkflowRequest", "JsonPatchDocument"} <= requests
    assert not {"Workflow", "WorkflowStep", "TextToImageStep", "ImageBlob"} & requests
    assert not any(name.startswith(normalize.UNKNOWN_PREFIX) for name in requests)
    assert normalize.TIMESPAN not in requests


def _tiny() -> tuple[dict[str, Any], dict[str, normalize.Union_]]:
    schemas = {
        "Blob": {"oneOf": [{"$ref": REF + "ImageBlob"}], "discriminator": {"propertyName": "type"}},
        "UnknownBlob": {"type": "object", "properties": {"type": {"type": "string"}}},
        "ImageBlob": {
            "type": "object",
            "properties": {"type": {"type": "string", "enum": ["image"]}, "url": {}},
            "required": ["type", "url"],
        },
        "Output": {
            "type": "object",
            "properties": {"images": {"items": {"$ref": REF + "ImageBlob"}}},
        },
        "Body": {"type": "object", "properties": {"blob": {"$ref": REF + "ImageBlob"}}},
    }
    unions = {"Blob": normalize.Union_("Blob", "type", (("image", "ImageBlob"),))}
    return {"components": {"schemas": schemas}}, unions


def test_open_member_refs_only_outside_requests() -> None:
    spec, unions = _tiny()
    out, opened = request_shapes.open_member_refs(spec, unions, {"Body"})
    schemas = out["components"]["schemas"]
    assert schemas["Output"]["properties"]["images"]["items"] == {
        "$ref": REF + "ImageBlobOrUnknown"
    }
    assert schemas["Body"]["properties"]["blob"] == {"$ref": REF + "ImageBlob"}
    union = opened["ImageBlobOrUnknown"]
    assert (union.prop, union.mapping, union.fallback) == (
        "type",
        (("image", "ImageBlob"),),
        "UnknownBlob",
    )
    assert spec["components"]["schemas"]["Output"]["properties"]["images"]["items"][
        "$ref"
    ].endswith("/ImageBlob")  # the input is not changed


def test_tag_defaults_make_single_tags_optional_with_their_value() -> None:
    spec, unions = _tiny()
    out = request_shapes.tag_defaults(spec, unions)
    image = out["components"]["schemas"]["ImageBlob"]
    assert image["properties"]["type"]["default"] == "image"
    assert image["required"] == ["url"]


def test_params_keep_tags_required_and_use_wire_names() -> None:
    spec, unions = _tiny()
    found = {p.name: p for p in request_shapes.params(spec, unions, {"Body", "ImageBlob", "Blob"})}
    image = {key.key: key for key in found["ImageBlobParam"].keys}
    assert image["type"].type == "Literal['image']"
    assert image["type"].required
    assert found["BlobParam"].members == ("ImageBlobParam",)
    assert found["BodyParam"].keys[0].type == "ImageBlobParam"
