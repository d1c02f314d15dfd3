"""Typed client of the Civitai Orchestration API: estimate, submit, poll, cancel, list.

Sync (:class:`OrchestratorClient`) and async (:class:`AsyncOrchestratorClient`) clients
over one request core, the TypeScript SDK's functional helpers and body builders, and
typed output extractors. Durations are seconds. The errors (:mod:`civitai_app_sdk.errors`)
and the step-type and engine catalogs are re-exported here, as ``@civitai/app-sdk/orchestrator``
does.
"""

from civitai_app_sdk_generated import IMAGE_GEN_ENGINES, VIDEO_GEN_ENGINES, WORKFLOW_STEP_TYPES

from .._transport import DEFAULT_BASE_URL as DEFAULT_ORCHESTRATOR_BASE_URL
from .._transport import CapturedResponses, TokenSource
from ..errors import (
    BadRequestError,
    ConflictError,
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
)
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
from .polling import DEFAULT_POLL_TIMEOUT, MAX_WAIT
from .status import TERMINAL_STATUSES, is_terminal
from .validation import WorkflowBody, validate_workflow_body

__all__ = [
    "DEFAULT_MODEL_AIR",
    "DEFAULT_ORCHESTRATOR_BASE_URL",
    "DEFAULT_POLL_TIMEOUT",
    "IMAGE_GEN_ENGINES",
    "MAX_WAIT",
    "TERMINAL_STATUSES",
    "VIDEO_GEN_ENGINES",
    "WORKFLOW_STEP_TYPES",
    "AsyncOrchestratorClient",
    "BadRequestError",
    "CapturedResponses",
    "ConflictError",
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
    "new_external_id",
    "poll_workflow",
    "submit_workflow",
    "validate_workflow_body",
]
