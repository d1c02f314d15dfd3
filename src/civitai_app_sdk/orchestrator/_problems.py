"""Validation errors as the lines a RequestValidationError lists."""

from __future__ import annotations

from civitai_app_sdk_generated._base import json_location, reported_errors
from pydantic import ValidationError


def pydantic_problems(error: ValidationError) -> list[str]:
    """One ``/json/path: message`` line per problem (union names and tags left out)."""
    return [
        "/" + "/".join(map(str, json_location(item["loc"]))) + f": {item['msg']}"
        for item in reported_errors(error)
    ]
