"""Blobs uploaded to the local server: kept in memory, with a size cap per file and in all."""

from __future__ import annotations

from typing import Final

import attrs

from .blobs import new_blob_id

__all__ = ["MAX_TOTAL", "MAX_UPLOAD", "Upload", "Uploads", "kind_of"]

MAX_UPLOAD: Final = 64 * 1024 * 1024
"""Largest file accepted (bytes); more answers 413."""
MAX_TOTAL: Final = 256 * 1024 * 1024
"""Most bytes kept for all uploads together; more answers 413."""
_KINDS: Final = {"image": "image", "video": "video", "audio": "audio", "model": "model3d"}


def kind_of(content_type: str) -> str | None:
    """The blob type for a media type (``image/png`` -> ``image``), or None if unsupported."""
    major = content_type.split(";")[0].strip().lower().partition("/")[0]
    return _KINDS.get(major)


@attrs.frozen
class Upload:
    """One uploaded file."""

    id: str
    kind: str
    content_type: str
    data: bytes


@attrs.define
class Uploads:
    """Every uploaded blob by id."""

    files: dict[str, Upload] = attrs.Factory(dict)

    def room(self) -> int:
        """Bytes that may still be stored."""
        return MAX_TOTAL - sum(len(u.data) for u in self.files.values())

    def add(self, kind: str, content_type: str, data: bytes) -> Upload:
        """Store ``data`` under a fresh blob id (with the kind's usual extension)."""
        blob_id = new_blob_id(kind if kind in ("image", "video", "audio") else "image")
        if kind == "model3d":
            blob_id = blob_id.rsplit(".", 1)[0] + ".glb"
        upload = Upload(blob_id, kind, content_type.split(";")[0].strip(), data)
        self.files[blob_id] = upload
        return upload
