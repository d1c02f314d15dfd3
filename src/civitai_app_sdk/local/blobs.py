"""Output blobs: which step types make which media, their ids, and signed URLs."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import Any, Final

import attrs

from .auth import same_secret
from .media import EXTENSIONS

__all__ = ["OUTPUT_SLOTS", "BlobSpec", "Signer", "new_blob_id", "output_blobs"]

OUTPUT_SLOTS: Final = {
    "textToImage": ("images", "image", True),
    "imageGen": ("images", "image", True),
    "convertImage": ("blob", "image", False),
    "imageUpscaler": ("blob", "image", False),
    "preprocessImage": ("blob", "image", False),
    "imageBackgroundRemoval": ("image", "image", False),
    "videoGen": ("video", "video", False),
    "videoEnhancement": ("video", "video", False),
    "videoInterpolation": ("video", "video", False),
    "videoUpscaler": ("video", "video", False),
    "aceStepAudio": ("blob", "audio", False),
    "textToSpeech": ("audioBlob", "audio", False),
}
"""``$type`` → (output field, blob kind, whether the field is a list)."""
_MAX_QUANTITY: Final = 10


@attrs.frozen
class BlobSpec:
    """One output file a step will produce."""

    id: str
    kind: str
    seed: int
    width: int | None = None
    height: int | None = None


def new_blob_id(kind: str) -> str:
    """A 26-character base32 id plus the kind's extension, like real blob ids."""
    text = base64.b32encode(secrets.token_bytes(16)).decode().rstrip("=")
    return f"{text}.{EXTENSIONS[kind]}"


def output_blobs(step_type: str, step_input: Any) -> list[BlobSpec]:
    """The blobs a step of ``step_type`` with ``step_input`` produces (none for data steps)."""
    slot = OUTPUT_SLOTS.get(step_type)
    if slot is None:
        return []
    _, kind, many = slot
    count = min(int(getattr(step_input, "quantity", None) or 1), _MAX_QUANTITY) if many else 1
    width = getattr(step_input, "width", None) if kind != "audio" else None
    height = getattr(step_input, "height", None) if kind != "audio" else None
    seed = getattr(step_input, "seed", None)
    return [
        BlobSpec(
            new_blob_id(kind),
            kind,
            (int(seed) + index) if isinstance(seed, int) else secrets.randbits(24),
            width if isinstance(width, int) else None,
            height if isinstance(height, int) else None,
        )
        for index in range(count)
    ]


class Signer:
    """HMAC signatures for blob URLs and content tokens, with a per-server secret."""

    def __init__(self) -> None:
        """Pick a fresh secret."""
        self._key = secrets.token_bytes(32)

    def sign(self, text: str) -> str:
        """A URL-safe signature of ``text``."""
        digest = hmac.new(self._key, text.encode(), hashlib.sha256).digest()[:18]
        return base64.urlsafe_b64encode(digest).decode()

    def verify(self, text: str, signature: str) -> bool:
        """Whether ``signature`` was made by :meth:`sign` for ``text``."""
        return same_secret(signature, self.sign(text))

    def content_token(self, blob_id: str) -> str:
        """The opaque token of a blob's content URL."""
        encoded = base64.urlsafe_b64encode(blob_id.encode()).decode().rstrip("=")
        return f"{encoded}.{self.sign('content:' + blob_id)}"

    def open_token(self, token: str) -> str | None:
        """The blob id in a content token, or ``None`` when it is forged or malformed."""
        encoded, _, signature = token.partition(".")
        try:
            blob_id = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
        except (ValueError, UnicodeDecodeError):
            return None
        return blob_id if self.verify("content:" + blob_id, signature) else None
