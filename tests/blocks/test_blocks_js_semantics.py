"""The porting traps: JS strings, whitespace, numbers, key order, URLs and regexes."""

from __future__ import annotations

import json
import math

import pytest
from blocks_support import manifest, sdk014
from hypothesis import given
from hypothesis import strategies as st

from civitai_app_sdk.blocks import (
    BLOCK_SCOPE_PATTERN,
    BLOCK_SCOPES,
    SENSITIVE_BLOCK_SCOPES,
    BlockManifestError,
    BlockScope,
    define_block,
)
from civitai_app_sdk.blocks.jscompat import (
    is_integer,
    is_number,
    js_json,
    js_key_order,
    js_number,
    js_split_whitespace,
    js_string,
    js_trim,
    utf16_len,
)
from civitai_app_sdk.blocks.patterns import compiles, js_to_python
from civitai_app_sdk.blocks.redos import is_redos_prone
from civitai_app_sdk.blocks.urls import is_allowed_sdk_0_14_src, parse_url, public_https_problem


def test_utf16_length() -> None:
    assert utf16_len("abc") == 3
    assert utf16_len("\U0001f600") == 2
    assert utf16_len("é") == 1
    assert utf16_len("\ud800") == 1  # a lone surrogate from a JSON escape


def test_js_whitespace() -> None:
    assert js_trim("\ufeff\u00a0 x \u3000\u2028") == "x"
    assert js_trim("\u0085x\u001c") == "\u0085x\u001c"  # not whitespace in JS
    assert js_split_whitespace(" a\tb\ufeffc\u001cd ") == ["a", "b", "c\u001cd"]


def test_numbers_exclude_booleans() -> None:
    assert is_number(1)
    assert is_number(1.5)
    assert is_number(math.nan)
    assert not is_number(True)
    assert not is_number("1")
    assert not is_number(None)
    assert is_integer(200.0)
    assert is_integer(10**30)
    assert is_integer(-3)
    assert not is_integer(True)
    assert not is_integer(1.5)
    assert not is_integer(math.inf)


def _double(value: int) -> float:
    """The number ``JSON.parse`` makes of an integer literal."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


_PAST_DOUBLE = st.integers(2**1024, 10**400)


@given(st.one_of(st.integers(), _PAST_DOUBLE, _PAST_DOUBLE.map(lambda n: -n)))
def test_an_int_is_an_integer_as_its_javascript_double_is(value: int) -> None:
    assert is_integer(value) is is_integer(_double(value))


_ANY_CODE_POINT = st.text(st.characters() | st.integers(0xD800, 0xDFFF).map(chr), max_size=12)


@given(st.lists(_ANY_CODE_POINT, max_size=3), st.dictionaries(_ANY_CODE_POINT, _ANY_CODE_POINT))
def test_js_json_writes_lone_surrogates_as_escapes(
    items: list[str], mapping: dict[str, str]
) -> None:
    # Well-formed JSON.stringify (ES2019, Node 20) escapes a lone surrogate, so its text is
    # always valid UTF-8; js_json left it raw, and printing an error quoting it raised.
    value = [*items, mapping]
    text = js_json(value)
    text.encode("utf-8")
    assert json.loads(text) == json.loads(json.dumps(value))


def test_a_0_14_message_quotes_a_lone_surrogate_as_node_does() -> None:
    # Node 20 + @civitai/app-sdk 0.14 on the same manifest gives this text.
    with pytest.raises(BlockManifestError) as caught:
        define_block({"manifest": sdk014(contentRating="\ud800")}, strict_sdk_0_14=True)
    assert caught.value.message == (
        'manifest.contentRating must be one of g, pg, pg13, r, x. Got: "\\ud800"'
    )
    assert js_json(["\ud83d\ude00", "\ude00\ud83d"]) == '["\U0001f600","\\ude00\\ud83d"]'


def test_an_int_past_the_double_range_is_not_an_integer_to_the_platform() -> None:
    # JSON.parse reads 1 followed by 400 zeros as Infinity: Number.isInteger is false.
    huge = 10**400
    page = {"path": "/", "title": "Lab", "buzzBudgetPerGen": huge}
    with pytest.raises(BlockManifestError, match=r"page\.buzzBudgetPerGen must be a positive"):
        define_block({"manifest": manifest(page=page)})
    # 0.14 on Node 20 refuses the same digits for minHeight and priority.
    base = sdk014()
    with pytest.raises(BlockManifestError, match="minHeight must be a positive integer"):
        define_block(
            {"manifest": sdk014(iframe={**base["iframe"], "minHeight": huge})},
            strict_sdk_0_14=True,
        )
    target = {**base["targets"][0], "priority": huge}
    with pytest.raises(BlockManifestError, match="priority must be an integer"):
        define_block({"manifest": sdk014(targets=[target])}, strict_sdk_0_14=True)


def test_js_renderings() -> None:
    assert js_json("a\n") == '"a\\n"'
    assert js_json(200.0) == "200"
    assert js_json([1.0, math.nan, None, {"a": True}]) == '[1,null,null,{"a":true}]'
    assert js_string(1.0) == "1"
    assert js_string(False) == "false"
    assert js_string([1, None, "a"]) == "1,,a"
    assert js_string({"a": 1}) == "[object Object]"


def test_js_key_order_puts_array_indices_first() -> None:
    assert js_key_order(["b", "10", "a", "2", "01", "4294967295", "4294967294"]) == [
        "2",
        "10",
        "4294967294",
        "b",
        "a",
        "01",
        "4294967295",
    ]


def test_scope_vocabulary() -> None:
    assert len(BLOCK_SCOPES) == 12
    assert BLOCK_SCOPES["APPS_STORAGE_SHARED_WRITE"] == "apps:storage:shared:write"
    assert {s.value for s in SENSITIVE_BLOCK_SCOPES} == {
        "ai:write:budgeted",
        "buzz:read:self",
        "social:tip:self",
        "apps:storage:shared:write",
        "collections:read:private",
    }
    assert all(BLOCK_SCOPE_PATTERN.match(scope) for scope in BlockScope)


@pytest.mark.parametrize(
    ("scope", "matches"),
    [
        ("models:read:self", True),
        ("a:b", True),
        ("apps:storage:shared:write", True),
        ("a_1:b", True),
        ("a:b:c:d:e", False),
        ("models", False),
        ("Models:read", False),
        ("models:read:self\n", False),
        ("models:read:", False),
    ],
)
def test_scope_pattern_is_anchored(scope: str, matches: bool) -> None:
    assert bool(BLOCK_SCOPE_PATTERN.match(scope)) is matches
    assert bool(BLOCK_SCOPE_PATTERN.search(scope)) is matches


@pytest.mark.parametrize(
    ("raw", "host", "port"),
    [
        ("HTTPS://Example.COM/x", "example.com", None),
        ("https:example.com", "example.com", None),
        ("https:\\\\example.com\\", "example.com", None),
        (" https://exa\tmple.com/ ", "example.com", None),
        ("https://example.com:443/", "example.com", None),
        ("https://example.com:8443/", "example.com", 8443),
        ("https://u:p@example.com/", "example.com", None),
        ("http://0x7f.1/", "127.0.0.1", None),
        ("http://0177.0.0.1/", "127.0.0.1", None),
        ("http://2130706433/", "127.0.0.1", None),
        ("http://127.0.0.1./", "127.0.0.1", None),
        ("http://[0:0:0:0:0:0:0:1]/", "[::1]", None),
        ("http://[2001:db8:0:0:1:0:0:1]/", "[2001:db8::1:0:0:1]", None),
        ("https://例え.jp/", "xn--r8jz45g.jp", None),
        ("https://ex%41mple.com/", "example.com", None),
    ],
)
def test_parse_url_normalises_like_whatwg(raw: str, host: str, port: int | None) -> None:
    parsed = parse_url(raw)
    assert parsed is not None
    assert (parsed.host, parsed.port) == (host, port)


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "https://",
        "//example.com/",
        "/index.html",
        "https://exa mple.com/",
        "https://example.com:99999/",
        "https://example.com:8o/",
        "http://256.0.0.1/",
        "http://1.2.3.4.5/",
        "http://[::1/",
        "http://[fe80::1%25eth0]/",
        "https://a..1/",
    ],
)
def test_parse_url_rejects(raw: str) -> None:
    assert parse_url(raw) is None


# `new URL(raw)` throws on each of these in Node 20; parse_url accepted them.
_NODE_THROWS = [
    "https://ｘｎ--/",  # fullwidth xn-- maps to an xn-- label, which must decode
    "https://ｘｎ--ab.com/",
    "https://a.09/",  # ends in a number (all digits), which is no valid octal IPv4 part
    "https://09/",
    "https://1.2.3.09/",
    "https://xn--ffb.com/",  # decodes to U+05FD, unassigned
    "https://\u05fd.com/",
    "https://\u0301a.com/",  # a label may not begin with a combining mark
]


@pytest.mark.parametrize("raw", _NODE_THROWS)
def test_parse_url_rejects_what_node_rejects(raw: str) -> None:
    assert parse_url(raw) is None
    assert public_https_problem(raw) == "malformed URL"
    assert not is_allowed_sdk_0_14_src(raw)


def test_strict_0_14_refuses_an_iframe_src_node_cannot_parse() -> None:
    base = sdk014()
    case = sdk014(iframe={**base["iframe"], "src": "https://ｘｎ--/"})
    with pytest.raises(BlockManifestError, match=r"iframe\.src must use https://"):
        define_block({"manifest": case}, strict_sdk_0_14=True)


_FULLWIDTH = {ord(c): chr(ord(c) + 0xFEE0) for c in "abcdefghijklmnopqrstuvwxyz0123456789-"}
_FULLWIDTH[ord(".")] = "\uff0e"


@given(st.from_regex(r"\A(?:xn--)?[a-z0-9-]{0,12}(?:\.(?:xn--)?[a-z0-9-]{0,12}){0,3}\Z"))
def test_a_fullwidth_host_parses_as_its_ascii_twin(host: str) -> None:
    # UTS #46 maps fullwidth letters, digits and dots to ASCII before checking the labels.
    assert parse_url(f"https://{host.translate(_FULLWIDTH)}/") == parse_url(f"https://{host}/")


@pytest.mark.parametrize(
    ("raw", "accepted"),
    [
        ("https://anything.example/", True),
        ("http://localhost:3000/", True),
        ("http://app.localhost/", True),
        ("http://127.1/", True),
        ("http://[::1]/", True),
        ("http://localhost./", False),
        ("http://127.0.0.2/", False),
        ("http://[::ffff:127.0.0.1]/", False),
        ("http://localhost.evil.com/", False),
        ("http://localhost@evil.com/", False),
        ("http://evil.com#.localhost", False),
        ("ftp://localhost/", False),
        ("javascript:alert(1)", False),
        ("file:///tmp/x", False),
    ],
)
def test_sdk_0_14_src_rule(raw: str, accepted: bool) -> None:
    assert is_allowed_sdk_0_14_src(raw) is accepted


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("https://cdn.example.com/a.js", None),
        ("ftp://cdn.example.com/", "must be https"),
        ("data:text/plain,x", "must be https"),
        ("::", "malformed URL"),
        ("https://[::ffff:7f00:1]/", "IPv4-mapped IPv6 not permitted"),
        ("https://[2001:db8::1]/", "hostname must be a public dotted name"),
        ("https://example.com./", "hostname must be a public dotted name"),
        ("https://172.20.1.1/", "private/internal hostname"),
        ("https://172.32.1.1/", "literal IPv4 addresses are not permitted"),
        ("https://169.254.169.254/", "private/internal hostname"),
        ("https://metadata.google.internal/", "private/internal hostname"),
        ("https://0177.0.0.1/", "private/internal hostname"),
        ("https://0x08080808/", "literal IPv4 addresses are not permitted"),
    ],
)
def test_public_https_guard(raw: str, reason: str | None) -> None:
    assert public_https_problem(raw) == reason


def test_js_regex_translation() -> None:
    assert js_to_python("^\\d+$") == "^[0-9]+\\Z"
    assert js_to_python("[\\d$]") == "[0-9$]"
    assert js_to_python("(?<year>\\d{4})(?<=x)") == "(?P<year>[0-9]{4})(?<=x)"
    assert js_to_python("\\$") == "\\$"


@pytest.mark.parametrize(
    ("pattern", "risky"),
    [
        ("(a+)+", True),
        ("^(\\w*)*$", True),
        ("(\\w+\\s?)+", True),
        ("((ab)*)+", True),
        ("(?<w>a+){2,}", True),
        ("^[a-z]+(-[a-z]+)*$", False),
        ("\\d+(\\.\\d+)*", False),
        ("(ab)+", False),
        ("(a+)?", False),
        ("[(]a+[)]+", False),
        ("\\(a+\\)+", False),
    ],
)
def test_redos_check(pattern: str, risky: bool) -> None:
    assert compiles(pattern)
    assert is_redos_prone(pattern) is risky


def test_compiles() -> None:
    assert compiles("(?<name>a)")
    assert not compiles("(")
    assert not compiles("a{2,1}")


def _nested(depth: int, leaf: object) -> object:
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


def test_js_renderings_take_any_depth_json_loads_gives() -> None:
    # `json.loads` reads ~1,000 levels; String() and JSON.stringify used to recurse and
    # raise RecursionError from define_block on a deeply nested blockId, version or type.
    deep = _nested(990, 7)
    assert js_string(deep) == "7"
    assert js_json(deep) == "[" * 990 + "7" + "]" * 990
    assert js_json({"k": _nested(990, {"a": 2, "1": 1})}).endswith(
        '{"1":1,"a":2}' + "]" * 990 + "}"
    )
    assert js_string([[1, 2], [], [None, [3]]]) == "1,2,,,3"


def test_js_json_orders_keys_as_js_does() -> None:
    assert js_json({"b": 1, "10": 2, "2": 3}) == '{"2":3,"10":2,"b":1}'


@pytest.mark.parametrize("key", ["blockId", "version", "contentRating"])
def test_deeply_nested_values_get_the_platform_message(key: str) -> None:
    case = manifest(**{key: _nested(990, "x")})
    with pytest.raises(BlockManifestError) as refused:
        define_block({"manifest": case})
    assert refused.value.field == key


@pytest.mark.parametrize("key", ["type", "contentRating", "blockId"])
def test_deeply_nested_values_get_the_0_14_message(key: str) -> None:
    with pytest.raises(BlockManifestError) as refused:
        define_block({"manifest": sdk014(**{key: _nested(990, "x")})}, strict_sdk_0_14=True)
    assert refused.value.field == key


@pytest.mark.parametrize(
    ("raw", "origin"),
    [
        # What `new URL(raw).origin` gives in Node (WHATWG: UTS #46, non-transitional).
        ("https://claß.civit.ai/", "https://xn--cla-7ka.civit.ai"),  # not class.civit.ai
        ("https://ΣΑΣ.gr/", "https://xn--mxa9ab.gr"),
        ("https://İ.com/", "https://xn--i-9bb.com"),
        ("https://xn--Mnchen-3ya.de/", "https://xn--mnchen-3ya.de"),
        ("https://münchen.de/", "https://xn--mnchen-3ya.de"),
        ("https://a\u00ad.com/", "https://a.com"),
        ("https://\u0915\u094d\u200d\u0937.com/", "https://xn--11b2ezcw70k.com"),  # after virama
        ("https://xn--.com/", None),
        ("https://xn--abc-.com/", "https://xn--abc-.com"),  # decodes to ASCII: kept as is
        ("https://xn--abc-zzz.com/", None),
        ("https://xn--abc.com/", None),
        ("https://ex\u200dample.com/", None),  # a joiner out of context
        ("https://\u2488.com/", None),
    ],
)
def test_hosts_are_mapped_as_whatwg_maps_them(raw: str, origin: str | None) -> None:
    # Python's "idna" codec (IDNA 2003) turned ß into ss and dropped joiners, and took any
    # ASCII `xn--` label as it was: hosts Node refuses, or reads as another origin, passed.
    parsed = parse_url(raw)
    assert (parsed.origin if parsed else None) == origin


def test_an_idn_look_alike_of_the_app_origin_is_refused() -> None:
    case = manifest(blockId="class", assetBundleUrl="https://claß.civit.ai/bundle.js")
    with pytest.raises(BlockManifestError) as refused:
        define_block({"manifest": case})
    assert refused.value.message == (
        "assetBundleUrl rejected: origin https://xn--cla-7ka.civit.ai not in "
        "OauthClient.allowedOrigins"
    )
    assert not is_allowed_sdk_0_14_src("https://xn--.com/")


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        # String(n) in Node: plain from 1e-6 to 1e21, no zero-padded exponent, ints as doubles.
        (0.00001, "0.00001"),
        (1e-7, "1e-7"),
        (1.5e21, "1.5e+21"),
        (10**21, "1e+21"),
        (12345678901234567890, "12345678901234567000"),
        (2**53 + 1, "9007199254740992"),
        (10**400, "Infinity"),
        (-2.5e-300, "-2.5e-300"),
        (123.456, "123.456"),
    ],
)
def test_numbers_print_as_javascript_prints_them(value: float, shown: str) -> None:
    # Python's repr gave "1e-05", "1e-07" and exact big ints: the platform's and 0.14's
    # messages quote String(n) / JSON.stringify(n).
    assert js_number(value) == shown
    assert js_string([value]) == shown
    assert js_json({"v": value}) == '{"v":%s}' % ("null" if shown == "Infinity" else shown)


def test_version_message_quotes_the_number_as_javascript_does() -> None:
    with pytest.raises(BlockManifestError) as refused:
        define_block({"manifest": manifest(version=0.00001)})
    assert refused.value.message == 'manifest.version "0.00001" must be semver (e.g. 0.1.0)'


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        # isPublicHttpsUrl in Node: an authority new URL cannot parse is "malformed URL"
        # whatever the scheme; a parsable non-https URL is "must be https".
        ("javascript://a b/", "malformed URL"),
        ("javascript://x:99999/", "malformed URL"),
        ("data://[fe80::1%25eth0]/", "malformed URL"),
        ("file://user@host/", "malformed URL"),
        ("file://host:1/", "malformed URL"),
        ("javascript:alert(1)", "must be https"),
        ("javascript://host:80/x", "must be https"),
        ("file:///etc/passwd", "must be https"),
        ("file:\\\\host\\share", "must be https"),
    ],
)
def test_the_guard_gives_the_platform_reason_for_other_schemes(raw: str, reason: str) -> None:
    # These all said "must be https": the author was told to change the scheme of a URL
    # the platform calls malformed.
    assert public_https_problem(raw) == reason
