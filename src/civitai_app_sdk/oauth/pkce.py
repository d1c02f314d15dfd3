"""PKCE (RFC 7636, S256 only) and ``state`` values for the authorization code flow."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from typing import Final, Literal

import attrs

from civitai_app_sdk.errors import ArgumentTypeError, RequestValidationError

from ._values import hidden_repr

__all__ = ["PkcePair", "generate_pkce", "generate_state", "pkce_challenge"]

_VERIFIER: Final = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
_MIN_STATE_BYTES: Final = 16
_MAX_STATE_BYTES: Final = 1024
"""Most random bytes in a ``state`` (it rides in a URL; more made ``OverflowError``)."""


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@attrs.frozen
class PkcePair:
    """A PKCE verifier (kept secret, hidden from ``repr``) and its S256 challenge."""

    verifier: str = attrs.field(repr=hidden_repr)
    challenge: str
    method: Literal["S256"] = "S256"


def pkce_challenge(verifier: str) -> str:
    """The S256 challenge of ``verifier``: base64url(SHA-256(verifier)), unpadded.

    Raises :class:`~civitai_app_sdk.errors.RequestValidationError` (a ``ValueError``)
    unless ``verifier`` is 43-128 characters of
    ``[A-Za-z0-9-._~]`` (RFC 7636 section 4.1). 0.14 has no such function.
    """
    if not isinstance(verifier, str) or not _VERIFIER.fullmatch(verifier):
        raise RequestValidationError(
            ["a PKCE verifier is 43-128 characters of [A-Za-z0-9-._~]"], "argument"
        )
    return _b64url(hashlib.sha256(verifier.encode("ascii")).digest())


def generate_pkce() -> PkcePair:
    """A fresh verifier (base64url of 32 random bytes, 43 characters) and challenge."""
    verifier = _b64url(secrets.token_bytes(32))
    return PkcePair(verifier=verifier, challenge=pkce_challenge(verifier))


def generate_state(byte_length: int = 32) -> str:
    """A random ``state`` value: base64url of ``byte_length`` random bytes.

    The default is 32 bytes (0.14: 16); fewer than 16 bytes, or more than 1,024, raises
    :class:`~civitai_app_sdk.errors.RequestValidationError` (a ``ValueError``), and a
    ``byte_length`` that is no int :class:`~civitai_app_sdk.errors.ArgumentTypeError`.
    """
    if isinstance(byte_length, bool) or not isinstance(byte_length, int):
        raise ArgumentTypeError("byte_length must be an int")
    if byte_length < _MIN_STATE_BYTES:
        raise RequestValidationError(
            [f"state needs at least {_MIN_STATE_BYTES} random bytes"], "argument"
        )
    if byte_length > _MAX_STATE_BYTES:
        raise RequestValidationError(
            [f"state takes at most {_MAX_STATE_BYTES} random bytes (it rides in a URL)"],
            "argument",
        )
    return _b64url(secrets.token_bytes(byte_length))
