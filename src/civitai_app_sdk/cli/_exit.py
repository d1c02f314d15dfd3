"""Exit codes (listed in ``civitai-orch --help``) and the one-line error they come with."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

import click

from ._output import printable


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
    DECLINED = 12
    OUTPUT_LOST = 13
    INTERRUPTED = 130


class CliError(click.ClickException):
    """A failure reported as ``error: <message>`` on stderr, with a specific exit code.

    ``status``, ``request_id`` and ``fields`` (the server's field errors) go into the
    ``--json`` error document; ``extra`` adds top-level keys to it (for example the ``id``
    and ``status`` of a workflow the user has paid for). ``prefix=False`` prints the
    message without ``error:`` (an answer, not a failure, such as a declined prompt).
    """

    def __init__(
        self,
        message: str,
        code: ExitCode = ExitCode.ERROR,
        *,
        status: int | None = None,
        request_id: str | None = None,
        fields: Mapping[str, Any] | None = None,
        extra: Mapping[str, Any] | None = None,
        prefix: bool = True,
    ) -> None:
        """``message`` should say what to do next."""
        super().__init__(message)
        self.code = code
        self.status = status
        self.request_id = request_id
        self.fields = dict(fields) if fields else None
        self.extra = dict(extra or {})
        self.prefix = prefix

    @property
    def exit_code(self) -> int:  # type: ignore[override]
        """The process exit status."""
        return int(self.code)

    def document(self) -> dict[str, Any]:
        """The ``--json`` document for this failure: ``{"error": {...}}`` plus ``extra``."""
        return {
            **self.extra,
            "error": {
                "message": self.format_message(),
                "exitCode": self.exit_code,
                "status": self.status,
                "requestId": self.request_id,
                "fields": self.fields,
            },
        }

    def reworded(
        self, message: str, code: ExitCode | None = None, *, extra: Mapping[str, Any] | None = None
    ) -> CliError:
        """This failure told as ``message`` (under ``code``, with ``extra``, when given),
        keeping its HTTP status, request id and field errors for the ``--json`` document."""
        return CliError(
            message,
            self.code if code is None else code,
            status=self.status,
            request_id=self.request_id,
            fields=self.fields,
            extra=self.extra if extra is None else extra,
        )

    def show(self, file: object = None) -> None:
        """Print the one-line message on stderr (what a server said in it, escaped)."""
        text = printable(self.format_message())
        click.echo(f"error: {text}" if self.prefix else text, err=True)


def usage_document(error: click.ClickException) -> dict[str, Any]:
    """The ``--json`` document of a click error that is not a :class:`CliError`."""
    if isinstance(error, CliError):
        return error.document()
    known = error.exit_code in set(ExitCode)
    code = ExitCode(error.exit_code) if known else ExitCode.ERROR
    return CliError(error.format_message(), code).document()
