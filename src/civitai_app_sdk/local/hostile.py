"""A raw loopback server that misbehaves below HTTP: it hangs, or trickles its answer.

The local orchestrator injects faults a well-behaved server could produce; this one
plays the server a deadline must survive: ``hang`` accepts and never answers, ``trickle``
sends a 200 header and then one byte of body every ``interval`` seconds, forever.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import Final, Literal, Self

from civitai_app_sdk.errors import ConfigurationError

__all__ = ["HostileServer", "Mode"]

Mode = Literal["hang", "trickle"]
"""How a :class:`HostileServer` treats every connection."""
_TRICKLE_HEAD: Final = (
    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000000\r\n\r\n"
)


class HostileServer:
    """Serve ``mode`` on a free loopback port from daemon threads until stopped."""

    def __init__(self, mode: Mode, *, interval: float = 0.25) -> None:
        """Bind right away, so :attr:`url` is known."""
        if mode not in ("hang", "trickle"):
            raise ConfigurationError(f"unknown mode {mode!r}")
        self.mode = mode
        self.interval = interval
        self._socket = socket.create_server(("127.0.0.1", 0), backlog=4096)
        self._socket.settimeout(0.1)
        self.port: int = self._socket.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="hostile", daemon=True)
        self.connections = 0

    @property
    def url(self) -> str:
        """The base URL."""
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._socket.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            conn.settimeout(1.0)
            with contextlib.suppress(TimeoutError):
                conn.recv(65536)
            if self.mode == "trickle":
                conn.sendall(_TRICKLE_HEAD)
            while not self._stop.wait(self.interval):
                if self.mode == "trickle":
                    conn.sendall(b" ")

    def __enter__(self) -> Self:
        """Start accepting."""
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Stop every connection and the listener."""
        self._stop.set()
        self._thread.join(2.0)
        self._socket.close()
