"""Blob routes: GetBlob (308 to the content URL), HeadBlob and the content itself.

Uploaded blobs (see :mod:`.uploads`) are served alongside the ones steps produce.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from typing import Final
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from .blobs import BlobSpec
from .common import READ, authorized, local_state
from .media import CONTENT_TYPES, media_bytes
from .problems import problem
from .state import ServerState
from .uploads import Upload

__all__ = ["blob_routes"]

_BASE: Final = "/v2/consumer/blobs"
_UNSAFE: Final = re.compile(r"[^A-Za-z0-9._-]")


@functools.lru_cache(maxsize=256)
def _content(kind: str, seed: int) -> bytes:
    return media_bytes(kind, seed)


def _signed(request: Request, blob_id: str) -> bool:
    """Whether the URL carries a valid, unexpired ``sig``/``exp`` pair."""
    signature, expires = request.query_params.get("sig"), request.query_params.get("exp")
    if not signature or not expires:
        return False
    state = local_state(request)
    try:
        deadline = dt.datetime.fromisoformat(expires.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return False
    return deadline > state.clock.now() and state.signer.verify(f"{blob_id}|{expires}", signature)


def _find(state: ServerState, blob_id: str) -> BlobSpec | Upload | None:
    """A produced blob whose step has succeeded, or an uploaded one."""
    return state.store.blob(blob_id, state.clock.now()) or state.uploads.files.get(blob_id)


def _bytes_response(spec: BlobSpec | Upload, filename: str | None, download: bool) -> Response:
    headers = {"Cache-Control": "private, max-age=3600"}
    if filename or download:
        name = _UNSAFE.sub("_", filename or spec.id)
        headers["Content-Disposition"] = (
            f'{"attachment" if download else "inline"}; filename="{name}"'
        )
    if isinstance(spec, Upload):
        return Response(spec.data, media_type=spec.content_type, headers=headers)
    return Response(
        _content(spec.kind, spec.seed), media_type=CONTENT_TYPES[spec.kind], headers=headers
    )


async def get_blob(request: Request) -> Response:
    """GetBlob: a signed URL or a Bearer token; 308 to the content URL (or the bytes)."""
    state = local_state(request)
    blob_id = request.path_params["blob_id"]
    if not _signed(request, blob_id):
        caller = authorized(request, READ)
        if isinstance(caller, Response):
            return caller
    spec = _find(state, blob_id)
    if spec is None:
        return problem(404, "The blob was not found.")
    filename = request.query_params.get("filename")
    download = request.query_params.get("download", "").lower() == "true"
    if not state.config.blob_redirect:
        return _bytes_response(spec, filename, download)
    extra = {k: v for k, v in (("filename", filename), ("download", str(download).lower())) if v}
    query = f"?{urlencode(extra)}" if filename or download else ""
    location = f"{_BASE}/content/{state.signer.content_token(blob_id)}{query}"
    return RedirectResponse(location, 308)


async def head_blob(request: Request) -> Response:
    """HeadBlob: 204 when the blob exists."""
    caller = authorized(request, READ)
    if isinstance(caller, Response):
        return caller
    state = local_state(request)
    exists = _find(state, request.path_params["blob_id"]) is not None
    return Response(status_code=204 if exists else 404)


async def blob_content(request: Request) -> Response:
    """GetBlobContent: the bytes behind a content token (no Bearer needed)."""
    state = local_state(request)
    blob_id = state.signer.open_token(request.path_params["token"])
    spec = None if blob_id is None else _find(state, blob_id)
    if spec is None:
        return problem(404, "The blob content was not found.")
    download = request.query_params.get("download", "").lower() == "true"
    return _bytes_response(spec, request.query_params.get("filename"), download)


def blob_routes() -> list[Route]:
    """The blob routes."""
    return [
        Route(f"{_BASE}/content/{{token}}", blob_content, methods=["GET"]),
        Route(f"{_BASE}/{{blob_id}}", head_blob, methods=["HEAD"]),
        Route(f"{_BASE}/{{blob_id}}", get_blob, methods=["GET"]),
    ]
