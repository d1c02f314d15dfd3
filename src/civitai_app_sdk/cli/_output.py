"""Writing to the terminal: one JSON document for scripts, rich text for people.

Human output goes to stdout through :func:`stdout`; notes, prompts and progress go to
stderr through :func:`stderr`, so ``--json`` leaves nothing on stdout but the document.
rich is imported on first use.
"""

from __future__ import annotations

import codecs
import contextlib
import functools
import io
import json
import re
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

import click

from civitai_app_sdk._escape import harmless, printable, terminal_safe

__all__ = [
    "EMITTED",
    "emit_json",
    "entries",
    "fit_stdout",
    "json_text",
    "note",
    "printable",
    "shorten",
    "status_text",
    "stderr",
    "stdout",
    "terminal_safe",
    "to_data",
    "unicode_stdout",
]

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

STATUS_STYLES: Final[dict[str, str]] = {
    "succeeded": "green",
    "processing": "cyan",
    "scheduled": "blue",
    "preparing": "blue",
    "unassigned": "dim",
    "failed": "red",
    "expired": "yellow",
    "canceled": "magenta",
}


def to_data(value: Any) -> Any:
    """Plain JSON data from SDK models: what the server sent, by wire name."""
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dump(mode="json", by_alias=True, exclude_unset=True)
    if isinstance(value, Mapping):
        return {str(k): to_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_data(v) for v in value]
    return value


def entries(value: object) -> list[Any]:
    """``value`` when the server sent a list there, else no entries (a hostile or broken
    server's ``"steps": 5`` is shown as no steps, not a traceback)."""
    return value if isinstance(value, list) else []


EMITTED: Final = "civitai_orch.emitted"
"""Context meta key: the command has printed its JSON document."""


def json_text(value: Any, *, ascii_only: bool = False) -> str:
    """``value`` as pretty JSON that is safe on a terminal.

    Characters a terminal would act on (C1 controls, DEL, bidirectional overrides and
    other format characters, lone surrogates) are written as ``\\uXXXX`` escapes: the
    same JSON value, and byte for byte what ``json.dumps`` gives for other text.
    ``ascii_only`` escapes every character beyond ASCII too (for a stdout that cannot
    encode them).
    """
    text = json.dumps(value, indent=2, ensure_ascii=ascii_only)
    if text.replace("\n", "").isprintable():
        return text
    return _SUSPECT_IN_JSON.sub(_json_escaped, text)


def emit_json(value: Any) -> None:
    """Print ``value`` as one pretty JSON document on stdout (once per command)."""
    click.echo(json_text(to_data(value), ascii_only=not unicode_stdout()))
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        ctx.meta[EMITTED] = True


def unicode_stdout() -> bool:
    """Whether stdout's encoding can write every character (it is a UTF one)."""
    try:
        return codecs.lookup(getattr(sys.stdout, "encoding", None) or "utf-8").name[:3] == "utf"
    except LookupError:
        return False


def fit_stdout() -> None:
    """Let a stdout whose encoding lacks characters (``PYTHONIOENCODING=ascii``, a latin-1
    terminal, the C locale's ASCII with ``surrogateescape``) write them as ``\\uXXXX``
    escapes, as Python's own stderr does, rather than end the command with a
    ``UnicodeEncodeError`` at the first one (text shown has its lone surrogates escaped
    already). A UTF stdout, or one a caller set another error handler on, is left alone."""
    stream = sys.stdout
    if (
        isinstance(stream, io.TextIOWrapper)
        and stream.errors in ("strict", "surrogateescape")
        and not unicode_stdout()
    ):
        with contextlib.suppress(OSError, ValueError):
            stream.reconfigure(errors="backslashreplace")


@functools.cache
def stdout() -> Console:
    """The rich console for human output (control characters in text are escaped, and
    ``:cat:`` in a server's words stays text, never an emoji)."""
    from ._console import TerminalConsole

    return TerminalConsole(highlight=False, emoji=False, soft_wrap=True)


@functools.cache
def stderr() -> Console:
    """The rich console for notes, prompts and progress bars (text escaped as on stdout)."""
    from ._console import TerminalConsole

    return TerminalConsole(stderr=True, highlight=False, emoji=False)


def note(message: str) -> None:
    """A line for people on stderr (rich markup is not interpreted)."""
    stderr().print(message, markup=False, soft_wrap=True)


def status_text(status: object) -> Text:
    """A workflow, step or job status in its colour."""
    from rich.text import Text

    name = str(status or "unknown")
    return Text(name, style=STATUS_STYLES.get(name, ""))


_SUSPECT_IN_JSON: Final = re.compile(r"[^\x20-\x7e\n]")


def _json_escaped(match: re.Match[str]) -> str:
    char = match.group()
    return char if harmless(char) else json.dumps(char)[1:-1]


def shorten(text: object, limit: int) -> str:
    """``text`` on one line, cut to ``limit`` characters with an ellipsis."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
