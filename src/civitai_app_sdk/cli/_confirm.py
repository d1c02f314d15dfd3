"""The one question asked before a command spends Buzz or destroys something."""

from __future__ import annotations

import sys

import click

from ._exit import CliError, ExitCode
from ._output import printable

__all__ = ["ask_first"]


def ask_first(yes: bool, *, question: str, stakes: str, declined: str) -> None:
    """Return once the user agreed to ``question`` on the terminal, or passed ``--yes``.

    Without a terminal to ask (a script, a pipe), a usage error says ``stakes`` (why it
    asks) and to add ``--yes``. A "no" exits :attr:`ExitCode.DECLINED` with ``declined``
    printed as an answer, not an error: nothing was sent.
    """
    if yes:
        return
    if not sys.stdin.isatty():
        raise CliError(
            f"{stakes}: add --yes to confirm when there is no terminal to ask", ExitCode.USAGE
        )
    if not click.confirm(printable(question), err=True):
        raise CliError(declined, ExitCode.DECLINED, prefix=False)
