r"""JavaScript regular expressions in Python: translation, and whether one compiles.

``js_to_python`` rewrites the JS spellings whose meaning differs in ``re``: ``$`` (JS: end of
input only; ``re``: also before a final newline) becomes ``\Z``, ``\d`` (JS: ASCII digits)
becomes ``[0-9]``, and ``(?<name>`` becomes ``(?P<name>``.

For ``settings.<key>.pattern`` the platform compiles a JS ``RegExp`` and asks ``recheck``
whether it can backtrack catastrophically, refusing when unsure. Python cannot run either:
:func:`compiles` compiles the source with ``re`` after translation, and
:mod:`civitai_app_sdk.blocks.redos` analyses it for catastrophic backtracking. Neither takes
a source longer than :data:`MAX_PATTERN_LENGTH` (compiling a megabyte alternation alone
takes seconds): :func:`check_length` refuses it with :class:`BlockManifestError`.
"""

from __future__ import annotations

import re
from typing import Final

from civitai_app_sdk.blocks.errors import BlockManifestError

__all__ = ["MAX_PATTERN_LENGTH", "check_length", "compiles", "js_to_python", "too_long"]

MAX_PATTERN_LENGTH: Final = 4096
"""Longest pattern source, in characters, that is compiled or analysed. A field's value
holds at most 1,000 characters, and ``recheck`` gives up on far smaller automata."""


def too_long(source: str, what: str = "pattern") -> str | None:
    """The problem with ``source``'s length (``what`` names it), or ``None`` if it is fine."""
    if len(source) > MAX_PATTERN_LENGTH:
        return f"{what} must be ≤{MAX_PATTERN_LENGTH} chars (it has {len(source)})"
    return None


def check_length(source: str, what: str = "pattern") -> None:
    """Raise :class:`BlockManifestError` when ``source`` is too long to compile or analyse."""
    problem = too_long(source, what)
    if problem is not None:
        raise BlockManifestError(problem)


def js_to_python(source: str) -> str:
    """Rewrite a JS (no flags) regular expression so ``re`` gives it the same meaning."""
    out: list[str] = []
    index, in_class = 0, False
    while index < len(source):
        char = source[index]
        if char == "\\":
            pair = source[index : index + 2]
            out.append(("0-9" if in_class else "[0-9]") if pair == "\\d" else pair)
            index += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "$":
            char = "\\Z"
        elif source.startswith("(?<", index) and source[index + 3 : index + 4] not in ("=", "!"):
            char, index = "(?P<", index + 2
        out.append(char)
        index += 1
    return "".join(out)


def compiles(source: str) -> bool:
    """Whether the JS regular expression ``source`` compiles (after ``js_to_python``).

    Raises :class:`BlockManifestError` past :data:`MAX_PATTERN_LENGTH` characters.
    """
    check_length(source)
    try:
        re.compile(js_to_python(source))
    except (re.error, RecursionError, OverflowError):
        return False
    return True
