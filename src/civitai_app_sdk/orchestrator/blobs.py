"""Where a downloaded blob goes, and writing it there without ever clobbering a file.

The name comes from the blob id, the extension from the content type. Bytes go to a
temporary file next to the target, which becomes the target only once complete and
only if no file has that name (unless ``overwrite``). Files get the mode the umask
allows, as any other file the user creates. The body itself is read within bounds by
:mod:`._bounded_body`.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import mimetypes
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Final

from ..errors import CivitaiError, ConfigurationError, LocalFileError, RequestValidationError

__all__ = [
    "BlobExistsError",
    "blob_file",
    "commit_file",
    "extension_for",
    "file_mode",
    "portable_stem",
    "refuse_early",
    "target_path",
]


class BlobExistsError(CivitaiError, FileExistsError):
    """The download's target file already exists; nothing was overwritten.

    ``path`` is that file. Pass ``overwrite=True``, another ``path=``, or remove it.
    """

    def __init__(self, path: Path) -> None:
        """Name the file that is in the way."""
        self.path = path
        super().__init__(
            errno.EEXIST,
            f"{path} already exists and was left as it is: pass overwrite=True, "
            "another path=, or remove it",
        )


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
    "application/x-tar": ".tar",
    "application/gzip": ".gz",
    "application/x-gzip": ".gz",
    "application/json": ".json",
    "text/plain": ".txt",
}


_MEDIA_FAMILIES: Final = ("image/", "video/", "audio/", "model/")
"""Types whose extension the platform's table may give: with any other, a server could
name a file that runs when opened (``application/hta`` gives ``.hta``, ``text/javascript``
``.js``, ``application/x-msdos-program`` ``.com``)."""
_RUNS_WHEN_OPENED: Final = frozenset({
    ".exe", ".com", ".bat", ".cmd", ".scr", ".pif", ".msi", ".msp", ".msc", ".cpl", ".dll",
    ".sys", ".hta", ".js", ".jse", ".vbs", ".vbe", ".vb", ".wsf", ".wsh", ".ws", ".ps1",
    ".psm1", ".lnk", ".url", ".reg", ".inf", ".scf", ".sct", ".chm", ".hlp", ".jar",
    ".application", ".gadget", ".iso", ".img", ".vhd", ".vhdx", ".command", ".app",
    ".desktop", ".sh", ".py", ".pyw", ".pl", ".rb", ".htm", ".html", ".xhtml", ".mht",
    ".mhtml",
})  # fmt: skip
"""Extensions a file manager runs (or opens as a page) on a double click: a blob id's
own extension is replaced by ``.bin`` when it is one of them."""


def extension_for(content_type: str | None, blob_id: str) -> str:
    """File extension for a blob: from the content type, else the blob id, else ``.bin``.

    A content type the table above lacks gives an extension only when it is media
    (image, video, audio, 3D model); a blob id's extension that would run when opened
    (``.exe``, ``.hta``, ``.js``) gives ``.bin``.
    """
    media = (content_type or "").split(";")[0].strip().lower()
    if media in _EXTENSIONS:
        return _EXTENSIONS[media]
    suffix = PurePosixPath(blob_id).suffix.lower()
    if suffix[1:].isalnum() and len(suffix) <= _LONGEST_SUFFIX:
        return ".bin" if suffix in _RUNS_WHEN_OPENED else suffix
    known = media.startswith(_MEDIA_FAMILIES) and mimetypes.guess_extension(media)
    return known or ".bin"


def _local(value: str | os.PathLike[str], what: str) -> str:
    """``value`` as a file-system path the OS could open (no NUL, not empty, text)."""
    try:
        raw = os.fspath(value)
    except TypeError:
        raw = None
    if not isinstance(raw, str) or not raw or "\0" in raw:
        problem = f"{what}: must be a non-empty str or os.PathLike of str, without NUL"
        raise RequestValidationError([problem], "argument")
    return raw


_DEVICES: Final = frozenset(
    {"CON", "PRN", "AUX", "NUL", *(f"{port}{n}" for port in ("COM", "LPT") for n in "123456789")}
)
_NOT_ON_WINDOWS: Final = frozenset('<>:"/\\|?*')


_LONGEST_STEM: Final = 200
"""Bytes of a stem kept whole: file systems allow 255 a name, and ``-N`` and the
extension need room."""
_LONGEST_SUFFIX: Final = 16
"""The longest extension of a blob id that is kept (``.safetensors`` fits)."""


def portable_stem(stem: str) -> str:
    """``stem`` as a name any file system can hold: one longer than 200 bytes is cut,
    with a hash of the whole so that two long names stay apart, and a Windows device
    name (``CON``, ``nul.tar``: the console or nothing at all) gets ``_`` before it."""
    whole = stem.encode("utf-8", "surrogatepass")
    if len(whole) > _LONGEST_STEM:
        digest = hashlib.sha256(whole).hexdigest()[:16]
        cut = whole[: _LONGEST_STEM - len(digest) - 1].decode("utf-8", "ignore")
        stem = f"{cut}-{digest}"
    device = stem.split(".")[0].rstrip(" ").upper()
    return f"_{stem}" if device in _DEVICES else stem


def target_path(
    blob_id: str,
    content_type: str | None,
    *,
    dir: str | os.PathLike[str] | None = None,
    path: str | os.PathLike[str] | None = None,
) -> Path:
    """The file to write: ``path`` as given, or ``<blob stem><ext>`` inside ``dir``.

    Exactly one of them; :class:`ConfigurationError` otherwise. The blob id's stem is
    reduced to a plain name, so an id can never point outside ``dir``; characters that
    are not printable (NUL, newlines, bidi overrides) or not allowed in a Windows name
    (``:`` would name a stream of another file) become ``_``, and the stem is made
    portable (:func:`portable_stem`: a Windows device name, a stem too long).
    """
    if (dir is None) == (path is None):
        raise ConfigurationError("download_blob needs exactly one of dir= or path=")
    if path is not None:
        return Path(_local(path, "path"))
    assert dir is not None
    dir = _local(dir, "dir")
    name = Path(PurePosixPath(blob_id).stem).name
    kept = (c if c.isprintable() and c not in _NOT_ON_WINDOWS else "_" for c in name)
    stem = portable_stem("".join(kept).lstrip(".") or "blob")
    return Path(dir) / f"{stem}{extension_for(content_type, blob_id)}"


def refuse_early(
    blob_id: str,
    *,
    dir: str | os.PathLike[str] | None,
    path: str | os.PathLike[str] | None,
    overwrite: bool,
) -> None:
    """Raise, before anything is sent, what :func:`target_path` and :func:`blob_file` would.

    Bad arguments, and a ``path`` that names an existing file (unless ``overwrite``): a
    ``dir`` target's name waits for the content type, so :func:`blob_file` checks it.
    """
    target = target_path(blob_id, None, dir=dir, path=path)
    if path is not None and not overwrite and os.path.lexists(target):  # False on OSError
        raise BlobExistsError(target)


def file_mode() -> int:
    """``0o666`` less the process umask: the mode a new file normally gets."""
    current = os.umask(0o077)  # read it; a file made meanwhile gets the stricter mask
    os.umask(current)
    return 0o666 & ~current


def commit_file(temp: Path, target: Path, *, overwrite: bool) -> None:
    """Give the complete ``temp`` the name ``target``, never clobbering unless ``overwrite``.

    A hard link claims the name atomically; where links are not allowed an exclusive
    create reserves it. Raises :class:`BlobExistsError` when the name is taken.
    """
    if os.name != "nt":
        os.chmod(temp, file_mode())
    if overwrite:
        os.replace(temp, target)
        return
    try:
        os.link(temp, target)
    except FileExistsError:
        raise BlobExistsError(target) from None
    except OSError:  # no hard links here (some network and FAT file systems)
        try:
            os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        except FileExistsError:
            raise BlobExistsError(target) from None
        try:
            os.replace(temp, target)
        except BaseException:  # an empty file there would look like a finished download
            target.unlink(missing_ok=True)
            raise
    else:
        temp.unlink()


@contextlib.contextmanager
def blob_file(target: Path, *, overwrite: bool) -> Iterator[BinaryIO]:
    """A temporary file beside ``target`` that becomes it only when the block completes.

    An OS refusal (a name too long, no space, no permission) is a :class:`LocalFileError`.
    """
    try:
        if target.exists() and not overwrite:
            raise BlobExistsError(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=".download-", dir=target.parent)
    except BlobExistsError:
        raise
    except OSError as exc:
        raise LocalFileError(exc.errno, f"cannot write {target}: {exc.strerror}") from exc
    temp = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            yield out
        commit_file(temp, target, overwrite=overwrite)
    except BlobExistsError:
        raise
    except OSError as exc:
        raise LocalFileError(exc.errno, f"cannot write {target}: {exc.strerror}") from exc
    finally:
        temp.unlink(missing_ok=True)
