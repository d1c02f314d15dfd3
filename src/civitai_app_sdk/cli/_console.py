"""A rich console that never writes the control characters found in the text it prints.

rich drops only BEL, BS, VT, FF and CR from text, so an escape sequence, a C1 control or
a bidirectional override in a server's words would reach the terminal and act there
(clear the screen, retitle the window, forge a link, reverse the line). The console's
last render hook escapes such characters in every piece of text it draws, tables and
progress bars included; the console's own styles and cursor moves are left alone.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from typing import Any

from rich.console import Console, ConsoleOptions, ConsoleRenderable, RenderHook
from rich.segment import Segment
from rich.text import Span, Text

from ._output import printable, terminal_safe


class _Escaped:
    """``inner`` drawn with its text escaped (see :func:`terminal_safe`)."""

    def __init__(self, inner: ConsoleRenderable) -> None:
        self.inner = inner

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Segment]:
        for segment in console.render(self.inner, options):
            text, style, control = segment
            if control:
                yield segment
            elif style is not None and style.link and not style.link.isprintable():
                yield Segment(terminal_safe(text), style.update_link(printable(style.link)))
            elif text.isprintable() or text == "\n":
                yield segment
            else:
                yield Segment(terminal_safe(text), style)


def _escaped_text(text: Text) -> Text:
    """``text`` escaped before it is wrapped or cropped, its styles kept on the same words."""
    plain = text.plain
    if terminal_safe(plain) == plain:
        return text
    shift = [0] * (len(plain) + 1)  # how far each offset moves
    pieces = []
    for index, char in enumerate(plain):
        piece = char if char.isprintable() else terminal_safe(char)
        pieces.append(piece)
        shift[index + 1] = shift[index] + len(piece) - 1
    escaped = text.blank_copy("".join(pieces))
    escaped.spans = [
        Span(span.start + shift[span.start], span.end + shift[span.end], span.style)
        for span in text.spans
    ]
    return escaped


class _EscapeText(RenderHook):
    """Escapes what is about to be drawn: text before it is laid out (so it wraps as
    shown), and everything (tables, live displays, links) as it is drawn."""

    def process_renderables(self, renderables: list[ConsoleRenderable]) -> list[ConsoleRenderable]:
        """The same renderables, each drawn escaped."""
        return [
            _Escaped(_escaped_text(item) if isinstance(item, Text) else item)
            for item in renderables
        ]


class TerminalConsole(Console):
    """A :class:`rich.console.Console` whose output holds no control character from text.

    Its escaping hook stays the last one, so what other hooks add (the bars of a live
    progress display) is escaped too.
    """

    def __init__(self, **options: Any) -> None:
        """Take the options of :class:`rich.console.Console`."""
        super().__init__(**options)
        self._escape = _EscapeText()
        super().push_render_hook(self._escape)

    def on_broken_pipe(self) -> None:
        """A closed output (its reader left, ``| head``) raises ``BrokenPipeError``, as a
        ``click.echo`` does, rather than rich's own ``SystemExit(1)``: a command that
        has spent Buzz must still say on stderr what was bought (see ``_paid``)."""
        self.quiet = True
        raise BrokenPipeError(errno.EPIPE, os.strerror(errno.EPIPE))

    def push_render_hook(self, hook: RenderHook) -> None:
        """Add ``hook`` just before the escaping hook."""
        super().pop_render_hook()
        super().push_render_hook(hook)
        super().push_render_hook(self._escape)

    def pop_render_hook(self) -> None:
        """Remove the hook added last (never the escaping hook)."""
        super().pop_render_hook()
        super().pop_render_hook()
        super().push_render_hook(self._escape)
