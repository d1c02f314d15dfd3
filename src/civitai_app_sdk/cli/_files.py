"""Saving downloads: extensions from the content type, names that never collide, no partials.

Bytes go to a hidden ``.part`` file next to the target. Only once the body is complete
is a free final name reserved (``O_EXCL``) and the part file renamed over it, so an
interrupted download leaves nothing behind and an existing file is never overwritten.
"""

from __future__ import annotations

import contextlib
import mimetypes
import os
import re
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Final

# Preferred extensions where the stdlib table is ambiguous or missing.
_EXTENSIONS: Final[dict[str, str]] = {
    "image/jpeg": ".jpg",
    "image/jpg": ".jpg",
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
    "model/vnd.usdz+zip": ".usdz",
    "application/zip": ".zip",
    "application/x-tar": ".tar",
    "application/json": ".json",
    "text/plain": ".txt",
}
_KNOWN_SUFFIX: Final = re.compile(r"\.[A-Za-z0-9]{2,5}$")
_UNSAFE: Final = re.compile(r"[^A-Za-z0-9._-]+")
_GENERIC: Final = frozenset({"application/octet-stream", "binary/octet-stream", ""})


def extension_for(content_type: str | None, name_hint: str = "") -> str:
    """The file extension for a response: from its content type, else the blob id's suffix.

    ``.bin`` when neither says anything useful; never a double extension.
    """
    media = (content_type or "").split(";")[0].strip().lower()
    if media not in _GENERIC:
        ext = _EXTENSIONS.get(media) or mimetypes.guess_extension(media)
        if ext:
            return ext
    suffix = _KNOWN_SUFFIX.search(name_hint)
    if suffix:
        ext = suffix.group(0).lower()
        return ".jpg" if ext == ".jpeg" else ext
    return ".bin"


def safe_stem(*parts: str) -> str:
    """A file name stem from ids and step names (``$0`` becomes ``0``), no path tricks."""
    cleaned = [_UNSAFE.sub("_", part).strip("._-") for part in parts]
    return "_".join(p for p in cleaned if p) or "download"


def strip_known_suffix(name: str) -> str:
    """``ABC.jpeg`` -> ``ABC``: the extension is chosen from the content type instead."""
    return _KNOWN_SUFFIX.sub("", name)


def _reserve(directory: Path, stem: str, ext: str) -> Path:
    for index in range(10_000):
        candidate = directory / (f"{stem}{ext}" if index == 0 else f"{stem}-{index}{ext}")
        try:
            os.close(os.open(candidate, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
        except FileExistsError:
            continue
        return candidate
    raise FileExistsError(f"no free file name for {stem}{ext} in {directory}")


def save_chunks(
    chunks: Iterable[bytes],
    directory: Path,
    stem: str,
    ext: str,
    *,
    on_bytes: Callable[[int], None] | None = None,
) -> tuple[Path, int]:
    """Write ``chunks`` to ``directory/stem+ext`` (or ``stem-N+ext`` if taken).

    Returns the final path and the byte count. On any failure, including Ctrl-C,
    the partial file is removed and nothing is left under the final name.
    """
    directory.mkdir(parents=True, exist_ok=True)
    fd, part = tempfile.mkstemp(prefix=f".{stem}.", suffix=".part", dir=directory)
    final: Path | None = None
    try:
        size = 0
        with os.fdopen(fd, "wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
                size += len(chunk)
                if on_bytes is not None:
                    on_bytes(len(chunk))
        final = _reserve(directory, stem, ext)
        os.replace(part, final)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(part)
        if final is not None:
            final.unlink(missing_ok=True)
        raise
    return final, size
