"""Where a downloaded blob goes: the file name and its extension from the content type."""

from __future__ import annotations

import mimetypes
import os
from pathlib import Path, PurePosixPath
from typing import Final

__all__ = ["extension_for", "target_path"]

_EXTENSIONS: Final = {
    "image/jpeg": ".jpeg",
    "image/png": ".png",
    "image/webp": ".webp",
    "image/gif": ".gif",
    "image/avif": ".avif",
    "video/mp4": ".mp4",
    "video/webm": ".webm",
    "video/quicktime": ".mov",
    "audio/mpeg": ".mp3",
    "audio/mp3": ".mp3",
    "audio/wav": ".wav",
    "audio/x-wav": ".wav",
    "audio/wave": ".wav",
    "audio/ogg": ".ogg",
    "audio/flac": ".flac",
    "model/gltf-binary": ".glb",
    "application/zip": ".zip",
    "application/json": ".json",
    "text/plain": ".txt",
}


def extension_for(content_type: str | None, blob_id: str) -> str:
    """File extension for a blob: from the content type, else the blob id, else ``.bin``."""
    media = (content_type or "").split(";")[0].strip().lower()
    if media in _EXTENSIONS:
        return _EXTENSIONS[media]
    suffix = PurePosixPath(blob_id).suffix
    if suffix and suffix[1:].isalnum():
        return suffix.lower()
    return (mimetypes.guess_extension(media) if media else None) or ".bin"


def target_path(
    path_or_dir: str | os.PathLike[str], blob_id: str, content_type: str | None
) -> Path:
    """The file to write: inside a directory (named after the blob), or the given path.

    A directory (existing, or written with a trailing slash) gets ``<blob stem><ext>``;
    a file path without a suffix gets the extension added; any other path is used as is.
    """
    extension = extension_for(content_type, blob_id)
    raw = os.fspath(path_or_dir)
    path = Path(raw)
    if path.is_dir() or raw.endswith(("/", os.sep)):
        stem = PurePosixPath(blob_id).stem or "blob"
        return path / f"{Path(stem).name}{extension}"
    return path if path.suffix else path.with_suffix(extension)
