"""The orchestrator's operations as data: each builds a :class:`Call` and a response reader.

Both clients run the same :class:`Operation` objects, so the sync and async surfaces
cannot drift apart.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import secrets
from collections.abc import Callable, Sequence
from typing import Any, Final, Generic, TypeVar
from urllib.parse import quote

import attrs
import httpx
from civitai_app_sdk_generated import (
    CursedArrayOfTelemetryCursorAndWorkflow,
    ResourceInfo,
    Workflow,
    WorkflowStep,
)

from .._transport import Call
from ..errors import RequestValidationError
from ._reading import read
from .polling import MAX_WAIT
from .validation import WorkflowBody, validate_workflow_body

__all__ = ["Operation", "WorkflowPage", "external_id_of", "new_external_id"]

T = TypeVar("T")

WorkflowPage = CursedArrayOfTelemetryCursorAndWorkflow
"""One page of QueryWorkflows: ``items`` and the ``next`` cursor."""

_WORKFLOWS: Final = "/v2/consumer/workflows"
_EXTERNAL_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")


@attrs.frozen
class Operation(Generic[T]):
    """A call to send and the function that reads its 2xx response."""

    call: Call
    read: Callable[[httpx.Response], T]


def segment(value: str, what: str) -> str:
    """``value`` encoded as one URL path segment (like JS ``encodeURIComponent``)."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"{what} must be a non-empty string")
    return quote(value, safe="!~*'()")


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _wait(wait: float | None) -> int:
    if wait is None:
        return 0
    if not (0 <= wait <= MAX_WAIT):
        raise ValueError(f"wait must be between 0 and {MAX_WAIT:g} seconds")
    return math.ceil(wait)


def _hold_params(
    wait: float | None, hide_mature_content: bool | None
) -> tuple[int, tuple[tuple[str, str], ...]]:
    """The whole seconds of server hold, and the ``wait``/``hideMatureContent`` query."""
    seconds = _wait(wait)
    params: list[tuple[str, str]] = []
    if seconds:
        params.append(("wait", str(seconds)))
    if hide_mature_content is not None:
        params.append(("hideMatureContent", _flag(hide_mature_content)))
    return seconds, tuple(params)


def _date(value: dt.datetime | str, what: str) -> str:
    if isinstance(value, str):
        return value
    if value.tzinfo is None:
        raise ValueError(f"{what} must be timezone-aware (use datetime.UTC)")
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _reader(kind: Any, what: str) -> Callable[[httpx.Response], Any]:
    """Reads a 2xx body as ``kind`` (a model or union alias); ``what`` names it in errors."""

    def parse(response: httpx.Response) -> Any:
        return read(kind, response.content, what)

    return parse


_workflow = _reader(Workflow, "workflow")
_page = _reader(WorkflowPage, "workflow page")
_step = _reader(WorkflowStep, "workflow step")
_resource = _reader(ResourceInfo, "resource")


def _nothing(response: httpx.Response) -> None:
    return None


def new_external_id() -> str:
    """A fresh idempotency key for one logical submit (reuse it only for its retries)."""
    return "sdk-" + secrets.token_urlsafe(24)


def external_id_of(operation: Operation[Any]) -> str | None:
    """The ``externalId`` a submit operation carries (``None`` when it has none)."""
    body = operation.call.json
    key = body.get("externalId") if isinstance(body, dict) else None
    return key if isinstance(key, str) else None


def estimate(body: WorkflowBody) -> Operation[Workflow]:
    """Price a workflow with ``whatif=true``: nothing runs and nothing is charged.

    Any ``externalId`` is left out, so the estimate cannot claim the key of a later submit.
    """
    data = validate_workflow_body(body)
    data.pop("externalId", None)
    call = Call("POST", _WORKFLOWS, (("whatif", "true"),), json=data, idempotent=True)
    return Operation(call, _workflow)


def submit(
    body: WorkflowBody,
    *,
    external_id: str | None,
    idempotent: bool,
    wait: float | None,
    hide_mature_content: bool | None,
) -> Operation[Workflow]:
    """Submit a workflow (this spends Buzz). Retried only when it carries an ``externalId``."""
    data = validate_workflow_body(body)
    if external_id is None and idempotent:
        external_id = data.get("externalId") or new_external_id()
    if external_id is not None:
        if not _EXTERNAL_ID.fullmatch(external_id):
            raise RequestValidationError(
                ["/externalId: use 1-128 characters of A-Z, a-z, 0-9, '_' and '-'"]
            )
        if data.get("externalId", external_id) != external_id:
            raise RequestValidationError(["/externalId: differs from external_id="])
        data["externalId"] = external_id
    seconds, params = _hold_params(wait, hide_mature_content)
    call = Call(
        "POST",
        _WORKFLOWS,
        params,
        json=data,
        idempotent="externalId" in data,
        wait=seconds,
    )
    return Operation(call, _workflow)


def get(
    workflow_id: str,
    *,
    wait: float | None,
    hide_mature_content: bool | None,
    retry_deadline: float | None = None,
) -> Operation[Workflow]:
    """Read a workflow, letting the server hold the request up to ``wait`` seconds.

    ``retry_deadline`` (the transport's clock) stops retries that would start after it.
    """
    seconds, params = _hold_params(wait, hide_mature_content)
    path = f"{_WORKFLOWS}/{segment(workflow_id, 'workflow id')}"
    call = Call("GET", path, params, wait=seconds, retry_deadline=retry_deadline)
    return Operation(call, _workflow)


def cancel(workflow_id: str) -> Operation[None]:
    """Cancel a workflow (PUT ``status: canceled``); unstarted work is refunded."""
    path = f"{_WORKFLOWS}/{segment(workflow_id, 'workflow id')}"
    return Operation(Call("PUT", path, json={"status": "canceled"}), _nothing)


def query(
    *,
    tags: Sequence[str] | str | None,
    query: str | None,
    from_date: dt.datetime | str | None,
    to_date: dt.datetime | str | None,
    ascending: bool | None,
    exclude_failed: bool | None,
    hide_mature_content: bool | None,
    take: int | None,
    cursor: str | None,
) -> Operation[WorkflowPage]:
    """One page of the caller's workflows, newest first unless ``ascending``."""
    params: list[tuple[str, str]] = []
    for tag in [tags] if isinstance(tags, str) else tags or ():
        params.append(("tags", tag))
    if query is not None:
        params.append(("query", query))
    if from_date is not None:
        params.append(("fromDate", _date(from_date, "from_date")))
    if to_date is not None:
        params.append(("toDate", _date(to_date, "to_date")))
    for name, flag in (
        ("ascending", ascending),
        ("excludeFailed", exclude_failed),
        ("hideMatureContent", hide_mature_content),
    ):
        if flag is not None:
            params.append((name, _flag(flag)))
    if take is not None:
        if take < 1:
            raise ValueError("take must be >= 1")
        params.append(("take", str(take)))
    if cursor:
        params.append(("cursor", cursor))
    return Operation(Call("GET", _WORKFLOWS, tuple(params)), _page)


def add_tag(workflow_id: str, tag: str) -> Operation[None]:
    """Add one tag to a workflow (the body is the tag as a JSON string)."""
    segment(tag, "tag")
    path = f"{_WORKFLOWS}/{segment(workflow_id, 'workflow id')}/tags"
    return Operation(Call("POST", path, json=tag), _nothing)


def remove_tag(workflow_id: str, tag: str) -> Operation[None]:
    """Remove one tag from a workflow."""
    path = f"{_WORKFLOWS}/{segment(workflow_id, 'workflow id')}/tags/{segment(tag, 'tag')}"
    return Operation(Call("DELETE", path), _nothing)


def get_step(workflow_id: str, name: str) -> Operation[WorkflowStep]:
    """Read one step of a workflow by name (``$0``, ``step_0``…)."""
    path = f"{_WORKFLOWS}/{segment(workflow_id, 'workflow id')}/steps/{segment(name, 'step name')}"
    return Operation(Call("GET", path), _step)


def get_blob(blob_id: str, *, workflow_id: str | None, nsfw_level: str | None) -> Operation[bytes]:
    """Fetch a blob's bytes, following the redirect to its content URL."""
    params: list[tuple[str, str]] = []
    if workflow_id is not None:
        params.append(("workflowId", workflow_id))
    if nsfw_level is not None:
        params.append(("nsfwLevel", nsfw_level))
    path = f"/v2/consumer/blobs/{segment(blob_id, 'blob id')}"
    call = Call("GET", path, tuple(params), follow_redirects=True)
    return Operation(call, lambda response: response.content)


def blob_size(
    blob_id: str, *, workflow_id: str | None, nsfw_level: str | None
) -> Operation[int | None]:
    """HEAD a blob (following its redirect): its size in bytes when the server says."""
    params: list[tuple[str, str]] = []
    if workflow_id is not None:
        params.append(("workflowId", workflow_id))
    if nsfw_level is not None:
        params.append(("nsfwLevel", nsfw_level))
    path = f"/v2/consumer/blobs/{segment(blob_id, 'blob id')}"
    call = Call("HEAD", path, tuple(params), follow_redirects=True)
    return Operation(call, _content_length)


def _content_length(response: httpx.Response) -> int | None:
    length = response.headers.get("content-length", "")
    return int(length) if length.isdigit() else None


def get_resource(air: str) -> Operation[ResourceInfo]:
    """Look up a model resource by its AIR (``urn:air:sdxl:checkpoint:civitai:101055@128078``)."""
    if not isinstance(air, str) or not air or air.startswith("huggingface/"):
        raise ValueError("air must be a non-empty AIR (huggingface/ ones are not served)")
    path = f"/v2/resources/{quote(air, safe=':@')}"
    return Operation(Call("GET", path), _resource)
