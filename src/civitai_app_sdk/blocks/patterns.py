r"""JavaScript regular expressions in Python: translation, and checks on author patterns.

``js_to_python`` rewrites the JS spellings whose meaning differs in ``re``: ``$`` (JS: end of
input only; ``re``: also before a final newline) becomes ``\Z``, ``\d`` (JS: ASCII digits)
becomes ``[0-9]``, and ``(?<name>`` becomes ``(?P<name>``.

For ``settings.<key>.pattern`` the platform compiles a JS ``RegExp`` and asks ``recheck``
whether it can backtrack catastrophically, refusing when unsure. Python cannot run either, so
this module approximates both: the source is compiled with ``re`` after translation, and a
pattern counts as ReDoS-prone when an unbounded quantifier repeats a group whose every atom is
quantified and one of them is unbounded (``(a+)+``, ``(\\w*)*``, ``(\\w+\\s?)+``). Overlapping
alternations such as ``(a|a)*`` are not detected here; the platform refuses those too.
"""

from __future__ import annotations

import re
from typing import Final

_BRACE_QUANTIFIER: Final = re.compile(r"\{[0-9]+(,[0-9]*)?\}")


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


def _quantifier(source: str, index: int) -> tuple[bool | None, int]:
    """At ``index``: ``(True, end)`` unbounded, ``(False, end)`` bounded, ``(None, index)`` none."""
    char = source[index : index + 1]
    if char in ("*", "+"):
        unbounded, end = True, index + 1
    elif char == "?":
        unbounded, end = False, index + 1
    else:
        match = _BRACE_QUANTIFIER.match(source, index)
        if match is None:
            return None, index
        unbounded, end = match.group(1) == ",", match.end()
    if source[end : end + 1] == "?":
        end += 1
    return unbounded, end


def has_nested_quantifier(source: str) -> bool:
    """True when an unbounded quantifier repeats a group made only of quantified atoms, one
    of them unbounded (``(a+)+``, ``(\\w+\\s?)*``); a plain atom such as the ``\\.`` in
    ``(\\.\\d+)*`` separates the repetitions and keeps the pattern linear."""
    # One [unbounded, plain] pair per open group: does it hold an unbounded quantifier,
    # and an atom that must match exactly once?
    stack = [[False, False]]
    index = 0
    while index < len(source):
        char = source[index]
        if char in "|^$" or (char == ")" and len(stack) == 1):
            index += 1
            continue
        if char == "(":
            stack.append([False, False])
            index = _group_body(source, index + 1)
            continue
        inner = None
        if char == ")":
            inner = stack.pop()
            index += 1
        elif char == "\\":
            index += 2
        elif char == "[":
            index = _class_end(source, index + 1)
        else:
            index += 1
        unbounded, index = _quantifier(source, index)
        if inner is not None and unbounded and inner[0] and not inner[1]:
            return True
        state = stack[-1]
        state[0] = state[0] or bool(unbounded) or bool(inner and inner[0])
        state[1] = state[1] or (unbounded is None and (inner is None or inner[1]))
    return False


def _class_end(source: str, index: int) -> int:
    """Index just after the ``]`` closing a character class that starts at ``index``."""
    while index < len(source) and source[index] != "]":
        index += 2 if source[index] == "\\" else 1
    return index + 1


def _group_body(source: str, index: int) -> int:
    """Skip a group's ``?:``/``?=``/``?!``/``?<=``/``?<!``/``?<name>`` prefix."""
    if source[index : index + 1] != "?":
        return index
    if source[index + 1 : index + 2] == "<" and source[index + 2 : index + 3] not in ("=", "!"):
        close = source.find(">", index)
        return len(source) if close < 0 else close + 1
    return min(index + 3 if source[index + 1 : index + 2] == "<" else index + 2, len(source))
