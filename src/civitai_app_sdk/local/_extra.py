"""Fail early, with the install line, when the ``local`` extra (starlette, uvicorn) is missing."""

from __future__ import annotations

from typing import Final

from civitai_app_sdk.errors import ConfigurationError

LOCAL_EXTRA_HINT: Final = "pip install 'civitai-app-sdk[local]'"

try:
    import starlette
    import uvicorn
except ModuleNotFoundError as exc:
    raise ConfigurationError(
        f"the local orchestrator needs the [local] extra ({exc.name} is not installed): "
        f"{LOCAL_EXTRA_HINT}"
    ) from None
del starlette, uvicorn
