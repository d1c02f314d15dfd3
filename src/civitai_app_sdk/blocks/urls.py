"""The small part of WHATWG URL parsing the manifest rules need, and the two URL policies.

``parse_url`` follows the WHATWG steps for special schemes closely enough for hosts and ports:
outer C0/space trimmed, tabs and newlines removed, any run of ``/`` or ``\\`` after the scheme
skipped, credentials dropped, UTS #46 (non-transitional) for non-ASCII and ``xn--`` labels
(an ``xn--`` label after mapping must decode; unassigned code points and a leading combining
mark are refused; the Bidi and CONTEXTO rules are not checked), IPv4 in hex/octal/short forms
normalised to dotted decimal and a host ending in an all-digit label read as IPv4, IPv6
compressed, default ports dropped. Anything it cannot parse is treated as malformed
(rejecting is the safe side for both policies).

- ``public_https_problem``: the platform's lexical SSRF guard (``isPublicHttpsUrl``). Its
  single-string hex/integer and dotted hex/octal branches look at the *parsed* hostname, which
  is always dotted decimal by then, so those forms surface as ``private/internal hostname`` or
  ``literal IPv4 addresses are not permitted`` here, exactly as in the browser/Node parser.
- ``is_allowed_sdk_0_14_src``: 0.14's ``iframe.src`` rule (https anywhere, http on loopback).
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from dataclasses import dataclass
from encodings.idna import nameprep
from typing import Final
from urllib.parse import unquote

_SPECIAL_PORTS: Final = {"http": 80, "https": 443, "ws": 80, "wss": 443, "ftp": 21}
_SCHEME: Final = re.compile(r"\A([A-Za-z][A-Za-z0-9+.\-]*):")
_C0_AND_SPACE: Final = "".join(chr(i) for i in range(0x21))
_FORBIDDEN_HOST: Final = frozenset(" #%/:<>?@[\\]^|\x7f") | frozenset(map(chr, range(0x20)))
_PRIVATE_PREFIXES: Final = re.compile(
    r"\A(?:127\.|10\.|172\.(?:1[6-9]|2[0-9]|3[01])\.|192\.168\.|169\.254\.|0\.)"
)
_PRIVATE_SUFFIXES: Final = (".internal", ".local")
_IPV4_LITERAL: Final = re.compile(r"\A[0-9.]+\Z")


@dataclass(frozen=True)
class ParsedUrl:
    """Scheme, serialised host and non-default port of a parsed URL."""

    scheme: str
    host: str
    port: int | None = None

    @property
    def origin(self) -> str:
        """``scheme://host[:port]`` in lower case, as ``URL.protocol + '//' + URL.host``."""
        port = "" if self.port is None else f":{self.port}"
        return f"{self.scheme}://{self.host}{port}".lower()


class _Malformed(ValueError):
    """Raised inside the parser where ``new URL`` would throw."""


def parse_url(raw: str) -> ParsedUrl | None:
    """Parse an absolute URL like ``new URL(raw)``; ``None`` where that would throw."""
    text = raw.strip(_C0_AND_SPACE).replace("\t", "").replace("\n", "").replace("\r", "")
    match = _SCHEME.match(text)
    if match is None:
        return None
    scheme = match.group(1).lower()
    if scheme not in _SPECIAL_PORTS:
        # Their host matters to neither policy, but an authority new URL cannot parse
        # (`javascript://a b/`, `data://x:99999`) makes the whole URL malformed.
        rest = text[match.end() :]
        if scheme == "file":
            ok = not _SLASH_PAIR.match(rest) or _file_host_ok(re.split(r"[/\\?#]", rest[2:])[0])
        else:
            ok = not rest.startswith("//") or _opaque_authority_ok(re.split(r"[/?#]", rest[2:])[0])
        return ParsedUrl(scheme, "") if ok else None
    rest = text[match.end() :].lstrip("/\\")
    authority = re.split(r"[/\\?#]", rest, maxsplit=1)[0].rpartition("@")[2]
    try:
        if authority.startswith("["):
            inner, bracket, after = authority[1:].partition("]")
            if not bracket or (after and not after.startswith(":")):
                raise _Malformed(authority)
            host, port_text = _parse_ipv6(inner), after[1:]
        else:
            name, _, port_text = authority.partition(":")
            host = _parse_domain(name)
        return ParsedUrl(scheme, host, _parse_port(port_text, _SPECIAL_PORTS[scheme]))
    except _Malformed:
        return None


_FORBIDDEN_OPAQUE: Final = _FORBIDDEN_HOST - {"%"}
_SLASH_PAIR: Final = re.compile(r"[/\\]{2}")


def _file_host_ok(host: str) -> bool:
    """Whether WHATWG parses the host of a ``file://`` URL (no credentials, no port)."""
    if not host:
        return True
    try:
        if host.startswith("[") and host.endswith("]"):
            _parse_ipv6(host[1:-1])
        else:
            _parse_domain(host)
    except _Malformed:
        return False
    return True


def _opaque_authority_ok(authority: str) -> bool:
    """Whether WHATWG parses this authority of a non-special URL (an opaque host)."""
    hostport = authority.rpartition("@")[2]
    try:
        if hostport.startswith("["):
            inner, bracket, after = hostport[1:].partition("]")
            if not bracket or (after and not after.startswith(":")):
                return False
            _parse_ipv6(inner)
            port = after[1:]
        else:
            host, _, port = hostport.partition(":")
            if any(ch in _FORBIDDEN_OPAQUE for ch in host):
                return False
        _parse_port(port, -1)
    except _Malformed:
        return False
    return True


def _parse_port(text: str, default: int) -> int | None:
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or int(text) > 65535:
        raise _Malformed(text)
    return None if int(text) == default else int(text)


def _parse_ipv6(text: str) -> str:
    if "%" in text:
        raise _Malformed(text)
    try:
        packed = ipaddress.IPv6Address(text).packed
    except ValueError as exc:
        raise _Malformed(text) from exc
    groups = [int.from_bytes(packed[i : i + 2], "big") for i in range(0, 16, 2)]
    # Compress the first longest run of two or more zero groups, as WHATWG serialises.
    start, length, i = -1, 1, 0
    while i < 8:
        j = i
        while j < 8 and groups[j] == 0:
            j += 1
        if j - i > length:
            start, length = i, j - i
        i = max(j, i + 1)
    if start < 0:
        return "[" + ":".join(f"{g:x}" for g in groups) + "]"
    head = ":".join(f"{g:x}" for g in groups[:start])
    tail = ":".join(f"{g:x}" for g in groups[start + length :])
    return f"[{head}::{tail}]"


def _parse_domain(text: str) -> str:
    try:
        domain = _to_ascii(unquote(text, errors="strict"))
    except UnicodeError as exc:
        raise _Malformed(text) from exc
    if not domain or any(ch in _FORBIDDEN_HOST for ch in domain):
        raise _Malformed(text)
    labels = domain.split(".")
    if labels[-1] == "" and len(labels) > 1:
        labels.pop()
    # WHATWG's "ends in a number": all ASCII digits (`09` too, which is no octal number, so
    # the IPv4 parse then fails) or any form the IPv4 number parser reads.
    last = labels[-1]
    if _ipv4_number(last) is None and not (last and set(last) <= _DECIMAL_DIGITS):
        return domain
    return _parse_ipv4(labels)


_LABEL_DOTS: Final = re.compile("[.\u3002\uff0e\uff61]")
# UTS #46 keeps these (IDNA 2003, Python's "idna" codec, maps ß to ss, ς to σ and drops
# the joiners), so `https://claß.civit.ai` is not the origin `https://class.civit.ai`.
_DEVIATIONS: Final = "\u00df\u03c2\u200c\u200d"
_SPLIT_DEVIATIONS: Final = re.compile(f"([{_DEVIATIONS}])")
_VIRAMA: Final = 9  # canonical combining class after which a joiner is allowed (CONTEXTJ)


def _to_ascii(domain: str) -> str:
    """WHATWG's domain to ASCII (UTS #46, non-transitional): each label mapped and
    punycoded, and an ``xn--`` label checked to decode to what it encodes. Raises
    ``UnicodeError`` where ``new URL`` throws."""
    labels = []
    for label in _LABEL_DOTS.split(domain) if not domain.isascii() else domain.split("."):
        ascii_label = _check_punycode(label.lower()) if label.isascii() else _label_to_ascii(label)
        labels.append(ascii_label)
    return ".".join(labels)


def _check_punycode(label: str) -> str:
    """``label`` (mapped, not yet encoded) if it is not an ``xn--`` label, or one that
    decodes to what it encodes; else ``UnicodeError``, as UTS #46 checks every label that
    starts with ``xn--`` after mapping (so fullwidth ``ｘｎ--`` is checked too)."""
    if not label.startswith("xn--"):
        return label
    try:
        decoded = label[4:].encode("ascii").decode("punycode")
    except UnicodeError:
        raise UnicodeError(f"{label!r} is not a valid punycode label") from None
    # Node takes a label that decodes to plain ASCII (`xn--abc-`) as it is.
    if not decoded or (not decoded.isascii() and _label_to_ascii(decoded) != label):
        raise UnicodeError(f"{label!r} is not a valid punycode label")
    return label


def _label_to_ascii(label: str) -> str:
    parts = _SPLIT_DEVIATIONS.split(label)
    mapped = unicodedata.normalize(
        "NFC", "".join(part if part in _DEVIATIONS else nameprep(part) for part in parts if part)
    )
    _check_punycode(mapped)
    if any(unicodedata.category(char) == "Cn" for char in mapped):
        raise UnicodeError(f"{label!r} has an unassigned code point")  # UTS #46: disallowed
    if mapped and unicodedata.category(mapped[0]).startswith("M"):
        raise UnicodeError(f"{label!r} begins with a combining mark")  # UTS #46 validity
    if "." in mapped:  # `⒈` maps to "1." under IDNA 2003; UTS #46 disallows it
        raise UnicodeError(f"{label!r} maps to a dot")
    for index, char in enumerate(mapped):
        if char in "\u200c\u200d" and not (
            index and unicodedata.combining(mapped[index - 1]) == _VIRAMA
        ):
            raise UnicodeError(f"a joiner is not allowed in {label!r} there")
    if mapped.isascii():
        return mapped
    return "xn--" + mapped.encode("punycode").decode("ascii")


_HEX_DIGITS: Final = frozenset("0123456789abcdefABCDEF")
_OCTAL_DIGITS: Final = frozenset("01234567")
_DECIMAL_DIGITS: Final = frozenset("0123456789")


def _ipv4_number(part: str) -> int | None:
    """One IPv4 part in WHATWG's forms (``0x`` hex, leading-zero octal, decimal)."""
    if part[:2] in ("0x", "0X"):
        digits, base, allowed = part[2:], 16, _HEX_DIGITS
    elif len(part) > 1 and part.startswith("0"):
        digits, base, allowed = part[1:], 8, _OCTAL_DIGITS
    else:
        digits, base, allowed = part, 10, _DECIMAL_DIGITS
    if not digits:
        return 0 if base != 10 else None
    if not all(ch in allowed for ch in digits):
        return None
    return int(digits, base)


def _parse_ipv4(labels: list[str]) -> str:
    numbers = [_ipv4_number(label) for label in labels]
    values = [n for n in numbers if n is not None]
    if len(labels) > 4 or len(values) != len(labels):
        raise _Malformed(".".join(labels))
    if any(n > 255 for n in values[:-1]) or values[-1] >= 256 ** (5 - len(values)):
        raise _Malformed(".".join(labels))
    address = values[-1]
    for index, n in enumerate(values[:-1]):
        address += n * 256 ** (3 - index)
    return str(ipaddress.IPv4Address(address))


def public_https_problem(raw: str) -> str | None:
    """The platform's reason for refusing ``raw`` as a public https URL, or ``None``."""
    url = parse_url(raw)
    if url is None:
        return "malformed URL"
    if url.scheme != "https":
        return "must be https"
    host = url.host
    if "::ffff:" in host:
        return "IPv4-mapped IPv6 not permitted"
    if "." not in host or host.endswith("."):
        return "hostname must be a public dotted name"
    if host == "localhost" or _PRIVATE_PREFIXES.match(host) or host.endswith(_PRIVATE_SUFFIXES):
        return "private/internal hostname"
    if _IPV4_LITERAL.match(host):
        return "literal IPv4 addresses are not permitted"
    return None


def is_allowed_sdk_0_14_src(raw: str) -> bool:
    """0.14's ``iframe.src`` rule: any https host, or http on a loopback host."""
    url = parse_url(raw)
    if url is None or not url.host:
        return False
    if url.scheme == "https":
        return True
    if url.scheme != "http":
        return False
    host = url.host
    return host in ("localhost", "127.0.0.1", "[::1]") or host.endswith(".localhost")
