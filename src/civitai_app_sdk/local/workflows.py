"""Orchestrator workflow routes: submit, get, query, update/cancel, delete, tags, steps."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from civitai_app_sdk import models

from .buzz import InsufficientBuzzError
from .common import (
    READ,
    WRITE,
    BadRequestError,
    authorized,
    bool_param,
    date_param,
    int_param,
    json_body,
    local_state,
    renderer,
    spender,
    strict_model,
)
from .patching import apply_patch
from .problems import bare_string, problem
from .state import ServerState
from .store import WorkflowRecord
from .timeline import TERMINAL

__all__ = ["workflow_routes"]

_BASE: Final = "/v2/consumer/workflows"
_HOLD_STEP: Final = 0.1
_MAX_TAGS: Final = 10
_MAX_TAG_LENGTH: Final = 200
_FAILED: Final = TERMINAL - {"succeeded"}


def _check_tags(tags: list[str], path: str) -> None:
    if len(tags) > _MAX_TAGS:
        raise BadRequestError({path: [f"At most {_MAX_TAGS} tags are allowed."]})
    if len(set(tags)) != len(tags):
        raise BadRequestError({path: ["Tags must be unique."]})
    for tag in tags:
        if not tag or len(tag) > _MAX_TAG_LENGTH:
            raise BadRequestError({path: [f"Each tag must be 1-{_MAX_TAG_LENGTH} characters."]})


async def _hold(request: Request, record: WorkflowRecord, wait: int) -> bool:
    """Wait up to ``wait`` seconds (clock time) for ``record`` to finish; whether it did.

    Ends early once the client that asked has gone (a poll cancelled or timed out), so
    abandoned long-polls do not pile up in the server, and when the server stops (the
    client gets the snapshot, not a connection cut after the grace period).
    """
    state = local_state(request)
    clock, timings = state.clock, state.store.timings
    deadline = clock.now() + min(max(wait, 0), state.config.max_wait)
    while record.status(timings, clock.now()) not in TERMINAL:
        remaining = deadline - clock.now()
        if remaining <= 0 or state.stopping() or await request.is_disconnected():
            return False
        await clock.sleep(min(remaining, _HOLD_STEP))
    return True


async def _answer(request: Request, record: WorkflowRecord, wait: int) -> Response:
    state = local_state(request)
    finished = await _hold(request, record, wait)
    hide = bool_param(request, "hideMatureContent", False)
    body = renderer(request).workflow(record, state.clock.now(), hide_mature=hide)
    return JSONResponse(body, 200 if finished or wait <= 0 else 202)


def _record(request: Request) -> WorkflowRecord:
    state = local_state(request)
    record = state.store.workflows.get(request.path_params["workflow_id"])
    if record is None or (
        record.template.ephemeral
        and record.status(state.store.timings, state.clock.now()) in TERMINAL
    ):
        raise LookupError
    return record


async def submit(request: Request) -> Response:
    """SubmitWorkflow: whatif prices, ``externalId`` dedups, 403 string when Buzz is short."""
    caller = spender(request)
    if isinstance(caller, Response):
        return caller
    state = local_state(request)
    wait = int_param(request, "wait", 0)
    whatif = bool_param(request, "whatif", False)
    template = strict_model(models.WorkflowTemplate, await json_body(request))
    _check_tags(list(template.tags or []), "$.tags")
    if template.ephemeral and not template.callbacks and wait <= 0:
        raise BadRequestError({"$.ephemeral": ["Ephemeral workflows need a callback or wait > 0."]})
    now = state.clock.now()
    existing = None if whatif else state.store.by_external_id(template.external_id)
    if existing is not None:
        return await _answer(request, existing, wait)
    record = state.store.prepare(template, now)
    if whatif:
        return JSONResponse(renderer(request).workflow(record, now, whatif=True))
    try:
        state.store.submit(record)
    except InsufficientBuzzError as exc:
        return bare_string(
            403,
            f"Insufficient buzz: the workflow costs {exc.cost} and {exc.available} is available.",
        )
    return await _answer(request, record, wait)


async def get_workflow(request: Request) -> Response:
    """GetWorkflow, with the ``wait`` long-poll."""
    return await _answer(request, _record(request), int_param(request, "wait", 0))


def _filter(request: Request, state: ServerState) -> Callable[[WorkflowRecord], bool]:
    """The QueryWorkflows filters, read (and checked) once per request."""
    tags = set(request.query_params.getlist("tags"))
    query = (request.query_params.get("query") or "").lower()
    since, until = date_param(request, "fromDate"), date_param(request, "toDate")
    exclude_failed = bool_param(request, "excludeFailed", False)
    now = state.clock.now()

    def matches(record: WorkflowRecord) -> bool:
        if not tags <= set(record.tags):
            return False
        if query and query not in json.dumps(record.metadata).lower():
            return False
        if (since is not None and record.created_at < since) or (
            until is not None and record.created_at > until
        ):
            return False
        return not (exclude_failed and record.status(state.store.timings, now) in _FAILED)

    return matches


async def query_workflows(request: Request) -> Response:
    """QueryWorkflows: every filter, newest first unless ``ascending``, ``next`` cursor."""
    state = local_state(request)
    take = int_param(request, "take", 100)
    if take < 1:
        raise BadRequestError({"take": ["take must be at least 1."]})
    ascending = bool_param(request, "ascending", False)
    cursor = request.query_params.get("cursor") or None
    if cursor is not None and not cursor.isdigit():
        raise BadRequestError({"cursor": ["The cursor is not valid."]})
    records = sorted(state.store.workflows.values(), key=lambda r: r.seq, reverse=not ascending)
    if cursor is not None:
        after = int(cursor)
        records = [r for r in records if (r.seq > after if ascending else r.seq < after)]
    matches = _filter(request, state)
    page: list[WorkflowRecord] = []
    more = False
    for record in records:
        if matches(record):
            if len(page) == take:
                more = True
                break
            page.append(record)
    now, hide = state.clock.now(), bool_param(request, "hideMatureContent", True)
    render = renderer(request)
    return JSONResponse(
        {
            "next": str(page[-1].seq) if more else "",
            "items": [render.workflow(r, now, hide_mature=hide) for r in page],
        }
    )


async def update_workflow(request: Request) -> Response:
    """UpdateWorkflow: cancel with ``status: canceled``, replace metadata or tags."""
    state = local_state(request)
    record = _record(request)
    update = strict_model(models.UpdateWorkflowRequest, await json_body(request))
    if update.tags is not None:
        _check_tags(update.tags, "$.tags")
        record.tags = list(update.tags)
    if update.metadata is not None:
        record.metadata = dict(update.metadata)
    if update.status is not None:
        state.store.cancel(record, state.clock.now())
    return Response(status_code=204)


async def patch_workflow(request: Request) -> Response:
    """PatchWorkflow: JSON Patch on ``/status`` (to ``canceled``), ``/tags`` and ``/metadata``."""
    state = local_state(request)
    record = _record(request)
    now = state.clock.now()
    status = record.status(state.store.timings, now)
    document = {"status": status, "tags": list(record.tags), "metadata": dict(record.metadata)}
    editable = frozenset({"status", "tags", "metadata"})
    patched = apply_patch(document, await json_body(request), editable)
    tags, metadata = patched["tags"], patched["metadata"]
    if patched["status"] not in (status, "canceled"):
        raise BadRequestError({"$.status": ["The status can only be set to 'canceled'."]})
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise BadRequestError({"$.tags": ["Tags must be strings."]})
    if not isinstance(metadata, dict):
        raise BadRequestError({"$.metadata": ["Metadata must be an object."]})
    _check_tags(tags, "$.tags")
    record.tags, record.metadata = tags, metadata
    if patched["status"] != status:
        state.store.cancel(record, now)
    return Response(status_code=204)


async def delete_workflow(request: Request) -> Response:
    """DeleteWorkflow: cancel, refund unfinished work and forget it."""
    state = local_state(request)
    state.store.delete(_record(request), state.clock.now())
    return Response(status_code=204)


async def add_tag(request: Request) -> Response:
    """AddWorkflowTag: the body is a JSON string."""
    record = _record(request)
    tag = await json_body(request)
    if not isinstance(tag, str):
        raise BadRequestError({"$": ["The body must be a JSON string."]})
    if tag not in record.tags:
        _check_tags([*record.tags, tag], "$")
        record.tags.append(tag)
    return Response(status_code=204)


async def remove_tags(request: Request) -> Response:
    """RemoveWorkflowTag (one, from the path) or RemoveAllWorkflowTags.

    The tag is the rest of the path, as a ``%2F`` in it arrives decoded (whether the
    real API reads an escaped ``/`` back into the tag is not known)."""
    record = _record(request)
    tag = request.path_params.get("tag")
    record.tags = [t for t in record.tags if tag is not None and t != tag]
    return Response(status_code=204)


def _step_index(request: Request, record: WorkflowRecord) -> int:
    name = request.path_params["step_name"]
    for index, step in enumerate(record.steps):
        if step["name"] == name:
            return index
    raise LookupError


async def get_step(request: Request) -> Response:
    """GetWorkflowStep."""
    state = local_state(request)
    record = _record(request)
    index = _step_index(request, record)
    return JSONResponse(renderer(request).workflow(record, state.clock.now())["steps"][index])


async def update_step(request: Request) -> Response:
    """UpdateWorkflowStep: replace the step's metadata."""
    record = _record(request)
    index = _step_index(request, record)
    update = strict_model(models.UpdateWorkflowStepRequest, await json_body(request))
    record.steps[index]["metadata"] = dict(update.metadata)
    return Response(status_code=204)


def _guarded(handler: Any, scope: int | None) -> Any:
    """``handler`` behind the bearer check for ``scope`` (``None``: no token needed),
    with bad requests as 400 and a missing workflow or step as 404."""

    async def endpoint(request: Request) -> Response:
        if scope is not None:
            caller = authorized(request, scope)
            if isinstance(caller, Response):
                return caller
        try:
            response: Response = await handler(request)
        except BadRequestError as exc:
            return exc.response()
        except LookupError:
            return problem(404, "The workflow or step was not found.")
        return response

    endpoint.__doc__ = handler.__doc__
    return endpoint


def workflow_routes() -> list[Route]:
    """The workflow, tag and step routes."""
    one = _BASE + "/{workflow_id}"
    return [
        Route(_BASE, _guarded(submit, READ), methods=["POST"]),
        Route(_BASE, _guarded(query_workflows, READ), methods=["GET"]),
        Route(one, _guarded(get_workflow, READ), methods=["GET"]),
        Route(one, _guarded(update_workflow, WRITE), methods=["PUT"]),
        Route(one, _guarded(patch_workflow, WRITE), methods=["PATCH"]),
        Route(one, _guarded(delete_workflow, WRITE), methods=["DELETE"]),
        Route(one + "/tags", _guarded(add_tag, WRITE), methods=["POST"]),
        Route(one + "/tags", _guarded(remove_tags, WRITE), methods=["DELETE"]),
        Route(one + "/tags/{tag:path}", _guarded(remove_tags, WRITE), methods=["DELETE"]),
        Route(one + "/steps/{step_name}", _guarded(get_step, READ), methods=["GET"]),
        Route(one + "/steps/{step_name}", _guarded(update_step, WRITE), methods=["PUT"]),
    ]
