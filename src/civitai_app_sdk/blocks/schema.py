"""The published manifest JSON Schema (draft 2020-12) as an advisory second check.

Where the schema comes from: the package ships no copy (the project must not vendor the
pinned specs). ``load_schema`` takes, in order, an explicit path or already-parsed object, the
file named by ``$CIVITAI_APP_BLOCK_SCHEMA``, or the git-ignored ``specs/app-block-v1.json`` of
a source checkout (filled by ``make specs``). When none exists the caller runs the platform
rules alone and reports ``schema_checked=False``.

The schema is older than the platform and disagrees with it in places (``app-blocks.md`` §7),
so its findings never decide validity. Its scope enum still lists three scopes the platform
removed and would reject any scope added later, so enum findings on ``scopes[i]`` are dropped:
the platform's vocabulary decides scopes. Patterns are evaluated with JS semantics.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from civitai_app_sdk.blocks.errors import ManifestProblem

SCHEMA_ENV: Final = "CIVITAI_APP_BLOCK_SCHEMA"
SCHEMA_FILE: Final = "app-block-v1.json"
# src/civitai_app_sdk/blocks/schema.py -> the checkout root holding specs/.
_CHECKOUT_SPECS: Final = Path(__file__).resolve().parents[3] / "specs" / SCHEMA_FILE
_SCOPE_ENTRY: Final = re.compile(r"\Ascopes\[[0-9]+\]\Z")

SchemaInput = Path | str | Mapping[str, Any]


class SchemaUnavailableError(OSError):
    """A schema was asked for explicitly (argument or environment) but cannot be read."""


def default_schema_path() -> Path | None:
    """``$CIVITAI_APP_BLOCK_SCHEMA`` if set, else the checkout's ``specs/`` copy if present."""
    configured = os.environ.get(SCHEMA_ENV)
    if configured:
        return Path(configured)
    return _CHECKOUT_SPECS if _CHECKOUT_SPECS.is_file() else None


def load_schema(schema: SchemaInput | None = None) -> Mapping[str, Any] | None:
    """The schema object from ``schema`` or the default location; ``None`` when there is none."""
    if isinstance(schema, Mapping):
        return schema
    path = Path(schema) if schema is not None else default_schema_path()
    if path is None:
        return None
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SchemaUnavailableError(f"cannot read the manifest schema at {path}: {exc}") from exc
    if not isinstance(loaded, dict):
        raise SchemaUnavailableError(f"{path} does not hold a JSON Schema object")
    return loaded


@functools.cache
def _validator_class() -> Any:
    """Draft 2020-12 with ``pattern`` evaluated the way JavaScript evaluates it."""
    from jsonschema import Draft202012Validator, ValidationError, validators

    from civitai_app_sdk.blocks.patterns import js_to_python

    def js_pattern(_validator: Any, pattern: str, instance: object, _schema: Any) -> Any:
        if isinstance(instance, str) and not re.search(js_to_python(pattern), instance):
            yield ValidationError(f"{instance!r} does not match {pattern!r}")

    return validators.extend(Draft202012Validator, {"pattern": js_pattern})  # type: ignore[no-untyped-call]


def _format_checker() -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator.FORMAT_CHECKER


def _dot_path(parts: Any) -> str:
    path = ""
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def schema_problems(manifest: object, schema: Mapping[str, Any]) -> list[ManifestProblem]:
    """Every schema violation of ``manifest``, except scope-enum ones (the platform decides)."""
    validator = _validator_class()(schema, format_checker=_format_checker())
    found = []
    for error in validator.iter_errors(manifest):
        path = _dot_path(error.absolute_path)
        if error.validator == "enum" and _SCOPE_ENTRY.match(path):
            continue
        found.append(ManifestProblem(path, error.message, "schema"))
    return sorted(found, key=lambda problem: problem.path)
