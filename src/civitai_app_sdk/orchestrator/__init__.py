"""Typed client of the Civitai Orchestration API: every operation of the spec.

Sync (:class:`OrchestratorClient`) and async (:class:`AsyncOrchestratorClient`) clients
over one request core (:data:`OPERATIONS` maps each operationId to its method), the
TypeScript SDK's functional helpers and body builders, and typed output extractors.
Durations are seconds. The errors (:mod:`civitai_app_sdk.errors`) and the step-type and
engine catalogs are re-exported here, as ``@civitai/app-sdk/orchestrator`` does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._lazy import load_export

if TYPE_CHECKING:
    from civitai_app_sdk_generated import IMAGE_GEN_ENGINES, VIDEO_GEN_ENGINES, WORKFLOW_STEP_TYPES

    from .._capture import CapturedResponses
    from .._settings import DEFAULT_BASE_URL as DEFAULT_ORCHESTRATOR_BASE_URL
    from .._settings import TokenSource
    from ..errors import (
        BadRequestError,
        BlobBlockedError,
        ConflictError,
        DecompressionBombError,
        DownloadTooSlowError,
        ForbiddenError,
        InsufficientBuzzError,
        NotFoundError,
        OrchestratorError,
        PollTimeoutError,
        PoolExhaustedError,
        RateLimitError,
        RequestTimeoutError,
        ResponseTooLargeError,
        ResponseValidationError,
        ServerError,
        TransportError,
        UnauthorizedError,
        UnprocessableError,
        UnsupportedEncodingError,
    )
    from .api import OPERATIONS
    from .blobs import BlobExistsError
    from .builders import (
        DEFAULT_MODEL_AIR,
        build_image_gen_body,
        build_text_to_image_body,
        build_workflow_body,
    )
    from .calls import WorkflowPage, new_external_id
    from .client import AsyncOrchestratorClient, OrchestratorClient
    from .functions import estimate_workflow, get_workflow, poll_workflow, submit_workflow
    from .outputs import (
        extract_audio,
        extract_blobs,
        extract_image_urls,
        extract_images,
        extract_models,
        extract_texts,
        extract_videos,
    )
    from .patching import make_patch
    from .polling import DEFAULT_POLL_TIMEOUT, MAX_WAIT
    from .status import TERMINAL_STATUSES, is_terminal
    from .validation import WorkflowBody, validate_workflow_body

_EXPORTS: dict[str, str] = {
    "IMAGE_GEN_ENGINES": "civitai_app_sdk_generated:IMAGE_GEN_ENGINES",
    "VIDEO_GEN_ENGINES": "civitai_app_sdk_generated:VIDEO_GEN_ENGINES",
    "WORKFLOW_STEP_TYPES": "civitai_app_sdk_generated:WORKFLOW_STEP_TYPES",
    "DEFAULT_ORCHESTRATOR_BASE_URL": "civitai_app_sdk._settings:DEFAULT_BASE_URL",
    "CapturedResponses": "civitai_app_sdk._capture:CapturedResponses",
    "TokenSource": "civitai_app_sdk._settings:TokenSource",
    "BadRequestError": "civitai_app_sdk.errors:BadRequestError",
    "BlobBlockedError": "civitai_app_sdk.errors:BlobBlockedError",
    "ConflictError": "civitai_app_sdk.errors:ConflictError",
    "DecompressionBombError": "civitai_app_sdk.errors:DecompressionBombError",
    "DownloadTooSlowError": "civitai_app_sdk.errors:DownloadTooSlowError",
    "ForbiddenError": "civitai_app_sdk.errors:ForbiddenError",
    "InsufficientBuzzError": "civitai_app_sdk.errors:InsufficientBuzzError",
    "NotFoundError": "civitai_app_sdk.errors:NotFoundError",
    "OrchestratorError": "civitai_app_sdk.errors:OrchestratorError",
    "PollTimeoutError": "civitai_app_sdk.errors:PollTimeoutError",
    "PoolExhaustedError": "civitai_app_sdk.errors:PoolExhaustedError",
    "RateLimitError": "civitai_app_sdk.errors:RateLimitError",
    "RequestTimeoutError": "civitai_app_sdk.errors:RequestTimeoutError",
    "ResponseTooLargeError": "civitai_app_sdk.errors:ResponseTooLargeError",
    "ResponseValidationError": "civitai_app_sdk.errors:ResponseValidationError",
    "ServerError": "civitai_app_sdk.errors:ServerError",
    "TransportError": "civitai_app_sdk.errors:TransportError",
    "UnauthorizedError": "civitai_app_sdk.errors:UnauthorizedError",
    "UnprocessableError": "civitai_app_sdk.errors:UnprocessableError",
    "UnsupportedEncodingError": "civitai_app_sdk.errors:UnsupportedEncodingError",
    "OPERATIONS": "civitai_app_sdk.orchestrator.api:OPERATIONS",
    "BlobExistsError": "civitai_app_sdk.orchestrator.blobs:BlobExistsError",
    "DEFAULT_MODEL_AIR": "civitai_app_sdk.orchestrator.builders:DEFAULT_MODEL_AIR",
    "build_image_gen_body": "civitai_app_sdk.orchestrator.builders:build_image_gen_body",
    "build_text_to_image_body": "civitai_app_sdk.orchestrator.builders:build_text_to_image_body",
    "build_workflow_body": "civitai_app_sdk.orchestrator.builders:build_workflow_body",
    "WorkflowPage": "civitai_app_sdk.orchestrator.calls:WorkflowPage",
    "new_external_id": "civitai_app_sdk.orchestrator.calls:new_external_id",
    "AsyncOrchestratorClient": "civitai_app_sdk.orchestrator.client:AsyncOrchestratorClient",
    "OrchestratorClient": "civitai_app_sdk.orchestrator.client:OrchestratorClient",
    "estimate_workflow": "civitai_app_sdk.orchestrator.functions:estimate_workflow",
    "get_workflow": "civitai_app_sdk.orchestrator.functions:get_workflow",
    "poll_workflow": "civitai_app_sdk.orchestrator.functions:poll_workflow",
    "submit_workflow": "civitai_app_sdk.orchestrator.functions:submit_workflow",
    "extract_audio": "civitai_app_sdk.orchestrator.outputs:extract_audio",
    "extract_blobs": "civitai_app_sdk.orchestrator.outputs:extract_blobs",
    "extract_image_urls": "civitai_app_sdk.orchestrator.outputs:extract_image_urls",
    "extract_images": "civitai_app_sdk.orchestrator.outputs:extract_images",
    "extract_models": "civitai_app_sdk.orchestrator.outputs:extract_models",
    "extract_texts": "civitai_app_sdk.orchestrator.outputs:extract_texts",
    "extract_videos": "civitai_app_sdk.orchestrator.outputs:extract_videos",
    "make_patch": "civitai_app_sdk.orchestrator.patching:make_patch",
    "DEFAULT_POLL_TIMEOUT": "civitai_app_sdk.orchestrator.polling:DEFAULT_POLL_TIMEOUT",
    "MAX_WAIT": "civitai_app_sdk.orchestrator.polling:MAX_WAIT",
    "TERMINAL_STATUSES": "civitai_app_sdk.orchestrator.status:TERMINAL_STATUSES",
    "is_terminal": "civitai_app_sdk.orchestrator.status:is_terminal",
    "WorkflowBody": "civitai_app_sdk.orchestrator.validation:WorkflowBody",
    "validate_workflow_body": "civitai_app_sdk.orchestrator.validation:validate_workflow_body",
}
"""Each public name -> ``module:attribute`` it is loaded from on first use."""

__all__ = [
    "DEFAULT_MODEL_AIR",
    "DEFAULT_ORCHESTRATOR_BASE_URL",
    "DEFAULT_POLL_TIMEOUT",
    "IMAGE_GEN_ENGINES",
    "MAX_WAIT",
    "OPERATIONS",
    "TERMINAL_STATUSES",
    "VIDEO_GEN_ENGINES",
    "WORKFLOW_STEP_TYPES",
    "AsyncOrchestratorClient",
    "BadRequestError",
    "BlobBlockedError",
    "BlobExistsError",
    "CapturedResponses",
    "ConflictError",
    "DecompressionBombError",
    "DownloadTooSlowError",
    "ForbiddenError",
    "InsufficientBuzzError",
    "NotFoundError",
    "OrchestratorClient",
    "OrchestratorError",
    "PollTimeoutError",
    "PoolExhaustedError",
    "RateLimitError",
    "RequestTimeoutError",
    "ResponseTooLargeError",
    "ResponseValidationError",
    "ServerError",
    "TokenSource",
    "TransportError",
    "UnauthorizedError",
    "UnprocessableError",
    "UnsupportedEncodingError",
    "WorkflowBody",
    "WorkflowPage",
    "build_image_gen_body",
    "build_text_to_image_body",
    "build_workflow_body",
    "estimate_workflow",
    "extract_audio",
    "extract_blobs",
    "extract_image_urls",
    "extract_images",
    "extract_models",
    "extract_texts",
    "extract_videos",
    "get_workflow",
    "is_terminal",
    "make_patch",
    "new_external_id",
    "poll_workflow",
    "submit_workflow",
    "validate_workflow_body",
]


def __getattr__(name: str) -> Any:
    return load_export(globals(), _EXPORTS, name)


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
