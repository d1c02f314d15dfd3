"""Functional twins of the client methods, named as in the TypeScript SDK.

Each takes a client first; with an :class:`AsyncOrchestratorClient` it returns an
awaitable instead of the result.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, overload

from civitai_app_sdk_generated import Workflow

from .client import AsyncOrchestratorClient, OrchestratorClient
from .polling import DEFAULT_POLL_TIMEOUT, OnUpdate
from .validation import WorkflowBody

__all__ = ["estimate_workflow", "get_workflow", "poll_workflow", "submit_workflow"]

AnyClient = OrchestratorClient | AsyncOrchestratorClient
"""Either client; the functional twins accept both."""


@overload
def estimate_workflow(client: OrchestratorClient, body: WorkflowBody) -> Workflow: ...
@overload
def estimate_workflow(
    client: AsyncOrchestratorClient, body: WorkflowBody
) -> Awaitable[Workflow]: ...
def estimate_workflow(client: AnyClient, body: WorkflowBody) -> Workflow | Awaitable[Workflow]:
    """``client.estimate(body)``: the workflow priced, nothing run or charged."""
    return client.estimate(body)


@overload
def submit_workflow(client: OrchestratorClient, body: WorkflowBody, **options: Any) -> Workflow: ...
@overload
def submit_workflow(
    client: AsyncOrchestratorClient, body: WorkflowBody, **options: Any
) -> Awaitable[Workflow]: ...
def submit_workflow(
    client: AnyClient, body: WorkflowBody, **options: Any
) -> Workflow | Awaitable[Workflow]:
    """``client.submit(body, **options)``: spends Buzz (options: external_id, wait…)."""
    return client.submit(body, **options)


@overload
def get_workflow(client: OrchestratorClient, workflow_id: str, **options: Any) -> Workflow: ...
@overload
def get_workflow(
    client: AsyncOrchestratorClient, workflow_id: str, **options: Any
) -> Awaitable[Workflow]: ...
def get_workflow(
    client: AnyClient, workflow_id: str, **options: Any
) -> Workflow | Awaitable[Workflow]:
    """``client.get(workflow_id, **options)`` (options: wait, hide_mature_content)."""
    return client.get(workflow_id, **options)


@overload
def poll_workflow(
    client: OrchestratorClient,
    workflow_id: str,
    *,
    interval: float = ...,
    timeout: float = ...,
    on_update: OnUpdate | None = ...,
) -> Workflow: ...
@overload
def poll_workflow(
    client: AsyncOrchestratorClient,
    workflow_id: str,
    *,
    interval: float = ...,
    timeout: float = ...,
    on_update: OnUpdate | None = ...,
) -> Awaitable[Workflow]: ...
def poll_workflow(
    client: AnyClient,
    workflow_id: str,
    *,
    interval: float = 0.0,
    timeout: float = DEFAULT_POLL_TIMEOUT,
    on_update: OnUpdate | None = None,
) -> Workflow | Awaitable[Workflow]:
    """``client.poll(...)``: wait until terminal, or raise PollTimeoutError.

    As 0.14's ``pollWorkflow(client, id, {intervalMs, timeoutMs})`` but in seconds:
    ``interval`` is the shortest pause between requests when the server answers a
    long-poll early (it usually holds the request until the workflow changes), and
    ``timeout`` the overall deadline (30 s by default, as in 0.14).
    """
    return client.poll(workflow_id, timeout=timeout, on_update=on_update, interval=interval)
