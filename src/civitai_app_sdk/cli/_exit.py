"""Exit codes (listed in ``civitai-orch --help``) and the one-line error they come with."""

from __future__ import annotations

import enum

import click


class ExitCode(enum.IntEnum):
    """Process exit codes; scripts can branch on them."""

    OK = 0
    ERROR = 1
    USAGE = 2
    AUTH = 3
    FORBIDDEN = 4
    INSUFFICIENT_BUZZ = 5
    NOT_FOUND = 6
    RATE_LIMITED = 7
    SERVER = 8
    NETWORK = 9
    WORKFLOW_FAILED = 10
    DOWNLOAD_FAILED = 11
    INTERRUPTED = 130


class CliError(click.ClickException):
    """A failure reported as ``error: <message>`` on stderr, with a specific exit code."""

    def __init__(self, message: str, code: ExitCode = ExitCode.ERROR) -> None:
        """``message`` should say what to do next."""
        super().__init__(message)
        self.code = code

    @property
    def exit_code(self) -> int:  # type: ignore[override]
        """The process exit status."""
        return int(self.code)

    def show(self, file: object = None) -> None:
        """Print the one-line message on stderr."""
        click.echo(f"error: {self.format_message()}", err=True)
