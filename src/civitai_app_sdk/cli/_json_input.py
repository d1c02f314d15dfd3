"""Reading a JSON document the user hands a command (a file, or stdin for ``-``)."""

from __future__ import annotations

from typing import IO, Any, Final

from civitai_app_sdk._limits import MAX_JSON_BODY

from ._exit import CliError, ExitCode
from ._json import NestedTooDeeplyError, parse_json

MAX_INPUT: Final = MAX_JSON_BODY
"""Most characters read (64 Mi, the SDK's cap on a JSON answer): ``/dev/zero`` or an
endless pipe ends with an error, not with the memory exhausted."""


BOM: Final = "\ufeff"
"""The byte order mark some editors (Windows Notepad) put first: read past, not refused."""


def read_json(file: IO[str]) -> Any:
    """The JSON value in ``file`` (a leading byte order mark is skipped); a usage error
    naming the file when it is not JSON, not UTF-8, larger than :data:`MAX_INPUT` or
    nested too deeply to parse (never a traceback)."""
    try:
        text = file.read(MAX_INPUT + 1)
        if len(text) > MAX_INPUT:
            raise CliError(
                f"{file.name} is larger than {MAX_INPUT:,} characters; a workflow or recipe "
                "input is a JSON document of at most that size",
                ExitCode.USAGE,
            )
        return parse_json(text.removeprefix(BOM))
    except NestedTooDeeplyError:
        raise CliError(
            f"{file.name} is nested too deeply to read (over about 1,000 levels)", ExitCode.USAGE
        ) from None
    except ValueError as exc:  # UnicodeDecodeError among them
        raise CliError(f"{file.name} is not valid JSON: {exc}", ExitCode.USAGE) from None
