"""Join the discovery document's `scopes_supported` with the scope names into a table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class ScopeTableError(ValueError):
    """The scope inputs contradict each other (for example a name without a bit)."""


@dataclass(frozen=True)
class ScopeRow:
    """One single-bit scope as the generated `TokenScope` enum will hold it."""

    name: str
    bit: int
    label: str
    group: str
    in_full: bool
    opt_in: bool
    sensitive: bool

    @property
    def value(self) -> int:
        """The scope's bitmask value."""
        return 1 << self.bit


@dataclass(frozen=True)
class ScopeTable:
    """Everything the `TokenScope` template needs, plus warnings for the log."""

    rows: tuple[ScopeRow, ...]
    full: int
    all_scopes: int
    sensitive_mask: int
    presets: tuple[tuple[str, int, str], ...]
    warnings: tuple[str, ...]


def _advertised_bits(discovery: dict[str, Any]) -> list[int]:
    bits: list[int] = []
    for raw in discovery.get("scopes_supported", []):
        value = int(raw)
        if value <= 0 or value & (value - 1):
            raise ScopeTableError(f"scopes_supported holds {raw!r}, which is not a single bit")
        bits.append(value.bit_length() - 1)
    return sorted(set(bits))


def build_scope_table(discovery: dict[str, Any], names: dict[str, Any]) -> ScopeTable:
    """Join advertised bits with named scopes; unnamed bits get `Bit<n>` and a warning."""
    advertised = _advertised_bits(discovery)
    named = {int(s["bit"]): s for s in names["scopes"]}
    orphans = sorted(set(named) - set(advertised))
    if orphans:
        listing = ", ".join(f"{named[b]['name']} (bit {b})" for b in orphans)
        raise ScopeTableError(f"scope names without an advertised bit: {listing}")
    warnings: list[str] = []
    rows: list[ScopeRow] = []
    for bit in advertised:
        entry = named.get(bit)
        if entry is None:
            warnings.append(f"bit {bit} ({1 << bit}) is advertised but has no name; using Bit{bit}")
            rows.append(
                ScopeRow(f"Bit{bit}", bit, f"Scope bit {bit}", "Unknown", False, True, True)
            )
            continue
        if int(entry["value"]) != 1 << bit:
            raise ScopeTableError(f"{entry['name']}: value {entry['value']} is not 1 << {bit}")
        rows.append(
            ScopeRow(
                name=entry["name"],
                bit=bit,
                label=entry["label"],
                group=entry.get("group", ""),
                in_full=bool(entry.get("inFull", False)),
                opt_in=bool(entry.get("optIn", False)),
                sensitive=bool(entry.get("sensitive", False)),
            )
        )
    aggregates = names["aggregates"]
    presets = tuple(
        (name, int(p["value"]), str(p["label"])) for name, p in sorted(names["presets"].items())
    )
    return ScopeTable(
        rows=tuple(rows),
        full=int(aggregates["Full"]),
        all_scopes=sum(r.value for r in rows),
        sensitive_mask=int(names["sensitiveMask"]),
        presets=presets,
        warnings=tuple(warnings),
    )
