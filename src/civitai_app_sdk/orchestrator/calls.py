"""The orchestrator's operations, written once: each builds a :class:`Call` and its reader.

The clients list these builders as their methods (:func:`civitai_app_sdk._operations.operation`),
so the sync and async surfaces are one definition and cannot drift apart. Every value
placed in a URL path goes through :func:`segment`.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Sequence
from typing import Any, Final, TypeVar, Unpack

import attrs
import httpx
from civitai_app_sdk_generated import (
    CursedArrayOfTelemetryCursorAndWorkflow,
    ResourceInfo,
    Workflow,
    WorkflowStep,
)

from .._failures import request_id
from .._operations import Operation
from .._request import Call, RequestOptions, with_options
from ..errors import BlobBlockedError, RequestValidationError
from ._charges import warn_charged
from ._params import EXTERNAL_ID, WORKFLOWS, hold_params, invalid, list_params, segment, text
from ._reading import read, refuse_page_for_file, refuse_partial, refuse_web_page
from .validation import WorkflowBody, validate_workflow_body

__all__ = ["Operation", "WorkflowPage", "new_external_id", "segment"]

T = TypeVar("T")

WorkflowPage = CursedArrayOfTelemetryCursorAndWorkflow
"""One page of QueryWorkflows: ``items`` and the ``next`` cursor."""


def _reader(kind: Any, what: str) -> Callable[[httpx.Response], Any]:
    """Reads a 2xx body as ``kind`` (a model or union alias); ``what`` names it in errors."""

    def parse(response: httpx.Response) -> Any:
        return read(kind, response.content, what, response)

    return parse


_workflow = _reader(Workflow, "workflow")
_page = _reader(WorkflowPage, "workflow page")
_step = _reader(WorkflowStep, "workflow step")
_resource = _reader(ResourceInfo, "resource")


CANCEL_UNSURE: Final = (
    "the cancel may not have happened and the workflow may still be running and spending "
    "Buzz; check its status with get(workflow_id) and cancel again if it still runs"
)
"""What a cancel whose answer was not the API's means (the end of its error message)."""


def _no_body(what: str, consequence: str) -> Callable[[httpx.Response], None]:
    """Reads the 2xx answer of a call named ``what`` that has no body to read: a web
    page for one (a captive portal, a proxy) is no success; ``consequence`` says so."""

    def check(response: httpx.Response) -> None:
        refuse_web_page(response, what, consequence)

    return check


def new_external_id() -> str:
    """A fresh idempotency key for one logical submit (reuse it only for its retries)."""
    return "sdk-" + secrets.token_urlsafe(24)


def estimate(body: WorkflowBody, **options: Unpack[RequestOptions]) -> Operation[Workflow]:
    """Price a workflow (``whatif``): returns it with ``cost``; runs and spends nothing.

    Any ``externalId`` is left out, so the estimate cannot claim the key of a later submit.
    """
    data = validate_workflow_body(body)
    data.pop("externalId", None)
    call = Call("POST", WORKFLOWS, (("whatif", "true"),), json=data, idempotent=True)
    return Operation(with_options(call, options), _workflow)


def submit(
    body: WorkflowBody,
    *,
    external_id: str | None = None,
    idempotent: bool = True,
    wait: float | None = None,
    hide_mature_content: bool | None = None,
    **options: Unpack[RequestOptions],
) -> Operation[Workflow]:
    """Submit a workflow; **this spends Buzz**.

    Every submit carries an idempotency key (the body's ``externalId``, ``external_id``,
    or a generated one) unless ``idempotent=False``. With a key the server deduplicates,
    so a failed submit is retried, and every error raised carries the key as
    ``exc.external_id``: ``submit(body, external_id=exc.external_id)`` is the safe
    retry (without a key, an error that leaves it open says the workflow may exist).
    ``wait`` (seconds, up to 90) lets the server hold the answer until the workflow
    finishes.
    """
    data = validate_workflow_body(body)
    if external_id is None and idempotent:
        external_id = data.get("externalId") or new_external_id()
    if external_id is not None:
        if not isinstance(external_id, str) or not EXTERNAL_ID.fullmatch(external_id):
            raise RequestValidationError(
                ["/externalId: use 1-128 characters of A-Z, a-z, 0-9, '_' and '-'"]
            )
        if data.get("externalId", external_id) != external_id:
            raise RequestValidationError(["/externalId: differs from external_id="])
        data["externalId"] = external_id
    seconds, params = hold_params(wait, hide_mature_content)
    key = data.get("externalId")
    call = Call("POST", WORKFLOWS, params, json=data, idempotent=key is not None, wait=seconds)
    warn = warn_charged("submit", key)
    return Operation(with_options(call, options), _workflow, on_failure=warn)


def get(
    workflow_id: str,
    *,
    wait: float | None = None,
    hide_mature_content: bool | None = None,
    **options: Unpack[RequestOptions],
) -> Operation[Workflow]:
    """Read a workflow; ``wait`` (seconds) lets the server hold until it finishes."""
    return with_call_options(hold(workflow_id, wait, hide_mature_content), options)


def hold(
    workflow_id: str,
    wait: float | None,
    hide_mature_content: bool | None,
    retry_deadline: float | None = None,
) -> Operation[Workflow]:
    """Read a workflow held up to ``wait`` s; no retry starts after ``retry_deadline``."""
    seconds, params = hold_params(wait, hide_mature_content)
    path = f"{WORKFLOWS}/{segment(workflow_id, 'workflow id')}"
    call = Call("GET", path, params, wait=seconds, retry_deadline=retry_deadline)
    return Operation(call, _workflow)


def with_call_options(operation: Operation[T], options: RequestOptions) -> Operation[T]:
    """``operation`` with the caller's per-call options applied to its call."""
    if not options:
        return operation
    return attrs.evolve(operation, call=with_options(operation.call, options))


def cancel(workflow_id: str, **options: Unpack[RequestOptions]) -> Operation[None]:
    """Cancel a workflow; work that has not started is refunded."""
    path = f"{WORKFLOWS}/{segment(workflow_id, 'workflow id')}"
    call = Call("PUT", path, json={"status": "canceled"})
    return Operation(with_options(call, options), _no_body("the cancel", CANCEL_UNSURE))


def query(
    *,
    tags: Sequence[str] | str | None = None,
    query: str | None = None,
    from_date: dt.datetime | str | None = None,
    to_date: dt.datetime | str | None = None,
    ascending: bool | None = None,
    exclude_failed: bool | None = None,
    hide_mature_content: bool | None = None,
    take: int | None = None,
    cursor: str | None = None,
    **options: Unpack[RequestOptions],
) -> Operation[WorkflowPage]:
    """One page of your workflows (newest first); ``tags`` must all match.

    ``query`` searches metadata; dates bound creation time; ``exclude_failed`` drops
    failed, expired and canceled ones. Pass the page's ``next`` as ``cursor``.
    """
    params = list_params(
        tags=tags,
        query=query,
        from_date=from_date,
        to_date=to_date,
        ascending=ascending,
        exclude_failed=exclude_failed,
        hide_mature_content=hide_mature_content,
        take=take,
        cursor=cursor,
    )
    return Operation(with_options(Call("GET", WORKFLOWS, params), options), _page)


def add_tag(workflow_id: str, tag: str, **options: Unpack[RequestOptions]) -> Operation[None]:
    """Add a tag to a workflow (sent as a JSON string)."""
    segment(tag, "tag")
    path = f"{WORKFLOWS}/{segment(workflow_id, 'workflow id')}/tags"
    added = _no_body("the tag's addition", "the tag may not have been added")
    return Operation(with_options(Call("POST", path, json=tag), options), added)


def remove_tag(workflow_id: str, tag: str, **options: Unpack[RequestOptions]) -> Operation[None]:
    """Remove a tag from a workflow."""
    path = f"{WORKFLOWS}/{segment(workflow_id, 'workflow id')}/tags/{segment(tag, 'tag')}"
    removed = _no_body("the tag's removal", "the tag may not have been removed")
    return Operation(with_options(Call("DELETE", path), options), removed)


def get_step(
    workflow_id: str, name: str, **options: Unpack[RequestOptions]
) -> Operation[WorkflowStep]:
    """Read one step of a workflow by name (``$0``, ``step_0``…)."""
    path = f"{WORKFLOWS}/{segment(workflow_id, 'workflow id')}/steps/{segment(name, 'step name')}"
    return Operation(with_options(Call("GET", path), options), _step)


def get_blob(
    blob_id: str,
    *,
    workflow_id: str | None = None,
    nsfw_level: str | None = None,
    **options: Unpack[RequestOptions],
) -> Operation[bytes]:
    """A blob's bytes, up to 64 MiB, following the redirect to its content URL
    (``download_blob`` streams larger ones to disk). A blob moderation blocked raises
    :class:`~civitai_app_sdk.errors.BlobBlockedError` rather than giving its placeholder."""
    params: list[tuple[str, str]] = []
    if workflow_id is not None:
        params.append(("workflowId", text(workflow_id, "workflow_id")))
    if nsfw_level is not None:
        params.append(("nsfwLevel", text(nsfw_level, "nsfw_level")))
    path = f"/v2/consumer/blobs/{segment(blob_id, 'blob id')}"
    call = Call("GET", path, tuple(params), follow_redirects=True)
    return Operation(with_options(call, options), _content)


_BLOCKED: Final = "/v2/consumer/blobs/blocked/"
"""Where the API redirects a read of a blob that moderation blocked (a placeholder)."""


def refuse_blocked(response: httpx.Response) -> None:
    """Raise :class:`BlobBlockedError` when ``response`` is the blocked-media placeholder."""
    if response.url.path.startswith(_BLOCKED):
        raise BlobBlockedError(
            "the blob was blocked: its read led to the placeholder for blocked media",
            status=response.status_code,
            headers=response.headers,
            request_id=request_id(response),
            response=response,
        )


def refuse_not_blob(response: httpx.Response) -> None:
    """Raise when ``response`` is not a blob's content: the blocked-media placeholder
    (:class:`BlobBlockedError`), a web page or a part of the blob
    (``ResponseValidationError``)."""
    refuse_blocked(response)
    refuse_page_for_file(response)
    refuse_partial(response)


def _content(response: httpx.Response) -> bytes:
    refuse_not_blob(response)
    return response.content


def blob_size(
    blob_id: str,
    *,
    workflow_id: str | None = None,
    nsfw_level: str | None = None,
    **options: Unpack[RequestOptions],
) -> Operation[int | None]:
    """HEAD a blob (following its redirect): its size in bytes when the server says.

    Nothing is downloaded; a missing blob raises :class:`NotFoundError`. A length the
    server gives for a compressed answer (``Content-Encoding``) is not the blob's: None.
    """
    call = get_blob(blob_id, workflow_id=workflow_id, nsfw_level=nsfw_level, **options).call
    return Operation(attrs.evolve(call, method="HEAD"), _content_length)


def _content_length(response: httpx.Response) -> int | None:
    refuse_not_blob(response)
    if response.headers.get("content-encoding", "identity").strip().lower() != "identity":
        return None
    length = response.headers.get("content-length", "")
    return int(length) if length.isdigit() else None


def get_resource(air: str, **options: Unpack[RequestOptions]) -> Operation[ResourceInfo]:
    """Look up a model resource by AIR (size, hashes, download URLs, permissions)."""
    if not isinstance(air, str) or air.startswith("huggingface/"):
        raise invalid("air: must be a non-empty AIR (huggingface/ ones are not served)")
    path = f"/v2/resources/{segment(air, 'air', safe=':@')}"
    return Operation(with_options(Call("GET", path), options), _resource)
