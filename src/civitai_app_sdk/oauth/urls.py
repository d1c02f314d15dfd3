"""Endpoint URLs, form encoding and the authorize URL."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Final, TypeAlias
from urllib.parse import quote_plus, urlsplit

from civitai_app_sdk._loopback import is_loopback
from civitai_app_sdk.errors import (
    ArgumentTypeError,
    ConfigurationError,
    RequestValidationError,
    problem_text,
)
from civitai_app_sdk.scopes import ALL_SCOPES, TokenScope, bitmask_from_scopes

__all__ = [
    "AUTHORIZE_PATH",
    "BUZZ_ACCOUNT_PATH",
    "BUZZ_USER_ACCOUNT_PATH",
    "DEFAULT_ISSUER",
    "DEFAULT_SITE_URL",
    "DEVICE_PATH",
    "DEVICE_TOKEN_PATH",
    "ME_PATH",
    "REVOKE_PATH",
    "TOKEN_PATH",
    "ScopeRequest",
    "build_authorize_url",
    "endpoint_url",
    "form_encode",
    "normalize_base_url",
    "scope_value",
]

DEFAULT_ISSUER: Final = "https://auth.civitai.com"
"""The OAuth server (``issuer`` of its discovery document); default for every OAuth call."""
DEFAULT_SITE_URL: Final = "https://civitai.com"
"""The main site, which serves ``/api/v1/me`` and the tRPC Buzz procedure."""

AUTHORIZE_PATH: Final = "/api/auth/oauth/authorize"
TOKEN_PATH: Final = "/api/auth/oauth/token"
REVOKE_PATH: Final = "/api/auth/oauth/revoke"
DEVICE_PATH: Final = "/api/auth/oauth/device"
DEVICE_TOKEN_PATH: Final = "/api/auth/oauth/device-token"
ME_PATH: Final = "/api/v1/me"
BUZZ_ACCOUNT_PATH: Final = "/api/trpc/buzz.getBuzzAccount"
"""tRPC procedure of the spendable pools (``fetch_buzz_balances``)."""
BUZZ_USER_ACCOUNT_PATH: Final = "/api/trpc/buzz.getUserAccount"
"""tRPC procedure of the user's accounts (``fetch_buzz_account``, as 0.14 calls it)."""

ScopeRequest: TypeAlias = int | Iterable[str | TokenScope]
"""A requested scope: a bitmask (``TokenScope`` or int) or scope names and members."""

_HOST: Final = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\]")
_DEFAULT_PORTS: Final = {"http": 80, "https": 443}
_CHALLENGE: Final = re.compile(r"[A-Za-z0-9_-]{43}")
_USERINFO: Final = re.compile(r"^([^:/?#]*:?//)[^/?#]*@")
"""The ``user:password@`` of a URL (replaced by ``***@`` in messages)."""


def normalize_base_url(base_url: str) -> str:
    """Check a base URL and return it as ``scheme://host[:port][/path]``, no final slash.

    The path is kept (a proxy prefix works for every endpoint, the authorize URL
    included: 0.14 drops it there) and trailing slashes are removed (0.14 produces
    ``//api/...``). Scheme and host are lower-cased and a default port is dropped.
    Raises :class:`ConfigurationError` (a ``ValueError``) for a non-HTTP(S) scheme,
    plain ``http`` to a host that is not
    loopback, a missing or non-ASCII host, credentials, a query or a fragment.
    """
    if not isinstance(base_url, str):
        raise ConfigurationError("base_url must be a str")
    shown = _USERINFO.sub(r"\1***@", base_url)  # messages never repeat a password
    try:
        parts = urlsplit(base_url)
        port = parts.port
    except ValueError as exc:
        raise ConfigurationError(f"invalid base URL {shown!r}") from exc
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if "[" in parts.netloc:
        host = f"[{host}]"
    if scheme not in _DEFAULT_PORTS or not _HOST.fullmatch(host):
        raise ConfigurationError(f"base URL {shown!r} must be http(s) with an ASCII host")
    if scheme == "http" and not is_loopback(host):
        raise ConfigurationError(f"base URL {shown!r} must use https (http only for loopback)")
    if parts.username is not None or parts.query or parts.fragment or "#" in base_url:
        raise ConfigurationError(
            f"base URL {shown!r} must not carry credentials, query or fragment"
        )
    netloc = host if port is None or port == _DEFAULT_PORTS[scheme] else f"{host}:{port}"
    return f"{scheme}://{netloc}{parts.path.rstrip('/')}"


def endpoint_url(base_url: str, path: str) -> str:
    """``base_url`` (normalised, path kept) joined with an absolute endpoint ``path``."""
    return normalize_base_url(base_url) + path


def _js_text(text: str) -> str:
    """``text`` as JavaScript writes it in UTF-8: a surrogate pair split in two code
    points joined, a lone surrogate (from ``surrogateescape``) as U+FFFD."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text


def _form_quote(text: str) -> str:
    """Encode like ``URLSearchParams``: keep ``*-._`` and alphanumerics, space as ``+``,
    lone surrogates as U+FFFD."""
    return quote_plus(_js_text(text), safe="*").replace("~", "%7E")


def form_encode(fields: Sequence[tuple[str, str]]) -> str:
    """``application/x-www-form-urlencoded`` text, byte-identical to ``URLSearchParams``."""
    return "&".join(f"{_form_quote(key)}={_form_quote(value)}" for key, value in fields)


def nonempty_str(name: str, value: object) -> str:
    """``value`` if it is a non-empty ``str``; else :class:`RequestValidationError` naming it."""
    if not isinstance(value, str) or not value:
        raise RequestValidationError([f"{name}: must be a non-empty string"], "argument")
    return value


def scope_value(scope: ScopeRequest) -> TokenScope:
    """A requested scope as a bitmask: an int in 0…ALL_SCOPES, or scope names.

    Raises :class:`RequestValidationError` (a ``ValueError``) for an unknown name, a
    negative value or bits outside ``ALL_SCOPES`` (which the server would refuse as
    ``invalid_scope``), and :class:`ArgumentTypeError` (a ``TypeError``) for a bool, a
    float, a single string or anything else that is no list.
    """
    if isinstance(scope, bool | float | str | bytes):
        raise ArgumentTypeError("scope must be an int bitmask or a list of scope names")
    try:
        value = int(bitmask_from_scopes(scope)) if not isinstance(scope, int) else int(scope)
    except ArgumentTypeError:
        raise ArgumentTypeError("scope must be an int bitmask or a list of scope names") from None
    except ValueError as exc:
        raise RequestValidationError([f"scope: {problem_text(exc)}"], "argument") from None
    if value < 0 or value & ~int(ALL_SCOPES):
        raise RequestValidationError([f"scope: {value} is outside 0…{int(ALL_SCOPES)}"], "argument")
    return TokenScope(value)


def build_authorize_url(
    *,
    client_id: str,
    redirect_uri: str,
    scope: ScopeRequest,
    state: str,
    code_challenge: str,
    code_challenge_method: str = "S256",
    base_url: str = DEFAULT_ISSUER,
    nonce: str | None = None,
) -> str:
    """The authorization URL, with 0.14's path, parameter order and encoding.

    Parameters: ``client_id``, ``redirect_uri``, ``response_type=code``, ``state``,
    ``scope`` (decimal), ``code_challenge``, ``code_challenge_method``, then ``nonce``
    only when given. Stricter than 0.14: ``scope`` may be names but unknown ones raise,
    it must lie within ``ALL_SCOPES``; empty ids, a challenge that is not 43 base64url
    characters and any method but ``S256`` raise ``ValueError``; the base URL keeps its
    path and loses a trailing slash. The default base is the issuer,
    ``https://auth.civitai.com`` (0.14: ``https://civitai.com``, which redirects there).
    """
    if code_challenge_method != "S256":
        raise RequestValidationError(["code_challenge_method: only S256 is supported"], "argument")
    if not isinstance(code_challenge, str) or not _CHALLENGE.fullmatch(code_challenge):
        raise RequestValidationError(
            ["code_challenge: must be 43 base64url characters (S256)"], "argument"
        )
    fields = [
        ("client_id", nonempty_str("client_id", client_id)),
        ("redirect_uri", nonempty_str("redirect_uri", redirect_uri)),
        ("response_type", "code"),
        ("state", nonempty_str("state", state)),
        ("scope", str(int(scope_value(scope)))),
        ("code_challenge", code_challenge),
        ("code_challenge_method", code_challenge_method),
    ]
    if nonce is not None:
        fields.append(("nonce", nonempty_str("nonce", nonce)))
    return f"{endpoint_url(base_url, AUTHORIZE_PATH)}?{form_encode(fields)}"
