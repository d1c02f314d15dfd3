r"""JavaScript regular expressions in Python: translation, and whether one compiles.

``js_to_python`` rewrites the JS spellings whose meaning differs in ``re``: ``$`` (JS: end of
input only; ``re``: also before a final newline) becomes ``\Z``, ``\d`` (JS: ASCII digits)
becomes ``[0-9]``, and ``(?<name>`` becomes ``(?P<name>``.

For ``settings.<key>.pattern`` the platform compiles a JS ``RegExp`` and asks ``recheck``
whether it can backtrack catastrophically, refusing when unsure. Python cannot run either:
:func:`compiles` compiles the source with ``re`` after translation, and
:mod:`civitai_app_sdk.blocks.redos` analyses it for catastrophic backtracking.
"""

from __future__ import annotations

import re


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
    """Whether the JS regular expression ``source`` compiles (after ``js_to_python``)."""
    try:
        re.compile(js_to_python(source))
    except (re.error, RecursionError, OverflowError):
        return False
    return True
