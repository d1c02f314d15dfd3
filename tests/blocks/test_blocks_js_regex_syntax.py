"""``settings.<key>.pattern`` is a JS ``RegExp`` source: its syntax, not Python's, decides.

The verdicts below are what ``new RegExp(source)`` (no flags) does in Node 24, the platform's
runtime (``node:24-alpine`` in civitai/civitai's Dockerfile): Node 20's verdicts, checked
one by one, plus ES2025's modifiers ``(?i:...)`` and names repeated in different
alternatives. Before the JS parser, ``compiles`` asked Python's ``re``: it passed
Python-only syntax the platform refuses (``(?i)``, ``a++``, ``(?P<n>``) and refused JS the
platform accepts (``\\k<name>``, ``[^]``, ``\\cJ``, variable-width lookbehinds).
"""

from __future__ import annotations

import re

import pytest
from blocks_support import manifest
from hypothesis import given
from hypothesis import strategies as st

from civitai_app_sdk.blocks import BlockManifestError, define_block
from civitai_app_sdk.blocks.patterns import JsRegexSyntaxError, compiles, js_to_python
from civitai_app_sdk.blocks.redos import redos_complexity

NODE_REFUSES = [
    "(?i)^[a-z]+$",  # inline flags: Python/PCRE only
    "(?x:a)",  # modifiers take i, m and s only, each once
    "(?i-i:a)",
    "(?-:a)",
    "(?P<name>a)",
    "(?P=name)",
    "(?#comment)a",
    "a++",  # possessive and atomic: PCRE only
    "a*+",
    "(?>a)",
    "(?<=a)+",  # a lookbehind cannot be quantified
    "^*",
    "\\b+",
    "{1}",
    "a**",
    "x{2,1}",
    "[z-a]",
    "(",
    ")",
    "\\",
    "(?<1a>x)",
    "(?<a-b>x)",
    "(?<a>x)(?<a>y)",
    "(?:(?<a>x)|b)(?<a>y)",  # both groups may take part in one match
    "(?<a>x)\\k<b>",
    "(?<a>x)\\k",
    "(?<a>x)[\\k]",
]

NODE_ACCEPTS = [
    "^(?<word>[a-z]+)-\\k<word>$",  # named backreference
    "^[^]*$",  # any character, newlines included
    "[]",
    "\\p{L}+",  # without the u flag: the letters p{L}
    "\\k<name>",  # no named groups: a plain k
    "\\cJ",
    "[\\c1]",
    "\\c",
    "\\1",  # no group 1: an octal escape
    "(a)\\2",
    "\\8",
    "\\x4",
    "\\u12",
    "\\u{41}",
    "\\e\\y\\q",
    "[a-\\d]",
    "[\\w-a]",
    "(?<=a+)b",  # variable-width lookbehind
    "(?=a)*",
    "a{,5}",
    "]",
    "}",
    "x{99999999999}",
    "(?<$id>x)\\k<$id>",
    "(?<é>x)",
    "\\/",
    "(?i:a)b",
    "(?-i:a)",
    "(?m-s:^a)",
    "(?<year>\\d{4})|(?<year>\\d{2})",
]


@pytest.mark.parametrize("source", NODE_REFUSES)
def test_what_node_refuses_does_not_compile(source: str) -> None:
    assert not compiles(source)
    with pytest.raises(JsRegexSyntaxError):
        js_to_python(source)


@pytest.mark.parametrize("source", NODE_ACCEPTS)
def test_what_node_accepts_compiles(source: str) -> None:
    assert compiles(source)


def _with_pattern(pattern: str) -> dict[str, object]:
    return manifest(settings={"tag": {"type": "string", "pattern": pattern, "max_length": 40}})


def test_the_platform_verdict_follows_js_syntax() -> None:
    with pytest.raises(BlockManifestError) as refused:
        define_block({"manifest": _with_pattern("(?i)^[a-z]+$")})
    assert (refused.value.field, refused.value.message) == (
        "settings.tag.pattern",
        "settings.tag: pattern is not a valid RegExp source",
    )
    define_block({"manifest": _with_pattern("^(?<w>[a-z]+)-\\k<w>$")})
    define_block({"manifest": _with_pattern("^[^]{1,20}$")})


@pytest.mark.parametrize(
    ("source", "text", "matches"),
    [
        ("^\\w+$", "é", False),  # JS \w, \d and \b are ASCII
        ("^\\d$", "\u0660", False),
        ("\\bé", "é", False),
        ("^\\B$", "", True),
        ("^\\s$", "\ufeff", True),  # JS \s has U+FEFF, not U+001C or U+0085
        ("^\\s$", "\x1c", False),
        ("^.$", "\u2028", False),
        ("^[^]$", "\n", True),
        ("^[]$", "", False),
        ("^a{,2}$", "a{,2}", True),
        ("^\\cJ$", "\n", True),
        ("^\\101$", "A", True),
        ("^(a)\\1$", "aa", True),
        ("^\\1(a)$", "a", True),  # a group not matched yet: empty
        ("^(?<x>a)\\k<x>$", "aa", True),
        ("^(?<$x>a)\\k<$x>$", "aa", True),
        ("a$", "a\n", False),
        ("^[\\d-z]$", "-", True),
        ("^(?i:a)b$", "Ab", True),
        ("^(?i:a)b$", "AB", False),
        ("(?m:^b$)", "a\nb\nc", True),
        ("^b$", "a\nb\nc", False),
        ("(?s:^.$)", "\n", True),
        ("^(?:(?<x>a)|(?<x>b))\\k<x>$", "bb", True),
        ("^(?:(?<x>a)|(?<x>b))\\k<x>$", "ba", False),
    ],
)
def test_translation_matches_as_js_does(source: str, text: str, matches: bool) -> None:
    assert bool(re.search(js_to_python(source), text)) is matches


@given(st.text(alphabet="ab()[]{}^$*+?|.\\-,0123456789kdwsbB<>=!:?", max_size=12))
def test_any_source_gets_a_verdict_not_an_exception(source: str) -> None:
    try:
        translated = js_to_python(source)
    except JsRegexSyntaxError:
        assert not compiles(source)
        return
    assert compiles(source)
    if "(?<" not in source:  # re takes only fixed-width lookbehinds; the rest must compile
        re.compile(translated)


@pytest.mark.parametrize(
    ("source", "verdict"),
    [
        ("^(?i:(a|A)+)$", "exponential"),  # under i both branches read a and A
        ("^(?i:(x|[X-Z])+)$", "exponential"),
        ("^(?i:(é|É)+)$", "exponential"),
        ("^(a|A)+$", "safe"),
        ("^(?i:[a-z]+)$", "safe"),
        ("^(?i:[^a]|A)+$", "safe"),
    ],
)
def test_the_redos_analysis_sees_case_insensitive_groups(source: str, verdict: str) -> None:
    # The analysis reads character sets, not re's flags: without the other case spelled
    # out, `(?i:(a|A)+)` looked unambiguous and passed a pattern recheck refuses.
    assert redos_complexity(source) == verdict
