"""Client methods written once: an operation builder, bound to a sync or an async client.

An :class:`Operation` is a :class:`~civitai_app_sdk._transport.Call` plus the function
that reads its answer. A client class lists its methods as ``name = operation(builder)``;
the descriptor gives the sync client a method returning the result and the async client
a coroutine function, both with the builder's signature and docstring. The clients only
differ in :meth:`SyncClient._run` and :meth:`AsyncClient._run`.
"""

from __future__ import annotations

import copy
import functools
import inspect
import re
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager
from typing import Any, Concatenate, Generic, ParamSpec, Self, TypeVar, cast, overload

import attrs
import httpx

from ._capture import CapturedResponses
from ._capture import capture_responses as _capture
from ._request import Call
from ._settings import Settings
from ._transport import AsyncTransport, SyncTransport

__all__ = ["AsyncClient", "Operation", "SyncClient", "client_operation", "operation"]

P = ParamSpec("P")
T = TypeVar("T")
_OPERATION_TYPE = re.compile(r"^Operation\[(.*)\]$")


@attrs.frozen
class Operation(Generic[T]):
    """A call to send and the function that reads its 2xx response.

    ``on_failure`` sees every exception the call ends with, a cancellation or an
    interrupt too (e.g. to say in the error of a call that may have charged how to retry
    safely, or to give a single-use value back when the request provably never reached
    the server).
    """

    call: Call
    read: Callable[[httpx.Response], T]
    on_failure: Callable[[BaseException], None] | None = None


def _failed(operation: Operation[Any], error: BaseException) -> None:
    """Tell ``operation``'s ``on_failure`` about ``error``."""
    if operation.on_failure is not None:
        operation.on_failure(error)


class _Client:
    """What both client kinds share: settings, per-copy options, raw responses, repr."""

    settings: Settings
    _transport: Any

    def with_options(
        self, *, timeout: float | httpx.Timeout | None = None, max_retries: int | None = None
    ) -> Self:
        """A copy with another timeout and/or retry count, sharing the connection pool.

        Closing the copy leaves the pool open; close the original when done.
        """
        clone = copy.copy(self)
        clone.settings = self.settings.with_options(timeout=timeout, max_retries=max_retries)
        clone._transport = self._transport.derive(clone.settings)
        return clone

    @staticmethod
    def raw_responses() -> AbstractContextManager[CapturedResponses]:
        """Capture the raw httpx responses (status, headers) of the calls made in a block.

        ``with client.raw_responses() as raw: client.get(id)`` then ``raw.last.headers``.
        """
        return _capture()

    def __repr__(self) -> str:
        """The class and base URL (never the token)."""
        return f"{type(self).__name__}(base_url={self.settings.base_url!r})"


class SyncClient(_Client):
    """Base of the blocking clients: runs operations on a :class:`SyncTransport`."""

    _transport: SyncTransport

    def _run(self, operation: Operation[T]) -> T:
        try:
            return operation.read(self._transport.send(operation.call))
        except BaseException as error:
            _failed(operation, error)
            raise

    def close(self) -> None:
        """Close the HTTP client if this client created it."""
        self._transport.close()

    def __enter__(self) -> Self:
        """Use the client in a ``with`` block; it is closed on exit."""
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Close the client."""
        self.close()


class AsyncClient(_Client):
    """Base of the async clients: runs operations on an :class:`AsyncTransport`."""

    _transport: AsyncTransport

    async def _run(self, operation: Operation[T]) -> T:
        try:
            return operation.read(await self._transport.send(operation.call))
        except BaseException as error:
            _failed(operation, error)
            raise

    async def aclose(self) -> None:
        """Close the HTTP client if this client created it."""
        await self._transport.aclose()

    async def __aenter__(self) -> Self:
        """Use the client in an ``async with`` block; it is closed on exit."""
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        """Close the client."""
        await self.aclose()


def _method_signature(build: Callable[..., Any], bound: bool) -> inspect.Signature:
    signature = inspect.signature(build)
    params = list(signature.parameters.values())[1 if bound else 0 :]
    shown = _OPERATION_TYPE.sub(r"\1", str(signature.return_annotation))
    return signature.replace(parameters=params, return_annotation=shown)


class _Method(Generic[P, T]):
    """Descriptor: the builder as a method of a sync or an async client."""

    def __init__(self, build: Callable[..., Operation[T]], bound: bool) -> None:
        self._build = build
        self._bound = bound
        self.__doc__ = build.__doc__
        self.__signature__ = _method_signature(build, bound)

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    @overload
    def __get__(self, client: None, owner: type | None = None) -> Self: ...
    @overload
    def __get__(self, client: SyncClient, owner: type | None = None) -> Callable[P, T]: ...
    @overload
    def __get__(
        self, client: AsyncClient, owner: type | None = None
    ) -> Callable[P, Awaitable[T]]: ...
    def __get__(self, client: _Client | None, owner: type | None = None) -> Any:
        """The bound method (the descriptor itself on the class)."""
        if client is None:
            return self
        build = functools.partial(self._build, client) if self._bound else self._build
        if isinstance(client, AsyncClient):
            method = _async_method(client, build)
        else:
            method = _sync_method(cast(SyncClient, client), build)
        method.__name__ = method.__qualname__ = self._name
        method.__doc__ = self.__doc__
        method.__signature__ = self.__signature__  # type: ignore[attr-defined]
        return method


def _sync_method(client: SyncClient, build: Callable[..., Operation[Any]]) -> Callable[..., Any]:
    def method(*args: Any, **kwargs: Any) -> Any:
        return client._run(build(*args, **kwargs))

    return method


def _async_method(
    client: AsyncClient, build: Callable[..., Operation[Any]]
) -> Callable[..., Awaitable[Any]]:
    async def method(*args: Any, **kwargs: Any) -> Any:
        return await client._run(build(*args, **kwargs))

    return method


def operation(build: Callable[P, Operation[T]]) -> _Method[P, T]:
    """A client method that sends the operation ``build(*args, **kwargs)`` returns."""
    return _Method(build, bound=False)


def client_operation(build: Callable[Concatenate[Any, P], Operation[T]]) -> _Method[P, T]:
    """Like :func:`operation`, for a builder that takes the client first (OAuth)."""
    return _Method(build, bound=True)
