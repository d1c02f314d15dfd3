r"""JavaScript regular expressions read as the platform reads them, written for ``re``.

:func:`js_to_python` parses a JS pattern as the platform's ``new RegExp(source)`` does (Node
24, no flags, so the Annex B syntax: ``\k`` and ``\8`` are plain letters without named
groups, ``[^]`` is any character, ``a{,5}`` and a lone ``]`` are literal text, ``(?i)``,
``a++`` and ``(?P<n>`` are errors; ES2025's ``(?i:...)`` modifiers and names repeated in
different alternatives are fine) and writes the ``re`` pattern with the same meaning:
``$`` (JS: end of input only) becomes ``\Z``, ``\d``, ``\w``, ``\s``, ``.`` and classes
become explicit JS character sets, ``\b`` is ASCII, ``(?<name>`` becomes ``(?P<name>``.
:mod:`civitai_app_sdk.blocks.patterns` bounds and compiles the result.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Final, NoReturn

__all__ = ["JsRegexSyntaxError", "js_to_python", "syntax_chars"]


class JsRegexSyntaxError(re.error):
    """``new RegExp(source)`` would throw: the message names the problem, as V8 words it."""


_JS_SPACE: Final = (
    (0x09, 0x0D), (0x20, 0x20), (0xA0, 0xA0), (0x1680, 0x1680), (0x2000, 0x200A),
    (0x2028, 0x2029), (0x202F, 0x202F), (0x205F, 0x205F), (0x3000, 0x3000), (0xFEFF, 0xFEFF),
)  # fmt: skip
_CLASS_ESCAPES: Final = {
    "d": ((0x30, 0x39),),
    "w": ((0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)),
    "s": _JS_SPACE,
}
_LINE_ENDS: Final = ((0x0A, 0x0A), (0x0D, 0x0D), (0x2028, 0x2029))
_TOP: Final = 0x10FFFF
_CONTROL_ESCAPES: Final = {"f": 0x0C, "n": 0x0A, "r": 0x0D, "t": 0x09, "v": 0x0B}
_BRACED: Final = re.compile(r"\{([0-9]+)(,([0-9]*))?\}")
_HEX2: Final = re.compile(r"[0-9A-Fa-f]{2}")
_HEX4: Final = re.compile(r"[0-9A-Fa-f]{4}")
_BRACED_HEX: Final = re.compile(r"\\u\{([0-9A-Fa-f]+)\}")
_MODIFIERS: Final = re.compile(r"\(\?([ims]*)(?:-([ims]*))?:")
_DECIMAL: Final = re.compile(r"[1-9][0-9]*")
_OCTAL: Final = re.compile(r"[0-3][0-7]{0,2}|[4-7][0-7]?")
_PY_REPEAT_MAX: Final = 2**32 - 2  # re refuses larger counts; V8 clamps them
_PY_GROUPREF_MAX: Final = 99  # `\100` would be an octal escape to re
_WORD_CLASS: Final = "[0-9A-Z_a-z]"
# JS word boundaries are ASCII, and `\B` holds on empty text; re's are neither.
_BOUNDARIES: Final = {
    "b": f"(?:(?<={_WORD_CLASS})(?!{_WORD_CLASS})|(?<!{_WORD_CLASS})(?={_WORD_CLASS}))",
    "B": f"(?:(?<={_WORD_CLASS})(?={_WORD_CLASS})|(?<!{_WORD_CLASS})(?!{_WORD_CLASS}))",
}
_SET_CHARS: Final = frozenset("\\]-[^&|~")  # special (or warned about) inside a re class


def _merged(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Code-point ranges sorted, with overlapping and adjacent ones joined."""
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
        else:
            merged.append((lo, hi))
    return merged


def _complement(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """The code points in none of ``ranges`` (which may overlap, in any order)."""
    out, start = [], 0
    for lo, hi in sorted(ranges):
        if lo > start:
            out.append((start, lo - 1))
        start = max(start, hi + 1)
    if start <= _TOP:
        out.append((start, _TOP))
    return out


def _class_escape(letter: str) -> list[tuple[int, int]]:
    ranges = _CLASS_ESCAPES[letter.lower()]
    return list(ranges) if letter.islower() else _complement(ranges)


def _code(point: int) -> str:
    if point < 0x100:
        return f"\\x{point:02x}"
    return f"\\u{point:04x}" if point < 0x10000 else f"\\U{point:08x}"


def _member(point: int) -> str:
    """One end of a class range: printable ASCII as itself (escaped where ``re`` needs it)."""
    char = chr(point)
    if 0x20 < point < 0x7F:
        return f"\\{char}" if char in _SET_CHARS else char
    return _code(point)


def _ranges_text(ranges: Iterable[tuple[int, int]]) -> str:
    return "".join(_member(lo) if lo == hi else f"{_member(lo)}-{_member(hi)}" for lo, hi in ranges)


def _literal(char: str) -> str:
    """``char`` as a literal in ``re`` syntax, left readable where that is safe."""
    if char.isalnum() or char == "_" or not char.isascii():
        return char
    return f"\\{char}" if char.isprintable() else _code(ord(char))


_FOLD_RANGE_MAX: Final = 512  # wider class ranges get only their ASCII letters' other case


def _with_case_variants(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """``ranges`` plus the other case of the characters in them (a one-character one)."""
    extra: list[tuple[int, int]] = []
    for lo, hi in ranges:
        if hi - lo <= _FOLD_RANGE_MAX:
            for point in range(lo, hi + 1):
                char = chr(point)
                extra.extend(
                    (ord(v), ord(v)) for v in {char.upper(), char.lower()} - {char} if len(v) == 1
                )
            continue
        for first, last in ((0x41, 0x5A), (0x61, 0x7A)):
            start, end = max(lo, first), min(hi, last)
            if start <= end:
                extra.append((start ^ 0x20, end ^ 0x20))
    return _merged([*ranges, *extra])


def _is_name_char(char: str, first: bool) -> bool:
    if char in "$_":
        return True
    if first:
        return char.isidentifier()
    return char in "\u200c\u200d" or f"a{char}".isidentifier()


_Place = tuple[tuple[int, int], ...]  # (disjunction, alternative) pairs from the top


def syntax_chars(source: str) -> Iterator[tuple[int, str]]:
    """Index and character of each character of ``source`` that is neither escaped nor
    inside a character class (a class's opening ``[`` included): where ``|``, ``(`` and
    ``)`` are syntax."""
    index, in_class = 0, False
    while index < len(source):
        char = source[index]
        if char == "\\":
            index += 2
            continue
        if in_class:
            in_class = char != "]"
        else:
            in_class = char == "["
            yield index, char
        index += 1


class _Scan:
    """What the JS parser knows before it starts: the capturing groups and their names.

    A name may repeat only in different alternatives (``(?<y>a)|(?<y>b)``, ES2025), where
    at most one of the groups can take part in a match.
    """

    def __init__(self, source: str) -> None:
        self.count = 0
        self.names: dict[str, list[int]] = {}
        # the open disjunctions, each as [its id, the alternative being read]
        frames = [[0, 0]]
        places: dict[str, list[_Place]] = {}
        for index, char in syntax_chars(source):
            if char == "|":
                frames[-1][1] += 1
            elif char == ")" and len(frames) > 1:
                frames.pop()
            elif char == "(":
                named = (
                    source.startswith("(?<", index) and source[index + 3 : index + 4] not in "=!"
                )
                if named or not source.startswith("(?", index):
                    self.count += 1
                name = _read_name(source, index + 3)[0] if named else None
                if name is not None:
                    place = tuple((frame[0], frame[1]) for frame in frames)
                    if any(_together(place, other) for other in places.get(name, [])):
                        raise JsRegexSyntaxError("Duplicate capture group name", source, index)
                    places.setdefault(name, []).append(place)
                    self.names.setdefault(name, []).append(self.count)
                frames.append([index + 1, 0])


def _together(a: _Place, b: _Place) -> bool:
    """Whether groups at these places may both take part in a match: no disjunction they
    share has them in different alternatives."""
    return all(x[1] == y[1] for x, y in zip(a, b, strict=False) if x[0] == y[0])


def _read_name(source: str, index: int) -> tuple[str | None, int]:
    """The group name starting at ``index`` (after ``<``) and the index after its ``>``."""
    chars: list[str] = []
    while index < len(source) and source[index] != ">":
        char = source[index]
        if char == "\\" and source.startswith("\\u", index):
            braced = _BRACED_HEX.match(source, index)
            plain = _HEX4.fullmatch(source, index + 2, index + 6)
            if braced and int(braced.group(1), 16) <= _TOP:
                char, index = chr(int(braced.group(1), 16)), braced.end()
            elif plain:
                char, index = chr(int(plain.group(), 16)), index + 6
            else:
                return None, index
        else:
            index += 1
        if not _is_name_char(char, not chars):
            return None, index
        chars.append(char)
    if index >= len(source) or not chars:
        return None, index
    return "".join(chars), index + 1


class _Translator:
    """One pass over a JS pattern (no flags, Annex B syntax), writing the ``re`` equivalent."""

    def __init__(self, source: str, exact: bool) -> None:
        self.source, self.exact, self.index = source, exact, 0
        self.scan = _Scan(source)
        self.out: list[str] = []
        self.group = 0
        self.closed: set[int] = set()
        self.flags: frozenset[str] = frozenset()  # modifiers in effect: i, m, s

    def fail(self, message: str) -> NoReturn:
        raise JsRegexSyntaxError(message, self.source, self.index)

    def peek(self, offset: int = 0) -> str:
        at = self.index + offset
        return self.source[at] if at < len(self.source) else ""

    def run(self) -> str:
        # open groups: (capture number or 0, quantifiable once closed, text closing it,
        # the modifiers to restore)
        stack: list[tuple[int, bool, str, frozenset[str]]] = []
        # what a quantifier here would apply to: None nothing, "atom", "assertion", "quantified"
        last: str | None = None
        while self.index < len(self.source):
            char = self.peek()
            if char in "*+?" or (char == "{" and _BRACED.match(self.source, self.index)):
                last = self.quantifier(last)
                continue
            if char == "|":
                self.out.append("|")
                self.index += 1
                last = None
            elif char == "(":
                flags = self.flags
                stack.append((*self.open_group(), flags))
                last = None
            elif char == ")":
                if not stack:
                    self.fail("Unmatched ')'")
                number, quantifiable, closer, self.flags = stack.pop()
                if number:
                    self.closed.add(number)
                self.out.append(closer)
                self.index += 1
                last = "atom" if quantifiable else "assertion"
            elif char == "[":
                self.out.append(self.char_class())
                last = "atom"
            elif char == "\\":
                last = self.escape()
            elif char in "^$":
                self.out.append(self.anchor(char))
                self.index += 1
                last = "assertion"
            elif char == ".":
                self.out.append(
                    "[\\s\\S]" if "s" in self.flags else f"[^{_ranges_text(_LINE_ENDS)}]"
                )
                self.index += 1
                last = "atom"
            else:
                self.out.append(self.literal(ord(char)))
                self.index += 1
                last = "atom"
        if stack:
            self.fail("Unterminated group")
        return "".join(self.out)

    def folds_case(self) -> bool:
        """Whether ``i`` applies and the analysis must see each letter's other case
        (it reads character sets, not flags: ``(?i:(a|A)+)`` is ambiguous)."""
        return "i" in self.flags and not self.exact

    def literal(self, point: int) -> str:
        if self.folds_case():
            variants = _with_case_variants([(point, point)])
            if len(variants) > 1:
                return f"[{_ranges_text(variants)}]"
        return _literal(chr(point))

    def anchor(self, char: str) -> str:
        if "m" not in self.flags or not self.exact:
            return "^" if char == "^" else "\\Z"
        ends = f"[{_ranges_text(_LINE_ENDS)}]"
        return f"(?:^|(?<={ends}))" if char == "^" else f"(?={ends}|\\Z)"

    def quantifier(self, last: str | None) -> str:
        if last in (None, "quantified"):
            self.fail("Nothing to repeat")
        if last == "assertion":
            self.fail("Invalid quantifier" if self.out[-1] == ")" else "Nothing to repeat")
        braced = _BRACED.match(self.source, self.index)
        if braced:
            low = int(braced.group(1))
            high = braced.group(3)
            if high and int(high) < low:
                self.fail("numbers out of order in {} quantifier")
            low = min(low, _PY_REPEAT_MAX)
            text = (
                f"{{{low}}}"
                if braced.group(2) is None
                else f"{{{low},{min(int(high), _PY_REPEAT_MAX) if high else ''}}}"
            )
            self.index = braced.end()
        else:
            text = self.peek()
            self.index += 1
        if self.peek() == "?":
            text += "?"
            self.index += 1
        self.out.append(text)
        return "quantified"

    def open_group(self) -> tuple[int, bool, str]:
        rest = self.source[self.index : self.index + 4]
        if not rest.startswith("(?"):
            self.group += 1
            self.out.append("(")
            self.index += 1
            return self.group, True, ")"
        if rest.startswith("(?:"):
            self.out.append("(?:")
            self.index += 3
            return 0, True, ")"
        if rest.startswith(("(?=", "(?!")):
            # Annex B lets a lookahead be quantified: wrapped, re takes that too.
            self.out.append(f"(?:{rest[:3]}")
            self.index += 3
            return 0, True, "))"
        if rest.startswith(("(?<=", "(?<!")):
            self.out.append(rest if self.exact else f"(?{rest[3]}")
            self.index += 4
            return 0, False, ")"
        modifiers = _MODIFIERS.match(self.source, self.index)
        if modifiers:
            return self.modified_group(modifiers)
        if rest.startswith("(?<"):
            name, end = _read_name(self.source, self.index + 3)
            if name is None:
                self.fail("Invalid capture group name")
            self.group += 1
            self.out.append(f"(?P<{self.py_name(name)}>")
            self.index = end
            return self.group, True, ")"
        self.fail("Invalid group")

    def modified_group(self, modifiers: re.Match[str]) -> tuple[int, bool, str]:
        """``(?ims-ims:``: flags for the group (ES2025, in the platform's Node 24)."""
        on, off = modifiers.group(1), modifiers.group(2) or ""
        both = on + off
        if not both:
            self.fail("Invalid group")
        if len(set(both)) != len(both):
            self.fail("Repeated flag in modifiers")
        self.flags = (self.flags | set(on)) - set(off)
        case = "i" if "i" in on else ("-i" if "i" in off else "")
        self.out.append(f"(?{case}:")
        self.index = modifiers.end()
        return 0, True, ")"

    def py_name(self, name: str) -> str:
        number = self.group
        first = self.scan.names[name][0] == number
        return name if name.isidentifier() and first else f"_js_group_{number}"

    def backreference(self, *numbers: int) -> None:
        # A group not closed yet (later, or the one being matched) matches empty text in JS;
        # of groups sharing a name, the one that took part counts.
        refs = [f"\\{n}" for n in numbers if n in self.closed and n <= _PY_GROUPREF_MAX]
        self.out.append(f"(?:{'|'.join(refs)})")

    def escape(self) -> str:
        """One escape outside a class; returns what a quantifier after it would apply to."""
        letter = self.peek(1)
        if not letter:
            self.fail("\\ at end of pattern")
        if letter in "bB":
            self.out.append(_BOUNDARIES[letter] if self.exact else f"\\{letter}")
            self.index += 2
            return "assertion"
        if letter.lower() in _CLASS_ESCAPES:
            negate = "^" if letter.isupper() else ""
            self.out.append(f"[{negate}{_ranges_text(_CLASS_ESCAPES[letter.lower()])}]")
            self.index += 2
            return "atom"
        if letter == "k" and self.scan.names:
            name, end = (None, self.index)
            if self.peek(2) == "<":
                name, end = _read_name(self.source, self.index + 3)
            if name is None:
                self.fail("Invalid named reference")
            if name not in self.scan.names:
                self.fail("Invalid named capture referenced")
            self.backreference(*self.scan.names[name])
            self.index = end
            return "atom"
        digits = _DECIMAL.match(self.source, self.index + 1)
        if digits and int(digits.group()) <= self.scan.count:
            self.backreference(int(digits.group()))
            self.index = digits.end()
            return "atom"
        point, length = self.character_escape(in_class=False)
        self.out.append(self.literal(ord("\\") if point is None else point))
        self.index += length
        return "atom"

    def character_escape(self, in_class: bool) -> tuple[int | None, int]:
        """The character an escape at ``index`` stands for (``None``: a lone backslash) and
        the length it takes, for the escapes that mean the same in and out of a class."""
        letter = self.peek(1)
        after = self.index + 2
        if letter in _CONTROL_ESCAPES:
            return _CONTROL_ESCAPES[letter], 2
        if letter == "c":
            control = self.peek(2)
            if control.isascii() and (
                control.isalpha() or (in_class and (control.isdigit() or control == "_"))
            ):
                return ord(control) % 32, 3
            return None, 1  # `\c` not before a control letter: a backslash, then `c`
        if letter == "x" and (hex2 := _HEX2.match(self.source, after)):
            return int(hex2.group(), 16), 4
        if letter == "u" and (hex4 := _HEX4.match(self.source, after)):
            return int(hex4.group(), 16), 6
        octal = _OCTAL.match(self.source, self.index + 1)
        if octal:  # `\0`, and (Annex B) what is not a backreference: a legacy octal escape
            return int(octal.group(), 8), 1 + octal.end() - octal.start()
        if letter == "k" and self.scan.names:
            self.fail("Invalid escape")
        return ord(letter), 2  # identity escape

    def char_class(self) -> str:
        self.index += 1
        negate = self.peek() == "^"
        if negate:
            self.index += 1
        ranges: list[tuple[int, int]] = []
        while True:
            if self.index >= len(self.source):
                self.fail("Unterminated character class")
            if self.peek() == "]":
                self.index += 1
                break
            start = self.class_atom()
            if self.peek() == "-" and self.peek(1) not in ("]", ""):
                self.index += 1
                end = self.class_atom()
                if isinstance(start, int) and isinstance(end, int):
                    if end < start:
                        self.fail("Range out of order in character class")
                    ranges.append((start, end))
                    continue
                ranges.append((ord("-"), ord("-")))  # Annex B: a class escape makes `-` literal
                for atom in (start, end):
                    ranges.extend([(atom, atom)] if isinstance(atom, int) else atom)
                continue
            ranges.extend([(start, start)] if isinstance(start, int) else start)
        if self.folds_case():
            ranges = _with_case_variants(ranges)
        if not ranges:  # `[]` matches nothing and `[^]` anything, which re cannot spell
            return "[\\s\\S]" if negate else "[^\\s\\S]"
        return f"[{'^' if negate else ''}{_ranges_text(ranges)}]"

    def class_atom(self) -> int | list[tuple[int, int]]:
        char = self.peek()
        if char != "\\":
            self.index += 1
            return ord(char)
        letter = self.peek(1)
        if not letter:
            self.fail("\\ at end of pattern")
        if letter.lower() in _CLASS_ESCAPES:
            self.index += 2
            return _class_escape(letter)
        if letter == "b":
            self.index += 2
            return 0x08
        if letter in "89":  # never a backreference inside a class
            self.index += 2
            return ord(letter)
        point, length = self.character_escape(in_class=True)
        self.index += length
        return ord("\\") if point is None else point


def js_to_python(source: str, *, exact: bool = True) -> str:
    """Rewrite a JS (no flags) regular expression so ``re`` gives it the same meaning.

    Raises :class:`JsRegexSyntaxError` (an ``re.error``) where ``new RegExp(source)`` throws.
    Character escapes, classes and ``.`` are written as explicit code-point sets (JS ``\\w``
    and ``\\s`` are not ``re``'s), ``$`` becomes ``\\Z``, named groups ``(?P<name>``. With
    ``exact=False`` a lookbehind becomes a lookahead: ``re`` only takes fixed-width
    lookbehinds, and the structure is all an analysis needs.
    """
    return _Translator(source, exact).run()
