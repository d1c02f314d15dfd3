"""Printing the answer of a command that has spent Buzz, when stdout may be closed.

A reader that left the pipe (``| head``, a crashed ``jq``) makes the first write raise
``BrokenPipeError``, which click ends quietly with exit 1: after a charge that lost the
workflow id and the retry key. Here it becomes a one-line error on stderr that names
them, with :attr:`ExitCode.OUTPUT_LOST`.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Mapping
from typing import Any

from ._exit import CliError, ExitCode


def _silence_stdout() -> None:
    """Point the closed stdout at the null device, so no later write or the flush at
    exit fails again (and Python prints no ``BrokenPipeError`` of its own)."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)


@contextlib.contextmanager
def paid_output(bought: str, *, extra: Mapping[str, Any] | None = None) -> Iterator[None]:
    """Print inside this block; a closed stdout raises a :class:`CliError` whose message
    starts with ``bought`` (what was paid for and how to find it) and says the output is
    lost. ``extra`` goes into the ``--json`` error document."""
    try:
        yield
    except BrokenPipeError:
        _silence_stdout()
        raise CliError(
            f"{bought}; its output was not printed: stdout was closed (the reader of the "
            "pipe left)",
            ExitCode.OUTPUT_LOST,
            extra=extra,
        ) from None
