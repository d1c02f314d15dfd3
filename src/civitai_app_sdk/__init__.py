"""Typed Python SDK for Civitai: OAuth, the Orchestration API and App Blocks.

The names below load their modules on first use, so `import civitai_app_sdk` costs
almost nothing; the generated models load only when a model is touched.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from civitai_app_sdk.blocks import (
        BlockManifestError,
        define_block,
        validate_manifest,
    )
    from civitai_app_sdk.cookies import (
        CookieSealer,
        seal_cookie,
        unseal_cookie,
    )
    from civitai_app_sdk.errors import (
        CivitaiError,
        InsufficientBuzzError,
        OrchestratorError,
        RateLimitError,
        RequestValidationError,
    )
    from civitai_app_sdk.oauth import (
        AsyncOAuthClient,
        OAuthClient,
        OAuthError,
        TokenSet,
    )
    from civitai_app_sdk.orchestrator import (
        AsyncOrchestratorClient,
        OrchestratorClient,
        build_text_to_image_body,
        extract_image_urls,
    )
    from civitai_app_sdk.scopes import (
        TokenScope,
    )

__version__ = "0.1.0"  # the one version source (pyproject reads it via hatch)

_EXPORTS: dict[str, str] = {
    "OrchestratorClient": "orchestrator",
    "AsyncOrchestratorClient": "orchestrator",
    "build_text_to_image_body": "orchestrator",
    "extract_image_urls": "orchestrator",
    "CivitaiError": "errors",
    "OrchestratorError": "errors",
    "InsufficientBuzzError": "errors",
    "RateLimitError": "errors",
    "RequestValidationError": "errors",
    "OAuthClient": "oauth",
    "AsyncOAuthClient": "oauth",
    "OAuthError": "oauth",
    "TokenSet": "oauth",
    "TokenScope": "scopes",
    "CookieSealer": "cookies",
    "seal_cookie": "cookies",
    "unseal_cookie": "cookies",
    "define_block": "blocks",
    "validate_manifest": "blocks",
    "BlockManifestError": "blocks",
}

__all__ = [
    "AsyncOAuthClient",
    "AsyncOrchestratorClient",
    "BlockManifestError",
    "CivitaiError",
    "CookieSealer",
    "InsufficientBuzzError",
    "OAuthClient",
    "OAuthError",
    "OrchestratorClient",
    "OrchestratorError",
    "RateLimitError",
    "RequestValidationError",
    "TokenScope",
    "TokenSet",
    "build_text_to_image_body",
    "define_block",
    "extract_image_urls",
    "seal_cookie",
    "unseal_cookie",
    "validate_manifest",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
