"""The SDK's logging switch: ``CIVITAI_LOG=debug|info`` (or :func:`enable_logging`).

The SDK logs under the ``civitai_app_sdk`` logger and, as a library, adds no handler
unless asked to. Every line it logs has been through :func:`civitai_app_sdk._redact.redact`,
and so are the lines httpx and httpcore log for the SDK's requests (an app logging at
INFO would otherwise print blob capability URLs that a redirect led to).
"""

from __future__ import annotations

import functools
import logging
import os
from typing import Any, Final

from ._escape import printable, terminal_safe
from ._redact import redact

__all__ = ["LOGGER_NAME", "configure_from_env", "enable_logging", "redact_http_logs"]

LOGGER_NAME: Final = "civitai_app_sdk"
"""The root of the SDK's loggers."""
_LEVELS: Final = {"debug": logging.DEBUG, "info": logging.INFO}
_HTTP_LOGGERS: Final = (
    "httpx",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
)


class _Redacting(logging.Filter):
    """Masks secrets in a record's text (it never drops a record)."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        clean = redact(text)
        if clean != text:
            record.msg, record.args = clean, None
        return True


class _TerminalFormatter(logging.Formatter):
    """Formats a record for a terminal: a message stays on one line, and nothing in it
    (or in a traceback) that a terminal acts on, such as an escape sequence in a hostile
    server's words, reaches the terminal unescaped."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        """The record's line, its message escaped."""
        return printable(super().formatMessage(record))

    def formatException(self, ei: Any) -> str:
        """The traceback, each line escaped."""
        return terminal_safe(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:
        """The stack, each line escaped."""
        return terminal_safe(super().formatStack(stack_info))


@functools.cache
def redact_http_logs() -> None:
    """Mask capability URLs and tokens in what httpx and httpcore log (once per process)."""
    for name in _HTTP_LOGGERS:
        logging.getLogger(name).addFilter(_Redacting())


def enable_logging(level: int = logging.DEBUG) -> None:
    """Send the SDK's log records at ``level`` and above to stderr (once per process),
    escaped for a terminal."""
    root = logging.getLogger(LOGGER_NAME)
    root.setLevel(level)
    if not any(getattr(h, "_civitai", False) for h in root.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(_TerminalFormatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        handler._civitai = True  # type: ignore[attr-defined]
        root.addHandler(handler)


@functools.cache
def configure_from_env() -> None:
    """Honour ``CIVITAI_LOG`` (``debug`` or ``info``) the first time a client is set up."""
    redact_http_logs()
    level = _LEVELS.get(os.environ.get("CIVITAI_LOG", "").strip().lower())
    if level is not None:
        enable_logging(level)
