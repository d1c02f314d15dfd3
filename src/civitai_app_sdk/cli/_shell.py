"""Commands the CLI prints for the user to paste, written so they mean what they say.

A value is quoted as one shell word, and shown as it is on the terminal: a value the
terminal would act on or hide (a line break, an escape sequence) is written ``$'...'``
with those characters as ``\\xHH`` bytes, which bash, zsh, ksh and POSIX sh (2024) read
back, where :func:`~civitai_app_sdk._escape.printable` would have changed it. An
option's value is joined to it (``--add=-x``), and operands follow ``--`` when one
starts with ``-``, so no value is read as an option.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable

from civitai_app_sdk._escape import harmless

__all__ = ["command", "option", "shell_word"]


def shell_word(text: str) -> str:
    """``text`` as one shell word that reads back as ``text`` and prints unchanged."""
    if all(map(harmless, text)):
        return shlex.quote(text)
    return "$'" + "".join(map(_ansi_c, text)) + "'"


def _ansi_c(char: str) -> str:
    if char in "\\'":
        return "\\" + char
    if harmless(char) and char != "!":  # `!` too: an older bash may expand history there
        return char
    return "".join(f"\\x{byte:02x}" for byte in char.encode("utf-8", "surrogatepass"))


def option(flag: str, value: str) -> str:
    """``flag=value`` as one word: a value starting with ``-`` is still ``flag``'s."""
    return f"{flag}={shell_word(value)}"


def command(name: str, *operands: str, options: Iterable[str] = ()) -> str:
    """``civitai-orch NAME OPERANDS... OPTIONS...`` (options are words, see :func:`option`),
    or ``civitai-orch NAME OPTIONS... -- OPERANDS...`` when an operand starts with ``-``."""
    quoted = [shell_word(operand) for operand in operands]
    if any(operand.startswith("-") for operand in operands):
        words = [*options, "--", *quoted]
    else:
        words = [*quoted, *options]
    return " ".join(["civitai-orch", name, *words])
