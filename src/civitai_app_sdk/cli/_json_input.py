"""Reading a JSON document the user hands a command (a file, or stdin for ``-``)."""

from __future__ import annotations

import json
from typing import IO, Any

from ._exit import CliError, ExitCode


def read_json(file: IO[str]) -> Any:
    """The JSON value in ``file``; a usage error naming the file when it is not JSON,
    not UTF-8, or nested too deeply to parse (never a traceback)."""
    try:
        return json.load(file)
    except ValueError as exc:  # UnicodeDecodeError among them
        raise CliError(f"{file.name} is not valid JSON: {exc}", ExitCode.USAGE) from None
    except RecursionError:
        raise CliError(
            f"{file.name} is nested too deeply to read (over about 1,000 levels)", ExitCode.USAGE
        ) from None
