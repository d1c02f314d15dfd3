"""What the console script does before a command runs, so that it starts quickly."""

from __future__ import annotations

import signal
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from importlib.machinery import ModuleSpec

__all__ = ["skip_httpx_cli", "stop_on_sigterm"]

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
