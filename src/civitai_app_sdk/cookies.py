"""Sealed session cookies, wire-compatible with ``@civitai/app-sdk`` 0.14.

A sealed value is ``hex(iv):hex(tag):hex(ciphertext)``: AES-256-GCM with a 12-byte
random IV and a 16-byte tag, keyed by ``scrypt(secret, "civitai-app-sdk-cookie-salt",
N=16384, r=8, p=1, 32 bytes)``. A cookie sealed by the Node SDK opens here and the
reverse, with the same secret.

Deliberate differences from 0.14:

* keys are derived once per secret and cached (:class:`CookieSealer`, and a bounded
  cache behind :func:`seal_cookie`/:func:`unseal_cookie`), and a value that is not
  well-formed or is longer than :data:`MAX_SEALED_LENGTH` (a browser's 4 KB cookie
  limit) is rejected before any key is derived, so garbage cookies cost microseconds
  instead of a full scrypt run; sealing a value whose sealed form would be longer
  than that raises :class:`~civitai_app_sdk.errors.SealedCookieTooLargeError`
  (0.14 seals it, and the cookie can never be read back);
* a secret shorter than :data:`MIN_SECRET_LENGTH` characters still works (cookies
  sealed by 0.14 apps keep opening) but gives a :class:`WeakCookieSecretWarning`;
* several secrets may be given: the first seals, every one unseals (key rotation);
* hex is decoded strictly: only the canonical lower-case form that both SDKs emit is
  accepted (0.14 silently ignores junk after a part and accepts upper case);
* the empty string round-trips (0.14 cannot unseal its own ``seal("")``);
* plaintext that is not valid UTF-8 unseals to ``None`` rather than U+FFFD text;
* an empty secret is rejected with :class:`~civitai_app_sdk.errors.ConfigurationError`
  (a ``ValueError``);
* :func:`build_set_cookie_header` raises
  :class:`~civitai_app_sdk.errors.ConfigurationError` on anything that could
  inject a header or an attribute, instead of passing it through, and enforces the
  ``__Secure-``/``__Host-`` prefix rules whatever the prefix's letter case (as
  browsers do).
"""

from __future__ import annotations

import hmac
import os
import re
import sys
import threading
import warnings
from collections.abc import Sequence
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from ._fork import reset_in_child
from .errors import ArgumentTypeError, ConfigurationError, SealedCookieTooLargeError

__all__ = [
    "DEFAULT_MAX_AGE",
    "MAX_SEALED_LENGTH",
    "MIN_SECRET_LENGTH",
    "CookieSealer",
    "WeakCookieSecretWarning",
    "build_set_cookie_header",
    "read_cookie",
    "seal_cookie",
    "sealed_length",
    "unseal_cookie",
]

_SALT: Final = b"civitai-app-sdk-cookie-salt"
_SCRYPT_N: Final = 16384
_SCRYPT_R: Final = 8
_SCRYPT_P: Final = 1
_KEY_BYTES: Final = 32
_IV_BYTES: Final = 12
_TAG_BYTES: Final = 16
_OVERHEAD: Final = 2 * _IV_BYTES + 1 + 2 * _TAG_BYTES + 1
"""Characters of a sealed value besides its ciphertext: ``hex(iv):hex(tag):``."""

DEFAULT_MAX_AGE: Final = 3600
"""Default ``Max-Age`` of :func:`build_set_cookie_header`, in seconds (as in 0.14)."""
MAX_SEALED_LENGTH: Final = 4096
"""Longest sealed value unsealed, in characters: browsers keep no larger cookie."""
MIN_SECRET_LENGTH: Final = 32
"""Shorter cookie secrets are accepted with a :class:`WeakCookieSecretWarning`."""


class WeakCookieSecretWarning(UserWarning):
    """A cookie secret is shorter than :data:`MIN_SECRET_LENGTH` characters."""


def _utf8(text: str) -> bytes:
    """Encode like JavaScript does: a lone surrogate becomes U+FFFD."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        fixed = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
        return fixed.encode("utf-8")


def _derive_key(secret: str) -> bytes:
    """Run scrypt with the 0.14 parameters (tens of milliseconds)."""
    kdf = Scrypt(salt=_SALT, length=_KEY_BYTES, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P)
    return kdf.derive(_utf8(secret))


def sealed_length(value: str) -> int:
    """The length, in characters, of ``value`` sealed (``iv:tag:ct`` hex)."""
    if not isinstance(value, str):
        raise ArgumentTypeError("cookie value must be a str")
    return _OVERHEAD + 2 * len(_utf8(value))


def _split_sealed(sealed: object, max_length: int) -> tuple[bytes, bytes, bytes] | None:
    """Return ``(iv, tag, ciphertext)`` of a canonical sealed value, else ``None``.

    Values longer than ``max_length`` characters are refused before any decoding.

    Canonical means three parts of lower-case hex with a 12-byte IV and a 16-byte tag;
    decoding and re-encoding each part must give it back exactly (no upper case,
    whitespace, odd nibbles or junk), which is cheaper than a regular expression.
    """
    if not isinstance(sealed, str) or len(sealed) > max_length:
        return None
    parts = sealed.split(":")
    if len(parts) != 3:
        return None
    iv_hex, tag_hex, ct_hex = parts
    if len(iv_hex) != 2 * _IV_BYTES or len(tag_hex) != 2 * _TAG_BYTES:
        return None
    try:
        iv, tag, ciphertext = bytes.fromhex(iv_hex), bytes.fromhex(tag_hex), bytes.fromhex(ct_hex)
    except ValueError:
        return None
    if iv.hex() != iv_hex or tag.hex() != tag_hex or ciphertext.hex() != ct_hex:
        return None
    return iv, tag, ciphertext


def _outside_level() -> int:
    """The ``stacklevel`` naming the first caller outside this module (for warnings)."""
    frame = sys._getframe(1)
    level = 1
    while frame.f_back is not None and frame.f_globals.get("__name__") == __name__:
        frame = frame.f_back
        level += 1
    return level


def _as_tuple(secret_or_secrets: str | Sequence[str]) -> tuple[str, ...]:
    """One secret, or a list of them, as a tuple (not yet checked); anything that is
    neither is an :class:`~civitai_app_sdk.errors.ArgumentTypeError`."""
    if isinstance(secret_or_secrets, str):
        return (secret_or_secrets,)
    try:
        return tuple(secret_or_secrets)
    except TypeError:  # not iterable
        raise ArgumentTypeError(
            "cookie secrets must be a str or a sequence of str, not "
            f"{type(secret_or_secrets).__name__}"
        ) from None


def _secrets_tuple(secret_or_secrets: str | Sequence[str]) -> tuple[str, ...]:
    """Validate one secret or a rotation list (first = current) and return a tuple."""
    secrets = _as_tuple(secret_or_secrets)
    if not secrets:
        raise ConfigurationError("at least one cookie secret is required")
    for index, secret in enumerate(secrets):
        if not isinstance(secret, str):
            raise ArgumentTypeError(f"cookie secret #{index} must be a str")
        if not secret:
            raise ConfigurationError(f"cookie secret #{index} is empty")
        for earlier in secrets[:index]:
            if hmac.compare_digest(_utf8(earlier), _utf8(secret)):
                raise ConfigurationError(f"cookie secret #{index} repeats an earlier one")
    for index, secret in enumerate(secrets):
        if len(secret) < MIN_SECRET_LENGTH:
            warnings.warn(
                f"cookie secret #{index} has {len(secret)} characters; use at least "
                f"{MIN_SECRET_LENGTH} random ones (e.g. secrets.token_urlsafe(32))",
                WeakCookieSecretWarning,
                stacklevel=_outside_level(),
            )
    return secrets


class CookieSealer:
    """Seal and unseal cookie values with one or more secrets, caching derived keys.

    The first secret seals; every secret is tried, in order, when unsealing, so a new
    secret can be put first while the old one still opens existing cookies. Each key
    is derived at most once, on first use (never at construction), and a malformed
    value is rejected before any derivation. Values longer than ``max_length``
    characters (default :data:`MAX_SEALED_LENGTH`, one cookie) do not unseal, and are
    not sealed either; a value split over several cookies needs a larger one.
    Thread-safe.
    """

    __slots__ = ("__weakref__", "_keys", "_lock", "_max_length", "_secrets")

    def __init__(
        self, secrets: str | Sequence[str], *, max_length: int = MAX_SEALED_LENGTH
    ) -> None:
        """Take one secret or a rotation list whose first entry is the current one.

        ``max_length`` below the length of a sealed empty value (58) would open no cookie
        at all; it, or one that is not an int, is a :class:`ConfigurationError`.
        """
        if type(max_length) is not int or max_length < _OVERHEAD:
            raise ConfigurationError(
                f"max_length must be a whole number of characters >= {_OVERHEAD} (a sealed "
                f"empty value), not {max_length!r}"
            )
        self._max_length = max_length
        self._secrets = _secrets_tuple(secrets)
        self._keys: list[AESGCM | None] = [None] * len(self._secrets)
        self._lock = threading.Lock()
        reset_in_child(self, CookieSealer._in_child)

    def _in_child(self) -> None:
        """A fresh lock in a forked child (a thread of the parent may have held it for a
        key's derivation); the keys derived stay."""
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"CookieSealer(<{len(self._secrets)} secret(s)>)"

    @property
    def max_length(self) -> int:
        """Longest sealed value, in characters, that :meth:`unseal` opens."""
        return self._max_length

    def _cipher(self, index: int) -> AESGCM:
        cipher = self._keys[index]
        if cipher is None:
            with self._lock:
                cipher = self._keys[index]
                if cipher is None:
                    cipher = AESGCM(_derive_key(self._secrets[index]))
                    self._keys[index] = cipher
        return cipher

    def seal(self, value: str) -> str:
        """Encrypt ``value`` (any text) with the first secret; returns ``iv:tag:ct`` hex.

        Raises :class:`~civitai_app_sdk.errors.SealedCookieTooLargeError` when the
        result would be longer than :attr:`max_length` (it could never be unsealed).
        """
        if not isinstance(value, str):
            raise ArgumentTypeError("cookie value must be a str")
        plain = _utf8(value)
        length = _OVERHEAD + 2 * len(plain)
        if length > self._max_length:
            raise SealedCookieTooLargeError(length, self._max_length)
        iv = os.urandom(_IV_BYTES)
        sealed = self._cipher(0).encrypt(iv, plain, None)
        ciphertext, tag = sealed[:-_TAG_BYTES], sealed[-_TAG_BYTES:]
        return f"{iv.hex()}:{tag.hex()}:{ciphertext.hex()}"

    def unseal(self, sealed: object) -> str | None:
        """Decrypt a sealed value; ``None`` if malformed, tampered or under another key.

        Never raises on bad input, whatever its type.
        """
        parts = _split_sealed(sealed, self._max_length)
        if parts is None:
            return None
        iv, tag, ciphertext = parts
        for index in range(len(self._secrets)):
            try:
                plain = self._cipher(index).decrypt(iv, ciphertext + tag, None)
            except InvalidTag:
                continue
            try:
                return plain.decode("utf-8")
            except UnicodeDecodeError:
                return None
        return None


_SHARED_LIMIT: Final = 16
_shared: dict[object, CookieSealer] = {}
_shared_lock = threading.Lock()


def _fresh_shared_lock_in_child() -> None:
    """A forked child gets a lock of its own for the shared sealers (a thread of the
    parent may have held it); each sealer resets its own lock."""
    global _shared_lock
    _shared_lock = threading.Lock()


if hasattr(os, "register_at_fork"):  # not on Windows, which has no fork
    os.register_at_fork(after_in_child=_fresh_shared_lock_in_child)


def _sealer_for(secret_or_secrets: str | Sequence[str]) -> CookieSealer:
    """A process-wide :class:`CookieSealer` per secret (or secret list), at most 16 kept.

    A hit is one dictionary lookup; a miss validates the secrets exactly as
    :class:`CookieSealer` does and evicts the oldest entry when the cache is full.
    """
    key = (
        _as_tuple(secret_or_secrets)
        if not isinstance(secret_or_secrets, str)
        else secret_or_secrets
    )
    try:
        sealer = _shared.get(key)
    except TypeError:  # an unhashable entry: no str, so CookieSealer refuses it below
        sealer = None
    if sealer is not None:
        return sealer
    sealer = CookieSealer(key)
    with _shared_lock:
        sealer = _shared.setdefault(key, sealer)
        while len(_shared) > _SHARED_LIMIT:
            del _shared[next(iter(_shared))]
    return sealer


def seal_cookie(value: str, secret: str) -> str:
    """Seal ``value`` with ``secret`` in the 0.14 wire format (``iv:tag:ct``, hex).

    Unlike 0.14 the derived key is cached per secret (see :class:`CookieSealer`), and
    a value whose sealed form would pass :data:`MAX_SEALED_LENGTH` characters raises
    :class:`~civitai_app_sdk.errors.SealedCookieTooLargeError` (it could not be unsealed).
    """
    try:
        sealer = _shared[secret]
    except (KeyError, TypeError):
        sealer = _sealer_for(secret)
    return sealer.seal(value)


def unseal_cookie(sealed: object, secret_or_secrets: str | Sequence[str]) -> str | None:
    """Open a sealed value with one secret or a rotation list; ``None`` on any failure.

    Never raises on bad ``sealed`` input; an invalid secret list raises
    :class:`~civitai_app_sdk.errors.ConfigurationError` (a ``ValueError``), and one that is
    no str or list of str :class:`~civitai_app_sdk.errors.ArgumentTypeError` (a
    ``TypeError``).
    """
    key = tuple(secret_or_secrets) if type(secret_or_secrets) is list else secret_or_secrets
    try:  # the hit path inlined: a call costs what CookieSealer.unseal costs
        sealer = _shared[key]
    except (KeyError, TypeError):  # TypeError: another unhashable sequence
        sealer = _sealer_for(secret_or_secrets)
    return sealer.unseal(sealed)


# RFC 6265 section 4.1.1: cookie names are tokens, values are cookie-octets.
_COOKIE_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_COOKIE_VALUE = re.compile(r"[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*")
_COOKIE_PATH = re.compile(r"[\x20-\x2b\x2d-\x3a\x3c-\x7e]*")
_COOKIE_DOMAIN = re.compile(r"\.?[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")
_SAME_SITE = frozenset({"lax", "strict", "none"})


def build_set_cookie_header(
    name: str,
    value: str,
    *,
    max_age: int = DEFAULT_MAX_AGE,
    path: str = "/",
    secure: bool = True,
    http_only: bool = True,
    same_site: str = "lax",
    domain: str | None = None,
) -> str:
    """Build a ``Set-Cookie`` value with the 0.14 defaults and attribute order.

    Order: ``name=value; Max-Age; Path; [Domain]; [Secure]; [HttpOnly]; SameSite``.
    ``domain`` is emitted only when non-empty; ``same_site`` is written as given
    (default lower-case ``lax``). Unlike 0.14, raises
    :class:`~civitai_app_sdk.errors.ConfigurationError` (a ``ValueError``) for a name that
    is not an RFC 6265 token, a value with characters outside cookie-octets (CR, LF,
    ``;``, ``,``, space, quote, backslash, controls), a path or domain that could end
    the attribute, a ``same_site`` other than lax/strict/none, ``SameSite=None``
    without ``Secure``, and ``__Secure-``/``__Host-`` prefixed names (in any letter
    case) whose attributes break the prefix rules. Error messages never include the
    value.
    """
    if not isinstance(name, str) or not _COOKIE_NAME.fullmatch(name):
        raise ConfigurationError("cookie name must be a non-empty RFC 6265 token")
    if not isinstance(value, str) or not _COOKIE_VALUE.fullmatch(value):
        raise ConfigurationError(
            f"value of cookie {name!r} contains characters not allowed in a cookie"
        )
    if isinstance(max_age, bool) or not isinstance(max_age, int):
        raise ConfigurationError("max_age must be an int (seconds)")
    if not isinstance(path, str) or not _COOKIE_PATH.fullmatch(path):
        raise ConfigurationError("cookie path contains a control character, ';' or ','")
    if domain and (not isinstance(domain, str) or not _COOKIE_DOMAIN.fullmatch(domain)):
        raise ConfigurationError("cookie domain must be a host name")
    if not isinstance(same_site, str) or same_site.lower() not in _SAME_SITE:
        raise ConfigurationError("same_site must be one of lax, strict, none")
    if same_site.lower() == "none" and not secure:
        raise ConfigurationError("SameSite=None requires Secure")
    folded = name.lower()
    if folded.startswith(("__secure-", "__host-")) and not secure:
        raise ConfigurationError(f"cookie {name!r} requires Secure")
    if folded.startswith("__host-") and (domain or path != "/"):
        raise ConfigurationError(f"cookie {name!r} requires Path=/ and no Domain")
    parts = [f"{name}={value}", f"Max-Age={max_age}", f"Path={path}"]
    if domain:
        parts.append(f"Domain={domain}")
    if secure:
        parts.append("Secure")
    if http_only:
        parts.append("HttpOnly")
    parts.append(f"SameSite={same_site}")
    return "; ".join(parts)


# JavaScript's String.prototype.trim set: WhiteSpace plus LineTerminator.
_JS_WHITESPACE: Final = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)


def read_cookie(header: str | None, name: str) -> str | None:
    """Return the value of cookie ``name`` in a ``Cookie`` header, or ``None``.

    Same rules as 0.14: pieces are split on ``;`` only and trimmed with JavaScript's
    whitespace set; the first piece starting with ``name=`` wins (case-sensitive); the
    value is everything after that ``=``, verbatim (``a=`` gives ``""``). A ``header`` or
    ``name`` that is no str is an :class:`~civitai_app_sdk.errors.ArgumentTypeError`.
    """
    if not isinstance(name, str) or not (header is None or isinstance(header, str)):
        raise ArgumentTypeError("read_cookie takes a header str (or None) and a name str")
    if not header:
        return None
    target = f"{name}="
    for piece in header.split(";"):
        trimmed = piece.strip(_JS_WHITESPACE)
        if trimmed.startswith(target):
            return trimmed[len(target) :]
    return None
