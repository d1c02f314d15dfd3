"""The published manifest JSON Schema (draft 2020-12) as an advisory second check.

Where the schema comes from: ``load_schema`` takes, in order, an explicit path or
already-parsed object, the file named by ``$CIVITAI_APP_BLOCK_SCHEMA``, or the pinned copy
generated into the package by ``make codegen`` (so an installed wheel always checks it).

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
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from civitai_app_sdk.blocks.errors import ManifestProblem

from ..errors import ArgumentTypeError, CivitaiError, ConfigurationError

SCHEMA_ENV: Final = "CIVITAI_APP_BLOCK_SCHEMA"
_SCOPE_ENTRY: Final = re.compile(r"\Ascopes\[[0-9]+\]\Z")
QUOTED_VALUE_MAX: Final = 200
"""Longest rendering of the offending value a schema finding quotes."""
_SCHEMA_MAX_BYTES: Final = 16 << 20  # a device or an endless pipe is not read forever

SchemaInput = Path | str | Mapping[str, Any]


class SchemaUnavailableError(CivitaiError, OSError):
    """A schema was asked for explicitly (argument or environment) but cannot be read or
    used: not JSON, not a valid JSON Schema, an unresolvable ``$ref``, a pattern that is not
    a JavaScript regular expression."""


def packaged_schema() -> Mapping[str, Any]:
    """The schema pinned at ``make codegen`` and shipped in the generated package."""
    from civitai_app_sdk_generated.app_block_schema import APP_BLOCK_SCHEMA

    return APP_BLOCK_SCHEMA


def load_schema(schema: SchemaInput | None = None) -> Mapping[str, Any]:
    """The schema object from ``schema``, ``$CIVITAI_APP_BLOCK_SCHEMA`` or the package.

    A file is parsed once while its size and modification time stay the same; the object
    returned for it is shared, so treat it as read-only.
    """
    if isinstance(schema, Mapping):
        return schema
    if schema is None:
        configured = os.environ.get(SCHEMA_ENV)
        if not configured:
            return packaged_schema()
        schema = configured
    if not isinstance(schema, str | os.PathLike):
        raise ArgumentTypeError(
            f"schema must be a path or a parsed schema (a mapping), not {type(schema).__name__}"
        )
    path = Path(schema)
    try:
        stat = path.stat()
    except ValueError:  # a NUL in the path (a ValueError it stays)
        raise ConfigurationError(f"the manifest schema path {str(path)!r} holds a NUL") from None
    except OSError as exc:
        raise SchemaUnavailableError(f"cannot read the manifest schema at {path}: {exc}") from exc
    return _read_schema(path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=8)
def _read_schema(path: Path, _mtime_ns: int, _size: int) -> Mapping[str, Any]:
    """Parse the schema file at ``path``; the stamp arguments key the cache."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(_SCHEMA_MAX_BYTES + 1)
        if len(raw) > _SCHEMA_MAX_BYTES:
            raise ValueError(f"larger than {_SCHEMA_MAX_BYTES >> 20} MiB")
        loaded = json.loads(raw.decode("utf-8"))
    except (OSError, ValueError) as exc:
        raise SchemaUnavailableError(f"cannot read the manifest schema at {path}: {exc}") from exc
    except RecursionError:
        raise SchemaUnavailableError(f"{path} is nested too deeply to read") from None
    if not isinstance(loaded, dict):
        raise SchemaUnavailableError(f"{path} does not hold a JSON Schema object")
    return loaded


@functools.cache
def _validator_class() -> Any:
    """Draft 2020-12 with ``pattern`` evaluated the way JavaScript evaluates it."""
    from jsonschema import Draft202012Validator, ValidationError, validators

    def js_pattern(_validator: Any, pattern: str, instance: object, _schema: Any) -> Any:
        if isinstance(instance, str) and not _js_regex(pattern).search(instance):
            yield ValidationError(f"{instance!r} does not match {pattern!r}")

    return validators.extend(Draft202012Validator, {"pattern": js_pattern})  # type: ignore[no-untyped-call]


@functools.lru_cache(maxsize=256)
def _js_regex(pattern: str) -> re.Pattern[str]:
    from civitai_app_sdk.blocks.patterns import JsRegexSyntaxError, js_to_python

    try:
        return re.compile(js_to_python(pattern))
    except re.error as error:
        what = (
            "JavaScript refuses"
            if isinstance(error, JsRegexSyntaxError)
            else "Python cannot evaluate (a variable-width lookbehind)"
        )
        raise SchemaUnavailableError(
            f"the manifest schema has a pattern {what}: {pattern!r} ({error.msg})"
        ) from None


# Validators by schema identity; each entry holds its schema, so an id is never reused.
_validators: dict[int, tuple[Mapping[str, Any], Any]] = {}
_validators_lock = threading.Lock()
_VALIDATORS_LIMIT: Final = 8


def _fresh_lock_in_child() -> None:
    """A forked child gets a lock of its own: a thread of the parent building a
    validator (tens of ms) may have held it, and that thread is not in the child."""
    global _validators_lock
    _validators_lock = threading.Lock()


if hasattr(os, "register_at_fork"):  # not on Windows, which has no fork
    os.register_at_fork(after_in_child=_fresh_lock_in_child)


def _validator_for(schema: Mapping[str, Any]) -> Any:
    """One validator per schema object (building one costs more than validating)."""
    with _validators_lock:
        cached = _validators.get(id(schema))
        if cached is not None and cached[0] is schema:
            return cached[1]
        cls = _validator_class()
        from jsonschema.exceptions import SchemaError

        try:
            # Patterns are JS, checked when used: the meta-schema's "regex" format is re's.
            cls.check_schema(schema, format_checker=None)
        except SchemaError as error:
            raise SchemaUnavailableError(
                f"the manifest schema is not a valid JSON Schema: {error.message}"
            ) from None
        validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
        if len(_validators) >= _VALIDATORS_LIMIT:
            del _validators[next(iter(_validators))]
        _validators[id(schema)] = (schema, validator)
        return validator


def _dot_path(parts: Any) -> str:
    path = ""
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def _shortened(message: str, instance: object) -> str:
    """``message`` with a long quoted value cut to :data:`QUOTED_VALUE_MAX` characters: a
    finding about a megabyte string need not repeat it."""
    try:
        quoted = repr(instance)
    except RecursionError:
        return message
    if len(quoted) <= QUOTED_VALUE_MAX or quoted not in message:
        return message
    cut = f"{quoted[: QUOTED_VALUE_MAX - 1]}… ({len(quoted)} chars)"
    return message.replace(quoted, cut)


_TOO_DEEP: Final = (
    "nested too deeply to check against the schema (past Python's recursion limit); the "
    "findings before that point are listed"
)


def schema_problems(manifest: object, schema: Mapping[str, Any]) -> list[ManifestProblem]:
    """Every schema violation of ``manifest``, except scope-enum ones (the platform decides)."""
    from referencing.exceptions import Unresolvable

    validator = _validator_for(schema)
    found = []
    try:
        for error in validator.iter_errors(manifest):
            path = _dot_path(error.absolute_path)
            if error.validator == "enum" and _SCOPE_ENTRY.match(path):
                continue
            found.append(ManifestProblem(path, _shortened(error.message, error.instance), "schema"))
    except Unresolvable as error:
        raise SchemaUnavailableError(f"the manifest schema cannot be used: {error}") from None
    except RecursionError:  # a value nested past Python's limit (jsonschema's repr of it)
        found.append(ManifestProblem("", _TOO_DEEP, "schema"))
    return sorted(found, key=lambda problem: problem.path)
