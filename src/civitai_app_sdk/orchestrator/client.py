"""Sync and async clients of the Orchestration API's consumer endpoints.

Both run the same :mod:`.calls` operations over :mod:`civitai_app_sdk._transport`; only the
I/O differs. Durations are seconds.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Self, TypeVar

import anyio
import httpx
from civitai_app_sdk_generated import ResourceInfo, Workflow, WorkflowStep

from .._limits import DEFAULT_MAX_CONNECTIONS
from .._transport import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    AsyncTransport,
    CapturedResponses,
    Settings,
    SyncTransport,
    TokenSource,
    capture_responses,
)
from ..errors import OrchestratorError
from . import calls
from .blobs import target_path
from .calls import WorkflowPage
from .polling import DEFAULT_POLL_TIMEOUT, OnUpdate, poll_async, poll_sync
from .validation import WorkflowBody

__all__ = ["AsyncOrchestratorClient", "OrchestratorClient"]

T = TypeVar("T")
_CHUNK = 1 << 16


def _next_cursor(page: WorkflowPage, seen: set[str]) -> str | None:
    """The cursor to follow, or None at the end (no items, no cursor, or a repeated one)."""
    cursor = page.next
    if not page.items or not cursor or cursor in seen:
        return None
    seen.add(cursor)
    return cursor


@contextlib.contextmanager
def _blob_file(
    path_or_dir: str | os.PathLike[str], blob_id: str, response: httpx.Response
) -> Iterator[tuple[BinaryIO, Path]]:
    """A temporary file next to the blob's target; it becomes the target only when complete."""
    target = target_path(path_or_dir, blob_id, response.headers.get("content-type"))
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=".download-", dir=target.parent)
    temp = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            yield out, target
        temp.replace(target)
    finally:
        temp.unlink(missing_ok=True)


class _Base:
    """Options common to both clients."""

    settings: Settings

    @staticmethod
    def raw_responses() -> AbstractContextManager[CapturedResponses]:
        """Capture the raw httpx responses (status, headers) of the calls made in a block.

        ``with client.raw_responses() as raw: client.get(id)`` then ``raw.last.headers``.
        """
        return capture_responses()

    def __repr__(self) -> str:
        """The class and base URL (never the token)."""
        return f"{type(self).__name__}(base_url={self.settings.base_url!r})"


class OrchestratorClient(_Base):
    """Blocking client of the Orchestration API (workflows, steps, blobs, resources).

    ``access_token`` is a token string or a token provider (``get_token()``/``aget_token()``,
    e.g. the OAuth refreshing provider); ``None`` reads ``CIVITAI_API_TOKEN``. ``base_url``
    ``None`` reads ``CIVITAI_API_URL``, else production. ``timeout`` (seconds) bounds each
    whole request, a trickled answer included; long-polls get their hold added. Safe
    calls are retried ``max_retries`` times. ``max_connections`` caps open sockets (each
    long-poll holds one; the default suits a thousand concurrent polls). Answers over
    64 MiB raise :class:`ResponseTooLargeError`. Pass ``http_client`` or ``transport``
    to control the HTTP layer (``max_connections`` then does not apply).
    """

    def __init__(
        self,
        access_token: str | TokenSource | None = None,
        *,
        base_url: str | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        user_agent: str | None = None,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        http_client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """Validate the options; nothing is sent until the first call."""
        self.settings = Settings.create(
            token=access_token,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            user_agent=user_agent,
            max_connections=max_connections,
        )
        self._transport = SyncTransport(
            self.settings, http_client=http_client, transport=transport, sleep=sleep, clock=clock
        )

    def _run(self, operation: calls.Operation[T]) -> T:
        return operation.read(self._transport.send(operation.call))

    def estimate(self, body: WorkflowBody) -> Workflow:
        """Price a workflow (``whatif``): returns it with ``cost``; runs and spends nothing."""
        return self._run(calls.estimate(body))

    def submit(
        self,
        body: WorkflowBody,
        *,
        external_id: str | None = None,
        idempotent: bool = True,
        wait: float | None = None,
        hide_mature_content: bool | None = None,
    ) -> Workflow:
        """Submit a workflow; **this spends Buzz**.

        A generated ``external_id`` (unless you pass one, or ``idempotent=False``) lets the
        server deduplicate, so a failed submit is retried, and every error carries the key
        as ``exc.external_id``: ``submit(body, external_id=exc.external_id)`` cannot
        charge twice. ``wait`` (seconds, up to
        90) lets the server hold the answer until the workflow finishes.
        """
        operation = calls.submit(
            body,
            external_id=external_id,
            idempotent=idempotent,
            wait=wait,
            hide_mature_content=hide_mature_content,
        )
        try:
            return self._run(operation)
        except OrchestratorError as exc:  # item 1, minimal: the key to retry with
            exc.external_id = calls.external_id_of(operation)
            raise

    def get(
        self,
        workflow_id: str,
        *,
        wait: float | None = None,
        hide_mature_content: bool | None = None,
    ) -> Workflow:
        """Read a workflow; ``wait`` (seconds) lets the server hold until it finishes."""
        return self._run(calls.get(workflow_id, wait=wait, hide_mature_content=hide_mature_content))

    def poll(
        self,
        workflow_id: str,
        *,
        timeout: float = DEFAULT_POLL_TIMEOUT,
        on_update: OnUpdate | None = None,
    ) -> Workflow:
        """Wait until the workflow is terminal, with server-held long-polls.

        Calls ``on_update`` with every snapshot; raises :class:`PollTimeoutError` (with
        the last snapshot in ``.last``) if ``timeout`` seconds pass first.
        """

        def fetch(wait: int, deadline: float) -> Workflow:
            operation = calls.get(
                workflow_id, wait=wait, hide_mature_content=None, retry_deadline=deadline
            )
            return self._run(operation)

        return poll_sync(
            fetch,
            workflow_id,
            timeout=timeout,
            on_update=on_update,
            clock=self._transport.clock,
            sleep=self._transport.sleep,
        )

    def cancel(self, workflow_id: str) -> None:
        """Cancel a workflow; work that has not started is refunded."""
        self._run(calls.cancel(workflow_id))

    def add_tag(self, workflow_id: str, tag: str) -> None:
        """Add a tag to a workflow."""
        self._run(calls.add_tag(workflow_id, tag))

    def remove_tag(self, workflow_id: str, tag: str) -> None:
        """Remove a tag from a workflow."""
        self._run(calls.remove_tag(workflow_id, tag))

    def get_step(self, workflow_id: str, name: str) -> WorkflowStep:
        """Read one step of a workflow by name."""
        return self._run(calls.get_step(workflow_id, name))

    def get_blob(
        self, blob_id: str, *, workflow_id: str | None = None, nsfw_level: str | None = None
    ) -> bytes:
        """A blob's bytes, up to 64 MiB (:meth:`download_blob` streams any size to disk)."""
        return self._run(calls.get_blob(blob_id, workflow_id=workflow_id, nsfw_level=nsfw_level))

    def blob_size(
        self, blob_id: str, *, workflow_id: str | None = None, nsfw_level: str | None = None
    ) -> int | None:
        """Check a blob exists with a HEAD request; its size in bytes when the server says.

        Nothing is downloaded; a missing blob raises :class:`NotFoundError`.
        """
        operation = calls.blob_size(blob_id, workflow_id=workflow_id, nsfw_level=nsfw_level)
        return self._run(operation)

    def download_blob(
        self,
        blob_id: str,
        path_or_dir: str | os.PathLike[str],
        *,
        workflow_id: str | None = None,
        nsfw_level: str | None = None,
        total_timeout: float | None = None,
    ) -> Path:
        """Stream a blob to disk and return the file written.

        In a directory the file is named after the blob, with the extension chosen from
        the response's content type. The file appears only once complete. The client's
        ``timeout`` limits each wait for more bytes; ``total_timeout`` (seconds), when
        given, bounds the whole download.
        """
        operation = calls.get_blob(blob_id, workflow_id=workflow_id, nsfw_level=nsfw_level)
        with (
            self._transport.stream(operation.call, total_timeout) as response,
            _blob_file(path_or_dir, blob_id, response) as (out, target),
        ):
            for chunk in response.iter_bytes(_CHUNK):
                out.write(chunk)
        return target

    def get_resource(self, air: str) -> ResourceInfo:
        """Look up a model resource by AIR (size, hashes, download URLs, permissions)."""
        return self._run(calls.get_resource(air))

    def iter_workflows(
        self,
        *,
        tags: Sequence[str] | str | None = None,
        query: str | None = None,
        from_date: dt.datetime | str | None = None,
        to_date: dt.datetime | str | None = None,
        ascending: bool | None = None,
        exclude_failed: bool | None = None,
        hide_mature_content: bool | None = None,
        take: int | None = None,
    ) -> Iterator[Workflow]:
        """Every matching workflow, fetching pages lazily by following ``next``."""
        seen: set[str] = set()
        cursor: str | None = None
        while True:
            page = self.list(
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
            yield from page.items
            cursor = _next_cursor(page, seen)
            if cursor is None:
                return

    def list(
        self,
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
    ) -> WorkflowPage:
        """One page of your workflows (newest first); ``tags`` must all match.

        ``query`` searches metadata; dates bound creation time; ``exclude_failed`` drops
        failed, expired and canceled ones. Pass the page's ``next`` as ``cursor``.
        """
        return self._run(
            calls.query(
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
        )

    def close(self) -> None:
        """Close the HTTP client if this client created it."""
        self._transport.close()

    def __enter__(self) -> Self:
        """Use the client in a ``with`` block; it is closed on exit."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close the client."""
        self.close()


class AsyncOrchestratorClient(_Base):
    """Async client of the Orchestration API; same options and methods as the sync one."""

    def __init__(
        self,
        access_token: str | TokenSource | None = None,
        *,
        base_url: str | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        user_agent: str | None = None,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    ) -> None:
        """Validate the options; nothing is sent until the first call."""
        self.settings = Settings.create(
            token=access_token,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            user_agent=user_agent,
            max_connections=max_connections,
        )
        self._transport = AsyncTransport(
            self.settings, http_client=http_client, transport=transport, sleep=sleep, clock=clock
        )

    async def _run(self, operation: calls.Operation[T]) -> T:
        return operation.read(await self._transport.send(operation.call))

    async def estimate(self, body: WorkflowBody) -> Workflow:
        """Price a workflow (``whatif``): returns it with ``cost``; runs and spends nothing."""
        return await self._run(calls.estimate(body))

    async def submit(
        self,
        body: WorkflowBody,
        *,
        external_id: str | None = None,
        idempotent: bool = True,
        wait: float | None = None,
        hide_mature_content: bool | None = None,
    ) -> Workflow:
        """Submit a workflow; **this spends Buzz**. See :meth:`OrchestratorClient.submit`."""
        operation = calls.submit(
            body,
            external_id=external_id,
            idempotent=idempotent,
            wait=wait,
            hide_mature_content=hide_mature_content,
        )
        try:
            return await self._run(operation)
        except OrchestratorError as exc:  # item 1, minimal: the key to retry with
            exc.external_id = calls.external_id_of(operation)
            raise

    async def get(
        self,
        workflow_id: str,
        *,
        wait: float | None = None,
        hide_mature_content: bool | None = None,
    ) -> Workflow:
        """Read a workflow; ``wait`` (seconds) lets the server hold until it finishes."""
        operation = calls.get(workflow_id, wait=wait, hide_mature_content=hide_mature_content)
        return await self._run(operation)

    async def poll(
        self,
        workflow_id: str,
        *,
        timeout: float = DEFAULT_POLL_TIMEOUT,  # noqa: ASYNC109 - the error keeps the last snapshot
        on_update: OnUpdate | None = None,
    ) -> Workflow:
        """Wait until the workflow is terminal. See :meth:`OrchestratorClient.poll`."""

        async def fetch(wait: int, deadline: float) -> Workflow:
            operation = calls.get(
                workflow_id, wait=wait, hide_mature_content=None, retry_deadline=deadline
            )
            return await self._run(operation)

        return await poll_async(
            fetch,
            workflow_id,
            timeout=timeout,
            on_update=on_update,
            clock=self._transport.clock,
            sleep=self._transport.sleep,
        )

    async def cancel(self, workflow_id: str) -> None:
        """Cancel a workflow; work that has not started is refunded."""
        await self._run(calls.cancel(workflow_id))

    async def add_tag(self, workflow_id: str, tag: str) -> None:
        """Add a tag to a workflow."""
        await self._run(calls.add_tag(workflow_id, tag))

    async def remove_tag(self, workflow_id: str, tag: str) -> None:
        """Remove a tag from a workflow."""
        await self._run(calls.remove_tag(workflow_id, tag))

    async def get_step(self, workflow_id: str, name: str) -> WorkflowStep:
        """Read one step of a workflow by name."""
        return await self._run(calls.get_step(workflow_id, name))

    async def get_blob(
        self, blob_id: str, *, workflow_id: str | None = None, nsfw_level: str | None = None
    ) -> bytes:
        """A blob's bytes, up to 64 MiB (:meth:`download_blob` streams any size to disk)."""
        operation = calls.get_blob(blob_id, workflow_id=workflow_id, nsfw_level=nsfw_level)
        return await self._run(operation)

    async def blob_size(
        self, blob_id: str, *, workflow_id: str | None = None, nsfw_level: str | None = None
    ) -> int | None:
        """Check a blob exists with HEAD. See :meth:`OrchestratorClient.blob_size`."""
        operation = calls.blob_size(blob_id, workflow_id=workflow_id, nsfw_level=nsfw_level)
        return await self._run(operation)

    async def download_blob(
        self,
        blob_id: str,
        path_or_dir: str | os.PathLike[str],
        *,
        workflow_id: str | None = None,
        nsfw_level: str | None = None,
        total_timeout: float | None = None,
    ) -> Path:
        """Stream a blob to disk. See :meth:`OrchestratorClient.download_blob`."""
        operation = calls.get_blob(blob_id, workflow_id=workflow_id, nsfw_level=nsfw_level)
        async with self._transport.stream(operation.call, total_timeout) as response:
            with _blob_file(path_or_dir, blob_id, response) as (out, target):
                async for chunk in response.aiter_bytes(_CHUNK):
                    out.write(chunk)
        return target

    async def get_resource(self, air: str) -> ResourceInfo:
        """Look up a model resource by AIR (size, hashes, download URLs, permissions)."""
        return await self._run(calls.get_resource(air))

    async def iter_workflows(
        self,
        *,
        tags: Sequence[str] | str | None = None,
        query: str | None = None,
        from_date: dt.datetime | str | None = None,
        to_date: dt.datetime | str | None = None,
        ascending: bool | None = None,
        exclude_failed: bool | None = None,
        hide_mature_content: bool | None = None,
        take: int | None = None,
    ) -> AsyncIterator[Workflow]:
        """Every matching workflow, fetching pages lazily by following ``next``."""
        seen: set[str] = set()
        cursor: str | None = None
        while True:
            page = await self.list(
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
            for item in page.items:
                yield item
            cursor = _next_cursor(page, seen)
            if cursor is None:
                return

    async def list(
        self,
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
    ) -> WorkflowPage:
        """One page of your workflows. See :meth:`OrchestratorClient.list`."""
        operation = calls.query(
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
        return await self._run(operation)

    async def aclose(self) -> None:
        """Close the HTTP client if this client created it."""
        await self._transport.aclose()

    async def __aenter__(self) -> Self:
        """Use the client in an ``async with`` block; it is closed on exit."""
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close the client."""
        await self.aclose()
