"""``upload -`` and ``upload PIPE``: bytes that can be read only once (stdin, a named
pipe, a process substitution's ``/dev/fd/N``), kept in a temporary file before they are
uploaded.

The bytes are copied in chunks to a private temporary file (never held in memory), up
to a cap, so the upload that follows is the one a file path gets: a known size, the
same content-type detection, and bytes that can be read again if the request must be
sent again. A terminal is refused rather than waited on.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Final, TextIO

from ._exit import CliError, ExitCode
from ._output import printable
from ._startup import stop_on_hangup

MAX_STDIN_FILE: Final = 2 << 30
"""Most bytes read from stdin for ``-`` (2 GiB): an endless pipe (``/dev/zero``) ends
with an error, not with the disk full. A larger file can be given by its path."""
_CHUNK: Final = 1 << 20


def piped_stdin() -> BinaryIO:
    """The bytes piped in on stdin; a usage error when there is no stdin or it is a
    terminal (it would wait for typing)."""
    text: TextIO | None = sys.stdin  # None when started with descriptor 0 closed
    stdin = text.buffer if text is not None else None
    if stdin is None or stdin.isatty():
        raise CliError(
            "'-' uploads the file piped in on stdin, and "
            f"{'there is no stdin' if stdin is None else 'stdin is a terminal'}: pipe the "
            "file in (`... | civitai-orch upload -`) or give its path",
            ExitCode.USAGE,
        )
    return stdin


def _read(stdin: BinaryIO, what: str) -> bytes:
    chunk = stdin.read(_CHUNK)
    if chunk is None:  # a non-blocking stdin with nothing ready: not its end
        raise CliError(
            f"{what} is non-blocking and had nothing ready, so the file may be incomplete: "
            "give its path instead",
            ExitCode.USAGE,
        )
    return chunk


@contextlib.contextmanager
def opened_once(path: Path) -> Iterator[BinaryIO]:
    """``path`` (a named pipe, ``/dev/stdin``, a ``/dev/fd/N``) open for reading; a
    usage error when it is a terminal (reading would wait for typing) or cannot be
    opened."""
    try:
        handle = path.open("rb")
    except OSError as exc:
        shown = printable(str(path))
        raise CliError(f"cannot read {shown}: {exc.strerror or exc}", ExitCode.USAGE) from None
    with handle:
        if handle.isatty():
            raise CliError(
                f"{printable(str(path))} is a terminal: pipe the file in or give its path",
                ExitCode.USAGE,
            )
        yield handle


@contextlib.contextmanager
def stdin_as_file(stdin: BinaryIO, what: str = "stdin") -> Iterator[Path]:
    """A temporary file holding all of ``stdin`` (called ``what`` in errors), removed when
    the block ends (a hang-up included: it interrupts the command as Ctrl-C does).

    A usage error when it is empty (whatever should have written it failed, most
    likely) or holds more than :data:`MAX_STDIN_FILE` bytes.
    """
    with stop_on_hangup():
        fd, name = tempfile.mkstemp(prefix="civitai-stdin-")  # no suffix: type sniffed
        path = Path(name)
        try:
            with os.fdopen(fd, "wb") as out:
                size = 0
                while chunk := _read(stdin, what):
                    size += len(chunk)
                    if size > MAX_STDIN_FILE:
                        raise CliError(
                            f"{what} holds more than {MAX_STDIN_FILE >> 30} GiB, the most "
                            "read from a pipe: save it to a file and give the file's path instead",
                            ExitCode.USAGE,
                        )
                    out.write(chunk)
            if size == 0:
                raise CliError(f"{what} was empty: nothing to upload", ExitCode.USAGE)
            yield path
        finally:
            path.unlink(missing_ok=True)
