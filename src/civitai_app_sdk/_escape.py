"""Text for a terminal: every character a terminal would act on, written as an escape.

Shared by the CLI's output and the SDK's log handler, so a server's words (or anything
else that reaches a terminal) never move the cursor, retitle the window or reverse text.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

__all__ = ["harmless", "printable", "terminal_safe"]

_SUSPECT: Final = re.compile(r"[^\x20-\x7e]")
_SUSPECT_IN_TEXT: Final = re.compile(r"[^\x20-\x7e\n\t]")
_ACTED_ON: Final = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
"""Unicode categories a terminal acts on or hides: controls, format characters
(bidirectional overrides among them), lone surrogates, line and paragraph separators."""
_JOINERS: Final = frozenset("\u200c\u200d")
"""The zero-width non-joiner and joiner: ordinary in Persian and Indic text and in emoji."""


def harmless(char: str) -> bool:
    """Whether a terminal shows ``char`` as it is rather than acting on it or hiding it
    (private-use characters and those newer than Python's Unicode data, recent emoji
    among them, are shown as they are)."""
    return char in _JOINERS or unicodedata.category(char) not in _ACTED_ON


def _escaped(match: re.Match[str]) -> str:
    char = match.group()
    return char if harmless(char) else ascii(char)[1:-1]


def printable(text: str) -> str:
    """``text`` on one line, with every character a terminal would act on (control
    characters, line breaks, escape sequences, bidirectional overrides, other invisible
    format characters) written as a ``\\x1b``-style escape instead."""
    return text if text.isprintable() else _SUSPECT.sub(_escaped, text)


def terminal_safe(text: str) -> str:
    """:func:`printable` that keeps line breaks and tabs: for text of several lines."""
    return text if text.isprintable() else _SUSPECT_IN_TEXT.sub(_escaped, text)
