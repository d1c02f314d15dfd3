"""Typed models of the Orchestration API (generated; see `make codegen`).

Attribute access loads the generated models on first use, so importing this module is
cheap: `from civitai_app_sdk.models import Workflow` pays the model import once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import civitai_app_sdk_generated as _generated

if TYPE_CHECKING:
    from civitai_app_sdk_generated import *  # noqa: F403
    from civitai_app_sdk_generated._base import (
        UNKNOWN_TAG as UNKNOWN_TAG,
    )
    from civitai_app_sdk_generated._base import (
        ApiModel as ApiModel,
    )
    from civitai_app_sdk_generated._base import (
        TimeSpan as TimeSpan,
    )
    from civitai_app_sdk_generated._base import (
        UnknownVariant as UnknownVariant,
    )
    from civitai_app_sdk_generated._base import (
        request_problems as request_problems,
    )


def __getattr__(name: str) -> Any:
    return getattr(_generated, name)


def __dir__() -> list[str]:
    return dir(_generated)
