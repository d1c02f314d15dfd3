"""`civitai-orch scopes`: translate token scopes between a bitmask and names."""

from __future__ import annotations

import re

import click

from civitai_app_sdk.scopes import (
    TOKEN_SCOPE_LABELS,
    TokenScope,
    TokenScopePresets,
    bitmask_from_scopes,
    get_scope_label,
    parse_scope,
    scopes_from_bitmask,
)

from ._exit import CliError, ExitCode
from ._options import json_option
from ._output import emit_json, stdout

_PRESETS = ("Full", "ReadOnly", "Creator", "AIServices")
_DECIMAL = re.compile(r"[0-9]+")


def _mask_from(words: list[str]) -> int:
    """OR decimal bitmasks, scope names (both read by ``parse_scope``) and preset names."""
    mask = 0
    for word in words:
        try:
            mask |= int(getattr(TokenScopePresets, word)) if word in _PRESETS else parse_scope(word)
        except ValueError as exc:
            if _DECIMAL.fullmatch(word):  # a bitmask, just not a usable one
                raise CliError(str(exc), ExitCode.USAGE) from None
            known = ", ".join([*_PRESETS[1:], *TokenScope.__members__])
            raise CliError(f"unknown scope {word!r}; known: {known}", ExitCode.USAGE) from None
    return mask


@click.command()
@click.argument("scope", nargs=-1, required=True)
@json_option
def scopes(scope: tuple[str, ...], as_json: bool) -> None:
    """Show the scopes in a bitmask, or the bitmask of scope names.

    SCOPE is a decimal bitmask (114689) or scope and preset names (AIServicesRead,
    AIServices, Full), separated by spaces or commas.
    """
    words = [w for part in scope for w in re.split(r"[\s,|]+", part) if w]
    if not words:
        raise CliError("give a bitmask or scope names", ExitCode.USAGE)
    mask = _mask_from(words)
    names = scopes_from_bitmask(mask)
    known = int(bitmask_from_scopes(names))
    data = {
        "mask": mask,
        "label": get_scope_label(mask),
        "scopes": names,
        "unknownBits": mask & ~known,
    }
    if as_json:
        emit_json(data)
        return
    from rich.table import Table

    console = stdout()
    console.print(f"Bitmask: [bold]{mask}[/] ({data['label']})")
    table = Table("Scope", "Bit", "Meaning", box=None, pad_edge=False)
    for name in names:
        member = TokenScope[name]
        table.add_row(name, str(int(member)), TOKEN_SCOPE_LABELS.get(member, ""))
    if names:
        console.print(table)
    if data["unknownBits"]:
        console.print(f"Unknown bits: {data['unknownBits']}")
