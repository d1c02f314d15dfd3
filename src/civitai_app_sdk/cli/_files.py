"""Saving downloads under names that never collide, and never leaving partial files.

Bytes go to a hidden ``.part`` file next to the target. Only once the body is complete
is a free final name reserved (``O_EXCL``) and the part file renamed over it, so an
interrupted download leaves nothing behind and an existing file is never overwritten.
A file identical to one already saved under the name (or a ``-N`` variant) is not saved
again: a re-run finds what the first run saved. Files get the mode the umask allows.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Final

from civitai_app_sdk.orchestrator.blobs import file_mode, portable_stem

_KNOWN_SUFFIX: Final = re.compile(r"\.[A-Za-z0-9]{2,5}$")
_UNSAFE: Final = re.compile(r"[^A-Za-z0-9._-]+")


def safe_stem(*parts: str) -> str:
    """A file name stem from ids and step names (``$0`` becomes ``0``), no path tricks
    and no Windows device name (``CON`` becomes ``_CON``)."""
    cleaned = [_UNSAFE.sub("_", part).strip("._-") for part in parts]
    return portable_stem("_".join(p for p in cleaned if p) or "download")


def strip_known_suffix(name: str) -> str:
    """``ABC.jpeg`` -> ``ABC``: the extension is chosen from the content type instead."""
    return _KNOWN_SUFFIX.sub("", name)


def _reserve(directory: Path, stem: str, ext: str) -> Path:
    if Path(stem + ext).name != stem + ext or stem in {"", ".", ".."}:
        raise ValueError(f"{stem!r} is not a plain file name")
    for index in range(10_000):
        candidate = directory / (f"{stem}{ext}" if index == 0 else f"{stem}-{index}{ext}")
        try:
            os.close(os.open(candidate, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
        except FileExistsError:
            continue
        return candidate
    raise FileExistsError(f"no free file name for {stem}{ext} in {directory}")


def _same_bytes(a: Path, b: Path) -> bool:
    if a.stat().st_size != b.stat().st_size:
        return False
    with a.open("rb") as left, b.open("rb") as right:
        while True:
            chunk = left.read(1 << 16)
            if chunk != right.read(1 << 16):
                return False
            if not chunk:
                return True


def _identical(finished: Path, directory: Path, stem: str, ext: str) -> Path | None:
    """An existing ``stem+ext`` or ``stem-N+ext`` with exactly ``finished``'s bytes (a
    file that cannot be read is not one: the download is saved beside it)."""
    for index in range(10_000):
        candidate = directory / (f"{stem}{ext}" if index == 0 else f"{stem}-{index}{ext}")
        if not candidate.is_file():
            return None
        try:
            if _same_bytes(candidate, finished):
                return candidate
        except OSError:
            continue
    return None


def place(finished: Path, directory: Path, stem: str, ext: str) -> Path:
    """Move a complete file to ``directory/stem+ext``, or ``stem-N+ext`` if that is taken.

    When one of those names already holds the same bytes, ``finished`` is dropped and
    that file is returned.
    """
    same = _identical(finished, directory, stem, ext)
    if same is not None:
        finished.unlink()
        return same
    if os.name != "nt":
        os.chmod(finished, file_mode())
    final = _reserve(directory, stem, ext)
    try:
        os.replace(finished, final)
    except BaseException:
        final.unlink(missing_ok=True)
        raise
    return final


def save_chunks(
    chunks: Iterable[bytes],
    directory: Path,
    stem: str,
    ext: str,
    *,
    on_bytes: Callable[[int], None] | None = None,
) -> tuple[Path, int]:
    """Write ``chunks`` to a fresh file ``directory/stem+ext`` (see :func:`place`).

    Returns the final path and the byte count. On any failure, including Ctrl-C,
    the partial file is removed and nothing is left under the final name.
    """
    directory.mkdir(parents=True, exist_ok=True)
    fd, part = tempfile.mkstemp(prefix=".download-", suffix=".part", dir=directory)
    try:
        size = 0
        with os.fdopen(fd, "wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
                size += len(chunk)
                if on_bytes is not None:
                    on_bytes(len(chunk))
        return place(Path(part), directory, stem, ext), size
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(part)
