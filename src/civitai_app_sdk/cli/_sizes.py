"""Sizes in bytes as people type them: ``500M``, ``2G``, ``16GiB``, ``1.5GB``, ``1000``.

As in GNU coreutils, a bare unit letter and ``KiB``/``MiB``/... are powers of 1024, and
``KB``/``MB``/... powers of 1000; case does not matter. A fraction of a byte is dropped.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Final

import click

__all__ = ["MAX_FILE_SIZE", "byte_size", "parse_size", "size_text"]

MAX_FILE_SIZE: Final = (1 << 63) - 1
"""The largest size a file can have (a signed 64-bit offset)."""
_POWERS: Final = {"": 0, "k": 1, "m": 2, "g": 3, "t": 4, "p": 5, "e": 6}
_SIZE: Final = re.compile(
    r"([0-9]+(?:\.[0-9]+)?|\.[0-9]+) ?(?:([kmgtpe])(i?b)?|b)?", re.IGNORECASE | re.ASCII
)
_BINARY: Final = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")


def parse_size(text: str) -> int:
    """The number of bytes ``text`` names; ``ValueError`` (saying why) unless it is one
    from 1 byte to :data:`MAX_FILE_SIZE`."""
    match = _SIZE.fullmatch(text.strip())
    if match is None:
        raise ValueError(
            f"{text!r} is not a size: give bytes (1000) or a number with a unit "
            "(500M, 2G, 16GiB, 1.5GB)"
        )
    number, letter, suffix = match.groups()
    base = 1000 if (suffix or "").lower() == "b" else 1024
    size = int(Decimal(number) * base ** _POWERS[(letter or "").lower()])
    if not 1 <= size <= MAX_FILE_SIZE:
        raise ValueError(f"{text!r} is {'less than 1 byte' if size < 1 else 'too large'}")
    return size


def size_text(size: int) -> str:
    """``size`` bytes in the largest binary unit it is a whole number of: ``16GiB``,
    ``1536KiB``, ``1000B`` (what :func:`parse_size` reads back)."""
    power = 0
    while power + 1 < len(_BINARY) and size % (1024 ** (power + 1)) == 0:
        power += 1
    return f"{size // 1024**power}{_BINARY[power]}"


def byte_size(ctx: click.Context, param: click.Parameter, value: str) -> int:
    """Click callback for a size option (see :func:`parse_size`): a bad one is a usage error."""
    try:
        return parse_size(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
