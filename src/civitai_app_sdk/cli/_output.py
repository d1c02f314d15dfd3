"""Writing to the terminal: one JSON document for scripts, rich text for people.

Human output goes to stdout through :func:`stdout`; notes, prompts and progress go to
stderr through :func:`stderr`, so ``--json`` leaves nothing on stdout but the document.
rich is imported on first use.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

import click

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


EMITTED: Final = "civitai_orch.emitted"
"""Context meta key: the command has printed its JSON document."""


def emit_json(value: Any) -> None:
    """Print ``value`` as one pretty JSON document on stdout (once per command)."""
    click.echo(json.dumps(to_data(value), indent=2, ensure_ascii=False))
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        ctx.meta[EMITTED] = True


@functools.cache
def stdout() -> Console:
    """The rich console for human output."""
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True)


@functools.cache
def stderr() -> Console:
    """The rich console for notes, prompts and progress bars."""
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def note(message: str) -> None:
    """A line for people on stderr (rich markup is not interpreted)."""
    stderr().print(message, markup=False, soft_wrap=True)


def status_text(status: object) -> Text:
    """A workflow, step or job status in its colour."""
    from rich.text import Text

    name = str(status or "unknown")
    return Text(name, style=STATUS_STYLES.get(name, ""))


def printable(text: str) -> str:
    """``text`` with every character a terminal would act on (control characters, escape
    sequences, bidirectional overrides) written as a ``\\x1b``-style escape instead."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)


def shorten(text: object, limit: int) -> str:
    """``text`` on one line, cut to ``limit`` characters with an ellipsis."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
