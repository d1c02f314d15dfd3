"""Sync and async clients of the Orchestration API's consumer endpoints.

Every single-request method is written once, in :mod:`.calls`, and listed once in
:class:`_Orchestrator`; the two clients add only what needs their own I/O (polling,
paging, streaming to disk, closing). Durations are seconds.
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Generic, TypeVar, Unpack

import attrs
import httpx
from civitai_app_sdk_generated import Workflow

from .._limits import DEFAULT_MAX_CONNECTIONS
from .._operations import AsyncClient, SyncClient, operation
from .._request import RequestOptions
from .._retry import DEFAULT_MAX_RETRIES
from .._settings import DEFAULT_TIMEOUT, Settings, TokenSource
from .._speed import DEFAULT_MIN_SPEED, MinSpeed
from .._transport import AsyncTransport, SyncTransport
from . import calls
from ._bounded_body import DEFAULT_MAX_SIZE, adecoded_chunks, check_max_size, decoded_chunks
from .api import AsyncApi, SyncApi
from .blobs import blob_file, refuse_early, target_path
from .calls import WorkflowPage
from .polling import DEFAULT_POLL_TIMEOUT, OnUpdate, poll_async, poll_sync

__all__ = ["AsyncOrchestratorClient", "OrchestratorClient", "WorkflowFilters"]

H = TypeVar("H", httpx.Client, httpx.AsyncClient)
B = TypeVar("B", httpx.BaseTransport, httpx.AsyncBaseTransport)
S = TypeVar("S")


class WorkflowFilters(RequestOptions, total=False):
    """The filters of ``list`` that ``iter_workflows`` takes (see ``list``), and request options."""

    tags: Sequence[str] | str | None
    query: str | None
    from_date: Any
    to_date: Any
    ascending: bool | None
    exclude_failed: bool | None
    hide_mature_content: bool | None
    take: int | None
    cursor: str | None
    """Where to start (a page's ``next``); later pages follow on their own."""


class BlobOptions(RequestOptions, total=False):
    """``download_blob``'s keywords: ``workflow_id``, ``nsfw_level``, ``total_timeout``,
    ``min_speed``, ``max_size`` and request options."""

    workflow_id: str | None
    nsfw_level: str | None
    total_timeout: float | None
    min_speed: MinSpeed | None
    max_size: int | None
    """The most bytes the download may have (default 16 GiB; ``None``: no cap)."""


class _Paging:
    """Where an iteration over pages stands: the cursors followed and the ids yielded.

    A workflow a page repeats (pages that overlap when workflows are created meanwhile,
    or a server that serves a page again) is yielded once. A server whose cursors lead
    in a circle (the same cursor back, or fresh cursors over the same workflows again)
    ends the iteration instead of looping forever.
    """

    def __init__(self) -> None:
        self.cursors: set[str] = set()
        self.ids: set[str] = set()
        self.fresh = False

    def new_items(self, page: WorkflowPage) -> list[Workflow]:
        """The workflows of ``page`` not yielded before (any without an id included)."""
        items = []
        self.fresh = False
        for item in page.items:
            if item.id is not None:
                if item.id in self.ids:
                    continue
                self.ids.add(item.id)
                self.fresh = True
            items.append(item)
        return items

    def next_cursor(self, page: WorkflowPage) -> str | None:
        """The cursor after ``page`` (whose new items were yielded), or None at the end: a
        cursor missing or seen before, or a page without a workflow id not seen before."""
        cursor = page.next
        if not self.fresh or not cursor or cursor in self.cursors:
            return None
        self.cursors.add(cursor)
        return cursor


class _Orchestrator(Generic[H, B, S]):
    """Options and the single-request methods, shared by both clients."""

    settings: Settings
    _transport_class: Any

    def __init__(
        self,
        access_token: str | TokenSource | None = None,
        *,
        base_url: str | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        user_agent: str | None = None,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        http_client: H | None = None,
        transport: B | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], S] | None = None,
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
        self._transport = self._transport_class(
            self.settings,
            http_client=http_client,
            transport=transport,
            sleep=sleep,
            clock=clock,
        )

    estimate = operation(calls.estimate)
    submit = operation(calls.submit)
    get = operation(calls.get)
    cancel = operation(calls.cancel)
    add_tag = operation(calls.add_tag)
    remove_tag = operation(calls.remove_tag)
    get_step = operation(calls.get_step)
    get_blob = operation(calls.get_blob)
    blob_size = operation(calls.blob_size)
    get_resource = operation(calls.get_resource)
    list = operation(calls.query)


def _limits(options: BlobOptions) -> tuple[float | None, MinSpeed | None, int | None]:
    """Take ``total_timeout``, ``min_speed`` (default: the core's floor) and ``max_size``
    (default 16 GiB, checked) out of ``options``."""
    total, floor = options.pop("total_timeout", None), options.pop("min_speed", DEFAULT_MIN_SPEED)
    return total, floor, check_max_size(options.pop("max_size", DEFAULT_MAX_SIZE))


def _blob_call(blob_id: str, options: BlobOptions) -> Any:
    """The blob's GET, asking for the bytes as stored (media is compressed already)."""
    workflow_id, nsfw_level = options.pop("workflow_id", None), options.pop("nsfw_level", None)
    request: RequestOptions = options
    call = calls.get_blob(blob_id, workflow_id=workflow_id, nsfw_level=nsfw_level, **request).call
    return attrs.evolve(call, accept_encoding="identity")


class OrchestratorClient(
    _Orchestrator[httpx.Client, httpx.BaseTransport, None], SyncClient, SyncApi
):
    """Blocking client of the Orchestration API (workflows, steps, blobs, resources).

    ``access_token`` is a token string or a :class:`TokenSource` (``get_token()``/
    ``aget_token()``, e.g. the OAuth refreshing provider); ``None`` reads
    ``CIVITAI_API_TOKEN``. ``base_url`` ``None`` reads ``CIVITAI_API_URL``, else
    production; a token goes only over https (plain http only to loopback). ``timeout``
    (seconds) bounds each whole request, a trickled answer included; long-polls get their
    hold added. Safe calls are retried ``max_retries`` times. ``max_connections`` caps
    open sockets (each long-poll holds one; the default suits a thousand concurrent
    polls). Answers over 64 MiB raise :class:`ResponseTooLargeError`. The client's own
    HTTP layer keeps no cookies and reads no proxy from the environment; pass
    ``http_client`` or ``transport`` (e.g. ``httpx.HTTPTransport(proxy=...)``) to control
    it (``max_connections`` then does not apply). An ``http_client``'s default headers go
    with every request, but a redirect the SDK follows to another origin (a blob's CDN)
    carries only ``User-Agent``, ``Accept``, ``Accept-Encoding``, ``Accept-Language`` and
    ``Connection`` of them: an API key or a cookie stays on the API's origin. The SDK
    asks for ``gzip, deflate`` only, whatever the client's default ``Accept-Encoding``.
    ``clock`` and ``sleep`` are for tests.
    Every method also takes ``timeout=``, ``extra_headers=`` and ``extra_query=``;
    :meth:`with_options` makes a copy with other defaults over the same connection pool.
    """

    _transport_class = SyncTransport

    def poll(
        self,
        workflow_id: str,
        *,
        timeout: float = DEFAULT_POLL_TIMEOUT,
        on_update: OnUpdate | None = None,
        interval: float = 0.0,
    ) -> Workflow:
        """Wait until the workflow is terminal, with server-held long-polls.

        Calls ``on_update`` with every snapshot; raises :class:`PollTimeoutError` (with
        the last snapshot in ``.last``, ``None`` if none came) if ``timeout`` seconds pass
        first. ``interval``
        (0.14's, in seconds) is the shortest pause when the server answers early.
        """
        transport = self._transport
        return poll_sync(
            lambda wait, deadline: self._run(calls.hold(workflow_id, wait, None, deadline)),
            workflow_id,
            timeout=timeout,
            on_update=on_update,
            clock=transport.clock,
            sleep=transport.sleep,
            interval=interval,
        )

    def iter_workflows(self, **filters: Unpack[WorkflowFilters]) -> Iterator[Workflow]:
        """Every matching workflow once (filters as for ``list``), fetching pages lazily."""
        paging = _Paging()
        page = self.list(**filters)
        while True:
            yield from paging.new_items(page)
            if (cursor := paging.next_cursor(page)) is None:
                return
            filters["cursor"] = cursor
            page = self.list(**filters)

    def download_blob(
        self,
        blob_id: str,
        *,
        dir: str | os.PathLike[str] | None = None,
        path: str | os.PathLike[str] | None = None,
        overwrite: bool = False,
        **options: Unpack[BlobOptions],
    ) -> Path:
        """Stream a blob to disk (``workflow_id=``, ``nsfw_level=``); return the file.

        Give ``dir=`` (the file is named after the blob, with the extension of the
        response's content type) or ``path=`` (used as is). The file appears only once
        complete; an existing one raises :class:`~.blobs.BlobExistsError` unless
        ``overwrite=True``. The client's ``timeout`` limits each wait for more bytes;
        ``total_timeout`` (seconds), when given, bounds the whole download. ``min_speed``
        is ``(min_bytes, window_seconds)``, by default ``(32768, 60.0)`` (32 KiB in
        every 60 s): once ``window_seconds`` have passed, fewer than ``min_bytes`` over
        the last ``window_seconds`` raises
        :class:`~civitai_app_sdk.errors.DownloadTooSlowError` (``None``: no floor).
        ``max_size`` (bytes, default 16 GiB: any real output fits, and a body that never
        ends stops before it fills a disk; ``None``: no cap) bounds the file:
        a declared length past it is refused before anything is written, a body is
        stopped as it passes it (:class:`~civitai_app_sdk.errors.ResponseTooLargeError`).
        A body compressed anyway is decoded (gzip, deflate) a MiB at a time; a compression
        bomb raises :class:`~civitai_app_sdk.errors.DecompressionBombError`, another
        encoding :class:`~civitai_app_sdk.errors.UnsupportedEncodingError`. A download
        that fails leaves no file behind.
        """
        refuse_early(blob_id, dir=dir, path=path, overwrite=overwrite)
        total, floor, cap = _limits(options)
        with self._transport.stream(_blob_call(blob_id, options), total, floor) as response:
            calls.refuse_not_blob(response)
            target = target_path(blob_id, response.headers.get("content-type"), dir=dir, path=path)
            chunks = decoded_chunks(response, cap)
            with blob_file(target, overwrite=overwrite) as out:
                for chunk in chunks:
                    out.write(chunk)
        return target


class AsyncOrchestratorClient(
    _Orchestrator[httpx.AsyncClient, httpx.AsyncBaseTransport, Awaitable[None]],
    AsyncClient,
    AsyncApi,
):
    """Async client of the Orchestration API; same options and methods as the sync one."""

    _transport_class = AsyncTransport

    async def poll(
        self,
        workflow_id: str,
        *,
        timeout: float = DEFAULT_POLL_TIMEOUT,  # noqa: ASYNC109 - the error keeps the last snapshot
        on_update: OnUpdate | None = None,
        interval: float = 0.0,
    ) -> Workflow:
        """Wait until the workflow is terminal. See :meth:`OrchestratorClient.poll`."""

        async def fetch(wait: int, deadline: float) -> Workflow:
            return await self._run(calls.hold(workflow_id, wait, None, deadline))

        clock, sleep = self._transport.clock, self._transport.sleep
        return await poll_async(
            fetch,
            workflow_id,
            timeout=timeout,
            on_update=on_update,
            clock=clock,
            sleep=sleep,
            interval=interval,
        )

    async def iter_workflows(self, **filters: Unpack[WorkflowFilters]) -> AsyncIterator[Workflow]:
        """Every matching workflow once (filters as for ``list``), fetching pages lazily."""
        paging = _Paging()
        page = await self.list(**filters)
        while True:
            for item in paging.new_items(page):
                yield item
            if (cursor := paging.next_cursor(page)) is None:
                return
            filters["cursor"] = cursor
            page = await self.list(**filters)

    async def download_blob(
        self,
        blob_id: str,
        *,
        dir: str | os.PathLike[str] | None = None,
        path: str | os.PathLike[str] | None = None,
        overwrite: bool = False,
        **options: Unpack[BlobOptions],
    ) -> Path:
        """Stream a blob to disk. See :meth:`OrchestratorClient.download_blob`."""
        refuse_early(blob_id, dir=dir, path=path, overwrite=overwrite)
        total, floor, cap = _limits(options)
        async with self._transport.stream(_blob_call(blob_id, options), total, floor) as response:
            calls.refuse_not_blob(response)
            target = target_path(blob_id, response.headers.get("content-type"), dir=dir, path=path)
            chunks = adecoded_chunks(response, cap)
            with blob_file(target, overwrite=overwrite) as out:
                async for chunk in chunks:
                    out.write(chunk)
        return target
