r"""JavaScript regular expressions in Python: a bound on their length, and whether one compiles.

For ``settings.<key>.pattern`` the platform compiles a JS ``RegExp`` and asks ``recheck``
whether it can backtrack catastrophically, refusing when unsure. Python cannot run either:
:func:`compiles` parses the source as JS and compiles its translation
(:func:`~civitai_app_sdk.blocks.jsregex.js_to_python`, also importable from here), and
:mod:`civitai_app_sdk.blocks.redos` analyses it for catastrophic backtracking. Neither takes
a source longer than :data:`MAX_PATTERN_LENGTH` (compiling a megabyte alternation alone
takes seconds): :func:`check_length` refuses it with :class:`BlockManifestError`.
"""

from __future__ import annotations

import re
from typing import Final

from civitai_app_sdk.blocks.errors import BlockManifestError
from civitai_app_sdk.blocks.jsregex import JsRegexSyntaxError, js_to_python

__all__ = [
    "MAX_PATTERN_LENGTH",
    "JsRegexSyntaxError",
    "check_length",
    "compiles",
    "js_to_python",
    "too_long",
]

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


def compiles(source: str) -> bool:
    """Whether the JS regular expression ``source`` compiles (after ``js_to_python``).

    Raises :class:`BlockManifestError` past :data:`MAX_PATTERN_LENGTH` characters.
    """
    check_length(source)
    try:
        re.compile(js_to_python(source, exact=False))
    except (re.error, RecursionError, OverflowError):
        return False
    return True
