"""The rest of the spec's operations on the local server.

Blob upload (Bearer or a presigned ``sig``), presigning, refresh, blocked placeholders,
archives and streaming blobs; step JSON Patch; resources by AIR; the internal cache
busting calls; and one generic recipe endpoint that runs a recipe as a one-step workflow,
charged like one.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from typing import Any, Final
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from civitai_app_sdk import models

from .blobs import OUTPUT_SLOTS, BlobSpec
from .bodies import BodyTooLargeError, capped_body
from .buzz import InsufficientBuzzError
from .common import (
    READ,
    WRITE,
    BadRequestError,
    authorized,
    bool_param,
    json_body,
    local_state,
    renderer,
    spender,
    strict_model,
)
from .media import CONTENT_TYPES, media_bytes
from .patching import apply_patch
from .problems import bare_string, problem
from .render import iso
from .state import ServerState
from .timeline import TERMINAL
from .uploads import MAX_UPLOAD, Upload, kind_of
from .workflows import _guarded, _hold, _record, _step_index

__all__ = ["operation_routes"]

_BLOBS: Final = "/v2/consumer/blobs"
_PRESIGN_LIFETIME: Final = 900.0
_AIR: Final = re.compile(
    r"^(?:urn:)?(?:air:)?(?:(?P<ecosystem>[a-zA-Z0-9_\-/]+):)?(?:(?P<type>[a-zA-Z0-9_\-/]+):)?"
    r"(?P<source>[a-zA-Z0-9_\-/]+):(?P<id>[a-zA-Z0-9_\-/]+)(?:@(?P<version>[a-zA-Z0-9_\-/]+))?"
    r"(?:\.(?P<format>[a-zA-Z0-9_\-]+))?$"
)


def _known_blob(state: ServerState, blob_id: str) -> Upload | BlobSpec | None:
    upload = state.uploads.files.get(blob_id)
    return upload if upload is not None else state.store.blob(blob_id, state.clock.now())


def _blob_bytes(blob: Upload | BlobSpec) -> tuple[bytes, str]:
    if isinstance(blob, Upload):
        return blob.data, blob.content_type
    return media_bytes(blob.kind, blob.seed), CONTENT_TYPES[blob.kind]


def _blob_body(request: Request, blob: Upload | BlobSpec) -> dict[str, Any]:
    state = local_state(request)
    url, expires = renderer(request).blob_url(blob.id, state.clock.now())
    body: dict[str, Any] = {
        "type": blob.kind,
        "id": blob.id,
        "available": True,
        "url": url,
        "urlExpiresAt": expires,
    }
    if isinstance(blob, BlobSpec) and blob.kind in ("image", "video"):
        body["width"], body["height"] = blob.width or 512, blob.height or 512
    return body


async def presign(request: Request) -> Response:
    """GetConsumerBlobUploadUrl: a URL that accepts one upload without the Bearer token."""
    state = local_state(request)
    expires = iso(state.clock.now() + _PRESIGN_LIFETIME)
    signature = state.signer.sign(f"upload|{expires}")
    base = str(request.base_url).rstrip("/")
    url = f"{base}{_BLOBS}?{urlencode({'sig': signature, 'exp': expires})}"
    return JSONResponse({"uploadUrl": url, "expiresAt": expires})


def _presigned(request: Request) -> bool:
    state = local_state(request)
    signature, expires = request.query_params.get("sig"), request.query_params.get("exp")
    if not signature or not expires:
        return False
    fresh = expires > iso(state.clock.now())
    return fresh and state.signer.verify(f"upload|{expires}", signature)


async def upload(request: Request) -> Response:
    """UploadConsumerBlob: the raw media bytes, streamed in, capped; 201 and the blob."""
    if not _presigned(request):
        caller = authorized(request, WRITE)
        if isinstance(caller, Response):
            return caller
    state = local_state(request)
    content_type = request.headers.get("content-type", "")
    kind = kind_of(content_type)
    if kind is None:
        return problem(
            415, f"Uploads must be image, video, audio or model media, not {content_type!r}."
        )
    limit = min(MAX_UPLOAD, state.uploads.room())
    try:
        data = await capped_body(request, limit)
    except BodyTooLargeError:
        return problem(413, f"The upload is larger than {limit} bytes.")
    if not data:
        return problem(400, "The upload is empty.")
    stored = state.uploads.add(kind, content_type, data)
    return JSONResponse(_blob_body(request, stored), 201)


async def refresh(request: Request) -> Response:
    """RefreshBlob: the blob with fresh signed URLs."""
    blob = _known_blob(local_state(request), request.path_params["blob_id"])
    if blob is None:
        return problem(404, "The blob was not found.")
    return JSONResponse(_blob_body(request, blob))


async def blocked(request: Request) -> Response:
    """GetBlockedContent: a placeholder image for a blob that may not be shown."""
    state = local_state(request)
    if state.signer.open_token(request.path_params["token"]) is None:
        return problem(403, "The token is not valid.")
    return Response(media_bytes("image", 0), media_type=CONTENT_TYPES["image"])


async def archive(request: Request) -> Response:
    """GetBlobArchive: a zip of the blob a token names; 410 once it is gone."""
    state = local_state(request)
    blob_id = state.signer.open_token(request.path_params["token"])
    blob = None if blob_id is None else _known_blob(state, blob_id)
    if blob is None:
        return problem(410, "The archive has expired.")
    data, _ = _blob_bytes(blob)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive_file:
        archive_file.writestr(blob.id, data)
    return Response(buffer.getvalue(), media_type="application/zip")


async def streaming_blob(request: Request) -> Response:
    """GetStreamingBlob: a blob's bytes by key."""
    blob = _known_blob(local_state(request), request.path_params["blob_key"])
    if blob is None:
        return problem(404, "The streaming blob was not found.")
    data, media_type = _blob_bytes(blob)
    return Response(data, media_type=media_type)


async def invalidate(request: Request) -> Response:
    """InvalidateUserCache / InvalidateUserTokens: nothing is cached locally; 204."""
    if not request.path_params["user_id"].isdigit():
        raise BadRequestError({"userId": ["The value is not valid."]})
    return Response(status_code=204)


async def resource(request: Request) -> Response:
    """GetResource: a made-up but well-formed ResourceInfo for any valid AIR."""
    air = request.path_params["air"]
    if air.startswith("huggingface/") or not _AIR.match(air):
        raise BadRequestError({"air": [f"'{air}' is not a valid AIR."]})
    digest = hashlib.sha256(air.encode()).hexdigest()
    return JSONResponse(
        {
            "air": air,
            "size": 2_000_000 + int(digest[:6], 16),
            "hashes": {"SHA256": digest.upper()},
            "downloadUrls": [],
            "fileFormat": "safeTensor",
            "canGenerate": True,
            "checkPermission": False,
            "hasMatureContentRestriction": False,
            "hasNSFWContentRestriction": False,
        }
    )


async def patch_step(request: Request) -> Response:
    """PatchWorkflowStep: JSON Patch on the step's ``/metadata``."""
    record = _record(request)
    step = record.steps[_step_index(request, record)]
    document = {"metadata": dict(step.get("metadata") or {})}
    patched = apply_patch(document, await json_body(request), frozenset({"metadata"}))
    if not isinstance(patched["metadata"], dict):
        raise BadRequestError({"$.metadata": ["Metadata must be an object."]})
    step["metadata"] = patched["metadata"]
    return Response(status_code=204)


def _would_be_output(step_type: str, step_input: Any) -> Any:
    """The output a recipe would give, with no files made (for ``whatif``)."""
    if step_type == "echo":
        return step_input
    slot = OUTPUT_SLOTS.get(step_type)
    if slot is None:
        return {}
    field, kind, many = slot
    blob = {"type": kind, "id": f"whatif.{kind}", "available": False}
    return {field: [] if many else blob}


async def recipe(request: Request) -> Response:
    """InvokeXStepTemplate: run the recipe as a one-step workflow (charged like one).

    Answers the step's output once it succeeds (held up to the server's ``max_wait``);
    ``whatif`` prices it only and answers the would-be output without files.
    """
    caller = spender(request)
    if isinstance(caller, Response):
        return caller
    state = local_state(request)
    name = request.path_params["name"]
    if name not in models.WORKFLOW_STEP_TYPES:
        return problem(404, f"The local server has no recipe {name!r}.")
    step_input = await json_body(request)
    whatif = bool_param(request, "whatif", False)
    template = strict_model(
        models.WorkflowTemplate,
        {
            "steps": [{"$type": name, "input": step_input}],
            "currencies": [],
            "allowMatureContent": bool_param(request, "allowMatureContent", False),
            "experimental": bool_param(request, "experimental", False),
        },
    )
    record = state.store.prepare(template, state.clock.now())
    if whatif:
        return JSONResponse(_would_be_output(name, step_input))
    try:
        state.store.submit(record)
    except InsufficientBuzzError as exc:
        return bare_string(
            403, f"Insufficient buzz: the recipe costs {exc.cost} and {exc.available} is available."
        )
    await _hold(request, record, state.config.max_wait)
    status = record.status(state.store.timings, state.clock.now())
    if status not in TERMINAL:
        return problem(504, "The recipe did not finish in time; see your workflows.")
    step = renderer(request).workflow(record, state.clock.now())["steps"][0]
    if status != "succeeded":
        return problem(422, f"The recipe's step ended {status}.")
    output = step.get("output")
    return JSONResponse(output if output is not None else _would_be_output(name, step_input))


def operation_routes() -> list[Route]:
    """The routes of this module (mounted before the generic blob routes)."""
    step = "/v2/consumer/workflows/{workflow_id}/steps/{step_name}"
    return [
        Route(f"{_BLOBS}/upload", _guarded(presign, WRITE), methods=["GET"]),
        Route(_BLOBS, _guarded(upload, None), methods=["POST"]),
        Route(f"{_BLOBS}/{{blob_id}}/refresh", _guarded(refresh, READ), methods=["POST"]),
        Route(f"{_BLOBS}/blocked/{{token}}", _guarded(blocked, None), methods=["GET"]),
        Route(f"{_BLOBS}/archive/{{token}}", _guarded(archive, None), methods=["GET"]),
        Route(
            "/v2/consumer/streaming-blobs/{blob_key}",
            _guarded(streaming_blob, READ),
            methods=["GET"],
        ),
        Route("/v2/consumer/civitai/{user_id}", _guarded(invalidate, WRITE), methods=["DELETE"]),
        Route(
            "/v2/consumer/civitai/{user_id}/tokens",
            _guarded(invalidate, WRITE),
            methods=["DELETE"],
        ),
        Route("/v2/resources/{air:path}", _guarded(resource, READ), methods=["GET"]),
        Route(step, _guarded(patch_step, WRITE), methods=["PATCH"]),
        Route("/v2/consumer/recipes/{name}", _guarded(recipe, None), methods=["POST"]),
    ]
