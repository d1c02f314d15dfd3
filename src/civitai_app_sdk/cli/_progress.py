"""Progress bars on stderr, shown only when stderr is a terminal."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ._output import printable, stderr, to_data

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID


class Bar:
    """One progress bar; every method is a no-op when bars are off."""

    def __init__(self, progress: Progress | None, task: TaskID | None) -> None:
        """Wrap a rich task (or nothing, when stderr is not a terminal)."""
        self._progress = progress
        self._task = task

    def update(self, **fields: Any) -> None:
        """Set ``total``, ``completed``, ``description`` (shown escaped, never as markup)…"""
        if self._progress is not None and self._task is not None:
            if "description" in fields:
                fields["description"] = printable(str(fields["description"]))
            self._progress.update(self._task, **fields)

    def advance(self, amount: float) -> None:
        """Move the bar forward by ``amount``."""
        if self._progress is not None and self._task is not None:
            self._progress.advance(self._task, amount)


def on_terminal() -> bool:
    """Whether stderr is an interactive terminal.

    Asks the stream itself: ``FORCE_COLOR`` (which rich treats as a terminal) is common
    in CI logs, where a redrawn bar would only add noise.
    """
    isatty = getattr(sys.stderr, "isatty", None)
    try:
        return bool(isatty is not None and isatty()) and os.environ.get("TERM") != "dumb"
    except ValueError:  # closed stream
        return False


@contextlib.contextmanager
def bar(description: str, total: float | None = None, *, transfer: bool = False) -> Iterator[Bar]:
    """A progress bar for the duration of the block (bytes when ``transfer``).

    ``description`` is shown as text (escaped, never read as markup: it may hold a file
    name or a server's workflow id).
    """
    if not on_terminal():
        yield Bar(None, None)
        return
    console = stderr()
    from rich import progress as rp

    columns: list[rp.ProgressColumn | str] = [
        rp.TextColumn("{task.description}", markup=False),
        rp.BarColumn(),
    ]
    if transfer:
        columns += [rp.DownloadColumn(), rp.TransferSpeedColumn()]
    else:
        columns += [rp.MofNCompleteColumn(), rp.TextColumn("steps")]
    columns.append(rp.TimeElapsedColumn())
    with rp.Progress(*columns, console=console, transient=True) as progress:
        yield Bar(progress, progress.add_task(printable(description), total=total))


def workflow_updater(status_bar: Bar) -> Any:
    """An ``on_update`` callback for ``poll``: status, finished steps of all, Buzz charged."""
    from civitai_app_sdk.orchestrator import is_terminal

    from ._render import buzz_moved

    def on_update(workflow: object) -> None:
        data = to_data(workflow)
        steps = [s for s in data.get("steps") or [] if isinstance(s, Mapping)]
        done = sum(1 for s in steps if is_terminal(s))
        charged, _ = buzz_moved(data)
        spent = f" · {charged} Buzz" if charged else ""
        status_bar.update(
            total=max(len(steps), 1),
            completed=done,
            description=f"{data.get('id') or 'workflow'}: {data.get('status') or '?'}{spent}",
        )

    return on_update
