"""The SDK's logging switch: ``CIVITAI_LOG=debug|info`` (or :func:`enable_logging`).

The SDK logs under the ``civitai_app_sdk`` logger and, as a library, adds no handler
unless asked to. Every line it logs has been through :func:`civitai_app_sdk._redact.redact`.
"""

from __future__ import annotations

import functools
import logging
import os
from typing import Final

__all__ = ["LOGGER_NAME", "configure_from_env", "enable_logging"]

LOGGER_NAME: Final = "civitai_app_sdk"
"""The root of the SDK's loggers."""
_LEVELS: Final = {"debug": logging.DEBUG, "info": logging.INFO}


def enable_logging(level: int = logging.DEBUG) -> None:
    """Send the SDK's log records at ``level`` and above to stderr (once per process)."""
    root = logging.getLogger(LOGGER_NAME)
    root.setLevel(level)
    if not any(getattr(h, "_civitai", False) for h in root.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        handler._civitai = True  # type: ignore[attr-defined]
        root.addHandler(handler)


@functools.cache
def configure_from_env() -> None:
    """Honour ``CIVITAI_LOG`` (``debug`` or ``info``) the first time a client is set up."""
    level = _LEVELS.get(os.environ.get("CIVITAI_LOG", "").strip().lower())
    if level is not None:
        enable_logging(level)
