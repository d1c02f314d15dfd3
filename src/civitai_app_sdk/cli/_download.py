"""Download a workflow's outputs: signed URLs first, the blob endpoint as fallback.

Signed URLs are fetched through the SDK's request core without the bearer token (they
may point at another host). A missing or expired URL falls back to the authenticated
blob endpoint. Every file gets its extension from the response's content type and a
name that does not collide.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import httpx

from civitai_app_sdk import errors as sdk
from civitai_app_sdk._transport import Settings, SyncTransport, to_url
from civitai_app_sdk.orchestrator._bounded_body import decoded_chunks
from civitai_app_sdk.orchestrator._reading import refuse_page_for_file, refuse_partial
from civitai_app_sdk.orchestrator.blobs import extension_for

from ._errors import before_hint, sentence
from ._exit import CliError, ExitCode
from ._files import place, safe_stem, save_chunks, strip_known_suffix
from ._media import Media
from ._progress import Bar
from ._sizes import size_text

if TYPE_CHECKING:
    from civitai_app_sdk.orchestrator import OrchestratorClient

_EXPIRED: Final = frozenset({401, 403, 404, 410})
DOWNLOAD_TIMEOUT: Final = httpx.Timeout(30.0, connect=10.0)
"""Finite timeouts for signed-URL downloads: 10 s to connect, 30 s per read or write."""


def download_directory(directory: Path) -> None:
    """Create ``directory`` if needed and check a file can be written in it, before any
    download: a ``--dir`` that cannot hold files is one usage error, not one failed
    download per output (with a "run it again" that cannot help)."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as exc:
        why = "it is not a directory" if directory.exists() and not directory.is_dir() else None
        raise CliError(
            f"cannot save downloads in {directory}: {why or exc.strerror or exc}; "
            "nothing was downloaded (choose another --dir)",
            ExitCode.USAGE,
        ) from None


def _from_url(
    http: SyncTransport,
    url: str,
    blob_id: str | None,
    directory: Path,
    stem: str,
    progress: Bar,
    max_size: int,
) -> tuple[Path, int]:
    call = to_url("GET", url, follow_redirects=True, accept_encoding="identity")
    with http.stream(call) as response:
        refuse_page_for_file(response, "file")
        refuse_partial(response, "file")
        ext = extension_for(response.headers.get("content-type"), blob_id or "")
        chunks = decoded_chunks(response, max_size)
        return save_chunks(chunks, directory, stem, ext, on_bytes=progress.advance)


def from_blob_endpoint(
    client: OrchestratorClient,
    blob_id: str,
    directory: Path,
    stem: str,
    *,
    max_size: int,
    workflow_id: str | None = None,
    nsfw_level: str | None = None,
) -> tuple[Path, int]:
    """Download through ``/v2/consumer/blobs/{id}`` (bearer auth), placed without collisions.

    A file that cannot be written is named by ``directory``, not the staging folder
    (gone by the time the error is read)."""
    directory.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".download-", dir=directory))
    try:
        written = client.download_blob(
            blob_id,
            dir=staging,
            workflow_id=workflow_id,
            nsfw_level=nsfw_level,
            max_size=max_size,
        )
        size = written.stat().st_size
        return place(written, directory, stem, written.suffix), size
    except sdk.LocalFileError as exc:
        why = os.strerror(exc.errno) if exc.errno else exc.strerror
        message = f"cannot save the blob in {directory}: {why}"
        raise sdk.LocalFileError(exc.errno, message) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _skip_reason(media: Media, hidden_mature: bool) -> str | None:
    if media.blocked_reason:
        return f"blocked: {media.blocked_reason}"
    if media.url or (media.blob_id and media.available):
        return None
    if hidden_mature:
        return "no URL (mature content is hidden: add --nsfw)"
    return "not available"


def _fetch(
    client: OrchestratorClient,
    http: SyncTransport,
    media: Media,
    directory: Path,
    stem: str,
    workflow_id: str,
    progress: Bar,
    max_size: int,
) -> tuple[Path, int]:
    """Save one output from its signed URL, else (missing or expired) the blob endpoint."""
    if media.url is not None:
        try:
            return _from_url(http, media.url, media.blob_id, directory, stem, progress, max_size)
        except sdk.OrchestratorError as exc:
            if media.blob_id is None or exc.status not in _EXPIRED:
                raise
    if media.blob_id is None:
        raise LookupError("no signed URL")
    return from_blob_endpoint(
        client, media.blob_id, directory, stem, max_size=max_size, workflow_id=workflow_id
    )


def download_all(
    client: OrchestratorClient,
    workflow_id: str,
    items: list[Media],
    directory: Path,
    *,
    hidden_mature: bool,
    progress: Bar,
    max_size: int,
) -> list[dict[str, Any]]:
    """Save every item; one report per item (``saved``, ``skipped`` or ``failed``), each
    file refused past ``max_size`` bytes.

    Signed URLs are fetched through one transport, so files on the same host share
    its connections (and the TLS set-up is done once), retried as often as the API's
    calls (``CIVITAI_MAX_RETRIES``).
    """
    reports: list[dict[str, Any]] = []
    counters: dict[str, int] = {}
    settings = Settings.create(
        timeout=DOWNLOAD_TIMEOUT,
        max_retries=client.settings.max_retries,
        token_env=None,
        url_env=None,
    )
    http = SyncTransport(settings)
    with contextlib.closing(http):
        for media in items:
            index = counters.get(media.step, 0)
            counters[media.step] = index + 1
            stem = safe_stem(workflow_id, media.step, str(index))
            report: dict[str, Any] = {
                "step": media.step,
                "kind": media.kind,
                "blobId": media.blob_id,
            }
            reports.append(report)
            reason = _skip_reason(media, hidden_mature)
            if reason:
                report |= {"status": "skipped", "reason": reason}
                continue
            try:
                path, size = _fetch(
                    client, http, media, directory, stem, workflow_id, progress, max_size
                )
            except (sdk.CivitaiError, LookupError, OSError) as exc:
                report |= {"status": "failed", "reason": failure_reason(exc)}
                continue
            report |= {"status": "saved", "path": str(path), "bytes": size}
    return reports


def failure_reason(exc: Exception) -> str:
    """Why one download failed, in a few words (not the SDK's advice to Python callers)."""
    if isinstance(exc, sdk.ResponseTooLargeError) and not isinstance(
        exc, sdk.DecompressionBombError
    ):
        return f"larger than --max-size {size_text(exc.limit)}, so nothing was kept (raise it)"
    if isinstance(exc, sdk.DownloadTooSlowError):
        return f"too slow: fewer than {exc.min_bytes} bytes in {exc.window:g} s"
    if isinstance(exc, sdk.RequestValidationError):  # a URL in the workflow, not the user's
        return "the server gave a URL that cannot be fetched: " + "; ".join(exc.problems)
    if isinstance(exc, sdk.ResponseValidationError):  # a web page (captive portal, proxy)
        base = before_hint(exc)
        return sentence(str(exc)) if base is None else base
    if isinstance(exc, sdk.OrchestratorError) and exc.status:
        return f"HTTP {exc.status}"
    if isinstance(exc, sdk.TransportError) and exc.__cause__ is not None:
        return type(exc.__cause__).__name__
    return str(exc)


def blob_stem(blob_id: str) -> str:
    """The file stem for a blob id (its own extension is replaced by the content type's)."""
    return safe_stem(strip_known_suffix(blob_id))
