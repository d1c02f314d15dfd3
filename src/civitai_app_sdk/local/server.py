"""Run the local server: in a background thread (tests, demo) or in the foreground (CLI)."""

from __future__ import annotations

import logging
import socket
import threading
import time
from types import TracebackType
from typing import Final, Self

import uvicorn
from starlette.requests import ClientDisconnect

from civitai_app_sdk.errors import ConfigurationError, LocalServerError

from .app import create_app
from .clock import Clock
from .faults import ConnectionDropped
from .render import warm_up
from .state import LocalConfig

__all__ = ["LOOPBACK_HOSTS", "LocalServer"]

LOOPBACK_HOSTS: Final = frozenset({"127.0.0.1", "localhost", "::1"})
"""The only hosts the local server binds to."""
_START_TIMEOUT: Final = 10.0
_STOP_TIMEOUT: Final = 10.0


class _HideDrops(logging.Filter):
    """Keeps uvicorn from logging dropped connections (injected, or a client that gave up
    mid-request) as crashes."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, ConnectionDropped | ClientDisconnect)


def _hide_drops() -> None:
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _HideDrops) for f in logger.filters):
        logger.addFilter(_HideDrops())


class LocalServer:
    """The local orchestrator + OAuth server on a loopback port.

    ``port=0`` picks a free port; ``url`` tells which. Use as a context manager for a
    background thread, or call :meth:`serve` to run in the foreground until SIGINT or
    SIGTERM.
    """

    def __init__(
        self,
        config: LocalConfig | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Clock | None = None,
        log_level: str = "warning",
    ) -> None:
        """Bind ``host:port`` (loopback only) right away, so ``url`` is known."""
        if host not in LOOPBACK_HOSTS:
            raise ConfigurationError(f"the local server binds to loopback only, not {host!r}")
        self.app, self.state = create_app(config, clock=clock)
        """The ASGI app and the in-memory state it serves (tests and the demo read it)."""
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._socket = socket.socket(family, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # accepted sockets inherit it: else a body written after its headers waits for
        # the client's delayed ACK, about 40 ms a request
        self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._socket.bind((host, port))
        self._socket.listen(2048)
        self.host = host
        self.port: int = self._socket.getsockname()[1]
        _hide_drops()
        self._server = uvicorn.Server(
            uvicorn.Config(
                self.app,
                log_level=log_level,
                access_log=False,
                lifespan="off",
                timeout_graceful_shutdown=2,
            )
        )
        self._thread: threading.Thread | None = None
        self.state.stopping = lambda: self._server.should_exit

    @property
    def url(self) -> str:
        """The base URL, for the orchestrator, the OAuth issuer and the site alike."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def serve(self) -> None:
        """Serve in this thread until SIGINT/SIGTERM (uvicorn's handlers stop it cleanly).

        The generated models load in a background thread meanwhile, so the port
        accepts connections at once.
        """
        threading.Thread(target=self._warm_up, name="civitai-local-warm-up", daemon=True).start()
        self._server.run(sockets=[self._socket])

    def _warm_up(self) -> None:
        """Load the models once the server is up (not competing with its start)."""
        deadline = time.monotonic() + _START_TIMEOUT
        while not self._server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        warm_up()

    def start(self) -> Self:
        """Serve from a daemon thread; returns once the server accepts connections.

        Raises :class:`LocalServerError` (a :class:`RuntimeError`) if it does not start.
        """
        self._thread = threading.Thread(target=self.serve, name="civitai-local", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + _START_TIMEOUT
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise LocalServerError("the local server did not start")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        """Ask the server to finish and wait for its thread."""
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(_STOP_TIMEOUT)
            self._thread = None
        self._socket.close()

    def __enter__(self) -> Self:
        """Start in a background thread; stopped on exit."""
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the server."""
        self.stop()
