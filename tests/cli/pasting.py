"""What a command the CLI prints does when pasted: split as a shell would, then parsed
by the CLI's own parser (the root group included, which notes ``--json``)."""

from __future__ import annotations

import shlex
import shutil
import subprocess
from typing import Any
from unittest import mock

import click
from click.testing import CliRunner

from civitai_app_sdk.cli import JSON_REQUESTED, main

BASH = shutil.which("bash")


def shell_split(line: str) -> list[str]:
    """``line``'s words: by bash when it holds ``$'...'`` (which shlex cannot read),
    else by :func:`shlex.split`."""
    if "$'" not in line:
        return shlex.split(line)
    assert BASH is not None, "bash is needed to read $'...'"
    script = 'set -f; eval "set -- $1"; printf "%s\\0" "$@"'
    words = subprocess.run(
        [BASH, "--norc", "--noprofile", "-c", script, "bash", line],
        capture_output=True,
        check=True,
        env={"LC_ALL": "C.UTF-8", "PATH": "/usr/bin:/bin"},
    ).stdout
    return [word.decode("utf-8", "surrogateescape") for word in words.split(b"\0")[:-1]]


def parsed(line: str) -> dict[str, Any]:
    """The parameters ``civitai-orch`` hands its command for ``line`` (which must name
    ``civitai-orch``), with ``json_requested``: whether the root group took the line
    as asking for ``--json``. The command itself is not run."""
    argv = shell_split(line)
    assert argv[0] == "civitai-orch", argv
    command = main.get_command(click.Context(main), argv[1])
    assert command is not None, argv
    seen: dict[str, Any] = {}

    def capture(**params: Any) -> None:
        root = click.get_current_context().find_root()
        seen.update(params, json_requested=root.meta[JSON_REQUESTED])

    with mock.patch.object(command, "callback", capture):
        result = CliRunner().invoke(main, argv[1:], catch_exceptions=False)
    assert result.exit_code == 0, (argv, result.output)
    return seen
