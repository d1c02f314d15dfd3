"""Typed models of the Orchestration API (generated; see `make codegen`).

Attribute access loads the generated models on first use, so importing this module is
cheap: `from civitai_app_sdk.models import Workflow` pays the model import once
(`from civitai_app_sdk.models import *` loads them all).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import civitai_app_sdk_generated as _generated

if TYPE_CHECKING:
    from civitai_app_sdk_generated import *  # noqa: F403
else:  # a star import takes every generated name (mypy reads the line above)
    __all__ = sorted(_generated.HOMES)


def __getattr__(name: str) -> Any:
    return getattr(_generated, name)


def __dir__() -> list[str]:
    return dir(_generated)
