"""``civitai-orch block``: App Block manifest tools.

``block validate MANIFEST.json [--json] [--schema PATH]`` prints each problem with its path.
Exit status: 0 the platform would accept the manifest, 1 it would refuse it, 2 the manifest
(or an explicitly named schema) cannot be read. Heavy imports happen inside the command.
"""

from __future__ import annotations

import codecs
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, NoReturn

import click

from ._exit import CliError, ExitCode
from ._json import parse_json
from ._output import json_text, printable, unicode_stdout

if TYPE_CHECKING:
    from civitai_app_sdk.blocks import ManifestProblem, ValidationResult

EXIT_VALID, EXIT_INVALID, EXIT_UNREADABLE = 0, 1, 2
MAX_MANIFEST_BYTES: Final = 1 << 20
"""Largest manifest file read (1 MiB; real manifests are a few KiB)."""


@click.group()
def block() -> None:
    """Check App Block manifests (block.manifest.json) before you submit them."""


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not valid JSON")


def _manifest_text(path: Path) -> str:
    """The file's UTF-8 text, read no further than :data:`MAX_MANIFEST_BYTES` (so a device
    or an endless pipe ends with an error too); a BOM or non-UTF-8 bytes said plainly."""
    with path.open("rb") as handle:
        raw = handle.read(MAX_MANIFEST_BYTES + 1)
    if len(raw) > MAX_MANIFEST_BYTES:
        raise ValueError(
            f"the file is larger than {MAX_MANIFEST_BYTES / 2**20:g} MiB; "
            "a manifest is a small JSON file"
        )
    if raw.startswith(codecs.BOM_UTF8):
        raise ValueError(
            "the file starts with a UTF-8 byte order mark (BOM), which JSON must not have; "
            "save it as UTF-8 without a BOM"
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"the file is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})"
        ) from None


def _js_int(digits: str) -> int | float:
    """A JSON integer as the platform's ``JSON.parse`` reads it: one past Python's digit
    limit for ``int(str)`` (4,300) is past the double range too, so it is +-Infinity."""
    try:
        return int(digits)
    except ValueError:
        return float(digits)


def _read_manifest(path: Path) -> Any:
    text = _manifest_text(path)
    return parse_json(text, parse_constant=_reject_constant, parse_int=_js_int)


def _as_json(problems: tuple[ManifestProblem, ...]) -> list[dict[str, str]]:
    return [{"path": p.path, "message": p.message, "stage": p.stage} for p in problems]


def _emit_json(document: dict[str, Any]) -> None:
    click.echo(json_text(document, ascii_only=not unicode_stdout()))


def _emit_text(path: Path, result: ValidationResult) -> None:
    count = len(result.problems)
    verdict = "valid" if result.valid else f"invalid ({count} problem{'s' * (count != 1)})"
    click.echo(f"{printable(str(path))}: {verdict}")
    sections = (
        ("error", result.problems),
        ("schema", result.schema_findings),
        ("warning", result.warnings),
    )
    for label, problems in sections:
        for problem in problems:
            where = printable(problem.path or "(manifest)")
            click.echo(f"  {label:<7} {where}: {printable(problem.message)}")
    if result.schema_findings:
        click.echo(
            "  (schema findings are advisory: the published schema is older than the platform)"
        )
    if not result.schema_checked:
        click.echo(
            "  schema not checked: no schema found (pass --schema or set CIVITAI_APP_BLOCK_SCHEMA)"
        )


@block.command()
@click.argument("manifest", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document and nothing else.")
@click.option(
    "--schema",
    type=click.Path(path_type=Path, dir_okay=False),
    help="JSON Schema to check against (default: $CIVITAI_APP_BLOCK_SCHEMA, else the packaged).",
)
def validate(manifest: Path, as_json: bool, schema: Path | None) -> None:
    """Report every reason the platform would refuse MANIFEST, with its field path.

    Exit 0 if it would be accepted, 1 if refused, 2 if MANIFEST (or the schema) cannot
    be read.
    """
    from civitai_app_sdk.blocks import SchemaUnavailableError, validate_manifest

    try:
        result = validate_manifest(_read_manifest(manifest), schema=schema)
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        if isinstance(exc, RecursionError):
            reason = "cannot check: the manifest is nested too deeply"
        elif isinstance(exc, SchemaUnavailableError):
            reason = str(exc)
        else:
            reason = f"cannot read: {exc}"
        if as_json:  # the failure document every command's --json gives
            failure = CliError(reason, ExitCode.USAGE, extra={"file": str(manifest)})
            _emit_json(failure.document())
        else:
            click.echo(f"{printable(str(manifest))}: {printable(reason)}", err=True)
        sys.exit(EXIT_UNREADABLE)
    if as_json:
        _emit_json(
            {
                "file": str(manifest),
                "valid": result.valid,
                "schemaChecked": result.schema_checked,
                "problems": _as_json(result.problems),
                "schemaFindings": _as_json(result.schema_findings),
                "warnings": _as_json(result.warnings),
            }
        )
    else:
        _emit_text(manifest, result)
    sys.exit(EXIT_VALID if result.valid else EXIT_INVALID)
