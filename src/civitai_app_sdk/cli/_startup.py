"""What the console script does before a command runs, so that it starts quickly."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from importlib.machinery import ModuleSpec

__all__ = ["quiet_stderr", "skip_httpx_cli", "stop_on_hangup", "stop_on_sigterm"]

HTTPX_CLI = "httpx._main"
"""httpx's own command line (it loads rich, pygments and click's help machinery)."""


class _SkipModule:
    """Refuses one module, which its importer treats as an optional extra.

    A meta path finder by protocol: ``importlib.abc`` would load ``importlib.resources``.
    """

    def __init__(self, name: str) -> None:
        self.name = name

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> ModuleSpec | None:
        if fullname == self.name:
            raise ImportError(f"{fullname} is not used by civitai-orch", name=fullname)
        return None


def skip_httpx_cli() -> None:
    """Keep httpx's own CLI from loading in this process (about 40 ms of a command).

    ``import httpx`` imports it only to offer ``httpx.main``, and falls back to a stub
    when it cannot; civitai-orch never calls it. Only the console script does this.
    """
    if HTTPX_CLI not in sys.modules and "httpx" not in sys.modules:
        sys.meta_path.insert(0, _SkipModule(HTTPX_CLI))


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def stop_on_sigterm() -> None:
    """Let SIGTERM (``timeout``, a cancelled CI job, ``docker stop``) end a command as
    Ctrl-C does: a submit in flight still prints the key that makes a retry safe, a
    ``--wait`` the workflow id, and no partial download is left behind.

    Python's default for SIGTERM is to die at once, saying nothing. A SIGTERM that was
    ignored when the process started (``nohup``-style) stays ignored.
    """
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _interrupt)


@contextlib.contextmanager
def stop_on_hangup() -> Iterator[None]:
    """Within the block, SIGHUP (the terminal closed, an ssh session dropped) ends the
    command as Ctrl-C does, so what the block leaves behind is cleaned up.

    Python's default for SIGHUP is to die at once. A SIGHUP ignored (``nohup``) or
    handled by the caller is left alone, as is any thread but the main one.
    """
    hangup = getattr(signal, "SIGHUP", None)
    if (
        hangup is None
        or threading.current_thread() is not threading.main_thread()
        or signal.getsignal(hangup) is not signal.SIG_DFL
    ):
        yield
        return
    signal.signal(hangup, _interrupt)
    try:
        yield
    finally:
        signal.signal(hangup, signal.SIG_DFL)


class _SilentWhenClosed(io.TextIOWrapper):
    """stderr that falls silent once its reader has left (a closed pipe), rather than
    raising ``BrokenPipeError`` from a note, a progress bar or an error message."""

    def write(self, text: str) -> int:
        try:
            return super().write(text)
        except BrokenPipeError:
            self._to_null()
            return len(text)

    def flush(self) -> None:
        try:
            super().flush()
        except BrokenPipeError:
            self._to_null()

    def _to_null(self) -> None:
        """Point the descriptor at the null device; what was not written goes there."""
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, self.fileno())
        finally:
            os.close(null)
        super().flush()


def quiet_stderr() -> None:
    """Let a closed stderr cost the command nothing: its exit code stays its own.

    Started with descriptor 2 closed, stderr is the null device (click would otherwise
    print usage errors on stdout, after a ``--json`` document); when stderr is a pipe
    whose reader has left, writing to it stops raising, which turned any failure
    (its message could not be shown) and any note into exit code 1.
    """
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 (the process's)
        return
    if type(sys.stderr) is not io.TextIOWrapper:  # replaced by a caller: left alone
        return
    current = sys.stderr
    current.flush()
    sys.stderr = _SilentWhenClosed(
        current.buffer,
        encoding=current.encoding,
        errors=current.errors,
        line_buffering=current.line_buffering,
        write_through=current.write_through,
    )
