"""Run the starter app against the local orchestrator and OAuth server, all on loopback."""

from __future__ import annotations

import secrets
import socket
import threading
import time
from types import TracebackType
from typing import Final, Self

import uvicorn

from civitai_app_sdk.local import LocalConfig, LocalServer, Timings

from .app import WebappSettings, create_app

CLIENT_ID: Final = "starter-webapp"
"""The app's OAuth client id on the local server (a confidential client)."""
APP_NAME: Final = "Civitai starter app"
"""The name the local consent page shows."""


def local_config(*, step_seconds: float = 2.0) -> LocalConfig:
    """A local server that shows its consent page and knows the app as confidential."""
    share = step_seconds / 8
    return LocalConfig(
        auto_consent=False,
        client_names={CLIENT_ID: APP_NAME},
        confidential_clients={CLIENT_ID: secrets.token_urlsafe(24)},
        timings=Timings(share, share, share, step_seconds - 3 * share),
    )


class LocalStack:
    """The local services plus the starter app, each on its own loopback port.

    A context manager runs both in background threads; :meth:`serve` runs the app in
    the foreground (``make webapp``). ``url`` is where to point a browser.
    """

    def __init__(self, *, port: int = 0, step_seconds: float = 2.0) -> None:
        """Bind both ports now, so the URLs are known before anything starts."""
        config = local_config(step_seconds=step_seconds)
        self.services = LocalServer(config)
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self._socket.bind(("127.0.0.1", port))
            self._socket.listen(128)
        except OSError:
            self._socket.close()
            raise
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        settings = WebappSettings(
            client_id=CLIENT_ID,
            client_secret=config.confidential_clients[CLIENT_ID],
            redirect_uri=f"{self.url}/auth/callback",
            cookie_secrets=[secrets.token_urlsafe(32)],
            oauth_url=self.services.url,
            site_url=self.services.url,
            api_url=self.services.url,
            poll_interval=0.5,
        )
        self.app = create_app(settings)
        self._server = uvicorn.Server(
            uvicorn.Config(self.app, log_level="warning", lifespan="off", access_log=False)
        )
        self._thread: threading.Thread | None = None

    def serve(self) -> None:
        """Start the services, then serve the app in this thread until Ctrl-C."""
        with self.services:
            self._server.run(sockets=[self._socket])

    def __enter__(self) -> Self:
        """Start everything in background threads."""
        self.services.start()
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the starter app did not start")
            time.sleep(0.01)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the app and the services."""
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
        self._socket.close()
        self.services.stop()
