"""The generated operation methods joined to the clients, plus blob upload and archives.

:class:`SyncApi` and :class:`AsyncApi` give the clients every operation rendered by
``make codegen`` (``_perform`` builds a :class:`calls.Operation` and hands it to the
client's ``_run``) and the two operations written by hand because they stream:
:meth:`upload_blob` and :meth:`download_archive`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypeVar

import attrs
import httpx
from civitai_app_sdk_generated import OPERATION_SPECS, OPERATIONS, OperationSpec
from civitai_app_sdk_generated.client_methods import AsyncOperations, SyncOperations

from .._request import Call
from .._speed import DEFAULT_MIN_SPEED, MinSpeed
from . import calls
from ._bounded_body import DEFAULT_MAX_SIZE, adecoded_chunks, check_max_size, decoded_chunks
from ._reading import refuse_page_for_file, refuse_partial
from .blobs import blob_file, target_path
from .requests import build_operation, reader
from .uploads import OnProgress, UploadBody, UploadSource

if TYPE_CHECKING:
    from civitai_app_sdk_generated import Blob

    from .._transport import AsyncTransport, SyncTransport

__all__ = ["OPERATIONS", "AsyncApi", "SyncApi"]

T = TypeVar("T")
_BLOBS: Final = "/v2/consumer/blobs"


def _upload(body: UploadBody, stream: Any) -> calls.Operation[Blob]:
    """POST the bytes; sent once (an upload has no idempotency key; it charges nothing)."""
    call = Call(
        "POST",
        _BLOBS,
        content=stream,
        content_type=body.content_type,
        headers=body.headers(),
        idempotent=False,
    )
    spec: OperationSpec[Blob] = OPERATION_SPECS["UploadConsumerBlob"]
    return calls.Operation(call, reader(spec))


def _archive(token: str) -> Call:
    """The archive's GET, asking for the bytes as stored (an archive is compressed)."""
    operation = build_operation(OPERATION_SPECS["GetBlobArchive"], (token,), {}, None)
    return attrs.evolve(operation.call, accept_encoding="identity")


def _archive_target(path: str | os.PathLike[str], response: httpx.Response) -> Path:
    """The archive's file: ``path`` when it names a file (has a suffix), else
    ``archive<ext>`` inside the directory ``path``; a web page or a part of the archive
    for an answer is refused."""
    refuse_page_for_file(response, "archive")
    refuse_partial(response, "archive")
    kind, place = response.headers.get("content-type"), Path(path)
    where = {"path": place} if place.suffix and not place.is_dir() else {"dir": place}
    return target_path("archive", kind, **where)


class SyncApi(SyncOperations):
    """Every spec operation for :class:`OrchestratorClient` (see :data:`OPERATIONS`)."""

    _transport: SyncTransport

    def _run(self, operation: calls.Operation[T]) -> T:
        raise NotImplementedError

    def _perform(
        self,
        spec: OperationSpec[T],
        path: tuple[str | int, ...],
        query: Mapping[str, object],
        body: object,
    ) -> T:
        return self._run(build_operation(spec, path, query, body))

    def upload_blob(
        self,
        path_or_bytes_or_file: UploadSource,
        *,
        content_type: str | None = None,
        on_progress: OnProgress | None = None,
    ) -> Blob:
        """Upload media for use as an input and return its blob (``id``, ``url``).

        The file is streamed in chunks, never read whole. ``content_type`` defaults to
        the file name's type, else the media type its first bytes announce.
        ``on_progress(sent, total)`` is called after every chunk. Sent once.
        """
        body = UploadBody(path_or_bytes_or_file, content_type, on_progress)
        return self._run(_upload(body, body.sync_stream()))

    def download_archive(
        self,
        encrypted_token: str,
        path: str | os.PathLike[str],
        *,
        overwrite: bool = False,
        min_speed: MinSpeed | None = DEFAULT_MIN_SPEED,
        max_size: int | None = DEFAULT_MAX_SIZE,
    ) -> Path:
        """Stream a ``blobArchive`` step's archive to ``path`` (a file or a directory).

        ``encrypted_token`` is the last segment of the step output's archive URL. The file
        appears only once complete; an existing one raises
        :class:`~.blobs.BlobExistsError` unless ``overwrite=True``. An expired archive
        raises the 410 error. ``min_speed`` (``(min_bytes, window_seconds)``, ``None``: no
        floor) stops a download that trickles, with
        :class:`~civitai_app_sdk.errors.DownloadTooSlowError`, and ``max_size`` (bytes,
        default 16 GiB; ``None``: no cap) one that grows past it, with
        :class:`~civitai_app_sdk.errors.ResponseTooLargeError`, as in ``download_blob``;
        no file is left behind.
        """
        cap = check_max_size(max_size)
        with self._transport.stream(_archive(encrypted_token), min_speed=min_speed) as response:
            target = _archive_target(path, response)
            chunks = decoded_chunks(response, cap)
            with blob_file(target, overwrite=overwrite) as out:
                for chunk in chunks:
                    out.write(chunk)
        return target


class AsyncApi(AsyncOperations):
    """Every spec operation for :class:`AsyncOrchestratorClient` (see :data:`OPERATIONS`)."""

    _transport: AsyncTransport

    async def _run(self, operation: calls.Operation[T]) -> T:
        raise NotImplementedError

    async def _perform(
        self,
        spec: OperationSpec[T],
        path: tuple[str | int, ...],
        query: Mapping[str, object],
        body: object,
    ) -> T:
        return await self._run(build_operation(spec, path, query, body))

    async def upload_blob(
        self,
        path_or_bytes_or_file: UploadSource,
        *,
        content_type: str | None = None,
        on_progress: OnProgress | None = None,
    ) -> Blob:
        """Upload media and return its blob. See :meth:`SyncApi.upload_blob`."""
        body = UploadBody(path_or_bytes_or_file, content_type, on_progress)
        return await self._run(_upload(body, body.async_stream()))

    async def download_archive(
        self,
        encrypted_token: str,
        path: str | os.PathLike[str],
        *,
        overwrite: bool = False,
        min_speed: MinSpeed | None = DEFAULT_MIN_SPEED,
        max_size: int | None = DEFAULT_MAX_SIZE,
    ) -> Path:
        """Stream an archive to ``path``. See :meth:`SyncApi.download_archive`."""
        cap, call = check_max_size(max_size), _archive(encrypted_token)
        async with self._transport.stream(call, min_speed=min_speed) as response:
            target = _archive_target(path, response)
            chunks = adecoded_chunks(response, cap)
            with blob_file(target, overwrite=overwrite) as out:
                async for chunk in chunks:
                    out.write(chunk)
        return target
